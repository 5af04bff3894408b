"""Documents attached to an article: the links to PDF, Word, Excel and
OpenDocument files inside the article's container, or in a block labelled
"Tài liệu đính kèm", "File đính kèm" or "Tải về" (where portals list them,
often outside the body and often removed later as a widget).

Pure functions of the tree: no network, no state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from scraper.extract.article import Attachment
from scraper.extract.text import clean_line, fold
from scraper.extract.urls import absolute_url

#: File types kept, by the extension of the URL's path (or of a ``name=`` /
#: ``file=`` query value, as download scripts take them).
KINDS = ("pdf", "doc", "docx", "xls", "xlsx", "odt")
_EXTENSION = re.compile(r"\.(pdf|docx?|xlsx?|odt)$", re.I)
_LINKS = etree.XPath(".//a[@href]")
#: Links whose address names a document type (a superset: checked by :func:`document_kind`).
_DOCUMENT_LINKS = etree.XPath("//a[" + " or ".join(
    f"contains(@href, '.{ext}')" for kind in ("pdf", "doc", "xls", "odt")
    for ext in (kind, kind.upper())) + "]")
#: A document extension anywhere in the page: pages without one (most) skip the search.
_ANY_DOCUMENT = re.compile(r"\.(?:pdf|docx?|xlsx?|odt)\b", re.I)
#: Folded labels of an attachment block.
LABELS = ("tai lieu dinh kem", "file dinh kem", "tep dinh kem", "tai ve")
#: How far up from a document link its attachment block's label may be, and
#: the most text such a block holds (more: it is the page, not a block).
_CLIMB = 4
_BLOCK_MAX_CHARS = 3000


def may_have_documents(html: str) -> bool:
    """Whether the page's markup names a document file at all (a fast scan)."""
    return _ANY_DOCUMENT.search(html) is not None


def document_kind(url: str) -> str | None:
    """``pdf``, ``docx`` … for a URL that names a document file, else None."""
    parts = urlsplit(url)
    match = _EXTENSION.search(unquote(parts.path))
    if match is None and parts.query:
        for value in parts.query.split("&"):
            match = _EXTENSION.search(unquote(value.partition("=")[2]))
            if match:
                break
    return match.group(1).lower() if match else None


def _name(link: HtmlElement, url: str) -> str:
    text = clean_line(link.text_content())
    if not text or fold(text) in LABELS:
        text = clean_line(link.get("title") or "")
    if not text or fold(text) in LABELS:
        text = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return text


def _links(scope: HtmlElement, base: str) -> Iterable[Attachment]:
    for link in _LINKS(scope):
        yield from _links_of(link, base)


def _links_of(link: HtmlElement, base: str) -> Iterable[Attachment]:
    """The document ``link`` points to, if it points to one."""
    href = (link.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "#")):
        return
    url = absolute_url(base, href).split("#", 1)[0]
    if not url.startswith(("http://", "https://")):
        return
    kind = document_kind(url)
    if kind is not None:
        yield Attachment(url=url, name=_name(link, url), kind=kind)


def _in_labelled_block(link: HtmlElement, seen: dict[HtmlElement, bool | None]) -> bool:
    """Whether a link says "Tải về" or sits in a block labelled "… đính kèm".
    ``seen``: what earlier links found of shared ancestors (True: a labelled
    block; False: too large to be one; None: neither)."""
    if fold(clean_line(link.text_content())) == "tai ve":
        return True
    el = link
    for _ in range(_CLIMB):
        el = el.getparent()
        if el is None or el.tag in ("body", "html"):
            return False
        if el not in seen:
            text = el.text_content()
            seen[el] = (False if len(text) > _BLOCK_MAX_CHARS
                        else any(label in fold(text[:300]) for label in LABELS[:3]) or None)
        verdict = seen[el]
        if verdict is not None:
            return verdict
    return False


def labelled_attachments(doc: HtmlElement, base: str) -> list[Attachment]:
    """Document links in the page's attachment blocks ("Tài liệu đính kèm",
    "File đính kèm" …), or whose own text is "Tải về"."""
    found: list[Attachment] = []
    seen: dict[HtmlElement, bool | None] = {}
    for link in _DOCUMENT_LINKS(doc):
        if _in_labelled_block(link, seen):
            found.extend(_links_of(link, base))
    return found


def find_attachments(container: HtmlElement | None, base: str,
                     labelled: Iterable[Attachment] = ()) -> tuple[Attachment, ...]:
    """Document links inside ``container`` then the ``labelled`` ones, each URL
    once (the first name that is not the URL's file name wins)."""
    by_url: dict[str, Attachment] = {}
    inside = list(_links(container, base)) if container is not None else []
    for att in (*inside, *labelled):
        known = by_url.get(att.url)
        if known is None:
            by_url[att.url] = att
        elif known.name == unquote(urlsplit(att.url).path.rsplit("/", 1)[-1]):
            by_url[att.url] = Attachment(att.url, att.name, att.kind)
    return tuple(by_url.values())

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
#: Folded labels of an attachment block.
LABELS = ("tai lieu dinh kem", "file dinh kem", "tep dinh kem", "tai ve")
_LABELLED = etree.XPath(
    "//*[self::div or self::section or self::table or self::ul or self::p or self::span"
    " or self::strong or self::b or self::h3 or self::h4 or self::td]"
    "[string-length(normalize-space(text())) > 0 and string-length(normalize-space(text())) < 40]")


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
        href = (link.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = absolute_url(base, href).split("#", 1)[0]
        if not url.startswith(("http://", "https://")):
            continue
        kind = document_kind(url)
        if kind is not None:
            yield Attachment(url=url, name=_name(link, url), kind=kind)


def _label_blocks(doc: HtmlElement) -> list[HtmlElement]:
    """The blocks an attachment label heads: the label's parent (the label
    and its list), climbing while that holds no document link yet."""
    blocks: list[HtmlElement] = []
    for el in _LABELLED(doc):
        key = fold(clean_line(el.text or "")).rstrip(":").strip()
        if not any(key.startswith(label) for label in LABELS[:3]):
            continue
        scope = el
        for _ in range(3):
            if _LINKS(scope):
                break
            parent = scope.getparent()
            if parent is None:
                break
            scope = parent
        blocks.append(scope)
    return blocks


def labelled_attachments(doc: HtmlElement, base: str) -> list[Attachment]:
    """Documents listed in the page's attachment blocks ("Tài liệu đính kèm" …)
    and document links whose own text is "Tải về"."""
    found: list[Attachment] = []
    for block in _label_blocks(doc):
        found.extend(_links(block, base))
    for link in _LINKS(doc):
        if fold(clean_line(link.text_content())) == "tai ve":
            found.extend(_links(link.getparent() if link.getparent() is not None else link, base))
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

"""Documents attached to an article: links to PDF, Word, Excel, OpenDocument
(and archive) files, or a portal's download link named after one (NukeViet's
``?download=1&id=0`` titled ``ke-hoach.pdf``).

Attachment lists are widgets of the page (:data:`~scraper.extract.rules.ATTACHMENTS`
strips them from the body), so the links are read before any cleaning and
kept only when they sit in the article's own column (the smallest box holding
both the title and the body container): a sidebar's "Văn bản mới" list of
documents is not the article's.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

from lxml.html import HtmlElement

from scraper.extract.article import Attachment
from scraper.extract.page import Page
from scraper.extract.text import clean_line
from scraper.extract.urls import absolute_url
from scraper.extract.xpaths import compiled

_EXTENSIONS = r"pdf|docx?|xlsx?|odt|ods|odp|pptx?|rar|zip|7z"
#: The page mentions a document at all (one pass over the text before any XPath).
_ANY_DOC = re.compile(rf"\.(?:{_EXTENSIONS})\b", re.I)
_PATH_EXT = re.compile(rf"\.({_EXTENSIONS})$", re.I)
_NAME_EXT = re.compile(rf"\.({_EXTENSIONS})\s*\)?$", re.I)
#: "Tập tin 1: ", "File 2 - ", "Tệp đính kèm: " before a document's name.
_NAME_PREFIX = re.compile(r"^(?:tập tin|tệp tin|tệp|file|tài liệu)\s*(?:đính kèm)?\s*\d*\s*[:.\-]?\s*",
                          re.I)
#: Link texts that name an action, not the document.
_ACTION = re.compile(r"^(?:tải về|tải xuống|tải|download|xem|xem nhanh|xem file|tại đây|"
                     r"đây|chi tiết|file đính kèm|tài liệu đính kèm|đính kèm)?\s*[:.]?$", re.I)

_LINKS = "/descendant::a[@href]"


def collect_attachments(page: Page) -> Page:
    """Note every link to a document with the boxes around it (read before the
    widgets that hold them are stripped); :func:`article_attachments` keeps
    those of the article's column."""
    if page.doc is None or not _ANY_DOC.search(page.html):
        return page
    base = urljoin(page.url, page.meta.base_href) if page.meta.base_href else page.url
    for a in compiled(_LINKS)(page.doc):
        found = _attachment(a, base)
        if found is not None:
            page.attachment_links.append((found, tuple(a.iterancestors())))
    return page


def _attachment(a: HtmlElement, base: str) -> Attachment | None:
    href = (a.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    url = absolute_url(base, href)
    if not url.startswith(("http://", "https://")):
        return None
    path = unquote(urlsplit(url).path)
    text = _NAME_PREFIX.sub("", clean_line(a.text_content()))
    title = _NAME_PREFIX.sub("", clean_line(a.get("title") or ""))
    m = _PATH_EXT.search(path)
    ext = m.group(1) if m else None
    query = urlsplit(url).query
    if ext is None and query:  # a download script named by its query (``?file=x.pdf``)
        for value in query.split("&"):
            q = _PATH_EXT.search(unquote(value.partition("=")[2]))
            if q:
                ext = q.group(1)
                break
    if ext is None:  # a download script: the document's name says what it is
        for name in (text, title):
            n = _NAME_EXT.search(name)
            if n:
                ext = n.group(1)
                break
    if ext is None:
        return None
    name = text if text and not _ACTION.match(text) else \
        title if title and not _ACTION.match(title) else path.rsplit("/", 1)[-1]
    return Attachment(url=url, name=name, kind=ext.lower())


def _column(page: Page) -> HtmlElement | None:
    """The article's column: the smallest box holding the title and the
    container (the container's parent when that box is the whole page)."""
    root = page.root
    if root is None:
        return None
    if page.title_el is not None:
        mine = [root, *root.iterancestors()]
        for node in [page.title_el, *page.title_el.iterancestors()]:
            if any(node is x for x in mine):
                if node.tag not in ("body", "html", "form"):
                    return node
                break
    parent = root.getparent()
    return parent if parent is not None and parent.tag not in ("body", "html") else root


def article_attachments(page: Page) -> tuple[Attachment, ...]:
    """The documents of the article's column, in page order, one per URL (the
    first name that is not "Tải về" names it)."""
    column = _column(page)
    if column is None or not page.attachment_links:
        return ()
    out: dict[str, Attachment] = {}
    for found, ancestors in page.attachment_links:
        if not any(x is column for x in ancestors):
            continue
        known = out.get(found.url)
        if known is None:
            out[found.url] = found
        elif known.name == unquote(urlsplit(known.url).path).rsplit("/", 1)[-1] \
                and found.name != known.name:
            out[found.url] = Attachment(known.url, found.name, known.kind)
    return tuple(out.values())


#: Document types whose text the archive extracts (scraper/doctext.py).
_FETCHED = re.compile(r"\.(pdf|docx?|xlsx?|odt)$", re.I)


def document_kind(url: str) -> str | None:
    """``pdf``, ``docx`` … for a URL that names a document file whose text the
    archive reads (by its path, or a ``name=``/``file=`` query value), else None."""
    parts = urlsplit(url)
    match = _FETCHED.search(unquote(parts.path))
    if match is None and parts.query:
        for value in parts.query.split("&"):
            match = _FETCHED.search(unquote(value.partition("=")[2]))
            if match:
                break
    return match.group(1).lower() if match else None

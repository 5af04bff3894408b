"""What a page declares about itself, read before any cleaning: ``<meta>``
(OpenGraph, Dublin Core, ``article:*``), JSON-LD, ``<link rel=canonical>``,
``<time datetime>``, ``<base>``, the language, a breadcrumb trail and a print
copy's "Đăng lúc" line."""

from __future__ import annotations

import json
import re
from typing import Any

from lxml.html import HtmlElement

from scraper.extract.dates import parse_iso, parse_vietnamese_date
from scraper.extract.page import Page
from scraper.extract.text import clean_line
from scraper.extract.xpaths import compiled

_META_ATTRS = ("property", "name", "itemprop")


def _meta_map(doc: HtmlElement) -> dict[tuple[str, str], str]:
    """``(attribute, value) → content`` of every ``<meta>``, first one wins."""
    out: dict[tuple[str, str], str] = {}
    for el in doc.iter("meta"):
        content = (el.get("content") or "").strip()
        if not content:
            continue
        for attr in _META_ATTRS:
            key = el.get(attr)
            if key is not None:
                out.setdefault((attr, key), content)
    return out


def _meta(metas: dict[tuple[str, str], str], *names: str) -> str | None:
    for name in names:
        for attr in _META_ATTRS:
            found = metas.get((attr, name))
            if found:
                return found
    return None


def _json_ld(doc: HtmlElement) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in compiled("/descendant::script[@type='application/ld+json']")(doc):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                out.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return out


#: Fragments of a breadcrumb's class or id (``breadcrumb``, ``dnnBreadcrumb``,
#: ``BREADCRUMB`` …); ``path`` must be a whole class.
_BREADCRUMB_WORDS = ("readcrumb", "READCRUMB", "duong-dan", "duongdan", "path")
_ATTR_BEFORE = re.compile(r"\b(class|id)\s*=\s*$", re.I)
_TAG_BEFORE = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*$")


def _breadcrumb_attrs(html: str) -> list[tuple[str, str]]:
    """``("tag[@attribute", value)`` of class/id attributes naming a breadcrumb,
    found in the page's text with ``str.find`` (far cheaper than testing every
    element); the element is then selected by tag and exact value."""
    found: list[tuple[int, str, str]] = []
    for word in _BREADCRUMB_WORDS:
        i = html.find(word)
        while i != -1 and len(found) < 8:
            q = max(html.rfind('"', 0, i), html.rfind("'", 0, i))
            m = _ATTR_BEFORE.search(html, max(0, q - 12), q) if q > 0 else None
            end = html.find(html[q], i) if m else -1
            if m and end != -1 and "<" not in html[q:end] and ">" not in html[q:end]:
                value = html[q + 1:end]
                tag = _TAG_BEFORE.search(html, max(0, q - 300), q)
                if tag and (word != "path" or "path" in value.split()):
                    found.append((q, f"{tag.group(1).lower()}[@{m.group(1).lower()}", value))
            i = html.find(word, i + len(word))
    return [(attr, value) for _, attr, value in sorted(found)]


def read_breadcrumb(doc: HtmlElement, html: str) -> list[str]:
    """The link texts of the page's breadcrumb trail (empty when it has none)."""
    for tag_attr, value in _breadcrumb_attrs(html):
        els = compiled(f"/descendant::{tag_attr}=$v]")(doc, v=value)
        if els:
            return [clean_line(a.text_content()) for a in els[0].iter("a")]
    return []


_PRINT_DATE = re.compile(r"Đăng lúc\s*:?\s*([^\n<]{6,60})", re.I)


def read_metadata(page: Page) -> Page:
    """Fill ``page.meta`` with what the page declares about itself."""
    # Paths by the ``descendant`` axis: the nodes of ``//x``, without a step
    # over every node of the page first.
    doc = page.need_doc()
    meta = page.meta
    metas = _meta_map(doc)
    canon = compiled("/descendant::link[@rel='canonical']/@href")(doc)
    meta.canonical = str(canon[0]).strip() if canon else None
    meta.og_url = _meta(metas, "og:url")
    meta.declared_title = _meta(metas, "og:title", "twitter:title")
    if not meta.declared_title:
        t = doc.find(".//title")
        meta.declared_title = clean_line(t.text_content()) if t is not None else None
    for value in (
        _meta(metas, "article:published_time", "og:published_time", "datePublished", "pubdate",
              "publishdate", "date", "DC.date.issued", "dc.date"),
    ):
        if value:
            parsed = parse_iso(value) or parse_vietnamese_date(value)
            if parsed:
                meta.published.append(parsed)
    for item in _json_ld(doc):
        value = item.get("datePublished")
        if isinstance(value, str):
            parsed = parse_iso(value)
            if parsed:
                meta.published.append(parsed)
        author = item.get("author")
        if isinstance(author, list) and author:
            author = author[0]
        if isinstance(author, dict):
            # An organisation (usually the portal itself) is not an author.
            kind = author.get("@type")
            author = author.get("name") if kind in (None, "Person") else None
        if isinstance(author, str) and author.strip() and not meta.author:
            meta.author = clean_line(author)
    for t in compiled("/descendant::time[@datetime]/@datetime")(doc):
        parsed = parse_iso(str(t))
        if parsed:
            meta.published.append(parsed)
            break
    if not meta.author:
        meta.author = _meta(metas, "author", "article:author", "dc.creator")
    meta.section = _meta(metas, "article:section")
    if not meta.section:  # WordPress and friends: <a rel="category tag">
        cat = compiled(
            "/descendant::a[contains(@rel, 'category') and "
            "contains(concat(' ', normalize-space(@rel), ' '), ' category ')]")(doc)
        meta.section = clean_line(cat[0].text_content()) if cat else None
    lang = doc.get("lang") or _meta(metas, "og:locale", "language", "content-language")
    meta.language = lang.split("_")[0].split("-")[0].lower() if lang else None
    base = compiled("/descendant::base/@href")(doc)
    meta.base_href = str(base[0]).strip() if base else None
    at = max(page.html.find("Đăng lúc"), page.html.find("đăng lúc"), page.html.find("ĐĂNG LÚC"))
    m = _PRINT_DATE.match(page.html, at) if at >= 0 else None
    if m:
        meta.print_date = parse_vietnamese_date("Đăng lúc: " + m.group(1))
    return page

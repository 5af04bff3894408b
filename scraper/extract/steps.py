"""The extraction steps: pure functions ``Page -> Page`` in one ordered tuple.

``extract_article`` runs :data:`STEPS` in order; the Scrapy pipelines run the
same functions, stage by stage (:data:`STAGES`; see ``scraper/pipelines.py``
and ``scraper/archiver.py``), so what the crawl stores is exactly what the
tests check. A step may raise
:class:`NotAnArticle`; nothing else escapes.
"""

from __future__ import annotations

import codecs
import copy
import html as html_lib
import json
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from scraper.extract import generic, legacy, shape
from scraper.extract.article import Article, Image, NotAnArticle
from scraper.extract.authors import (
    looks_like_name,
    parse_byline,
    parse_labelled_byline,
    split_people,
)
from scraper.extract.blocks import Block, image_src, segment
from scraper.extract.dates import ParsedDate, looks_like_dateline, parse_iso, parse_vietnamese_date
from scraper.extract.profiles import GENERIC_VERSION, PROFILES, Profile, detect_match
from scraper.extract.rules import WIDGET_RULES, WidgetRule
from scraper.extract.text import capped_spaced_len as _capped_span
from scraper.extract.text import clean_line, fold
from scraper.extract.text import spaced_len as _span
from scraper.extract.xpaths import compiled

#: Pages larger than this are cut before parsing (no article is this long;
#: the cut keeps a hostile page from costing unbounded time).
MAX_HTML_CHARS = 6_000_000


@dataclass
class Metadata:
    """What the page declares about itself, read before any cleaning."""

    canonical: str | None = None
    og_url: str | None = None
    declared_title: str | None = None
    published: list[ParsedDate] = field(default_factory=list)
    print_date: ParsedDate | None = None
    author: str | None = None
    section: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    language: str | None = None
    base_href: str | None = None


@dataclass
class Page:
    """The state a page is in between two steps."""

    url: str
    raw: bytes | str
    #: Force a profile by name (``"generic"`` forces the generic extractor).
    forced_profile: str | None = None
    html: str = ""
    doc: HtmlElement | None = None
    meta: Metadata = field(default_factory=Metadata)
    profile: Profile | None = None
    title_el: HtmlElement | None = None
    date_el: HtmlElement | None = None
    root: HtmlElement | None = None
    blocks: list[Block] = field(default_factory=list)
    #: Widget rule name → elements removed; duplicates collapsed.
    removed: Counter[str] = field(default_factory=Counter)
    article: Article | None = None
    #: Legacy font encoding the page's text was converted from (``tcvn3``, ``vni``).
    legacy_encoding: str | None = None
    #: False when decoding saw no character a legacy font encoding would use.
    legacy_possible: bool = True

    @property
    def extractor(self) -> tuple[str, str]:
        if self.profile is None:
            return "generic", GENERIC_VERSION
        return self.profile.name, self.profile.version

    def need_doc(self) -> HtmlElement:
        if self.doc is None:
            raise NotAnArticle("no-html")
        return self.doc


Step = Callable[[Page], Page]


# ---------------------------------------------------------------- decoding
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_TAG = re.compile(r"<[^>]*>")
#: Bytes scored when the page is not valid UTF-8.
_SCORE_SAMPLE = 100_000


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _vietnamese_evidence(data: bytes, encoding: str) -> tuple[int, bool]:
    """(valid Vietnamese syllables in ``data`` decoded as ``encoding``, whether
    that reading is unmistakably Vietnamese). Legacy font encodings are
    converted, since Latin-1 is how such pages are served."""
    text = html_lib.unescape(_TAG.sub(" ", data[:_SCORE_SAMPLE].decode(encoding, "replace")))
    text = unicodedata.normalize("NFC", text)
    marked, valid = legacy.vietnamese_score(text)
    if encoding in ("cp1252", "latin-1", "iso8859-1", "iso8859-15") and valid < marked * 0.8:
        detection = legacy.detect_legacy(text)
        if detection.encoding:
            return detection.valid_converted, True
    # Characters this reading cannot decode count against it.
    broken = text.count("\ufffd")
    return max(0, valid - broken), not broken and valid >= _SURE_WORDS and valid >= marked * 0.9


#: A declared charset whose reading has this many valid Vietnamese syllables
#: (90 % of the words with marks, no undecodable byte) is accepted without
#: trying the other candidates.
_SURE_WORDS = 20


def decode_html(data: bytes) -> str:
    """Bytes to text (NFC): BOM, then valid UTF-8, then whichever of the declared
    charset, Windows-1258, Windows-1252 and UTF-8 reads as the most Vietnamese.

    UTF-8 is tried before the declared charset because portals often declare
    one charset and serve another; valid UTF-8 of Vietnamese text is never an
    accident. Otherwise the candidates are scored by the Vietnamese syllables
    they produce (a page declared ISO-8859-1 that is really Windows-1258, or
    declared UTF-8 and really Latin-1 with entities, is read right); the
    declared charset wins ties. Windows-1258 writes tone marks as combining
    characters: the result is normalised to NFC.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return _nfc(data[len(bom):].decode(enc, errors="replace"))
    try:
        return _nfc(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        # A page cut short mid-character is still UTF-8.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return _nfc(data[: exc.start].decode("utf-8"))
    m = _META_CHARSET.search(data[:4096])
    declared = _codec(m.group(1).decode("ascii", "ignore")) if m else None
    candidates: list[str] = []
    for name in (declared, "cp1258", "cp1252", "utf-8"):
        if name and name not in candidates and name not in ("utf-16", "utf-32"):
            candidates.append(name)
    scores: dict[str, int] = {}
    for name in candidates:
        scores[name], sure = _vietnamese_evidence(data, name)
        if sure and name == declared:
            # The declared charset reads as unmistakable Vietnamese: take it at its word.
            return _nfc(data.decode(name, errors="replace"))
    best: str = max(candidates, key=lambda name: scores[name])  # first (declared) wins ties
    if scores[best] == 0 and declared is None:
        from charset_normalizer import from_bytes

        guess = from_bytes(data[:_SCORE_SAMPLE], cp_isolation=["cp1258", "cp1252", "utf_8"]).best()
        best = (_codec(guess.encoding) if guess is not None and guess.encoding else None) \
            or "cp1252"
    return _nfc(data.decode(best, errors="replace"))


def _nfc(text: str) -> str:
    """NFC, so that decomposed (NFD) and Windows-1258 text match typed text."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def decode(page: Page) -> Page:
    raw = page.raw
    if isinstance(raw, bytes):
        if not raw.strip():
            raise NotAnArticle("empty")
        sample = raw[:4096]
        if sample.count(b"\x00") > len(sample) // 10:
            raise NotAnArticle("binary", "the page is not text")
        if len(raw) > MAX_HTML_CHARS * 4:
            raw = raw[: MAX_HTML_CHARS * 4]
        page.html = decode_html(raw)
    else:
        page.html = _nfc(raw[: MAX_HTML_CHARS * 2])
    # Characters XML (and so lxml) refuses: C0 controls, non-characters, lone
    # surrogates. UTF-8 bytes are pre-checked by one fast byte-class scan.
    # One scan finds those and the characters only legacy font encodings use.
    rare = _RARE.findall(page.html, 0, 2_000_000)
    if rare and any(_NOT_XML.match(c) for c in rare):
        page.html = _NOT_XML.sub(lambda m: " " if m.group(0) in "\x0b\x0c" else "", page.html)
    page.legacy_possible = legacy.might_be_legacy(
        page.html, sum(1 for c in rare if not _NOT_XML.match(c)))
    if not page.html.strip():
        raise NotAnArticle("empty")
    if len(page.html) > MAX_HTML_CHARS:
        # Huge pages are mostly inline images (data: URIs), scripts or comments:
        # drop those before cutting, so that the article after them survives.
        page.html = strip_bulk(page.html)[:MAX_HTML_CHARS]
    return page


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_RARE = re.compile(_NOT_XML.pattern[:-1] + legacy.FOREIGN_LATIN1_CLASS[1:])
_BULK_START = re.compile(r"<!--|<script\b|<style\b|data:")
_DATA_END = re.compile(r"[\"')\s>]")
_BULK_END = {"<!--": "-->", "<script": "</script", "<style": "</style"}
#: Inline data shorter than this is kept.
_DATA_MIN = 256


def strip_bulk(text: str) -> str:
    """``text`` without comments, scripts, styles and long ``data:`` URIs (in
    one linear pass: an unclosed comment cannot make it quadratic)."""
    lower = text.lower()
    out: list[str] = []
    pos = 0
    while True:
        m = _BULK_START.search(lower, pos)
        if m is None:
            out.append(text[pos:])
            break
        start, token = m.start(), m.group(0)
        if token == "data:":
            stop = _DATA_END.search(lower, start)
            end = stop.start() if stop else len(text)
            out.append(text[pos:start] + ("data:," if end - start >= _DATA_MIN
                                          else text[start:end]))
            pos = end
            continue
        closer = _BULK_END[token]
        end = lower.find(closer, start + len(token))
        out.append(text[pos:start])
        if end < 0:
            break
        end = end + 3 if closer == "-->" else lower.find(">", end) + 1
        if end <= 0:
            break
        pos = end
    return "".join(out)


_PARSERS = threading.local()
_tostring = etree.tostring


class _Element(lxml_html.HtmlElement):
    """The elements of a parsed page: ``HtmlElement`` with a cheaper
    ``text_content()`` — the same text (every descendant text node, no tail),
    serialised in C rather than through an XPath evaluation (about 40 %
    cheaper; extraction calls it some thirty times a page)."""

    def text_content(self) -> str:
        return _tostring(self, method="text", encoding="unicode", with_tail=False)


def _parser() -> etree.HTMLParser:
    """An HTML parser whose elements are all ``HtmlElement`` (:class:`_Element`, chosen in C).

    ``lxml.html``'s own parser picks each element's class in Python (form,
    input, label … classes we never use), which cost about a fifth of the
    extraction time. Comments and processing instructions are never article
    text and are left out while parsing. One parser per thread: lxml parsers
    are not thread-safe.
    """
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(remove_comments=True, remove_pis=True)
        parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=_Element, comment=lxml_html.HtmlComment,
            pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
        _PARSERS.parser = parser
    return parser


def parse(page: Page) -> Page:
    text = page.html.replace("\x00", "") if "\x00" in page.html else page.html
    if "<" not in text[:4096] and "<" not in text:
        raise NotAnArticle("not-html", "no markup in the page")
    # Drop an XML declaration: lxml refuses str input that carries one.
    if text.lstrip()[:5] == "<?xml":
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        doc = lxml_html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise NotAnArticle("unparseable", str(exc)[:80]) from exc
    if doc.find("body") is None:
        raise NotAnArticle("no-body")
    # Text typed in a legacy font encoding (TCVN3, VNI) becomes Unicode here,
    # before anything reads it; only when detection is confident.
    if page.legacy_possible:
        page.legacy_encoding = legacy.convert_document(doc, text, checked=True).encoding
    page.doc = doc
    return page


# ---------------------------------------------------------------- metadata
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


#: Breadcrumb containers, by class or id (any case): ``breadcrumb``, ``dnnBreadcrumb``,
#: ``breadcrumbs``, Vietnamese ``duong-dan`` ("path"), a ``path`` class.
_BREADCRUMB = re.compile(r"breadcrumb|duong-?dan|(?:^|\s)path(?:\s|$)", re.I)


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


def _breadcrumb(doc: HtmlElement, html: str) -> list[str]:
    for tag_attr, value in _breadcrumb_attrs(html):
        els = compiled(f"/descendant::{tag_attr}=$v]")(doc, v=value)
        if els:
            return [clean_line(a.text_content()) for a in els[0].iter("a")]
    return []


_PRINT_DATE = re.compile(r"Đăng lúc\s*:?\s*([^\n<]{6,60})", re.I)


def read_metadata(page: Page) -> Page:
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


# ---------------------------------------------------------------- profile
def select_profile(page: Page) -> Page:
    doc = page.need_doc()
    detected: HtmlElement | None = None  # what the profile's ``detect`` found
    if page.forced_profile == "generic":
        page.profile = None
    elif page.forced_profile:
        if page.forced_profile not in PROFILES:
            raise ValueError(f"unknown extraction profile {page.forced_profile!r}")
        page.profile = PROFILES[page.forced_profile]
    else:
        match = detect_match(doc, page.html)
        page.profile, detected = match if match else (None, None)
    if page.profile is None and shape.looks_like_listing(doc, page.url):
        # No profile vouches for the page and it is shaped like a list of headlines.
        raise NotAnArticle("listing", "the page lists articles")
    if page.profile is not None and page.profile.category:
        page.meta.breadcrumb = [
            clean_line(a.text_content()) for a in compiled(page.profile.category)(doc)
        ]
    else:
        page.meta.breadcrumb = _breadcrumb(doc, page.html)
    if page.profile is not None:
        page.title_el = detected if detected is not None \
            and page.profile.title == page.profile.detect \
            else page.profile.first(doc, page.profile.title)
        page.date_el = page.profile.first(doc, page.profile.date)
        page.root = page.profile.first(doc, page.profile.root)
    return page


# ---------------------------------------------------------------- widgets
def _contains(ancestor: HtmlElement, nodes: list[HtmlElement]) -> bool:
    for node in nodes:
        el: HtmlElement | None = node
        while el is not None:
            if el is ancestor:
                return True
            el = el.getparent()
    return False


def _drop(el: HtmlElement) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


_LABEL_BOX_LIMIT = 2500
#: A line of prose this long (link text excluded) is article text, never a widget's.
_PROSE_LINE = 120
_PROSE_XPATH = etree.XPath(
    f"boolean(.//text()[string-length(normalize-space(.)) >= {_PROSE_LINE}]"
    "[not(ancestor::a)][not(ancestor::script)][not(ancestor::style)])"
)


def _has_h1(node: HtmlElement) -> bool:
    """``node`` is or holds an ``h1`` (a C-level iterator: cheaper than
    ``node.find(".//h1")``, which goes through ElementPath)."""
    return next(node.iter("h1"), None) is not None


def _holds_article_text(node: HtmlElement) -> bool:
    """Whether ``node`` holds what no widget holds: a page title (``h1``) or a
    line of prose (a paragraph-like element with long non-link text)."""
    if _has_h1(node):
        return True
    return bool(_PROSE_XPATH(node))






def _label_box(el: HtmlElement, protected: list[HtmlElement]) -> HtmlElement | None:
    """The largest box around a widget label that holds no article text.

    Climbing one level adds the parent's own text and its other children; only
    that new part is measured and searched for prose, so the climb costs the
    size of the final box, not its square. A level stops being measured as soon
    as it holds prose or passes the size limit (either ends the climb)."""
    box: HtmlElement | None = None
    node: HtmlElement | None = el
    prev: HtmlElement | None = None
    size = 0
    while node is not None and node.tag not in ("body", "html"):
        if _contains(node, protected):
            break
        if prev is None:
            size = _capped_span(node.text_content(), _LABEL_BOX_LIMIT)
            if size > _LABEL_BOX_LIMIT:
                break
            holds = _has_h1(node) or (size >= _PROSE_LINE and _holds_article_text(node))
        else:
            holds = node.tag == "h1"
            own = [node.text] + [c.tail for c in node]
            for part in own:
                n = _span(part)
                size += n
                holds = holds or n >= _PROSE_LINE
            if not holds and size <= _LABEL_BOX_LIMIT:
                for child in node:
                    if child is prev or not isinstance(child.tag, str):
                        continue
                    n = _capped_span(child.text_content(), _LABEL_BOX_LIMIT - size)
                    size += n
                    if size > _LABEL_BOX_LIMIT:
                        break
                    if _has_h1(child) or (n >= _PROSE_LINE and _holds_article_text(child)):
                        holds = True
                        break
        if holds or size > _LABEL_BOX_LIMIT:
            break
        box = node
        prev = node
        node = node.getparent()
    return box


def _protected(page: Page) -> list[HtmlElement]:
    return [e for e in (page.root, page.title_el, page.date_el) if e is not None]


def apply_rules(page: Page, rules: tuple[WidgetRule, ...]) -> None:
    """Drop what the rules select by XPath or by class/id name (never the article)."""
    scope = _scope(page)
    protected = _protected(page)

    def drop(el: HtmlElement, rule: WidgetRule) -> None:
        if isinstance(el, etree._Comment):
            _drop(el)
        elif el.getparent() is not None and not _contains(el, protected):
            _drop(el)
            page.removed[rule.name] += 1

    by_tag = {tag: rule for rule in rules for tag in rule.tags}
    if by_tag:
        for el in list(scope.iter(*by_tag)):
            drop(el, by_tag[el.tag])
    for rule in rules:
        if rule.needs and not any(n in page.html for n in rule.needs):
            continue
        for xp in rule.xpaths:
            for el in compiled(_rule_path(xp, scope.getparent() is not None))(scope):
                drop(el, rule)
    by_class, pattern = _class_matcher(rules)
    marked: list[tuple[HtmlElement, WidgetRule]] = []
    if pattern is not None:
        names = _NAMES(scope) if scope.getparent() is None else _NAMES_IN(scope)
        # A page repeats its class values (item, row, col-md-4 …): each
        # distinct value is matched once.
        seen: dict[str, WidgetRule | None] = {}
        for value in names:  # class and id values (cheaper than element proxies)
            if value in seen:
                hit = seen[value]
            else:
                m = pattern.search(value.lower())
                hit = by_class[int(m.lastgroup[1:])] \
                    if m is not None and m.lastgroup is not None else None
                seen[str(value)] = hit
            if hit is not None:
                marked.append((value.getparent(), hit))
    for el, rule in marked:
        drop(el, rule)


_NAMES = etree.XPath("//@class | //@id")
_NAMES_IN = etree.XPath(".//@class | .//@id")


def _scope(page: Page) -> HtmlElement:
    """Where widgets are looked for: with a profile the article's container is
    known, and a widget outside it can never reach the article, so only the
    container is cleaned; the generic path cleans the whole page (widgets must
    not compete with the article for the container)."""
    if page.profile is not None and page.root is not None:
        return page.root
    return page.need_doc()


@lru_cache(maxsize=256)
def _relative(xpath: str) -> str:
    """``//a | //b`` → ``.//a | .//b``: the same rule inside one element."""
    return re.sub(r"(^|\|)\s*//", r"\1 .//", xpath).strip()


_POSITIONAL = re.compile(r"\[\s*\d|position\(|last\(")
_LEADING_STEP = re.compile(r"(^|\|)\s*(\.?)//")


@lru_cache(maxsize=256)
def _rule_path(xpath: str, inside: bool) -> str:
    """A rule's XPath as evaluated: relative to the container when ``inside``,
    and each branch's leading ``//x`` as ``descendant::x`` (the same nodes
    without a first step over every node of the page; not done when a
    positional predicate would make them differ)."""
    path = _relative(xpath) if inside else xpath
    if _POSITIONAL.search(path):
        return path
    return _LEADING_STEP.sub(lambda m: m.group(1) + (" descendant::" if m.group(2)
                                                     else " /descendant::"), path).strip()


@lru_cache(maxsize=32)
def _class_matcher(rules: tuple[WidgetRule, ...]) -> tuple[list[WidgetRule], re.Pattern[str] | None]:
    """One regex over every rule's class/id fragments; the group that matched
    names the rule (the leftmost fragment in the names decides)."""
    with_classes = [rule for rule in rules if rule.classes]
    if not with_classes:
        return with_classes, None
    branches = (f"(?P<r{i}>{'|'.join(re.escape(f) for f in rule.classes)})"
                for i, rule in enumerate(with_classes))
    return with_classes, re.compile("|".join(branches))


#: Longest widget label (characters) that ``apply_labels`` recognises, with room
#: for a trailing colon and stray spaces.
_LABEL_MAX = max(len(label) for rule in WIDGET_RULES for label in rule.labels) + 12


def apply_labels(page: Page, rules: tuple[WidgetRule, ...]) -> None:
    """Drop the box around every widget heading that one of ``rules`` names."""
    by_label = _labels_of(rules)
    if not by_label:
        return
    scope = _scope(page)
    protected = _protected(page)
    for text in (_SHORT_TEXT(scope) if scope.getparent() is None else _SHORT_TEXT_IN(scope)):
        rule = by_label.get(_label_key(text))
        if rule is None:
            continue
        el = text.getparent()
        if el is None:
            continue
        if text.is_tail:
            el = el.getparent()
        if el is None or el.getparent() is None:
            continue
        raw = el.text_content()
        if len(raw) > 2 * _LABEL_MAX or _label_key(raw) not in by_label:
            continue  # the label is only part of a longer line
        own = _label_key(raw)
        # The outermost element carrying exactly the label text.
        while True:
            parent = el.getparent()
            if parent is None or parent.tag in ("body", "html"):
                break
            text = parent.text_content()
            if len(text) > 2 * _LABEL_MAX or _label_key(text) != own:
                break
            el = parent
        rule = by_label[own]
        box = _label_box(el, protected)
        if rule.sweep and _label_key(box.text_content() if box is not None else "") == own \
                and _sweep(el, protected):  # the box is the label alone: take its section
            page.removed[rule.name] += 1
        elif box is not None and box.getparent() is not None:
            _drop(box)
            page.removed[rule.name] += 1


def _sweep(label: HtmlElement, protected: list[HtmlElement]) -> bool:
    """Drop the section a label heads: the box it opens (its parent, when it is
    the parent's first child), else the label and its following siblings; never
    anything holding the title, the dateline or the profile's container, and
    never more text than what precedes the label in its container."""
    parent = label.getparent()
    if parent is None or parent.tag in ("body", "html"):
        return False
    first = next((c for c in parent if isinstance(c.tag, str)), None)
    if first is label and not _contains(parent, protected) and parent.find(".//h1") is None:
        total = _span(parent.text_content())
        links = [_span(a.text_content()) for a in parent.iter("a")]
        grand = parent.getparent()
        before = sum(_span(c.text_content()) for c in grand if c is not parent
                     and isinstance(c.tag, str) and _precedes(c, parent)) if grand is not None else 0
        # a list of news (links with summaries), or readers' comments under more text
        if (len(links) >= 2 and sum(links) >= 0.1 * total) or before >= total:
            _drop(parent)
            return True
    after = list(label.itersiblings())
    if any(_contains(c, protected) or c.tag == "h1" or c.find(".//h1") is not None
           for c in after):
        return False
    before = sum(_span(c.text_content()) for c in label.itersiblings(preceding=True))
    total = sum(_span(c.text_content()) for c in after if isinstance(c.tag, str))
    links = [_span(a.text_content()) for c in after if isinstance(c.tag, str) for a in c.iter("a")]
    if (len(links) >= 2 and sum(links) >= 0.1 * total) or before >= total:
        for c in [label, *after]:
            _drop(c)
        return True
    return False


def _precedes(a: HtmlElement, b: HtmlElement) -> bool:
    """``a`` comes before its sibling ``b``."""
    return any(x is b for x in a.itersiblings())


#: Elements whose text is short enough to be a widget label (filtered in C).
#: (``descendant::text()`` is ``//text()`` without the intermediate step over
#: every node.)
_SHORT_TEXT = etree.XPath(
    f"//body/descendant::text()[string-length(normalize-space(.)) > 1]"
    f"[string-length(normalize-space(.)) <= {_LABEL_MAX}]"
)
_SHORT_TEXT_IN = etree.XPath(
    f"descendant::text()[string-length(normalize-space(.)) > 1]"
    f"[string-length(normalize-space(.)) <= {_LABEL_MAX}]"
)


@lru_cache(maxsize=32)
def _labels_of(rules: tuple[WidgetRule, ...]) -> dict[str, WidgetRule]:
    return {_label_key(label): rule for rule in rules for label in rule.labels}


def _label_key(text: str) -> str:
    """A label compared the way a reader would: case, diacritics, đ, spaces and a
    trailing colon ignored (``"THỐNG KÊ TRUY CẬP:"`` ≡ ``"Thống kê truy cập"``).
    Labels are Vietnamese words, so dropping every non-ASCII mark is exact here
    and much cheaper than :func:`fold`.

    Short texts repeat across pages (menu items, counter fields): they are
    memoised, keyed on a plain ``str`` copy (an lxml "smart string" would keep
    its document alive)."""
    if len(text) <= 2 * _LABEL_MAX:
        return _short_label_key(str(text))
    return _label_key_of(text)


@lru_cache(maxsize=4096)
def _short_label_key(text: str) -> str:
    return _label_key_of(text)


def _label_key_of(text: str) -> str:
    ascii_text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join(ascii_text.encode("ascii", "ignore").decode("ascii").lower().split()).rstrip(": ")


def strip_widgets(page: Page) -> Page:
    rules = WIDGET_RULES + (page.profile.extra_rules if page.profile else ())
    apply_rules(page, rules)
    apply_labels(page, rules)
    return page


# ---------------------------------------------------------------- content
def find_content(page: Page) -> Page:
    doc = page.need_doc()
    if page.profile is None:
        page.root = generic.find_root(doc)
        page.title_el = generic.find_title(doc, page.meta.declared_title, page.root)
        page.date_el = generic.find_dateline(doc, page.title_el)
    if page.root is None:
        raise NotAnArticle("no-content", "no article text found")
    page.blocks = segment(page.root)
    if page.profile is None:
        lead = generic.find_lead(page.root, page.title_el, page.date_el)
        if lead is not None:
            page.blocks = segment(lead) + page.blocks
    return page


def _key(block: Block) -> str:
    if block.kind == "images":
        return "img:" + "|".join(i.src for i in block.images)
    # Copies of one article on one page are verbatim: spaces are the only
    # difference worth ignoring (and far cheaper than folding).
    return " ".join(block.text.split())


def collapse_runs(keys: list[str], *, min_run: int = 2, min_single: int = 80) -> list[bool]:
    """Which items to keep when runs of items repeat earlier ones.

    A later run that repeats an earlier run of at least ``min_run`` items (or a
    single item of at least ``min_single`` characters) is dropped; blank keys
    are ignored. Shared by the HTML extractor and the text-dump importer.
    """
    keep = [True] * len(keys)
    idx = [i for i, k in enumerate(keys) if k]
    seq = [keys[i] for i in idx]
    first: dict[str, int] = {}
    i = 0
    while i < len(seq):
        k = seq[i]
        j = first.get(k)
        if j is not None and j < i:
            length = 0
            while i + length < len(seq) and j + length < i and seq[i + length] == seq[j + length]:
                length += 1
            if length >= min_run or len(k) >= min_single:
                for n in range(i, i + length):
                    keep[idx[n]] = False
                i += length
                continue
        first.setdefault(k, i)
        i += 1
    return keep


def collapse_duplicates(page: Page) -> Page:
    keep = collapse_runs([_key(b) for b in page.blocks])
    dropped = keep.count(False)
    if dropped:
        page.removed["duplicate_blocks"] += dropped
        for block, kept in zip(page.blocks, keep, strict=True):
            if not kept and block.element is not None and block.element is not page.root:
                _drop(block.element)
        page.blocks = [b for b, kept in zip(page.blocks, keep, strict=True) if kept]
    return page


# ---------------------------------------------------------------- fields
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|zarsrc|jsessionid|phpsessid|sid|sessionid|session_id|"
    r"asp\.net_sessionid|aspsessionid\w*|__viewstate)$",
    re.I,
)
_PATH_SESSION = re.compile(r"/\(S\([a-z0-9]+\)\)|;jsessionid=[^/?#]*", re.I)


def canonicalize_url(url: str) -> str:
    """A URL's identity: scheme and host lower-cased, default port, fragment,
    session ids and tracking parameters removed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, path, query, ""))


def _same_site(a: str, b: str) -> bool:
    ha, hb = urlsplit(a).hostname or "", urlsplit(b).hostname or ""
    return ha.removeprefix("www.") == hb.removeprefix("www.")


def _canonical(page: Page) -> str:
    for candidate in (page.meta.canonical, page.meta.og_url):
        if candidate:
            absolute = urljoin(page.url, candidate)
            if absolute.startswith(("http://", "https://")) and _same_site(absolute, page.url):
                return canonicalize_url(absolute)
    return canonicalize_url(page.url)


def _pick_date(page: Page) -> ParsedDate | None:
    """The page's own publication time: the visible dateline, refined by what the
    page declares (meta, JSON-LD, ``<time datetime>``) when that says the same
    thing more precisely (the time of a day-only line, the seconds of a
    minutes-only one). The visible text stays the raw value."""
    visible = None
    if page.date_el is not None:
        visible = parse_vietnamese_date(page.date_el.text_content())
        if visible is None and page.date_el.get("datetime"):
            visible = parse_iso(page.date_el.get("datetime") or "")
    if visible is None:
        return (page.meta.published[0] if page.meta.published else None) or page.meta.print_date
    for declared in page.meta.published:
        if not declared.has_time:
            continue
        local = declared.value.astimezone(visible.value.tzinfo)
        if not visible.has_time and local.date() == visible.value.date():
            return ParsedDate(local, visible.raw, True)
        if visible.has_time and local.replace(second=0, microsecond=0) == visible.value:
            return ParsedDate(local, visible.raw, True)
    return visible


_CAPTION_MAX = 300


_FILE_NAME = re.compile(r"\.(?:jpe?g|png|gif|bmp|webp|tiff?)$|^[\w\-]+$", re.I)


def _descriptive_alt(alt: str | None, title_key: str) -> bool:
    """An ``alt`` text that describes the picture: not a file name, not a bare
    token, not the article's title repeated on every image."""
    text = clean_line(alt or "")
    if len(text) < 12 or len(text.split()) < 3 or _FILE_NAME.search(text):
        return False
    return fold(text) != title_key


def _byline_near(page: Page) -> str | None:
    """An author line outside the body container: the profile's author element,
    or a short labelled line ("Tác giả: …", "Nguồn: …", "(Văn Hùng)") just after
    the container or between the title and the container."""
    candidates: list[HtmlElement] = []
    if page.profile is not None and page.profile.author:
        candidates += page.need_doc().xpath(page.profile.author)
    root = page.root
    node = root
    for _ in range(3):
        if node is None or node.tag in ("body", "html"):
            break
        sib = node.getnext()
        for _ in range(3):
            if sib is None:
                break
            if isinstance(sib.tag, str):
                candidates.append(sib)
            sib = sib.getnext()
        node = node.getparent()
    if page.date_el is not None:
        # A byline beside the dateline: its siblings ("Tác giả: Lê Hà | 15/01/2022").
        for sib in (page.date_el.getprevious(), page.date_el.getnext()):
            if sib is not None and sib is not root and isinstance(sib.tag, str):
                candidates.append(sib)
    for el in candidates:
        text = clean_line(el.text_content())
        if not text or len(text) > 120 or "\n" in text:
            continue
        name = parse_labelled_byline(text)
        if name:
            return name
    # An unlabelled signature right after the container, set apart (bold or
    # right-aligned) and shaped like a name: <div class="author"><b>Văn Hùng</b></div>.
    nxt = root.getnext() if root is not None else None
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    if nxt is not None and nxt.find(".//a") is None:
        lines = [b for b in segment(nxt) if not b.blank]
        if len(lines) == 1 and lines[0].kind == "text" and len(lines[0].clean) <= 60 \
                and _is_set_apart(lines[0]) and looks_like_name(lines[0].clean, strict=True):
            return lines[0].clean
    return None


def _is_caption(block: Block) -> bool:
    if block.kind == "caption":
        return True
    text = block.clean
    return bool(text) and len(text) <= _CAPTION_MAX and (block.align == "center" or block.italic)


def _under_image(block: Block, images: Block | None, root: HtmlElement | None) -> bool:
    """A short line sharing a small box with the image run just above it: the
    caption row of an image table (``<tr><td><img></td></tr><tr><td>…</td></tr>``),
    the text of a caption box (``<div><img><p>…</p></div>``)."""
    if images is None or images.element is None or block.element is None:
        return False
    if len(block.clean) > _CAPTION_MAX:
        return False
    ancestors = [images.element, *images.element.iterancestors()]
    box = next((a for a in block.element.iterancestors() if any(a is x for x in ancestors)), None)
    if box is None or box is root or (root is not None and _is_ancestor(box, root)):
        return False
    return len(clean_line(box.text_content())) <= 2 * _CAPTION_MAX


def _is_ancestor(a: HtmlElement, b: HtmlElement) -> bool:
    return any(x is a for x in b.iterancestors())


def _is_set_apart(block: Block) -> bool:
    return block.align == "right" or block.bold or block.italic


def extract_fields(page: Page) -> Page:
    doc = page.need_doc()
    base = urljoin(page.url, page.meta.base_href) if page.meta.base_href else page.url
    title_text = clean_line(page.title_el.text_content()) if page.title_el is not None else ""
    if not title_text and page.meta.declared_title:
        title_text = page.meta.declared_title
    title_key = fold(title_text)

    blocks = [b for b in page.blocks if not b.blank]
    # Header material inside the container: the title again, the dateline.
    date_key = fold(page.date_el.text_content()) if page.date_el is not None else ""
    longest = max(len(title_key), len(date_key)) + 40

    parsed = _pick_date(page)

    def is_header(b: Block) -> bool:
        if b.kind == "images" or len(b.text) > 2 * longest:
            return False
        key = fold(b.text)
        if key == title_key or bool(date_key) and key == date_key:
            return True
        # another dateline of the same day (a print copy's "Đăng lúc: …")
        if parsed is not None and len(b.text) <= 120 and looks_like_dateline(b.text):
            other = parse_vietnamese_date(b.text)
            return other is not None and other.value.date() == parsed.value.date()
        return False

    blocks = [b for b in blocks if not is_header(b)]

    # Signature: the last text block, when it reads as a byline.
    author: str | None = None
    signature: Block | None = None
    for block in reversed(blocks):
        if block.kind == "images":
            break
        if block.kind == "caption":
            break
        author = parse_byline(block.text, emphasised=_is_set_apart(block))
        if author:
            signature = block
        break
    if author is None:
        author = _byline_near(page)
    if author is None and page.meta.author:
        author = page.meta.author

    images: list[Image] = []
    paragraphs: list[str] = []
    run: list[int] = []  # indexes into images of the current run
    expecting_caption = False
    last_images: Block | None = None
    for block in blocks:
        if block is signature:
            continue
        if block.kind == "images":
            last_images = block
            if not expecting_caption:
                run = []
            for ref in block.images:
                url = _absolute(base, ref.src)
                if not url.startswith(("http://", "https://")):
                    continue
                run.append(len(images))
                images.append(Image(url=url, alt=ref.alt, position=len(images)))
            expecting_caption = bool(run)
            continue
        if expecting_caption and (_is_caption(block) or _under_image(block, last_images, page.root)):
            caption = block.clean
            for n in run:
                images[n] = Image(images[n].url, caption, images[n].alt, images[n].position)
            expecting_caption = False
            run = []
            continue
        expecting_caption = False
        run = []
        if block.kind == "caption":
            continue
        paragraphs.append(block.text)

    images = [img if img.caption or not _descriptive_alt(img.alt, title_key)
              else Image(img.url, clean_line(img.alt or ""), img.alt, img.position)
              for img in images]

    category = page.meta.breadcrumb[-1] if page.meta.breadcrumb else page.meta.section
    if category and fold(category) == title_key:
        category = page.meta.breadcrumb[-2] if len(page.meta.breadcrumb) > 1 else None

    name, version = page.extractor
    page.article = Article(
        url=page.url,
        canonical_url=_canonical(page),
        title=title_text,
        body="\n\n".join(paragraphs),
        body_html=_body_html(page, _own_element(signature)),
        published=parsed.value if parsed else None,
        published_raw=parsed.raw if parsed else None,
        author=author,
        authors=split_people(clean_line(author)) if author else [],
        images=images,
        category=category,
        language=page.meta.language or "vi",
        extractor=name,
        extractor_version=version,
    )
    del doc
    return page


_UNSAFE_ATTR = re.compile(r"^on|^(?:style|class|id)$", re.I)


def _absolute(base: str, ref: str) -> str:
    """``urljoin(base, ref)``, with the common cases (already absolute, or
    root-relative without dot segments) done without parsing."""
    if ref.startswith(("http://", "https://")) and "/." not in ref:
        return ref
    if ref.startswith("/") and not ref.startswith("//") and "/." not in ref and "\\" not in ref:
        scheme_end = base.find("://")
        if scheme_end > 0:
            host_end = base.find("/", scheme_end + 3)
            origin = base if host_end == -1 else base[:host_end]
            if "?" not in origin and "#" not in origin:
                return origin + ref
    return urljoin(base, ref)


_LINKED = etree.XPath(".//*[@href or @src] | .//img")
_HANDLERS = etree.XPath(".//@*[starts-with(translate(name(), 'ON', 'on'), 'on')]")


def _own_element(block: Block | None) -> HtmlElement | None:
    """The element of ``block`` when it holds that block and nothing else."""
    if block is None or block.element is None:
        return None
    return block.element if clean_line(block.element.text_content()) == block.clean else None


def _path(root: HtmlElement, el: HtmlElement | None) -> list[int] | None:
    """Child indexes leading from ``root`` down to ``el`` (None: not inside)."""
    path: list[int] = []
    node = el
    while node is not None and node is not root:
        parent = node.getparent()
        if parent is None:
            return None
        path.append(parent.index(node))
        node = parent
    return path[::-1] if node is root and path else None


def _body_html(page: Page, signature: HtmlElement | None = None) -> str:
    """The container's inner HTML without the title, the dateline and the
    signature: event handlers and ``javascript:`` links removed, lazy images
    given their real file, every link and source absolute."""
    root = page.root
    if root is None:
        return ""
    base = urljoin(page.url, page.meta.base_href) if page.meta.base_href else page.url
    paths = [p for p in (_path(root, e) for e in (page.title_el, page.date_el, signature)) if p]
    clone = copy.deepcopy(root)  # one C-level copy; the page's tree stays as it is
    targets = []
    for path in paths:
        node = clone
        for i in path:
            node = node[i]
        targets.append(node)
    for node in targets:
        _drop(node)
    for attr in _HANDLERS(clone):
        owner = attr.getparent()
        if owner is not None:
            del owner.attrib[attr.attrname]
    for node in _LINKED(clone):
        if node.tag == "img":  # lazy images: the real file, not the placeholder
            real = image_src(node)
            if real:
                node.set("src", real)
        for name in ("href", "src"):
            value = node.get(name)
            if value is not None:
                if value.strip().lower().startswith("javascript:"):
                    del node.attrib[name]
                else:
                    node.set(name, _absolute(base, value.strip()))
    clone.tail = None
    if clone.tag == "p":
        return str(lxml_html.tostring(clone, encoding="unicode"))
    # The container's inner HTML: one serialisation, the outer tag cut off.
    outer = str(lxml_html.tostring(clone, encoding="unicode"))
    start, end = outer.find(">") + 1, outer.rfind("</")
    return outer[start:end].strip() if 0 < start <= end else ""


# ---------------------------------------------------------------- normalise
def normalise(page: Page) -> Page:
    a = page.article
    if a is None:
        return page
    a.title = clean_line(a.title)
    a.body = "\n\n".join(p for p in (clean_line(x) for x in a.body.split("\n\n")) if p)
    a.author = clean_line(a.author) if a.author else None
    a.authors = [clean_line(x) for x in a.authors if clean_line(x)]
    a.published_raw = clean_line(a.published_raw) if a.published_raw else None
    a.category = clean_line(a.category) if a.category else None
    a.images = [
        Image(i.url, clean_line(i.caption) if i.caption else None,
              clean_line(i.alt) if i.alt else i.alt, i.position)
        for i in a.images
    ]
    return page


# ---------------------------------------------------------------- validate
_MIN_BODY_CHARS = 40


def validate(page: Page) -> Page:
    a = page.article
    if a is None:
        raise NotAnArticle("no-content")
    if not a.title:
        raise NotAnArticle("no-title")
    if len(a.body) < _MIN_BODY_CHARS and not a.images:
        raise NotAnArticle("no-body", f"{len(a.body)} characters of text")
    if a.published is None:
        a.warnings.append("no-date")
    if not a.author:
        a.warnings.append("no-author")
    if page.legacy_encoding:
        a.warnings.append(f"converted-from-{page.legacy_encoding}")
    if isinstance(a.published, datetime) and a.published.tzinfo is None:
        raise AssertionError("published must be timezone-aware")  # pragma: no cover
    return page


#: Every step, in order. ``extract_article`` runs them all; the crawl runs
#: them as the slices of :data:`STAGES`, in order.
STEPS: tuple[Step, ...] = (
    decode, parse, read_metadata, select_profile,  # parse
    strip_widgets,  # strip widgets
    find_content, collapse_duplicates,  # collapse duplicated bodies
    extract_fields, normalise,  # normalise text
    validate,  # validate
)

#: The pipeline stages, in order, each a slice of STEPS.
STAGES: dict[str, tuple[Step, ...]] = {
    "parse": STEPS[0:4],
    "strip_widgets": STEPS[4:5],
    "collapse_duplicates": STEPS[5:7],
    "normalise": STEPS[7:9],
    "validate": STEPS[9:10],
}


def run(page: Page, steps: tuple[Step, ...] = STEPS) -> Page:
    for step in steps:
        page = step(page)
    return page

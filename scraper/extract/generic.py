"""The generic extractor: finds an article on a layout no profile knows.

It works on structure and text density, never on class names: the container
is the element that holds most of the page's paragraph text (link text does
not count), the title is the heading that best matches the page's declared
title, and the dateline is a short date line near that title.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from scraper.extract.dates import looks_like_dateline, parse_vietnamese_date
from scraper.extract.text import capped_spaced_len as _capped_span
from scraper.extract.text import clean_line, fold
from scraper.extract.text import spaced_len as _span
from scraper.extract.xpaths import compiled

#: Lines of a site footer (owner, licence, contacts): never article paragraphs.
_FOOTER_LINE = re.compile(
    r"\s*(?:bản quyền|©|copyright|cơ quan chủ quản|chịu trách nhiệm|giấy phép|"
    r"địa chỉ\s*:|điện thoại\s*:|e-?mail\s*:|ghi rõ nguồn)", re.I)

#: Paragraph-like elements (leaf boxes of text). By the ``descendant`` axis and
#: boolean tests: the same nodes as ``//div[not(.//div|.//p …)]`` at half the cost.
_PARAGRAPH_XPATH = (
    "/descendant::p"
    " | /descendant::div[not(descendant::div or descendant::p or descendant::table"
    " or descendant::ul)]"
    " | /descendant::td[not(descendant::td or descendant::div or descendant::p)]"
    " | /descendant::li")


def find_root(doc: HtmlElement) -> HtmlElement | None:
    """The element holding the article's paragraphs (readability-style scoring)."""
    scores: dict[HtmlElement, float] = defaultdict(float)
    for el in compiled(_PARAGRAPH_XPATH)(doc):
        text = el.text_content()
        if len(text) < 25 or _FOOTER_LINE.match(text):
            continue
        links = sum(_span(a.text_content()) for a in el.iter("a")) \
            if next(el.iterdescendants("a"), None) is not None else 0  # (cheaper than find)
        # Past 500 characters of its own text a paragraph scores the same: a long
        # one is measured by its head once that settles it.
        plain = _capped_span(text, 500 + links) - links
        if plain < 25:
            continue
        score = 1 + min(plain / 100, 5) + text.count(",") * 0.1
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] += score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] += score / 2
    if not scores:
        return None
    best = max(scores, key=lambda e: scores[e])
    # A container much richer in link text than prose is a listing, not an article.
    # Only that ratio matters: a long container is measured by its head once
    # the head alone holds more than the links' 60 % (the rest only adds text).
    link_len = sum(_span(a.text_content()) for a in best.iter("a"))
    length = _capped_span(best.text_content(), int(link_len / 0.6) + 1)
    if length and link_len / length > 0.6:
        return None
    return best


_TITLE_TAGS = frozenset(("h1", "h2", "h3", "h4", "b", "strong", "font"))


def _title_before(doc: HtmlElement, root: HtmlElement,
                  sites: frozenset[str] = frozenset()) -> HtmlElement | None:
    """The title-like line nearest before the article's container: a heading or
    a bold / big-font line of 15–250 characters that is not a link or a dateline.
    Old table layouts have no ``<h1>`` and a site-wide ``<title>``."""
    best: HtmlElement | None = None
    inside = False
    for el in doc.iter():
        if el is root:
            if _span(root.text) >= 80:
                break
            inside = True  # a heading may open the container itself
            continue
        tag = el.tag if isinstance(el.tag, str) else ""
        if inside:
            if not _inside(el, root):
                break
            if tag not in ("h1", "h2", "h3", "h4") \
                    and (_span(el.text_content()) >= 80 or _span(el.tail) >= 80):
                break  # the body has begun
        cls = (el.get("class") or "").lower() if tag else ""
        if tag not in _TITLE_TAGS and "title" not in cls and "tieude" not in cls \
                and "bold" not in cls and "headline" not in cls and "heading" not in cls:
            continue
        text = clean_line(el.text_content())
        if not 15 <= len(text) <= 250 or el.xpath("ancestor-or-self::a | .//a"):
            continue
        if sites and fold(text) in sites:
            continue
        if looks_like_dateline(text):
            continue
        if best is not None and _inside(el, best):
            continue  # <font><b>title</b></font>: keep the outer one
        best = el
    return best






def _inside(el: HtmlElement, ancestor: HtmlElement) -> bool:
    node = el.getparent()
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def find_title(doc: HtmlElement, declared: str | None,
               root: HtmlElement | None = None,
               site_names: tuple[str, ...] = ()) -> HtmlElement | None:
    """The heading that names the article: the one matching the page's declared
    title (not just its site-name part), else an element saying exactly the
    declared title, else the title-like line just before the container."""
    want = fold(declared or "")
    # "Title - Site name": the title is a head of the declared title, the site a tail.
    cuts = [m.start() for m in _TITLE_SEPARATOR.finditer(declared or "")]
    heads = {want} | {fold((declared or "")[:i]) for i in cuts}
    tails = {fold((declared or "")[m.end():]) for m in _TITLE_SEPARATOR.finditer(declared or "")}
    sites = frozenset(k for k in (*(fold(n) for n in site_names), *tails) if k and k != want)
    candidates = compiled("//h1 | //h2 | //*[contains(@class,'title')][not(self::a)]")(doc)
    best: tuple[float, HtmlElement] | None = None
    for order, el in enumerate(candidates):
        text = fold(el.text_content())
        if not text or len(text) > 300:
            continue
        score = 0.0
        if text in sites:
            score -= 5  # the site's name in a header, repeated on every page
        elif want and (text == want or (len(text) > 15 and text in want)):
            score += 10
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        score += {"h1": 3, "h2": 2}.get(tag, 1)
        score -= order * 0.01
        if best is None or score > best[0]:
            best = (score, el)
    if best is None or best[0] < 10:
        said = _saying(doc, frozenset(h for h in heads if len(h) >= 15))
        if said is not None:
            return said
    if (best is None or best[0] < 10) and root is not None:
        near = _title_before(doc, root, sites)
        if near is not None:
            return near
    return best[1] if best and best[0] > 0 else None


_TITLE_SEPARATOR = re.compile(r"\s+(?:[-–—|:»]|::)\s+")


def _saying(doc: HtmlElement, wants: frozenset[str]) -> HtmlElement | None:
    """The first element of the body whose whole text is one of ``wants``
    (folded), not a link: the longest wanted text first."""
    if not wants:
        return None
    longest = max(len(w) for w in wants)
    body = doc.find("body")
    found: dict[str, HtmlElement] = {}
    for el in (body if body is not None else doc).iter():
        if not isinstance(el.tag, str) or el.tag in ("a", "title", "script", "style", "option") \
                or not el.text or el.text.isspace():
            continue  # (a title's text starts in its innermost element)
        text = el.text_content()
        if len(text) > 2 * longest + 40:
            continue
        key = fold(text)
        if key in wants and key not in found and not el.xpath("ancestor::a"):
            found[key] = el
    return found[max(found, key=len)] if found else None


def _when(text: str) -> tuple[object, bool] | None:
    parsed = parse_vietnamese_date(text)
    return (parsed.value, parsed.has_time) if parsed else None


def find_dateline(doc: HtmlElement, title: HtmlElement | None) -> HtmlElement | None:
    """The first short date line after the title (or anywhere, without a title);
    failing that, one just above the title, in the title's own box (layouts that
    print the date over the headline — never the header bar's "today")."""
    found = _dateline_after(doc, title)
    if found is None and title is not None:
        found = _dateline_above(title)
    return found


def _dateline_above(title: HtmlElement) -> HtmlElement | None:
    node = title
    for _ in range(2):  # the title's box and the box around it
        for sib in node.itersiblings(preceding=True):
            if not isinstance(sib.tag, str) or sib.tag in ("script", "style", "a"):
                continue
            text = sib.text_content()
            if len(text) <= 120 and looks_like_dateline(text) and _own_links_only(sib):
                return _innermost(sib, text)
            if _span(text) > 120:
                return None  # past a block of text: no longer the title's box
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        node = parent
    return None


def _own_links_only(el: HtmlElement) -> bool:
    """``el`` links nowhere but to its own page or section: a category badge
    ("Môi trường") or the date as a link to the article itself (``href=""``,
    ``#``), never a headline of another article or a date linking elsewhere."""
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if href in ("", "#"):
            continue
        text = a.text_content()
        if len(text.split()) >= 6 or looks_like_dateline(text):
            return False
    return True


def _innermost(el: HtmlElement, text: str) -> HtmlElement:
    """The innermost element that is still the whole dateline."""
    want = _when(text)
    while True:
        inner = next((c for c in el if isinstance(c.tag, str)
                      and looks_like_dateline(c.text_content())
                      and _when(c.text_content()) == want), None)
        if inner is None:
            return el
        el = inner


def _following(el: HtmlElement) -> Iterator[Any]:
    """The nodes after ``el`` in document order (its descendants, then what
    follows it), as ``doc.iter()`` yields them after ``el``."""
    yield from el.iterdescendants()
    node: HtmlElement | None = el
    while node is not None:
        for sib in node.itersiblings():
            yield sib
            yield from sib.iterdescendants()
        node = node.getparent()


def _dateline_after(doc: HtmlElement, title: HtmlElement | None) -> HtmlElement | None:
    seen = 0
    # After the title: walked from the title itself, not from the page's top.
    nodes = _following(title) if title is not None and title.getroottree().getroot() is doc \
        else doc.iter() if title is None else iter(())
    for el in nodes:
        if not isinstance(el.tag, str):
            continue
        seen += 1
        if seen > 60:
            break
        if el.tag in ("script", "style", "a"):
            continue
        text = el.text_content()
        if len(text) <= 120 and looks_like_dateline(text):
            if el.find(".//a") is not None or el.xpath("ancestor::a") or _dates_a_link(el):
                continue  # "Tin cũ (10/01/2022)": a dated link of a list, not the dateline
            return _innermost(el, text)
    return None


def _dates_a_link(el: HtmlElement) -> bool:
    """``el`` dates a link of a list: it follows a link (``<a>…</a> <em>(28/03/2025)</em>``)
    or sits in a list item or table row of one line that holds a link (a
    layout table's row holding the whole page is not one)."""
    prev = el.getprevious()
    if prev is not None and (prev.tag == "a" or prev.find(".//a") is not None) \
            and len(prev.text_content().split()) >= 6:  # a headline, not a category link
        return True
    for anc in el.iterancestors("li", "tr", "dd"):
        return anc.find(".//a") is not None and _capped_span(anc.text_content(), 301) <= 300
    return False


#: Element siblings before the container looked at for a lead.
_LEAD_SIBLINGS = 3


def find_leads(root: HtmlElement, title: HtmlElement | None,
               dateline: HtmlElement | None) -> list[HtmlElement]:
    """The lead (sapo) kept beside the body container rather than in it, in
    reading order: the container's previous siblings after the title (blank
    spacers skipped), each a box of prose with no links and not the dateline;
    a lead box may hold the article's first image and its caption (NukeViet's
    hometext, Tân Dân's summary before ``ms-rtestate-field``)."""
    if title is None:
        return []
    found: list[HtmlElement] = []
    prev = root.getprevious()
    seen = 0
    while prev is not None and seen < _LEAD_SIBLINGS:
        if not isinstance(prev.tag, str):
            prev = prev.getprevious()
            continue
        text = clean_line(prev.text_content())
        if not text and prev.find(".//img") is None:
            prev = prev.getprevious()
            continue  # an empty spacer (<p>&nbsp;</p>)
        seen += 1
        if not _is_lead(prev, text, title, dateline):
            break
        found.append(prev)
        prev = prev.getprevious()
    if not found or not _after(found[-1], title):
        return []
    return found[::-1]


def _is_lead(el: HtmlElement, text: str, title: HtmlElement,
             dateline: HtmlElement | None) -> bool:
    if el is title or _inside(title, el) or el is dateline:
        return False
    if dateline is not None and _inside(dateline, el):
        return False
    if el.tag in ("h1", "h2", "h3", "ul", "ol", "table", "form", "nav") \
            or el.find(".//a") is not None:
        return False
    return 40 <= len(text) <= 1500 and not looks_like_dateline(text)


def _after(el: HtmlElement, title: HtmlElement) -> bool:
    """``el`` comes after ``title`` in the document."""
    for sib in title.itersiblings():
        if sib is el:
            return True
    node = title.getparent()
    while node is not None and node is not el.getparent():
        for sib in node.itersiblings():
            if sib is el or _inside(el, sib):
                return True
        node = node.getparent()
    return False

"""Widget stripping: the rules of :mod:`scraper.extract.rules` applied to a
page — by tag, by XPath, by class/id name, and by the Vietnamese label that
heads a widget's box (the box grows only while it holds no article text)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement

from scraper.extract.attachments import labelled_attachments, may_have_documents
from scraper.extract.dom import contains_any, drop_element
from scraper.extract.page import Page
from scraper.extract.rules import WIDGET_RULES, WidgetRule
from scraper.extract.text import capped_spaced_len as _capped_span
from scraper.extract.text import spaced_len as _span
from scraper.extract.xpaths import compiled

#: Largest box (characters of text) a widget label's box may grow to.
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
        if contains_any(node, protected):
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
            drop_element(el)
        elif el.getparent() is not None and not contains_any(el, protected):
            drop_element(el)
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
            drop_element(box)
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
    if first is label and not contains_any(parent, protected) and parent.find(".//h1") is None:
        total = _span(parent.text_content())
        links = [_span(a.text_content()) for a in parent.iter("a")]
        grand = parent.getparent()
        before = sum(_span(c.text_content()) for c in grand if c is not parent
                     and isinstance(c.tag, str) and _precedes(c, parent)) if grand is not None else 0
        # a list of news (links with summaries), or readers' comments under more text
        if (len(links) >= 2 and sum(links) >= 0.1 * total) or before >= total:
            drop_element(parent)
            return True
    after = list(label.itersiblings())
    if any(contains_any(c, protected) or c.tag == "h1" or c.find(".//h1") is not None
           for c in after):
        return False
    before = sum(_span(c.text_content()) for c in label.itersiblings(preceding=True))
    total = sum(_span(c.text_content()) for c in after if isinstance(c.tag, str))
    links = [_span(a.text_content()) for c in after if isinstance(c.tag, str) for a in c.iter("a")]
    if (len(links) >= 2 and sum(links) >= 0.1 * total) or before >= total:
        for c in [label, *after]:
            drop_element(c)
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
    """Drop every widget the common rules and the profile's own rules find."""
    rules = WIDGET_RULES + (page.profile.extra_rules if page.profile else ())
    page.may_have_documents = may_have_documents(page.html)
    if page.may_have_documents:
        page.labelled_attachments = labelled_attachments(page.need_doc(), page.base_url)
    apply_rules(page, rules)
    apply_labels(page, rules)
    return page

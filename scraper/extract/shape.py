"""Page shape: is a page an article, or a listing of articles?

Used where no profile knows the layout: by the generic extraction (a
listing raises ``NotAnArticle("listing")``) and by the crawl's discovery (a
listing is followed, not archived). It looks at structure only, never at
class names:

* **headlines**: links whose text reads like an article title (seven words
  or more); a listing is made of them, an article has a few (related news);
* **prose runs**: consecutive paragraph-sized text blocks (80+ characters of
  text outside links) not interrupted by a headline. An article's body is
  one long run; a listing's summaries are short runs, each cut by the next
  headline;
* **pagination**: links numbered 1, 2, 3 … or labelled next/last page.

A page is a listing when its longest prose run is short and it has
headlines in number (or a few headlines and pagination).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from scraper.extract.text import clean_line

#: A headline link has at least this many words.
HEADLINE_WORDS = 7
#: A block with at least this much text outside links is a paragraph.
PARAGRAPH_CHARS = 80
#: An article body is at least one run of prose this long.
ARTICLE_RUN = 300
#: Headlines that make a listing (without / with pagination).
LISTING_HEADLINES = 6
PAGED_LISTING_HEADLINES = 2

_BLOCKS = frozenset({"p", "div", "td", "li", "dd", "article", "section", "blockquote", "h1",
                     "h2", "h3", "h4", "table", "tr", "ul", "ol", "body", "main", "aside",
                     "header", "footer", "nav", "form", "span"})
_SKIP = frozenset({"script", "style", "noscript", "template", "select", "option", "textarea"})
_NEXT = re.compile(r"^(?:»|›|>|>>|next|sau|tiếp|trang sau|trang tiếp|tiếp theo|cuối|last|"
                   r"trang cuối|\d{1,4})$", re.I)
_PAGE_QUERY = re.compile(r"[?&](?:page|p|trang|pageindex|pagenum|start|offset)=\d+|"
                         r"/(?:page|trang|p)[/-]?\d+/?$", re.I)


@dataclass(frozen=True)
class Shape:
    """What :func:`analyse` measured."""

    #: Distinct headline links.
    headlines: int
    #: Longest run of prose, in characters.
    longest_run: int
    #: Whether the page pages through a list.
    paged: bool

    @property
    def is_listing(self) -> bool:
        if self.longest_run >= ARTICLE_RUN:
            return False
        return self.headlines >= LISTING_HEADLINES or (
            self.paged and self.headlines >= PAGED_LISTING_HEADLINES)


_WORD = re.compile(r"(?:^|\s)\W*[^\W\d_]")


def _words(text: str) -> int:
    """Words that start with a letter (after any punctuation)."""
    return len(_WORD.findall(text))


def _block_of(el: Any) -> Any:
    node = el
    while node is not None and (not isinstance(node.tag, str) or node.tag not in _BLOCKS):
        node = node.getparent()
    return node


def analyse(doc: Any, url: str | None = None) -> Shape:
    """Measure the shape of a parsed page (an lxml HTML document); ``url``, when
    given, counts as pagination when it carries a page number (``?Page=2``)."""
    body = doc.find("body")
    if body is None:
        return Shape(0, 0, False)
    headlines: set[str] = set()
    numbered: set[str] = set()
    paged = bool(url and _PAGE_QUERY.search(url))
    # Plain (non-link) text per block, and the order blocks and headlines come in.
    plain: dict[Any, int] = {}
    events: list[tuple[str, Any]] = []
    def add(owner: Any, value: str | None) -> None:
        if not value or not value.strip() or owner is None:
            return
        block = _block_of(owner)
        if block is None:
            return
        if block not in plain:
            plain[block] = 0
            events.append(("block", block))
        plain[block] += len(value.strip())

    links = 0  # depth of <a> elements around the current one
    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "end":
            if tag == "a":
                links -= 1
            if links == 0 and el is not body:
                add(el.getparent(), el.tail)
            continue
        if tag == "a":
            links += 1
            if links > 1:
                continue
            text = clean_line(el.text_content())
            href = (el.get("href") or "").strip()
            if _words(text) >= HEADLINE_WORDS and href and not href.startswith(("#", "javascript:")):
                headlines.add(href)
                events.append(("headline", el))
            elif _NEXT.match(text) or el.get("rel") == "next":
                if text.isdigit():
                    numbered.add(text)
                paged = paged or bool(_PAGE_QUERY.search(href)) or el.get("rel") == "next"
            continue
        if links == 0 and tag and tag not in _SKIP:
            add(el, el.text)
    if len(numbered) >= 2:
        paged = True
    longest = run = 0
    for kind, item in events:
        if kind == "headline":
            run = 0
            continue
        chars = plain[item]
        if chars >= PARAGRAPH_CHARS:
            run += chars
            longest = max(longest, run)
    return Shape(len(headlines), longest, paged)


def looks_like_listing(doc: Any, url: str | None = None) -> bool:
    return analyse(doc, url).is_listing

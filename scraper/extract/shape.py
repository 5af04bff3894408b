"""Page shape: is a page an article, or a listing of articles?

Used where no profile knows the layout: by the generic extraction (a
listing raises ``NotAnArticle("listing")``) and by the crawl's discovery (a
listing is followed, not archived). It looks at structure only, never at
class names:

* **headlines**: links whose text reads like an article title (seven words
  or more); a listing is made of them, an article has a few (related news);
* **summaries**: paragraph-sized text blocks (80+ characters outside links)
  inside a headline's own item (a listing's teasers);
* **prose runs**: consecutive paragraph blocks of one container, not
  summaries and not interrupted by a headline. An article's body is one
  long run; a listing has none, or only its footer;
* **pagination**: links numbered 1, 2, 3 … or labelled next/last page, or
  the page's own URL carrying a page number.

A page is a listing when it has no long prose run and has headlines with
summaries, many headlines, or a few headlines and pagination.
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
#: Headlines that make a listing: with summaries, bare, or with pagination.
SUMMARISED_HEADLINES = 3
LISTING_HEADLINES = 8
PAGED_LISTING_HEADLINES = 2
#: Elements between a table's cells and the table.
_ROW_WRAPPERS = frozenset({"tr", "tbody", "thead", "tfoot"})
#: Block ancestors of a headline looked at for its item.
_ITEM_LEVELS = 3

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
    #: Longest run of prose outside summaries, in characters.
    longest_run: int
    #: Whether the page pages through a list.
    paged: bool
    #: Headlines whose item carries a summary.
    summaries: int = 0

    @property
    def is_listing(self) -> bool:
        if self.longest_run >= ARTICLE_RUN:
            return False
        return (self.summaries >= SUMMARISED_HEADLINES or self.headlines >= LISTING_HEADLINES
                or (self.paged and self.headlines >= PAGED_LISTING_HEADLINES))


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
    summary_blocks, summaries = _summaries(body, [el for kind, el in events if kind == "headline"],
                                           plain)
    longest = run = 0
    container: Any = None
    for kind, item in events:
        if kind == "headline":
            run, container = 0, None
            continue
        chars = plain[item]
        if chars < PARAGRAPH_CHARS or item in summary_blocks:
            continue
        # A run is made of sibling paragraphs: one container, no headline between
        # (the rows of one table count as siblings).
        parent = item.getparent()
        while parent is not None and parent.tag in _ROW_WRAPPERS:
            parent = parent.getparent()
        if parent is container:
            run += chars
        else:
            run, container = chars, parent
        longest = max(longest, run)
    return Shape(len(headlines), longest, paged, summaries)


def _summaries(body: Any, links: list[Any], plain: dict[Any, int]) -> tuple[set[Any], int]:
    """The paragraph blocks that sit in a headline's own item, and how many
    headlines have one. A headline's item is the smallest block around it
    holding a paragraph and no other headline."""
    around: dict[Any, int] = {}
    chains: list[list[Any]] = []
    for link in links:
        chain: list[Any] = []
        node = _block_of(link.getparent())
        while node is not None and node is not body and len(chain) < _ITEM_LEVELS:
            chain.append(node)
            around[node] = around.get(node, 0) + 1
            node = _block_of(node.getparent())
        chains.append(chain)
    found: set[Any] = set()
    count = 0
    for chain in chains:
        for item in chain:
            if around[item] > 1:
                break  # holds other headlines: the list, not an item
            blocks = [b for b in item.iter() if plain.get(b, 0) >= PARAGRAPH_CHARS]
            if blocks:
                found.update(blocks)
                count += 1
                break
    return found, count


def looks_like_listing(doc: Any, url: str | None = None) -> bool:
    return analyse(doc, url).is_listing

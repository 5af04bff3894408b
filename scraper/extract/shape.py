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
from typing import Any, cast

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


#: (Every path below steps by ``descendant::`` rather than ``//``: the same
#: nodes without an intermediate step over every node of the page.)
#: In document order: candidate headline links, and the text nodes outside
#: links and scripts that may make up a paragraph (one XPath, evaluated in C).
_EVENTS = etree.XPath(
    "//body/descendant::a[@href][string-length(normalize-space(.)) >= 20]"
    " | //body/descendant::text()[string-length(normalize-space(.)) >= 10]"
    "[not(ancestor::a or ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::select or ancestor::textarea)]")
#: Links short enough to be a pager's (numbers, next, last), and rel=next.
_SHORT_LINKS = etree.XPath(
    "//body/descendant::a[@href][string-length(normalize-space(.)) <= 12] | //body/descendant::a[@rel='next']")


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
    for node in _EVENTS(doc):
        if isinstance(node, str):
            owner = node.getparent()  # type: ignore[attr-defined]
            if owner is not None and node.is_tail:  # type: ignore[attr-defined]
                owner = owner.getparent()
            block = _block_of(owner) if owner is not None else None
            if block is None:
                continue
            if block not in plain:
                plain[block] = 0
                events.append(("block", block))
            plain[block] += len(node.strip())
            continue
        href = (node.get("href") or "").strip()
        if href.startswith(("#", "javascript:")) or \
                _words(clean_line(node.text_content())) < HEADLINE_WORDS:
            continue
        headlines.add(href)
        events.append(("headline", node))
    for link in _SHORT_LINKS(doc):
        text = clean_line(link.text_content())
        if _NEXT.match(text) or link.get("rel") == "next":
            if text.isdigit():
                numbered.add(text)
            paged = paged or bool(_PAGE_QUERY.search(link.get("href") or "")) \
                or link.get("rel") == "next"
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


_HEADLINE_LINKS = etree.XPath("//body/descendant::a[@href][string-length(normalize-space(.)) >= 20]")
_HAS_HEADLINE = etree.XPath("boolean(descendant::a[string-length(normalize-space(.)) >= 20])")
#: Link-free paragraphs of 80+ characters: siblings of them may add up to
#: an article's prose run.
_PARAGRAPHS = etree.XPath("//body/descendant::p[not(descendant::a)][string-length(normalize-space(.)) >= 80]")
#: Prose that alone makes an article: a long paragraph with no link in it
#: (the cheap, common case), else a long text node outside links or a long
#: leaf table cell.
_LONG_PARAGRAPHS = etree.XPath(
    f"//body/descendant::p[string-length(.) >= {ARTICLE_RUN}][not(descendant::a)]"
    f"[string-length(normalize-space(.)) >= {ARTICLE_RUN}]")
_LONG_TEXT = etree.XPath(
    f"//body/descendant::text()[string-length(normalize-space(.)) >= {ARTICLE_RUN}]"
    "[not(ancestor::a or ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::textarea)]"
    f" | //body/descendant::td[not(descendant::a or descendant::td)][string-length(normalize-space(.)) >= {ARTICLE_RUN}]")


def _headline_links(doc: Any) -> list[Any]:
    out = []
    for a in _HEADLINE_LINKS(doc):
        href = (a.get("href") or "").strip()
        if href.startswith(("#", "javascript:")):
            continue
        text = a.text_content()
        # Every word starts a token of its own: fewer tokens than a headline's
        # words settle it without the regular expression.
        if len(text.split()) >= HEADLINE_WORDS and _words(text) >= HEADLINE_WORDS:
            out.append(a)
    return out


def looks_like_listing(doc: Any, url: str | None = None) -> bool:
    """``analyse(doc, url).is_listing``, with shortcuts for the common cases:
    a page with too few headlines, or with one long text outside any
    headline's item (an article's paragraph), is no listing."""
    body = doc.find("body")
    if body is None:
        return False
    heads = _headline_links(doc)
    if len(heads) < PAGED_LISTING_HEADLINES:
        return False
    long_texts: list[Any] = list(_LONG_PARAGRAPHS(doc)) or list(_LONG_TEXT(doc))
    if not long_texts:
        prose: dict[Any, int] = {}
        for para in _PARAGRAPHS(doc):
            box = para.getparent()
            prose[box] = prose.get(box, 0) + len(clean_line(para.text_content()))
        long_texts = [box for box, n in prose.items() if n >= ARTICLE_RUN and box is not None
                      and not _HAS_HEADLINE(box)]
    if long_texts:
        # Blocks that may be a headline's item (holding that headline only).
        around: dict[Any, int] = {}
        node: Any
        for link in heads:
            node = _block_of(link.getparent())
            for _ in range(_ITEM_LEVELS):
                if node is None or node is body:
                    break
                around[node] = around.get(node, 0) + 1
                node = _block_of(node.getparent())
        items = {el for el, n in around.items() if n == 1}
        for text in long_texts:
            # A text node result (a "smart string") knows its element.
            node = cast(Any, text).getparent() if isinstance(text, str) else text
            while node is not None and node not in items:
                node = node.getparent()
            if node is None:
                return False  # a long paragraph of its own: an article
    return analyse(doc, url).is_listing

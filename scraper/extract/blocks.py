"""Cut an article's container into reading-order blocks.

A *block* is one line of the article as a reader sees it: a paragraph, a
heading, a run of images, a caption, a signature. Extraction decides which
block is which; this module only segments, with the typographic facts that
decision needs (alignment, bold/italic, figcaption).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from lxml.html import HtmlElement

from scraper.extract.text import clean_line, is_blank

INLINE_TAGS = frozenset(
    "a abbr b bdi bdo big cite code data dfn em font i img kbd label mark q s samp small span "
    "strike strong sub sup time tt u var wbr".split()
)
BOLD_TAGS = frozenset(("b", "strong"))
ITALIC_TAGS = frozenset(("i", "em", "cite"))
HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
LAZY_SRC_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-url", "src")
_ALIGN_RE = re.compile(r"text-align\s*:\s*(left|right|center|justify)", re.I)
_PLACEHOLDER_SRC = re.compile(r"^data:|(?:blank|spacer|pixel|loading|lazy)[^/]*\.(?:gif|png|svg)$", re.I)


@dataclass
class ImageRef:
    src: str
    alt: str | None


@dataclass
class Block:
    """One line of the article."""

    #: ``text`` (paragraph-like), ``images`` (a run of images with no text),
    #: ``heading`` (h1–h6) or ``caption`` (a ``<figcaption>``).
    kind: str
    text: str = ""
    images: list[ImageRef] = field(default_factory=list)
    #: The element the block came from (for body_html and for removal).
    element: HtmlElement | None = None
    align: str | None = None
    bold: bool = False
    italic: bool = False

    @cached_property
    def clean(self) -> str:
        return clean_line(self.text)

    @property
    def blank(self) -> bool:
        return self.kind != "images" and is_blank(self.text)


def image_src(img: HtmlElement) -> str | None:
    """The real image URL of an ``<img>``, lazy-loading attributes first."""
    for attr in LAZY_SRC_ATTRS:
        value = (img.get(attr) or "").strip()
        if value and not _PLACEHOLDER_SRC.search(value):
            return value
    srcset = (img.get("data-srcset") or img.get("srcset") or "").strip()
    if srcset:
        return srcset.split(",")[0].split()[0]
    return None


def _own_align(node: HtmlElement) -> str | None:
    """The alignment ``node`` itself declares (style, ``align``, class), if any."""
    style = node.get("style")
    if style:
        m = _ALIGN_RE.search(style)
        if m:
            return m.group(1).lower()
    align = (node.get("align") or "").lower()
    if align in ("left", "right", "center", "justify"):
        return align
    cls = (node.get("class") or "").lower()
    if cls:
        for a in ("right", "center"):
            if f"text-{a}" in cls or f"align-{a}" in cls or f"text{a}" in cls or f"align{a}" in cls:
                return a
    return None


def _align_of(el: HtmlElement, stop: HtmlElement,
              memo: dict[HtmlElement, str | None] | None = None) -> str | None:
    """Alignment of ``el``: its own or its nearest aligned ancestor's (up to ``stop``).

    With ``memo`` (one per ``stop``), every element walked through is
    remembered, so the blocks of one container share their ancestors' answers."""
    chain: list[HtmlElement] = []
    found: str | None = None
    node: HtmlElement | None = el
    while node is not None:
        if memo is not None and node in memo:
            found = memo[node]
            break
        chain.append(node)
        found = _own_align(node)
        if found is not None or node is stop:
            break
        node = node.getparent()
    if memo is not None:
        for walked in chain:
            memo[walked] = found
    return found


_CAPTION_CLASS = re.compile(
    r"caption|chu-?thich|chuthich|ghi-?chu-?anh|(?:image|img|photo|pic)[-_]?desc", re.I)


def _is_caption_box(el: HtmlElement, tag: str) -> bool:
    """``<figcaption>``, or a box whose class says it is a caption
    (``wp-caption-text``, ``image-caption``, ``chu-thich`` …)."""
    return tag == "figcaption" or bool(_CAPTION_CLASS.search(el.get("class") or ""))


class _Builder:
    def __init__(self, root: HtmlElement) -> None:
        self.root = root
        self.blocks: list[Block] = []
        self._aligns: dict[HtmlElement, str | None] = {}
        self._reset()

    def _reset(self) -> None:
        self.text_parts: list[str] = []
        self.plain_chars = 0
        self.bold_chars = 0
        self.italic_chars = 0
        self.images: list[ImageRef] = []
        self.owner: HtmlElement | None = None

    def add_text(self, text: str | None, owner: HtmlElement, bold: bool, italic: bool) -> None:
        if not text:
            return
        if self.owner is None:
            self.owner = owner
        self.text_parts.append(text)
        n = len(text.strip())  # characters, for a ratio: inner spaces count on both sides
        self.plain_chars += n
        if bold:
            self.bold_chars += n
        if italic:
            self.italic_chars += n

    def add_image(self, img: HtmlElement, owner: HtmlElement) -> None:
        src = image_src(img)
        if not src:
            return
        if self.owner is None:
            self.owner = owner
        alt = img.get("alt")
        self.images.append(ImageRef(src, alt.strip() if alt is not None else None))

    def flush(self, kind: str = "text") -> None:
        if not self.text_parts and not self.images:
            return  # nothing since the last flush (the state is already reset)
        text = "".join(self.text_parts)
        owner = self.owner
        has_text = not is_blank(text)
        align = _align_of(owner, self.root, self._aligns) if owner is not None else None
        if self.images and not has_text:
            self.blocks.append(Block("images", images=self.images, element=owner, align=align))
        elif self.images:
            # Images and text in one line: the images first, then the text.
            self.blocks.append(Block("images", images=self.images, element=owner, align=align))
            self._text_block(kind, text, owner, align)
        elif text:
            self._text_block(kind, text, owner, align)
        self._reset()

    def _text_block(self, kind: str, text: str, owner: HtmlElement | None, align: str | None) -> None:
        n = max(self.plain_chars, 1)
        self.blocks.append(
            Block(
                kind,
                text=text,
                element=owner,
                align=align,
                bold=self.plain_chars > 0 and self.bold_chars >= 0.9 * n,
                italic=self.plain_chars > 0 and self.italic_chars >= 0.9 * n,
            )
        )

    # ------------------------------------------------------------------ walk
    def walk(self, el: HtmlElement, bold: bool = False, italic: bool = False,
             block_owner: HtmlElement | None = None) -> None:
        raw_tag = el.tag  # (a property that builds a new string on every access)
        self._walk(el, raw_tag.lower() if isinstance(raw_tag, str) else "", bold, italic,
                   block_owner)

    def _walk(self, el: HtmlElement, tag: str, bold: bool, italic: bool,
              block_owner: HtmlElement | None) -> None:
        """:meth:`walk` with the element's tag (lower case) already read."""
        owner = block_owner if block_owner is not None else el
        add_text = self.add_text
        if tag in INLINE_TAGS:
            if tag == "img":
                self.add_image(el, owner)
                add_text(el.tail, owner, bold, italic)
                return
            style = (el.get("style") or "") if not (bold and italic) else ""
            b = bold or tag in BOLD_TAGS or "bold" in style
            i = italic or tag in ITALIC_TAGS or "italic" in style
            add_text(el.text, owner, b, i)
            for child in el:
                raw_child_tag = child.tag
                self._walk(child, raw_child_tag.lower() if isinstance(raw_child_tag, str) else "",
                           b, i, owner)
            add_text(el.tail, owner, bold, italic)
            return
        if tag == "br":
            self.flush()
            add_text(el.tail, owner, bold, italic)
            return
        # A block-level element: it closes the line before it and after it.
        self.flush()
        kind = "heading" if tag in HEADING_TAGS else "caption" if _is_caption_box(el, tag) else "text"
        add_text(el.text, el, bold, italic)
        for child in el:
            raw_child_tag = child.tag
            child_tag = raw_child_tag.lower() if isinstance(raw_child_tag, str) else ""
            if child_tag in INLINE_TAGS or child_tag == "br" or not child_tag:
                if not child_tag:  # comment / processing instruction
                    add_text(child.tail, el, bold, italic)
                    continue
                self._walk(child, child_tag, bold, italic, el)
            else:
                self.flush(kind)
                self._walk(child, child_tag, bold, italic, None)
        self.flush(kind)
        tail = el.tail
        if not tail:
            return
        if block_owner is not None:
            add_text(tail, block_owner, bold, italic)
        else:
            parent = el.getparent()
            add_text(tail, parent if parent is not None else el, bold, italic)


def segment(root: HtmlElement) -> list[Block]:
    """Blocks of ``root`` in reading order (blank lines kept as blank blocks)."""
    builder = _Builder(root)
    builder.add_text(root.text, root, False, False)
    for child in root:
        if isinstance(child.tag, str):
            builder.walk(child)
        else:
            builder.add_text(child.tail, root, False, False)
    builder.flush()
    return builder.blocks

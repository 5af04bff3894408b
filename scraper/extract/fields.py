"""The article's fields, read from the located elements and blocks: title,
publication time, author, images and their captions, category, body text
and body HTML; then every text field normalised."""

from __future__ import annotations

import copy
import re
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from scraper.extract.article import Article, Image
from scraper.extract.attachments import find_attachments
from scraper.extract.authors import (
    looks_like_name,
    parse_byline,
    parse_labelled_byline,
    split_people,
)
from scraper.extract.blocks import Block, image_src, segment
from scraper.extract.dates import ParsedDate, looks_like_dateline, parse_iso, parse_vietnamese_date
from scraper.extract.dom import drop_element
from scraper.extract.page import Page
from scraper.extract.text import clean_line, fold
from scraper.extract.urls import absolute_url, canonicalize_url, same_site


def _canonical(page: Page) -> str:
    for candidate in (page.meta.canonical, page.meta.og_url):
        if candidate:
            absolute = urljoin(page.url, candidate)
            if absolute.startswith(("http://", "https://")) and same_site(absolute, page.url):
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
    """The :class:`Article`, read from the located elements and blocks."""
    doc = page.need_doc()
    base = page.base_url
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
                url = absolute_url(base, ref.src)
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
        attachments=(find_attachments(page.root, base, page.labelled_attachments)
                     if page.may_have_documents else ()),
        category=category,
        language=page.meta.language or "vi",
        extractor=name,
        extractor_version=version,
    )
    del doc
    return page


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
    base = page.base_url
    paths = [p for p in (_path(root, e) for e in (page.title_el, page.date_el, signature)) if p]
    clone = copy.deepcopy(root)  # one C-level copy; the page's tree stays as it is
    targets = []
    for path in paths:
        node = clone
        for i in path:
            node = node[i]
        targets.append(node)
    for node in targets:
        drop_element(node)
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
                    node.set(name, absolute_url(base, value.strip()))
    clone.tail = None
    if clone.tag == "p":
        return str(lxml_html.tostring(clone, encoding="unicode"))
    # The container's inner HTML: one serialisation, the outer tag cut off.
    outer = str(lxml_html.tostring(clone, encoding="unicode"))
    start, end = outer.find(">") + 1, outer.rfind("</")
    return outer[start:end].strip() if 0 < start <= end else ""


def normalise(page: Page) -> Page:
    """Every text field of the article as a reader sees it (:func:`clean_line`);
    empty paragraphs dropped."""
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

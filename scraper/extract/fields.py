"""The article's fields, read from the located elements and blocks: title,
publication time, author, images and their captions, category, body text
and body HTML; then every text field normalised."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from scraper.extract.article import VIETNAM_TZ, Article, Image
from scraper.extract.attachments import article_attachments
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
        declared = (page.meta.published[0] if page.meta.published else None) or page.meta.print_date
        if declared is not None and declared.value.utcoffset() == timedelta(0):
            # a time the page declares in UTC, shown as the portal's: the same instant
            return ParsedDate(declared.value.astimezone(VIETNAM_TZ), declared.raw, declared.has_time)
        return declared
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
        raw = el.text_content()
        if len(raw) > 400:
            continue
        # an author box may hold several lines ("Tác giả: …", "Nguồn tin: …"): the first wins
        texts = [b.clean for b in segment(el) if not b.blank and b.kind != "images"] \
            if len(el) else [clean_line(raw)]
        for text in texts:
            if not text or len(text) > 120:
                continue
            name = parse_labelled_byline(text)
            if name:
                return name
    # An unlabelled signature right after the container, set apart (bold or
    # right-aligned) and shaped like a name: <div class="author"><b>Văn Hùng</b></div>.
    nxt = root.getnext() if root is not None else None
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    if nxt is not None:
        beside = _name_beside_avatar(nxt)
        if beside:
            return beside
    if nxt is not None and nxt.find(".//a") is None:
        lines = [b for b in segment(nxt) if not b.blank]
        if len(lines) == 1 and lines[0].kind == "text" and len(lines[0].clean) <= 60 \
                and _is_set_apart(lines[0]) and looks_like_name(lines[0].clean, strict=True):
            return lines[0].clean
    return None


#: The CMS account that posted the page, not a writer: "admin", "Super User",
#: "Quản trị viên", a bare login name.
_ACCOUNT = re.compile(r"^\s*(?:super ?user|admin(?:istrator)?|quản trị(?: viên)?|ban biên tập|"
                      r"biên tập viên|webmaster|editor|[a-z0-9_.\-]+)\s*$", re.I)

_TITLE_PARTS = re.compile(r"\s+(?:[-–—|:»]|::)\s+")


def _names_the_site(name: str, page: Page) -> bool:
    """Whether a declared author is the portal itself: equal to, or part of, the
    site's name (``og:site_name``, the ``<title>``'s other parts, the
    publisher), or made of the words of the portal's host name
    (``HĐND-UBND xã Xuân Đông`` on ``xuandong.dongnai.gov.vn``)."""
    key = fold(name)
    if not key:
        return True
    sites = list(page.meta.site_names)
    if page.meta.page_title:
        parts = _TITLE_PARTS.split(page.meta.page_title)
        if len(parts) > 1:
            sites += parts
    for site in sites:
        other = fold(site)
        if other and fold(page.meta.declared_title or "") != other \
                and (key == other or key in other or other in key):
            return True
    squeezed = re.sub(r"[^a-z0-9]", "", key)
    host = urlsplit(page.url).hostname or ""
    labels = [h for h in host.split(".") if len(h) >= 4 and h not in _HOST_WORDS]
    return any(h in squeezed for h in labels)


#: Parts of a portal's host name that name no place.
_HOST_WORDS = frozenset(("www", "gov", "portal", "cong", "congthongtin", "egov", "web"))


#: A source line, not a writer: "Nguồn: …", "Nguồn tin: …", "Theo …".
_SOURCE_LINE = re.compile(r"^\(?\s*(?:nguồn(?: tin)?\s*:|theo\s)", re.I)

_AVATAR = re.compile(r"avatar|rounded-circle|author|user", re.I)


def _name_beside_avatar(box: HtmlElement) -> str | None:
    """The writer's name printed beside a small portrait (``<img class=
    "rounded-circle" width="25"> <span>Lò Thị Mai</span>``) in the row after
    the body."""
    for img in box.iter("img"):
        small = any((img.get(a) or "").isdigit() and int(img.get(a) or 0) <= 64
                    for a in ("width", "height"))
        if not (small or _AVATAR.search((img.get("class") or "") + " " + (img.get("src") or ""))):
            continue
        text = clean_line(img.tail or "")
        sib = img.getnext()
        if not text and sib is not None and sib.tag != "a":
            text = clean_line(sib.text_content())
        if text and len(text) <= 60 and looks_like_name(text, strict=True):
            return text
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


_PHOTO_WORDS = re.compile(r"^\(?\s*(?:ảnh|hình ảnh|hình|photo)\b", re.I)
_SENTENCE_STOP = re.compile(r"[.:;!?…]$")


def _plain_caption(block: Block, following: Block | None) -> bool:
    """A caption with no markup of its own: a short plain line right after an
    image-only paragraph and before more of the body (Word/CKEditor bodies:
    ``<p><img></p><p>Hình ảnh vườn cây ăn quả</p>``), that names a picture
    ("Ảnh: …", "Hình ảnh …") or is not a sentence (no closing stop)."""
    text = block.clean
    if block.kind != "text" or not 12 <= len(text) <= 200 or following is None:
        return False
    if _PHOTO_WORDS.match(text):
        return True
    return not _SENTENCE_STOP.search(text) and len(text.split()) >= 3


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

    headers = [b for b in blocks if is_header(b)]
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
    source: Block | None = None
    if signature is not None and _SOURCE_LINE.match(signature.clean):
        # "Thực hiện: Kim Ngân" then "Nguồn: Công an xã": the writer is the line
        # before the source; both leave the body
        i = next(n for n, b in enumerate(blocks) if b is signature)
        before = blocks[i - 1] if i > 0 else None
        writer = parse_byline(before.text, emphasised=_is_set_apart(before)) \
            if before is not None and before.kind == "text" else None
        if before is not None and writer and not _SOURCE_LINE.match(before.clean):
            source, signature, author = signature, before, writer
    if author is None:
        author = _byline_near(page)
    if author is None and page.meta.author and not _names_the_site(page.meta.author, page) \
            and not _ACCOUNT.match(page.meta.author):
        author = page.meta.author

    images: list[Image] = []
    paragraphs: list[str] = []
    run: list[int] = []  # indexes into images of the current run
    expecting_caption = False
    last_images: Block | None = None
    for i, block in enumerate(blocks):
        if block is signature or block is source:
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
        following = next((b for b in blocks[i + 1:] if b is not signature and b is not source),
                         None)
        if expecting_caption and (_is_caption(block) or _under_image(block, last_images, page.root)
                                  or _plain_caption(block, following)):
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
        body_html=_body_html(page, [_own_element(b) for b in [signature, source, *headers]]),
        published=parsed.value if parsed else None,
        published_raw=parsed.raw if parsed else None,
        author=author,
        authors=split_people(clean_line(author)) if author else [],
        images=images,
        category=category,
        language=page.meta.language or "vi",
        extractor=name,
        extractor_version=version,
        attachments=article_attachments(page),
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


def _body_html(page: Page, left_out: list[HtmlElement | None] | None = None) -> str:
    """The container's inner HTML without the title, the dateline, the
    signature and the other header lines left out of the body: event handlers and ``javascript:`` links removed, lazy images
    given their real file, every link and source absolute."""
    root = page.root
    if root is None:
        return ""
    base = urljoin(page.url, page.meta.base_href) if page.meta.base_href else page.url
    paths = [p for p in (_path(root, e) for e in (page.title_el, page.date_el, *(left_out or [])))
             if p]
    paths.sort(key=len)  # an element before anything inside it
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

"""Plain-text dumps of whole article pages, turned into articles.

Archivists hold pages saved as text (the two seeds are such dumps): every
line of the page, widgets, counters, the article, its print copy and the
footer, one after the other, with no markup. :func:`parse_text_dump` reads
them line by line:

1. each line is classified with the cleaning rules (``rules.py``): widget
   labels, counter fields and their numbers, tool lines under the dateline
   (``100%``, ``Print``, ``Lượt xem: …``), footer lines (``Chịu trách
   nhiệm: …``), datelines, image file names;
2. hard-wrapped dumps (``lynx -dump`` …) have their paragraphs joined back;
   a run of lines repeating earlier ones (the print copy, a repeated site
   header, a mobile copy) is collapsed with :func:`duplicates.collapse_runs`;
3. the article starts at the first dateline that follows a title and is
   followed by prose; the title is the line before it (the nearest long
   line when a category name sits in between), or the line after it on
   platforms that show the date above the title;
4. the body runs from there to the first widget label, footer line or
   repeat of the title, without the lines of the page header met again;
   image file names are images, the short line after a run of them is
   their caption, and a last line shaped like a name (or ``Tác giả: …``,
   ``(Theo …)``) is the author.

Pure: no clock, no files; the same text always gives the same article.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from scraper.extract import legacy
from scraper.extract.article import Article, Image, NotAnArticle
from scraper.extract.authors import parse_byline, split_people
from scraper.extract.dates import looks_like_dateline, parse_vietnamese_date
from scraper.extract.duplicates import collapse_runs
from scraper.extract.rules import (
    COUNTER,
    COUNTER_FIELDS,
    FOOTER_LABELS,
    LINKS,
    POLL,
    RELATED,
    TEXT_TOOL_LINES,
    TEXT_TOOL_PREFIXES,
    WEATHER,
    WIDGET_RULES,
)
from scraper.extract.text import clean_line, fold
from scraper.extract.urls import canonicalize_url

#: Name and version recorded as the article's extractor.
EXTRACTOR = "textdump"
VERSION = "1"
#: Scheme of the URI given to a dump imported without its URL.
URI_SCHEME = "textdump:"

_IMAGE_NAME = r"[^\s/\\]+\.(?:jpe?g|png|gif|bmp|webp|tiff?)"
_IMAGE_LINE = re.compile(rf"^(?:{_IMAGE_NAME})(?:\s+{_IMAGE_NAME})*$", re.I)
_NUMBER_LINE = re.compile(r"^[\d\s.,:%+\-]+$")
_LEADING_PAD = re.compile(r"^[\s\u00a0\u2000-\u200a\u202f\u3000]{8,}")
_MULTI_WORD_LABELS = 3
#: Widgets whose label ends the article when met after it.
_END_RULES = (POLL, COUNTER, WEATHER, LINKS, RELATED)
_TOOL_LABELS = frozenset(
    label for rule in WIDGET_RULES if rule.name == "share_print" for label in rule.folded_labels
) | TEXT_TOOL_LINES
_CAPTION_MAX = 200
_MIN_PROSE = 60


@dataclass
class Line:
    raw: str
    text: str
    key: str
    kind: str  # blank widget counter number tool footer date image text
    #: Set apart by leading padding (a right-aligned signature in the dump).
    padded: bool = False


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_END_LABELS = frozenset(label for rule in _END_RULES for label in rule.folded_labels)
#: "Dự báo thời tiết Thanh Hóa": a label of three words or more may be
#: followed by a name; shorter ones stand alone.
_END_LABEL = re.compile(
    rf"^(?:(?:{_alternatives(_END_LABELS)})[\s:]*"
    rf"|(?:{_alternatives(x for x in _END_LABELS if x.count(' ') + 1 >= _MULTI_WORD_LABELS)})"
    rf" .*)$")
_TOOL = re.compile(rf"^(?:(?:{_alternatives(_TOOL_LABELS)})[\s:]*$|"
                   rf"(?:{_alternatives(TEXT_TOOL_PREFIXES)}))")
_COUNTER = re.compile(rf"^(?:{_alternatives(COUNTER_FIELDS)})[\d\s.,:%+\-]*$")
_FOOTER = re.compile(rf"^(?:{_alternatives(FOOTER_LABELS)})")


def _classify(raw: str) -> Line:
    text = clean_line(raw)
    key = fold(text)
    padded = bool(_LEADING_PAD.match(raw))
    if not text:
        return Line(raw, text, key, "blank")
    if _NUMBER_LINE.match(text):
        return Line(raw, text, key, "number")
    if _TOOL.match(key):
        return Line(raw, text, key, "tool")
    if _COUNTER.match(key):
        return Line(raw, text, key, "counter")
    if _END_LABEL.match(key):
        return Line(raw, text, key, "widget")
    if _FOOTER.match(key):
        return Line(raw, text, key, "footer")
    if _IMAGE_LINE.match(text):
        return Line(raw, text, key, "image")
    if looks_like_dateline(text):
        return Line(raw, text, key, "date")
    return Line(raw, text, key, "text", padded)


#: Hard-wrapped dumps (``lynx -dump``, ``w3m -dump``, e-mail): every line at
#: most this long, and a paragraph's lines reach the margin but for the last.
_WRAP_MAX = 100
_WRAP_SLACK = 18
_WRAP_MIN_FULL = 5
_LINK_MARK = re.compile(r"\[\d{1,5}\]")
_BRACKETED_IMAGE = re.compile(rf"\[({_IMAGE_NAME})\]", re.I)


def _unwrap(lines: list[Line]) -> list[Line]:
    """Join hard-wrapped paragraphs back into one line each.

    A dump is hard-wrapped when no line is longer than ``_WRAP_MAX`` and
    several lines reach the margin; then a line that follows a text line
    reaching the margin continues it. Link markers (``[12]``) are dropped and
    bracketed image names (``[CIMG2389.JPG]``) unwrapped.
    """
    lengths = [len(line.raw.rstrip()) for line in lines if line.kind != "blank"]
    if not lengths or max(lengths) > _WRAP_MAX:
        return lines
    margin = max(lengths)
    full = [n for n in lengths if n >= margin - _WRAP_SLACK]
    if margin < 50 or len(full) < _WRAP_MIN_FULL:
        return lines
    out: list[Line] = []
    last = 0  # length of the last physical line taken
    for line in lines:
        raw = _BRACKETED_IMAGE.sub(r"\1", _LINK_MARK.sub("", line.raw))
        prev = out[-1] if out else None
        if line.kind != "blank" and prev is not None and prev.kind == "text" \
                and last >= margin - _WRAP_SLACK:
            joined = _classify(prev.raw.rstrip() + " " + raw.strip())
            # Keep the joined line a paragraph even while it is short.
            out[-1] = Line(joined.raw, joined.text, joined.key, "text", prev.padded)
        else:
            out.append(_classify(raw) if raw != line.raw else line)
        last = len(raw.rstrip())
    return out


def _title_like(line: Line) -> bool:
    return line.kind == "text" and 3 <= len(line.text) <= 300 and not re.search(r"\s[>»]\s", line.text)


def _words(text: str) -> int:
    return sum(1 for w in text.split() if any(c.isalpha() for c in w))


def _find_title(lines: list[Line], date_at: int) -> int | None:
    """The title before the dateline at ``date_at``: the nearest title-like
    line, or a longer one up to three lines up when the nearest is short
    (a category name between title and date)."""
    seen: list[int] = []
    for j in range(date_at - 1, -1, -1):
        line = lines[j]
        if line.kind in ("blank", "tool", "number"):
            continue
        if not _title_like(line):
            break
        seen.append(j)
        if len(seen) == 3:
            break
    if not seen:
        return None
    for j in seen:
        if _words(lines[j].text) >= 6:
            return j
    return seen[0]


def _prose_after(lines: list[Line], start: int, limit: int = 8) -> int:
    chars = n = 0
    for i in range(start, len(lines)):
        line = lines[i]
        if line.kind in ("blank", "tool", "number"):
            continue
        if line.kind in ("widget", "footer", "date"):
            break
        n += 1
        if line.kind == "text" and len(line.text) >= _MIN_PROSE:
            chars += len(line.text)
        if n >= limit:
            break
    return chars


def _next_text(lines: list[Line], start: int) -> int | None:
    for j in range(start, len(lines)):
        if lines[j].kind in ("blank", "tool", "number"):
            continue
        return j if _title_like(lines[j]) else None
    return None


def _anchor(lines: list[Line]) -> tuple[int, int | None]:
    """(title index, dateline index or None)."""
    for i, line in enumerate(lines):
        if line.kind != "date":
            continue
        title = _find_title(lines, i)
        if title is not None and _prose_after(lines, i + 1) >= 100:
            return title, i
        # Some platforms show the date above the title.
        after = _next_text(lines, i + 1)
        if after is not None and _words(lines[after].text) >= 4 \
                and _prose_after(lines, after + 1) >= 100:
            return after, i
    # No dateline: the title-like line before the first prose paragraph.
    for i, line in enumerate(lines):
        if line.kind == "text" and len(line.text) >= 100:
            for j in range(i - 1, -1, -1):
                if _title_like(lines[j]):
                    return j, None
            break
    raise NotAnArticle("no-title", "no title line found in the text dump")


def parse_text_dump(text: str, url: str | None = None) -> Article:
    """The article of a plain-text page dump.

    ``url`` is the page's address when known; otherwise the article gets a
    stable ``textdump:sha256:…`` URI derived from its content (title, time,
    body, author, images), so importing the same dump twice, or two dumps of
    the same page taken on different days, gives one article. Images are
    known only by file name: ``Image.url`` and ``Image.alt`` hold it.
    Raises :class:`NotAnArticle` when no article can be read.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise NotAnArticle("empty")
    # A dump of a page typed in TCVN3 or VNI keeps its mojibake: convert it
    # when detection is confident (legacy.py), as extraction does for pages.
    detection = legacy.detect_legacy(text)
    if detection.encoding:
        text = legacy.convert(text, detection.encoding)
    lines = _unwrap([_classify(raw) for raw in text.split("\n")])
    keep = collapse_runs([line.key if line.kind != "blank" else "" for line in lines])
    lines = [line for line, kept in zip(lines, keep, strict=True) if kept]

    title_at, date_at = _anchor(lines)
    title = lines[title_at]
    start = max(title_at, date_at if date_at is not None else -1) + 1
    # Lines of the page header (site name, menu) met again are chrome.
    header = {line.key for line in lines[:title_at] if line.kind == "text"}
    region: list[Line] = []
    for line in lines[start:]:
        if line.kind in ("widget", "footer") or line.key == title.key:
            break
        if line.kind == "text" and line.key in header:
            continue
        if line.kind in ("text", "image"):
            region.append(line)

    texts = [i for i, line in enumerate(region) if line.kind == "text"]
    author: str | None = None
    if texts:
        last = region[texts[-1]]
        author = parse_byline(last.text, emphasised=last.padded)
        if author:
            region = region[: texts[-1]]

    images: list[Image] = []
    paragraphs: list[str] = []
    run: list[int] = []
    for line in region:
        if line.kind == "image":
            for name in line.text.split():
                run.append(len(images))
                images.append(Image(url=name, alt=name, position=len(images)))
            continue
        if run and len(line.text) <= _CAPTION_MAX:
            for n in run:
                images[n] = Image(images[n].url, line.text, images[n].alt, images[n].position)
            run = []
            continue
        run = []
        paragraphs.append(line.text)

    if not paragraphs and not images:
        raise NotAnArticle("no-body", "no article text after the title")
    parsed = parse_vietnamese_date(lines[date_at].text) if date_at is not None else None
    article = Article(
        url=url or "",
        canonical_url="",
        title=title.text,
        body="\n\n".join(paragraphs),
        published=parsed.value if parsed else None,
        published_raw=parsed.raw if parsed else None,
        author=author,
        authors=split_people(author) if author else [],
        images=images,
        language="vi",
        extractor=EXTRACTOR,
        extractor_version=VERSION,
    )
    if detection.encoding:
        article.warnings.append(f"converted-from-{detection.encoding}")
    if article.published is None:
        article.warnings.append("no-date")
    if not article.author:
        article.warnings.append("no-author")
    if url:
        article.canonical_url = canonicalize_url(url)
    else:
        article.canonical_url = article.url = dump_uri(article)
    return article


def dump_uri(article: Article) -> str:
    """``textdump:sha256:<hex>``: the identity of a dump imported without its URL."""
    return f"{URI_SCHEME}sha256:{article.content_hash()}"


"""Bytes to text: BOM, charset (declared, sniffed, scored as Vietnamese),
NFC, characters XML refuses, and the cut of oversized pages.

:func:`decode_html` is the helper the CLI's text-dump import and the tests use
on raw bytes; :func:`decode` is the extraction step.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
import unicodedata

from scraper.extract import legacy
from scraper.extract.article import NotAnArticle
from scraper.extract.page import Page

#: Pages larger than this are cut before parsing (no article is this long;
#: the cut keeps a hostile page from costing unbounded time).
MAX_HTML_CHARS = 6_000_000


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
    """The page's text: decoded, refused characters removed, oversized pages cut."""
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

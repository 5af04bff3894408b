"""Text normalisation shared by extraction, the text-dump importer and the archive.

Everything here is a pure function over ``str``.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters that render as a space: NBSP, narrow NBSP, figure space, ideographic
#: space and the other Unicode space separators a CMS may emit.
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
#: Characters that render as nothing: zero-width space/joiners, word joiner,
#: BOM, soft hyphen.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"

_SPACE_TABLE = {ord(c): " " for c in _SPACES + "\t\r\n\f\v"} | {ord(c): None for c in _INVISIBLE}
_MULTI_SPACE = re.compile(r" {2,}")
#: Combining marks (category Mn) of the scripts portals use.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


def clean_line(text: str) -> str:
    """One line of text as a reader sees it: NFC, no invisible characters,
    every kind of space folded to one ASCII space, stripped."""
    text = unicodedata.normalize("NFC", text)
    if not text.isascii() and _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
    # str.split() splits on every Unicode space separator (NBSP, thin spaces …)
    # and on ASCII and Unicode line breaks: _SPACES, \t\r\n\f\v, U+0085, U+2028/9.
    return " ".join(text.split())


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Clean each paragraph and drop the empty ones."""
    out = []
    for p in paragraphs:
        c = clean_line(p)
        if c:
            out.append(c)
    return out


def fold(text: str) -> str:
    """A search/comparison key: lower case, diacritics removed, đ→d, spaces folded.

    ``fold("Đồng Tiến") == "dong tien"``. Used to compare widget labels and to
    detect repeated text, and by the archive's diacritic-insensitive index.
    """
    text = _MARKS.sub("", unicodedata.normalize("NFD", clean_line(text)))
    return text.replace("đ", "d").replace("Đ", "D").lower()


#: Any character a reader sees (not a space, not an invisible mark).
_VISIBLE = re.compile(f"[^\\s{_SPACES}{_INVISIBLE}]")


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing (only spaces and invisible characters)."""
    return _VISIBLE.search(text) is None


def spaced_len(text: str | None) -> int:
    """Length of ``text`` with runs of spaces folded, as a reader counts it
    (blank text, the common case of tails between tags, is 0 without splitting)."""
    if not text or text.isspace():
        return 0
    return len(" ".join(text.split()))


def capped_spaced_len(text: str | None, cap: int) -> int:
    """``spaced_len(text)``, or a lower bound of it above ``cap``: of a long text
    only the head is measured when that already exceeds ``cap`` (the spaced
    length of a prefix never exceeds the whole's)."""
    if text and len(text) > cap + cap // 2 + 100:
        head = spaced_len(text[: cap + cap // 2 + 100])
        if head > cap:
            return head
    return spaced_len(text)

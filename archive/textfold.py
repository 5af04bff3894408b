"""Vietnamese-aware text normalisation for storage and search.

Two forms of every searchable text exist in the archive:

* the **stored** form, Unicode NFC (:func:`nfc`): what the portal published,
  with decomposed (NFD) pages recomposed so that ``"Nông"`` is one token;
* the **folded** form (:func:`fold`): NFD, combining marks removed, ``đ``/``Đ``
  → ``d``, lower case. ``"Nông thôn mới"`` and ``"nong thon moi"`` fold to the
  same string, so a search typed without diacritics (or on a keyboard
  without a Vietnamese layout) still finds the article.

Folding never changes word boundaries: each letter folds to exactly one
letter, so the n-th word of a text is the n-th word of its folded form.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

#: Letters with a stroke, which NFD does not decompose. ``Ɖ``/``ɖ`` (African D)
#: look exactly like ``Đ``/``đ`` and turn up in legacy-converted text.
_STROKES = str.maketrans({"đ": "d", "Đ": "D", "ɖ": "d", "Ɖ": "D"})

#: A word as the FTS5 ``unicode61`` tokenizer sees one: letters and digits
#: (underscore and punctuation are separators). Apply to NFC text.
WORD_RE = re.compile(r"[^\W_]+")


def nfc(text: str) -> str:
    """The text in Unicode NFC (the form the archive stores)."""
    return unicodedata.normalize("NFC", text)


def nfc_opt(text: str | None) -> str | None:
    """:func:`nfc` that lets ``None`` through."""
    return None if text is None else nfc(text)


def fold_char(char: str) -> str:
    """Fold one character: ``"ồ"`` → ``"o"``, ``"Đ"`` → ``"d"``, ``"A"`` → ``"a"``.

    Returns one character for every letter of Vietnamese; may return an
    empty string for a lone combining mark.
    """
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base.translate(_STROKES).lower()


class _FoldTable(dict[int, str | None]):
    """``str.translate`` table: combining marks deleted, stroked D's made plain.

    Filled on demand, one entry per distinct character met (a few hundred for
    Vietnamese text): the per-character work of folding runs in C, and no
    table of all Unicode is built at import.
    """

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        value = None if unicodedata.combining(char) else char.translate(_STROKES)
        self[code] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """The diacritic-less, lower-case form used by the folded search index."""
    folded = unicodedata.normalize("NFD", text).translate(_FOLD).lower()
    # Folded Vietnamese is mostly ASCII, which NFC leaves as it is.
    return folded if folded.isascii() else unicodedata.normalize("NFC", folded)


def fold_opt(text: str | None) -> str | None:
    """:func:`fold` that lets ``None`` through."""
    return None if text is None else fold(text)


def has_diacritics(text: str) -> bool:
    """True when folding changes more than letter case (``"Nông"``, ``"đi"``)."""
    return fold(text) != nfc(text).lower()


def words(text: str) -> Iterator[re.Match[str]]:
    """The words of an NFC text, as regex matches (``.group()``, ``.start()``, ``.end()``)."""
    return WORD_RE.finditer(text)


@functools.lru_cache(maxsize=8192)  # a summary repeats each author or category many times
def has_words(text: str | None, words: str) -> bool:
    """True when the words of ``words`` (space-separated) occur in ``text``, in
    order, as whole words (``text`` and ``words`` already folded): the author
    and category filters, as the full-text index answers them."""
    if not text:
        return False
    want = words.split()
    tokens = WORD_RE.findall(text)
    n = len(want)
    return any(tokens[i:i + n] == want for i in range(len(tokens) - n + 1))

"""archive.rank: term counting as FTS5 tokenises, and BM25 as FTS5 computes it."""

from __future__ import annotations

import random

import pytest

from archive.query import HighlightTerm
from archive.rank import PhraseCounter, _varints
from archive.textfold import WORD_RE

ALPHABET = ["nong", "thon", "moi", "non", "nongx", "x", "_", " ", " ", ", ", "-", "é", "中",
            "9", "\n", "(", "nông"]


def _reference(term: HighlightTerm, text: str) -> int:
    tokens = [t.lower() for t in WORD_RE.findall(text)]
    return sum(1 for i in range(len(tokens)) if term.match_at(tokens, i))


@pytest.mark.parametrize("term", [
    HighlightTerm(("nong",)), HighlightTerm(("non",), prefix=True),
    HighlightTerm(("nong", "thon")), HighlightTerm(("thon", "mo"), prefix=True),
    HighlightTerm(("x",)), HighlightTerm(("9",), prefix=True),
])
def test_counts_like_the_tokenizer(term: HighlightTerm) -> None:
    rnd = random.Random(7)
    counter = PhraseCounter(term)
    for _ in range(3000):
        text = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 14)))
        assert counter.count(text) == _reference(term, text), (term, text)


def test_varints_read_sqlite_records() -> None:
    assert _varints(bytes([0x05, 0x81, 0x00, 0xFF, 0x7F])) == [5, 128, 16383]

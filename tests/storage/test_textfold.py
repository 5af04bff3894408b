"""fold(): the table-driven fold is the reference definition, character for character."""

from __future__ import annotations

import unicodedata

from archive.textfold import fold, fold_char


def _reference_fold(text: str) -> str:
    # The definition (docs: NFD, combining marks removed, đ/Đ → d, lower case, NFC).
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    strokes = str.maketrans({"đ": "d", "Đ": "D", "ɖ": "d", "Ɖ": "D"})
    return unicodedata.normalize("NFC", stripped.translate(strokes).lower())


def test_fold_matches_the_definition_for_every_code_point() -> None:
    chars = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for start in range(0, len(chars), 4096):
        chunk = chars[start:start + 4096]
        assert fold(chunk) == _reference_fold(chunk), start


def test_fold_vietnamese() -> None:
    assert fold("Nông thôn mới ĐƯỜNG Ɖi") == "nong thon moi duong di"
    nfd = unicodedata.normalize("NFD", "Triệu Sơn")
    assert fold(nfd) == fold("Triệu Sơn") == "trieu son"
    assert fold_char("ồ") == "o"

"""Small text helpers shared by the demo portal: folding and ASCII slugs."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def fold(text: str) -> str:
    """NFC-normalise, turn every whitespace run (NBSP included) into one space, strip."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics: ``Đồng Tiến`` → ``Dong Tien``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(text: str, max_len: int = 100) -> str:
    """An ASCII URL slug keeping letter case, words joined by ``-``.

    ``Hội nghị tổng kết NTM 2018 , triển khai`` → ``Hoi-nghi-tong-ket-NTM-2018-trien-khai``.
    Long slugs are cut at a word boundary to at most ``max_len`` characters.
    """
    slug = _NON_ALNUM.sub("-", ascii_fold(text)).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0]
    return slug or "bai-viet"

"""Small text helpers shared by the demo portal: folding and ASCII slugs."""

from __future__ import annotations

import unicodedata

from scraper.families.urls import ascii_fold, slugify

__all__ = ["ascii_fold", "fold", "slugify"]


def fold(text: str) -> str:
    """NFC-normalise, turn every whitespace run (NBSP included) into one space, strip."""
    return " ".join(unicodedata.normalize("NFC", text).split())

"""Duplicated bodies: a page that carries its article twice (a print copy, a
mobile copy, a hidden one) keeps the first. :func:`collapse_runs` is the
sequence rule, shared with the text-dump importer."""

from __future__ import annotations

from scraper.extract.blocks import Block
from scraper.extract.dom import drop_element
from scraper.extract.page import Page


def _key(block: Block) -> str:
    if block.kind == "images":
        return "img:" + "|".join(i.src for i in block.images)
    # Copies of one article on one page are verbatim: spaces are the only
    # difference worth ignoring (and far cheaper than folding).
    return " ".join(block.text.split())


def collapse_runs(keys: list[str], *, min_run: int = 2, min_single: int = 80) -> list[bool]:
    """Which items to keep when runs of items repeat earlier ones.

    A later run that repeats an earlier run of at least ``min_run`` items (or a
    single item of at least ``min_single`` characters) is dropped; blank keys
    are ignored. Shared by the HTML extractor and the text-dump importer.
    """
    keep = [True] * len(keys)
    idx = [i for i, k in enumerate(keys) if k]
    seq = [keys[i] for i in idx]
    first: dict[str, int] = {}
    i = 0
    while i < len(seq):
        k = seq[i]
        j = first.get(k)
        if j is not None and j < i:
            length = 0
            while i + length < len(seq) and j + length < i and seq[i + length] == seq[j + length]:
                length += 1
            if length >= min_run or len(k) >= min_single:
                for n in range(i, i + length):
                    keep[idx[n]] = False
                i += length
                continue
        first.setdefault(k, i)
        i += 1
    return keep


def collapse_duplicates(page: Page) -> Page:
    """Drop the blocks that repeat earlier ones (a second copy of the body)."""
    keep = collapse_runs([_key(b) for b in page.blocks])
    dropped = keep.count(False)
    if dropped:
        page.removed["duplicate_blocks"] += dropped
        for block, kept in zip(page.blocks, keep, strict=True):
            if not kept and block.element is not None and block.element is not page.root:
                drop_element(block.element)
        page.blocks = [b for b, kept in zip(page.blocks, keep, strict=True) if kept]
    return page

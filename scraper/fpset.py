"""A compact set of 64-bit fingerprints: 8–16 bytes per member, not ~100.

A crawl remembers every URL it met (Scrapy's duplicate filter, the spider's
``seen``/``known`` keys). Python sets of ``bytes`` or ``int`` objects cost
~60 bytes per object plus 16–32 bytes of table slot; at 100 000 articles
that is the crawl's whole memory growth (measured with ``bench/memprobe.py``).

:class:`FingerprintSet` is an open-addressing hash table (linear probing)
of unsigned 64-bit integers in one ``array('Q')``: no object per member.
The table doubles when it is half full, so it holds 8 bytes per slot and
2–4 slots per member. 0 marks an empty slot; the fingerprint 0 is kept in a
flag of its own. Members cannot be removed (a crawl never forgets a URL).

Fingerprints are meant to be well mixed already (the first 8 bytes of
a SHA-1, Python's SipHash ``hash()`` of a string): slots are taken from
the low bits as they are.

Pure Python, no Scrapy: used by ``scraper.dupefilter`` and ``spiders.portal``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

MASK64 = (1 << 64) - 1
MIN_CAPACITY = 1024


def fingerprint64(data: bytes) -> int:
    """The first 8 bytes of a digest (e.g. Scrapy's SHA-1 request fingerprint)."""
    return int.from_bytes(data[:8], "big")


class FingerprintSet:
    """A set of unsigned 64-bit ints in an ``array('Q')`` (open addressing)."""

    __slots__ = ("_table", "_mask", "_len", "_has_zero")

    def __init__(self, members: Iterable[int] = (), capacity: int = MIN_CAPACITY) -> None:
        size = MIN_CAPACITY
        while size < capacity:
            size *= 2
        self._table = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._len = 0
        self._has_zero = False
        for member in members:
            self.add(member)

    def __len__(self) -> int:
        return self._len

    @property
    def capacity(self) -> int:
        """Slots in the table (a power of two, at least twice the members)."""
        return self._mask + 1

    @property
    def nbytes(self) -> int:
        """Bytes the table takes (its buffer)."""
        return self._table.itemsize * len(self._table)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        value &= MASK64
        if value == 0:
            return self._has_zero
        table, mask = self._table, self._mask
        i = value & mask
        while True:
            slot = table[i]
            if slot == value:
                return True
            if slot == 0:
                return False
            i = (i + 1) & mask

    def add(self, value: int) -> bool:
        """Add ``value`` (taken modulo 2**64); True when it was not there yet."""
        value &= MASK64
        if value == 0:
            if self._has_zero:
                return False
            self._has_zero = True
            self._len += 1
            return True
        table, mask = self._table, self._mask
        i = value & mask
        while True:
            slot = table[i]
            if slot == value:
                return False
            if slot == 0:
                break
            i = (i + 1) & mask
        table[i] = value
        self._len += 1
        if 2 * self._len > mask + 1:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        size = 2 * len(old)
        table = array("Q", bytes(8 * size))
        mask = size - 1
        for value in old:
            if value:
                i = value & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = value
        self._table, self._mask = table, mask

    def update(self, values: Iterable[int]) -> None:
        for value in values:
            self.add(value)

    def __iter__(self) -> Iterator[int]:
        if self._has_zero:
            yield 0
        for value in self._table:
            if value:
                yield value

    def __repr__(self) -> str:
        return f"FingerprintSet(len={self._len}, capacity={self.capacity})"

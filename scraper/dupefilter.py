"""Scrapy's duplicate request filter with a compact in-memory set.

:class:`CompactDupeFilter` (``DUPEFILTER_CLASS``) is Scrapy's
``RFPDupeFilter`` — same request fingerprints (``REQUEST_FINGERPRINTER``),
same ``JOBDIR/requests.seen`` file (each fingerprint as its 2-byte big-endian
length then its bytes, appended as requests are seen and read back when a
job resumes), same logging and stats — but the fingerprints it remembers are
kept as 64-bit prefixes in a :class:`~scraper.fpset.FingerprintSet`
(8–16 bytes each) instead of a set of 20-byte ``bytes`` objects (~80–100
bytes each). Two different requests share a 64-bit prefix of their SHA-1
with a probability of about n²/2⁶⁵: ~3·10⁻¹⁰ for a million requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter, _read_fingerprints
from scrapy.utils.request import RequestFingerprinterProtocol

from scraper.fpset import FingerprintSet, fingerprint64

if TYPE_CHECKING:
    from scrapy.http import Request

_SIZE_BYTES = 2  # as scrapy.dupefilters writes requests.seen


class CompactDupeFilter(RFPDupeFilter):
    """``RFPDupeFilter`` keeping 64-bit fingerprint prefixes in a compact table."""

    def __init__(self, path: str | None = None, debug: bool = False, *,
                 fingerprinter: RequestFingerprinterProtocol | None = None) -> None:
        # The parent opens no file without a path: the file is opened here, and
        # its fingerprints read into the compact set, not into a set of bytes.
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.seen = FingerprintSet()
        if path:
            self.file = Path(path, "requests.seen").open("a+b")  # noqa: SIM115 (closed by close())
            self.file.seek(0)
            self.seen.update(fingerprint64(fp) for fp in _read_fingerprints(self.file.read()))

    def request_seen(self, request: Request) -> bool:
        fp = self._fingerprint(request)
        if not self.seen.add(fingerprint64(fp)):
            return True
        if self.file:
            self.file.write(len(fp).to_bytes(_SIZE_BYTES, "big") + fp)
        return False

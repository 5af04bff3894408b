"""Raw pages in WARC: one gzip WARC file series per crawl run (warcio).

:class:`WarcWriter` knows nothing of Scrapy: the downloader middleware
(``scraper/middlewares.py``) hands it each exchange (request line and
headers, response status, headers and body as received) and gets back where
the response record was written (:class:`RecordLocation`). A page handed
on to the store carries a :class:`CaptureRef` to its record, which becomes
the article's :class:`~archive.store.Capture` (:func:`capture_of`).

Files are ``<folder>/<run>-<n>.warc.gz`` (``n`` from 1), each starting with a
``warcinfo`` record that names the software, the run and the portal; a file
is closed and the next one started once it reaches ``max_bytes``. Every
record is its own gzip member and is flushed when written, so a crawl that
dies leaves complete records behind.

Faithfulness (see docs/archival.md): the response body is taken before Scrapy
decompresses it, so it is the bytes the server sent with their
``Content-Encoding`` kept. Only the chunked transfer coding is undone by the
HTTP client; a ``Transfer-Encoding`` header is then renamed
``X-Archive-Orig-Transfer-Encoding`` so that the record stays valid.
"""

from __future__ import annotations

import io
import json
import logging
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.store import Capture

logger = logging.getLogger(__name__)

SOFTWARE = "portal-archive/0.1 (warcio)"
#: Default size at which a WARC file is closed and the next one started.
DEFAULT_MAX_BYTES = 1_000_000_000
_HOP_BY_HOP = {"transfer-encoding"}


@dataclass(frozen=True)
class RecordLocation:
    """Where a record was written: file (as given to the writer), offset, length."""

    file: str
    offset: int
    length: int
    record_id: str
    #: The record's WARC-Date (for a response: when it was received).
    date: str = ""


def warc_date(when: datetime | None = None) -> str:
    """WARC-Date: UTC, ISO 8601 with microseconds (WARC/1.1)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _header_pairs(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, value in headers:
        if name.lower() in _HOP_BY_HOP:
            out.append(("X-Archive-Orig-" + name, value))
        else:
            out.append((name, value))
    return out


class WarcWriter:
    """Writes request/response pairs to rotating gzip WARC files.

    ``name(n)`` gives the n-th file's path relative to ``root`` (the archive's
    data folder); locations are reported with that relative name.
    """

    def __init__(self, root: str | Path, folder: str, prefix: str, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, info: dict[str, Any] | None = None) -> None:
        self.root = Path(root)
        self.folder = folder.strip("/")
        self.prefix = prefix
        self.max_bytes = max(1, int(max_bytes))
        self.info = dict(info or {})
        self.files: list[str] = []
        self.bytes_written = 0
        self.records = 0
        #: Exchanges written by :meth:`keep`; whether a disk error stopped it.
        self.exchanges = 0
        self.stopped = False
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""

    # ----------------------------------------------------------------- files
    def _relative(self, n: int) -> str:
        return f"{self.folder}/{self.prefix}-{n:05d}.warc.gz"

    def _open_next(self) -> None:
        self.close()
        n = len(self.files) + 1
        name = self._relative(n)
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # Never overwrite: a resumed run continues with new file numbers.
        while path.exists():
            n += 1
            name = self._relative(n)
            path = self.root / name
        self._fh = open(path, "xb")  # noqa: SIM115 - kept open across records
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        self._name = name
        self.files.append(name)
        info = {"software": SOFTWARE, "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                              "warc-format/warc-1.1/",
                **{k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                   for k, v in self.info.items()}}
        record = self._writer.create_warcinfo_record(Path(name).name, info)
        self._write(record)

    def _write(self, record: Any) -> RecordLocation:
        assert self._fh is not None and self._writer is not None
        offset = self._fh.tell()
        self._writer.write_record(record)
        self._fh.flush()
        end = self._fh.tell()
        self.bytes_written += end - offset
        self.records += 1
        return RecordLocation(self._name, offset, end - offset,
                              record.rec_headers.get_header("WARC-Record-ID"))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = None
        self._writer = None

    @property
    def current_size(self) -> int:
        return self._fh.tell() if self._fh is not None else 0

    # --------------------------------------------------------------- records
    def write_exchange(
        self, *, url: str, method: str, request_headers: list[tuple[str, str]],
        request_body: bytes, status: int, response_headers: list[tuple[str, str]],
        body: bytes, protocol: str = "HTTP/1.1", ip_address: str | None = None,
        when: datetime | None = None, truncated: str | None = None,
    ) -> RecordLocation:
        """Write the response record, then its request record; return the response's location.

        ``truncated`` (``disconnect``, ``length`` …) marks a body the server
        did not send whole (``WARC-Truncated``).
        """
        if self._fh is None or self.current_size >= self.max_bytes:
            self._open_next()
        assert self._writer is not None
        date = warc_date(when)
        protocol = protocol if protocol.upper().startswith("HTTP/") else "HTTP/1.1"
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        http_headers = StatusAndHeaders(f"{status} {reason}", _header_pairs(response_headers),
                                        protocol=protocol)
        warc_headers: dict[str, str] = {"WARC-Date": date}
        if ip_address:
            warc_headers["WARC-IP-Address"] = ip_address
        if truncated:
            warc_headers["WARC-Truncated"] = truncated
        response = self._writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict=warc_headers,
        )
        location = replace(self._write(response), date=date)

        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = list(request_headers)
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        request = self._writer.create_warc_record(
            url, "request", payload=io.BytesIO(request_body), length=len(request_body),
            http_headers=StatusAndHeaders(f"{method} {target} {protocol}", req_headers,
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": location.record_id},
        )
        self._write(request)
        return location

    def write_response(self, *, url: str, status: int, headers: list[tuple[str, str]],
                       body: bytes, when: datetime,
                       provenance: dict[str, str] | None = None) -> RecordLocation:
        """Write a response record alone, received at ``when``, with extra WARC
        ``provenance`` headers: a page recovered from a web archive, whose
        request the archive's crawler made, not us."""
        if self._fh is None or self.current_size >= self.max_bytes:
            self._open_next()
        assert self._writer is not None
        date = warc_date(when)
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        http_headers = StatusAndHeaders(f"{status} {reason}", _header_pairs(headers),
                                        protocol="HTTP/1.1")
        response = self._writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict={"WARC-Date": date,
                                                          **(provenance or {})},
        )
        return replace(self._write(response), date=date)

    def keep(self, exchange: dict[str, Any]) -> RecordLocation | None:
        """Write one exchange (:meth:`write_exchange`'s arguments) for a crawl
        that goes on whatever happens: where its response went, or None. A
        disk error stops the writing (said once); any other error loses this
        exchange only, and its page is stored without a WARC record."""
        if self.stopped:
            return None
        try:
            location = self.write_exchange(**exchange)
        except OSError as exc:  # disk full, folder not writable
            self.stopped = True
            logger.error("WARC writing stopped: %s", exc)
            return None
        except Exception:
            logger.exception("WARC record of %s not written", exchange.get("url"))
            return None
        self.exchanges += 1
        return location

    def stats(self) -> dict[str, Any]:
        """The crawl's WARC counters (keys under the crawl's stats prefix):
        responses written (each with its request), bytes, files."""
        return {"warc/records": self.exchanges, "warc/bytes": self.bytes_written,
                "warc/files": list(self.files)}


@dataclass(frozen=True)
class WarcOptions:
    """How one crawl run's WARC files are written (picklable: sent to the archiver process)."""

    root: Path
    folder: str
    prefix: str
    max_bytes: int = DEFAULT_MAX_BYTES
    info: dict[str, Any] = field(default_factory=dict)

    def writer(self) -> WarcWriter:
        return WarcWriter(self.root, self.folder, self.prefix, max_bytes=self.max_bytes,
                          info=self.info)


@dataclass(frozen=True)
class CaptureRef:
    """A response's WARC record as the crawl knows it when the page is handed on.

    The record is still being written when the page reaches the store, in
    one of two places: the archiver process (``seq``: the exchange's number
    in the orders it was sent; it looks the location up itself) or the crawl
    process's WARC thread (``written``: that write's future, which gives the
    location, or None when the record could not be written).
    """

    status: int
    seq: int | None = None
    written: Future[RecordLocation | None] | None = field(default=None, compare=False)

    def location(self) -> RecordLocation | None:
        """Where the record went (waits for the WARC thread's write)."""
        return self.written.result() if self.written is not None else None


def capture_of(url: str, fetched_at: str, status: int,
               location: RecordLocation | None) -> Capture:
    """The store's record of one fetch: the page's URL, time and status, and
    where its response record is kept (when it was written)."""
    if location is None:
        return Capture(url=url, fetched=fetched_at or None, http_status=status)
    return Capture(url=url, fetched=location.date or fetched_at or None, http_status=status,
                   warc_file=location.file, warc_offset=location.offset,
                   warc_length=location.length, warc_record_id=location.record_id)

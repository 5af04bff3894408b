"""Raw pages in WARC: one gzip WARC file series per crawl run (warcio).

:class:`WarcWriter` knows nothing of Scrapy: the downloader middleware
(``scraper/middlewares.py``) hands it each exchange (request line and
headers, response status, headers and body as received) and gets back where
the response record was written (:class:`RecordLocation`).

Files are ``<folder>/<run>-<n>.warc.gz`` (``n`` from 1), each starting with a
``warcinfo`` record that names the software, the run and the portal; a file
is closed and the next one started once it reaches ``max_bytes``. Every
record is its own gzip member and is flushed when written, so a crawl that
dies leaves complete records behind.

Faithfulness (see docs/warc.md): the response body is taken before Scrapy
decompresses it, so it is the bytes the server sent with their
``Content-Encoding`` kept. Only the chunked transfer coding is undone by the
HTTP client; a ``Transfer-Encoding`` header is then renamed
``X-Archive-Orig-Transfer-Encoding`` so that the record stays valid.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

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

    def keep(self, exchange: dict[str, Any]) -> dict[str, Any] | None:
        """Write one exchange (:meth:`write_exchange`'s arguments) for a crawl
        that goes on whatever happens: where its response went (file, offset,
        length, record id, status, fetched), or None. A disk error stops the
        writing (said once); any other error loses this exchange only, and its
        page is stored without a WARC record."""
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
        return {"file": location.file, "offset": location.offset, "length": location.length,
                "record_id": location.record_id, "status": exchange["status"],
                "fetched": location.date}

"""Middlewares: every response kept in WARC, and the article items told where.

``WarcMiddleware`` is a downloader middleware placed next to the downloader
(priority 950, after ``HttpCompressionMiddleware`` at 590 on the way in): it
sees each response exactly as received — before decompression, before
retries and redirects consume it, robots.txt and images included, 4xx/5xx
too — and writes it with its request to the run's WARC files
(:class:`scraper.warc.WarcWriter`). The writing (gzip, digests, file) is done
in one WARC thread, in arrival order, off the crawl's reactor; where the
response record went is put in ``request.meta["portal_archive_warc"]`` as a
pending location (:func:`resolve_capture` waits for it).

``WarcCaptureMiddleware`` is a spider middleware that copies that location
onto the :class:`~scraper.items.PageItem` the spider makes of the response,
so the store can record which WARC record holds each article's page.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from scraper.archiver import archiver_of
from scraper.inline import writer_executor
from scraper.items import PageItem
from scraper.warc import DEFAULT_MAX_BYTES, SOFTWARE, WarcWriter

logger = logging.getLogger(__name__)

META_KEY = "portal_archive_warc"
STATS_PREFIX = "portal_archive/warc"


def _pairs(headers: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values or [b""]:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


class WarcMiddleware:
    """Writes every response with its request to the crawl run's WARC files."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.enabled = settings.getbool("PORTAL_ARCHIVE_WARC", True)
        db = settings.get("PORTAL_ARCHIVE_DB") or "data/archive.db"
        self.root = Path(settings.get("PORTAL_ARCHIVE_DATA_DIR") or Path(db).resolve().parent)
        self.max_bytes = settings.getint("PORTAL_ARCHIVE_WARC_MAX_BYTES", DEFAULT_MAX_BYTES)
        self.writer: WarcWriter | None = None
        self.executor: Executor | None = None
        self.threaded = settings.getbool("PORTAL_ARCHIVE_WARC_THREAD", True)
        #: Exchanges handed to the archiver process (their numbers), and whether
        #: it was told how to write them.
        self.seq = 0
        self.sent_open = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        return cls(crawler)

    def _writer(self) -> WarcWriter:
        if self.writer is None:
            self.writer = WarcWriter(**self._writer_args())
        return self.writer

    def _writer_args(self) -> dict[str, Any]:
        """The WARC writer of this crawl run: folder, file names, warcinfo."""
        spider = self.crawler.spider
        portal = getattr(spider, "portal", None)
        portal_id = getattr(portal, "id", None) or getattr(spider, "name", "crawl")
        stats = self.crawler.stats
        run_id = (stats.get_value("portal_archive/run_id") if stats is not None else None) \
            or self.crawler.settings.getint("PORTAL_ARCHIVE_RUN_ID", 0)
        started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        prefix = f"run{int(run_id):06d}" if run_id else f"crawl-{started}"
        info: dict[str, Any] = {
            "software": SOFTWARE,
            "isPartOf": f"portal-archive {portal_id} run {run_id or started}",
            "portal-archive-run": str(run_id or ""),
            "portal-archive-portal": portal_id,
            "http-header-user-agent": self.crawler.settings.get("USER_AGENT", ""),
            "robots": "obey" if self.crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        }
        if portal is not None:
            info["portal-archive-portal-json"] = {
                "id": portal.id, "name": portal.name, "province": portal.province,
                "base_url": portal.base_url, "layout": portal.layout,
            }
        return {"root": self.root, "folder": f"warc/{portal_id}", "prefix": prefix,
                "max_bytes": self.max_bytes, "info": info}

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if not self.enabled or (self.writer is not None and self.writer.stopped):
            return response
        ip = getattr(response, "ip_address", None)
        exchange: dict[str, Any] = {
            "url": response.url,
            "method": request.method,
            "request_headers": _pairs(request.headers),
            "request_body": request.body or b"",
            "status": response.status,
            "response_headers": _pairs(response.headers),
            "body": response.body,
            "protocol": getattr(response, "protocol", None) or "HTTP/1.1",
            "ip_address": str(ip) if ip else None,
            # A body cut short (DOWNLOAD_FAIL_ON_DATALOSS off) is kept, marked.
            "truncated": "disconnect" if "dataloss" in (response.flags or []) else None,
            "when": datetime.now(UTC),
        }
        client = archiver_of(self.crawler)
        if client is not None and not client.dead:
            # The archiver process writes it, before the page that may come of it.
            if not self.sent_open:
                client.send("warc_open", self._writer_args())
                self.sent_open = True
            self.seq += 1
            client.send("warc", self.seq, exchange)
            request.meta[META_KEY] = {"seq": self.seq, "status": response.status}
            return response
        writer = self._writer()
        if self.executor is None:
            self.executor = writer_executor(self.threaded, "warc-writer")
        # Compressed and written in the WARC thread (zlib and file writes release
        # the GIL), in arrival order; the location is a future until it is done.
        request.meta[META_KEY] = {"pending": self.executor.submit(self._write, writer, exchange),
                                  "status": response.status}
        return response

    def _write(self, writer: WarcWriter, exchange: dict[str, Any]) -> dict[str, Any] | None:
        """Write one exchange (WARC thread); its location, or None when writing failed."""
        location = writer.keep(exchange)
        stats = self.crawler.stats
        if location is not None and stats is not None:
            stats.set_value(f"{STATS_PREFIX}/records", writer.exchanges)
            stats.set_value(f"{STATS_PREFIX}/bytes", writer.bytes_written)
            stats.set_value(f"{STATS_PREFIX}/files", list(writer.files))
        return location

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)  # every response written
            self.executor = None
        if self.writer is not None:
            self.writer.close()


def resolve_capture(capture: dict[str, Any] | None) -> dict[str, Any] | None:
    """A capture whose WARC record may still be being written: wait for its location.

    ``None`` when the response was not kept (WARC off, or writing failed).
    """
    if capture is None or "pending" not in capture:
        return capture
    future: Future[dict[str, Any] | None] = capture["pending"]
    return future.result()


class WarcCaptureMiddleware(BaseSpiderMiddleware):
    """Puts the WARC location of a response on the PageItem made from it."""

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        if isinstance(item, PageItem) and response is not None and item.capture is None:
            location = response.meta.get(META_KEY) if response.request is not None else None
            if location is not None and item.url == response.url:
                item.capture = dict(location)
        return item

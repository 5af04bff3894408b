"""Middlewares: every response kept in WARC, and the article items told where.

``WarcMiddleware`` is a downloader middleware placed next to the downloader
(priority 950, after ``HttpCompressionMiddleware`` at 590 on the way in): it
sees each response exactly as received — before decompression, before
retries and redirects consume it, robots.txt and images included, 4xx/5xx
too — and hands it with its request to the crawl's WARC writer: the archiver
process when the crawl has one, else a WARC thread in the crawl process
(:mod:`scraper.storage`). The record is written later, in arrival order;
the request gets a :class:`~scraper.warc.CaptureRef` to it under
:data:`CAPTURE_META`.

``WarcCaptureMiddleware`` is a spider middleware that copies that reference
onto the :class:`~scraper.items.PageItem` the spider makes of the response,
so the store can record which WARC record holds each article's page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from scraper.items import PageItem
from scraper.runcontext import RunStats, run_context
from scraper.storage import WarcKeeper, WarcThread
from scraper.warc import DEFAULT_MAX_BYTES, SOFTWARE, CaptureRef, WarcOptions

logger = logging.getLogger(__name__)

#: The request meta key holding the :class:`~scraper.warc.CaptureRef` of its response.
CAPTURE_META = "portal_archive_capture"


def _pairs(headers: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values or [b""]:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


class WarcMiddleware:
    """Hands every response with its request to the crawl run's WARC writer."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.enabled = settings.getbool("PORTAL_ARCHIVE_WARC", True)
        self.max_bytes = settings.getint("PORTAL_ARCHIVE_WARC_MAX_BYTES", DEFAULT_MAX_BYTES)
        self.threaded = settings.getbool("PORTAL_ARCHIVE_WARC_THREAD", True)
        self.keeper: WarcKeeper | None = None
        #: The WARC thread, when this process writes the records itself.
        self.thread: WarcThread | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        return cls(crawler)

    def _options(self) -> WarcOptions:
        """The WARC files of this crawl run: folder, file names, warcinfo."""
        context = run_context(self.crawler)
        portal, run_id = context.portal, context.run_id
        started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        info: dict[str, Any] = {
            "software": SOFTWARE,
            "isPartOf": f"portal-archive {portal.id} run {run_id or started}",
            "portal-archive-run": str(run_id or ""),
            "portal-archive-portal": portal.id,
            "http-header-user-agent": self.crawler.settings.get("USER_AGENT", ""),
            "robots": "obey" if self.crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "portal-archive-portal-json": {
                "id": portal.id, "name": portal.name, "province": portal.province,
                "base_url": portal.base_url, "layout": portal.layout,
            },
        }
        return WarcOptions(root=context.data_dir, folder=f"warc/{portal.id}",
                           prefix=f"run{run_id:06d}" if run_id else f"crawl-{started}",
                           max_bytes=self.max_bytes, info=info)

    def _keeper(self) -> WarcKeeper:
        """The archiver process when the crawl has one (and it lives), else a WARC thread."""
        if self.keeper is None or self.keeper.gone:
            from scraper.archiver import ArchiverWarc
            from scraper.pipelines import StorePipeline

            store = self.crawler.get_item_pipeline(StorePipeline)
            archiver = store.archiver if store is not None else None
            if archiver is not None and not archiver.dead:
                self.keeper = ArchiverWarc(archiver, self._options())
            else:
                self.keeper = self.thread = WarcThread(self._options(), threaded=self.threaded,
                                                       on_stats=self._warc_stats)
        return self.keeper

    def _warc_stats(self, values: dict[str, Any]) -> None:
        stats = RunStats(self.crawler.stats)
        for key, value in values.items():
            stats.set(key, value)

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if not self.enabled:
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
        capture = self._keeper().keep(exchange)
        if capture is not None:
            request.meta[CAPTURE_META] = capture
        return response

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.thread is not None:
            self.thread.close()
            self.thread = None


class WarcCaptureMiddleware(BaseSpiderMiddleware):
    """Puts the WARC record reference of a response on the PageItem made from it."""

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        if isinstance(item, PageItem) and response is not None and item.capture is None:
            capture = response.meta.get(CAPTURE_META) if response.request is not None else None
            if isinstance(capture, CaptureRef) and item.url == response.url:
                item.capture = capture
        return item

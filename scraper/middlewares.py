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
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from twisted.internet.defer import Deferred

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


# --- bounds, polite waiting, robots.txt ---------------------------------------

class BoundsMiddleware(BaseSpiderMiddleware):
    """Cuts the requests a crawl must not follow (:mod:`scraper.bounds`), counted.

    Placed after Scrapy's DepthMiddleware on the way out (its ``depth`` meta is
    set). Revisits of archived articles and requests marked ``dont_filter``
    (the start page, probes) are not counted against the page budget.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        from scraper.bounds import CrawlBounds
        from scraper.fpset import FingerprintSet

        settings = crawler.settings
        self.bounds = CrawlBounds(
            max_pages=settings.getint("PORTAL_ARCHIVE_MAX_PAGES", 200_000),
            max_depth=settings.getint("PORTAL_ARCHIVE_MAX_DEPTH", 500),
            max_repeat=settings.getint("PORTAL_ARCHIVE_MAX_REPEAT", 3),
            max_segments=settings.getint("PORTAL_ARCHIVE_MAX_SEGMENTS", 25),
        )
        self.scheduled = FingerprintSet()
        self.stats = RunStats(crawler.stats)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        from spiders.revisits import url_key

        revisit = bool(request.meta.get("portal_archive_revisit"))
        key = url_key(request.url)
        new = not request.dont_filter and not revisit and key not in self.scheduled
        reason = self.bounds.check(request.url, int(request.meta.get("depth", 0)), counted=new)
        if reason is not None:
            self.stats.inc(f"cut/{reason}")
            return None
        if new:
            self.scheduled.add(key)
        return request


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    import email.utils
    import time as _time

    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else _time.time()))


class RetryAfterMiddleware:
    """429 and 503 are waited out, not failures: the request is scheduled again
    after ``Retry-After`` (at most ``PORTAL_ARCHIVE_RETRY_AFTER_MAX`` seconds a
    wait), or after an exponential backoff without it, at most
    ``PORTAL_ARCHIVE_RETRY_AFTER_TIMES`` times; then Scrapy's RetryMiddleware
    (placed after this one on the way in) takes over and counts a failure.
    While a request waits, the portal's downloader slot waits too.
    """

    STATUSES = (429, 503)

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("PORTAL_ARCHIVE_RETRY_AFTER_MAX", 300.0)
        self.times = settings.getint("PORTAL_ARCHIVE_RETRY_AFTER_TIMES", 8)
        self.backoff = settings.getfloat("PORTAL_ARCHIVE_BACKOFF", 5.0)
        self.stats = RunStats(crawler.stats)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def delay_for(self, response: Response, waits: int) -> float:
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is None:
            return min(self.max_wait, self.backoff * (2 ** waits))
        return min(self.max_wait, asked)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if response.status not in self.STATUSES or request.meta.get("dont_retry"):
            return response
        waits = int(request.meta.get("portal_archive_waits", 0))
        if waits >= self.times:
            self.stats.inc("waits/gave_up")
            return response
        delay = self.delay_for(response, waits)
        self.stats.inc(f"waits/{response.status}")
        self.stats.inc("waits/seconds", int(round(delay)))
        slot_key = request.meta.get("download_slot")
        slots = getattr(getattr(self.crawler.engine, "downloader", None), "slots", {})
        if slot_key in slots:
            # The whole portal waits, not only this request.
            slot = slots[slot_key]
            slot.lastseen = max(slot.lastseen, time.time() + delay)
        retry = request.replace(dont_filter=True, priority=request.priority + 1)
        retry.meta["portal_archive_waits"] = waits + 1
        from twisted.internet import reactor, task

        return task.deferLater(reactor, delay, lambda: retry)


class _DisallowAll:
    """A robots.txt that forbids everything (RFC 9309 §2.3.1.4: unreachable)."""

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False

    def crawl_delay(self, user_agent: str | bytes) -> float | None:
        return None


class PoliteRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, plus what RFC 9309 and politeness ask.

    * A robots.txt that answers 5xx (after the retries), or cannot be fetched
      at all, means complete disallow for that host while it errs
      (RFC 9309 §2.3.1.4); counted as ``robots/unavailable``. A 4xx means
      no rules (§2.3.1.3), as in Scrapy.
    * ``Crawl-delay`` is obeyed: the host's downloader slot waits at least that
      long between requests (at most ``PORTAL_ARCHIVE_MAX_CRAWL_DELAY`` seconds).
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_crawl_delay = crawler.settings.getfloat("PORTAL_ARCHIVE_MAX_CRAWL_DELAY", 60.0)
        self.run_stats = RunStats(crawler.stats)
        self.crawl_delays: dict[str, float] = {}

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._unavailable(netloc, f"HTTP {response.status}")
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):
            super()._robots_error(exc, netloc)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._unavailable(netloc, type(exc).__name__)

    def _unavailable(self, netloc: str, why: str) -> None:
        self.run_stats.inc("robots/unavailable")
        self.run_stats.set("robots/unavailable_reason", f"robots.txt of {netloc}: {why}")
        waiting = self._parsers[netloc]
        parser: Any = _DisallowAll()
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    def process_request_2(self, rp: Any, request: Request) -> None:
        if rp is not None and not isinstance(rp, _DisallowAll):
            self._apply_crawl_delay(rp, request)
        if isinstance(rp, _DisallowAll):
            self._stats.inc_value("robotstxt/forbidden")
            self.run_stats.inc("robots/forbidden_unavailable")
            raise IgnoreRequest("robots.txt unavailable (5xx or unreachable): crawling disallowed")
        super().process_request_2(rp, request)

    def _apply_crawl_delay(self, rp: Any, request: Request) -> None:
        downloader = getattr(self.crawler.engine, "downloader", None)
        if downloader is None:
            return
        key = downloader.get_slot_key(request)
        delay = self.crawl_delays.get(key)
        if delay is None:
            agent = self._robotstxt_useragent or request.headers.get(
                b"User-Agent", self._default_useragent) or ""
            try:
                asked = rp.crawl_delay(agent)
            except Exception:  # a parser without Crawl-delay support
                asked = None
            delay = min(float(asked), self.max_crawl_delay) if asked else 0.0
            self.crawl_delays[key] = delay
            if delay:
                self.run_stats.set("robots/crawl_delay", delay)
        if not delay:
            return
        downloader.per_slot_settings.setdefault(key, {})["delay"] = delay
        slot = downloader.slots.get(key)
        if slot is not None and slot.delay < delay:
            slot.delay = delay  # AutoThrottle may have lowered it: raised again

"""Scrapy extensions: a machine-readable progress line on stderr.

``ProgressExtension`` writes ``PORTAL_ARCHIVE_PROGRESS {json}`` to stderr
every ``PORTAL_ARCHIVE_PROGRESS_INTERVAL`` seconds (0 = off) and once more
when the spider closes. ``portal-archive crawl`` reads these lines from the
crawl process and shows them (``scraper/progress.py``); everything here is
read from the crawl's stats.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from scraper.progress import PROGRESS_TAG
from scraper.runcontext import stat_key


def progress_snapshot(stats: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """The numbers a progress line shows, from Scrapy stats."""
    def n(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, (int, float)) else 0

    return {
        "elapsed": round(elapsed, 2),
        "requests": n("downloader/request_count"),
        "pages": n("downloader/response_count"),
        "articles": n(stat_key("articles")),
        "dropped": n(stat_key("dropped")),
        "images_ok": n(stat_key("images/ok")),
        "images_failed": n(stat_key("images/failed")),
        "errors": n("log_count/ERROR"),
        "http_errors": sum(int(v) for k, v in stats.items()
                           if k.startswith("downloader/response_status_count/")
                           and k.rsplit("/", 1)[-1][:1] in ("4", "5")),
        "warc_bytes": n(stat_key("warc/bytes")),
    }


class ProgressExtension:
    """Every N seconds: one ``PORTAL_ARCHIVE_PROGRESS {json}`` line on stderr."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        interval = crawler.settings.getfloat("PORTAL_ARCHIVE_PROGRESS_INTERVAL", 0)
        if interval <= 0:
            raise NotConfigured
        return cls(crawler, interval)

    def spider_opened(self, spider: Any = None) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.emit)
        self.loop.start(self.interval, now=False)

    def emit(self, final: bool = False) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        snapshot = progress_snapshot(stats, time.monotonic() - self.started)
        snapshot["final"] = final
        sys.stderr.write(PROGRESS_TAG + json.dumps(snapshot) + "\n")
        sys.stderr.flush()

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.emit(final=True)


class NetworkErrorLog:
    """Routine network errors (DNS, refused, timeouts, lost connections) are
    counted (``network_errors/<kind>``) and logged on one line at INFO, never as
    ERROR tracebacks: Scrapy logs a download that failed after its retries, and
    a robots.txt it could not fetch, with the whole traceback."""

    LOGGERS = ("scrapy.core.scraper", "scrapy.downloadermiddlewares.robotstxt",
               "scrapy.core.engine", "scraper.middlewares")

    def __init__(self, crawler: Crawler) -> None:
        from scrapy.utils.misc import load_object

        from scraper.runcontext import RunStats

        self.stats = RunStats(crawler.stats)
        kinds: list[type[BaseException]] = []
        for name in crawler.settings.getlist("RETRY_EXCEPTIONS"):
            try:
                obj = load_object(name) if isinstance(name, str) else name
            except (ImportError, AttributeError, NameError, ValueError):
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException):
                kinds.append(obj)
        self.kinds = tuple(kinds)
        self._loggers = [logging.getLogger(name) for name in self.LOGGERS]
        for logger in self._loggers:
            logger.addFilter(self.filter)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkErrorLog:
        return cls(crawler)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not isinstance(exc, self.kinds):
            return True
        self.stats.inc(f"network_errors/{type(exc).__name__}")
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        for logger in self._loggers:
            logger.removeFilter(self.filter)

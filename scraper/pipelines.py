"""Item pipelines: thin glue that runs the extraction stages and stores.

Each stage pipeline runs one slice of :data:`scraper.extract.steps.STEPS`
(the same pure functions ``extract_article`` runs), so the crawl and the
tests cannot drift apart. ``StorePipeline`` batches articles into the
archive, one transaction per batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from archive.store import Archive
from scraper.extract.article import Article, NotAnArticle
from scraper.extract.steps import STAGES, Page, run
from scraper.items import PageItem

STATS_PREFIX = "portal_archive"


class StagePipeline:
    """Runs one extraction stage on a :class:`PageItem`."""

    stage: ClassVar[str]

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StagePipeline:
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"{STATS_PREFIX}/{key}", count)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        if item.page is None:
            # PORTAL_ARCHIVE_PROFILE forces an extraction profile ("generic": none).
            forced = self.crawler.settings.get("PORTAL_ARCHIVE_PROFILE") or None
            item.page = Page(url=item.url, raw=item.html, forced_profile=forced)
        before = dict(item.page.removed)
        try:
            item.page = run(item.page, STAGES[self.stage])
        except NotAnArticle as exc:
            self._inc(f"dropped/{exc.reason}")
            self._inc("dropped")
            raise DropItem(f"{item.url}: {exc}") from exc
        for name, count in item.page.removed.items():
            if count - before.get(name, 0):
                self._inc(f"removed/{name}", count - before.get(name, 0))
        return item


class ParsePipeline(StagePipeline):
    """Decode and parse the page, read its metadata, pick its profile."""

    stage = "parse"


class StripWidgetsPipeline(StagePipeline):
    """Remove polls, counters, weather, link lists, related news, share bars."""

    stage = "strip_widgets"


class CollapseDuplicatesPipeline(StagePipeline):
    """Keep one copy of the article: drop print copies and repeated runs."""

    stage = "collapse_duplicates"


class NormalisePipeline(StagePipeline):
    """Read the fields and normalise their text (NFC, spaces, invisible chars)."""

    stage = "normalise"


class ValidatePipeline(StagePipeline):
    """Drop pages that are not articles, with the reason counted."""

    stage = "validate"

    def process_item(self, item: Any, spider: Any = None) -> Any:
        item = super().process_item(item, spider)
        if isinstance(item, PageItem) and item.article is not None:
            self._inc(f"extractor/{item.article.extractor}")
            for warning in item.article.warnings:
                self._inc(f"warnings/{warning}")
        return item


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


class StorePipeline:
    """Writes articles to the archive in batches; records the crawl run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("PORTAL_ARCHIVE_DB")
        self.batch_size = settings.getint("PORTAL_ARCHIVE_BATCH", 100)
        self.run_id = settings.getint("PORTAL_ARCHIVE_RUN_ID", 0)
        self.archive: Archive | None = None
        self.buffer: list[Article] = []
        self.portal_id = ""
        self.counts = {"new": 0, "changed": 0, "unchanged": 0}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        portal = spider.portal
        self.portal_id = portal.id
        self.archive = Archive(self.db_path)
        self.archive.ensure_portal(portal)
        if not self.run_id:
            self.run_id = self.archive.start_run(portal.id, {"started_by": "scrapy crawl"})

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageItem) and item.article is not None:
            self.buffer.append(item.article)
            if len(self.buffer) >= self.batch_size:
                self.flush()
            # The stored article is all later stages need: free the parse tree.
            item.page = None
        return item

    def flush(self) -> None:
        if not self.buffer or self.archive is None:
            return
        result = self.archive.save_articles(self.buffer, portal_id=self.portal_id,
                                            run_id=self.run_id)
        self.buffer = []
        for key in self.counts:
            self.counts[key] += getattr(result, key)
        stats = self.crawler.stats
        if stats is not None:
            for key in self.counts:
                stats.set_value(f"{STATS_PREFIX}/articles_{key}", self.counts[key])

    def close_spider(self, spider: Any = None) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.archive is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        stats = _jsonable(stats)
        stats["finish_reason"] = reason
        stats["finished_at"] = datetime.now(UTC).isoformat()
        self.archive.finish_run(self.run_id, stats,
                                status="finished" if reason == "finished" else reason)
        self.archive.close()
        self.archive = None

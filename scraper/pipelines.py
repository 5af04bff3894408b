"""Item pipelines: thin glue that runs the extraction stages and stores.

Each stage pipeline runs one slice of :data:`scraper.extract.steps.STEPS`
(the same pure functions ``extract_article`` runs), so the crawl and the
tests cannot drift apart. ``StorePipeline`` batches articles into the
archive, one transaction per batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar

from PIL import Image as PILImage
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from archive.store import Archive, Capture, ImageDownload, SaveResult
from scraper.archiver import (
    ARCHIVER_ATTR,
    ArchiverClient,
    ArchiverConfig,
    ArchiverError,
    archiver_mode,
    archiver_of,
    capture_of,
)
from scraper.extract.article import Article, NotAnArticle
from scraper.extract.page import Page
from scraper.extract.steps import STAGES, run
from scraper.fpset import FingerprintSet
from scraper.inline import writer_executor
from scraper.items import PageItem
from scraper.middlewares import resolve_capture
from scraper.runstats import run_columns

STATS_PREFIX = "portal_archive"
logger = logging.getLogger(__name__)
_T = TypeVar("_T")


class StagePipeline:
    """Runs extraction stages (slices of ``STAGES``, in order) on a :class:`PageItem`."""

    #: The names of the stages this pipeline runs, in ``STAGES`` order.
    stages: ClassVar[tuple[str, ...]]

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        # PORTAL_ARCHIVE_PROFILE forces an extraction profile ("generic": none).
        self.forced = crawler.settings.get("PORTAL_ARCHIVE_PROFILE") or None
        self.steps = tuple(step for name in self.stages for step in STAGES[name])
        self.validates = "validate" in self.stages

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
            item.page = Page(url=item.url, raw=item.html, forced_profile=self.forced)
        before = dict(item.page.removed)
        try:
            item.page = run(item.page, self.steps)
        except NotAnArticle as exc:
            self._drop(item, exc.reason, str(exc))
        self._count(item, before)
        return item

    def _drop(self, item: PageItem, reason: str, message: str) -> NoReturn:
        self._inc(f"dropped/{reason}")
        self._inc("dropped")
        raise DropItem(f"{item.url}: {message}")

    def _count(self, item: PageItem, before: dict[str, int]) -> None:
        assert item.page is not None
        article = item.article if self.validates else None
        self._counts({name: count - before.get(name, 0)
                      for name, count in item.page.removed.items()},
                     article.extractor if article is not None else "",
                     article.warnings if article is not None else [])

    def _counts(self, removed: dict[str, int], extractor: str, warnings: list[str]) -> None:
        """Count the widgets removed, and the extractor and warnings of an article."""
        for name, count in removed.items():
            if count:
                self._inc(f"removed/{name}", count)
        if extractor:
            self._inc(f"extractor/{extractor}")
        for warning in warnings:
            self._inc(f"warnings/{warning}")


class ExtractPipeline(StagePipeline):
    """All the extraction stages in one pipeline call (the crawl's default).

    The same step functions as ``extract_article``, in the same order; one
    call per item instead of one per stage saves Scrapy's per-pipeline
    overhead on every page. When the crawl has an archiver process
    (:mod:`scraper.archiver`, started by :class:`StorePipeline`), the page's
    bytes go there instead: it extracts and stores the article on another
    core, and the item gets back what the crawl still needs (a
    :class:`~scraper.archiver.PageSummary`).
    """

    stages = tuple(STAGES)
    #: The archiver died and the crawl is being stopped.
    stopping = False

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        client = archiver_of(self.crawler)
        if client is None or not isinstance(item, PageItem) or item.page is not None:
            return super().process_item(item, spider)
        client.attach(asyncio.get_running_loop())
        try:
            summary = await client.page(item.url, item.html, item.status, item.fetched_at,
                                        item.capture)
        except ArchiverError as exc:
            if client.dead:
                self._archiver_died(client.dead)
                self._drop(item, "archiver_failed", str(exc))
            self._drop(item, "extraction_error", str(exc))  # this page only
        if summary.reason:
            self._drop(item, summary.reason, summary.message)
        item.summary = summary
        self._counts(summary.removed, summary.extractor, summary.warnings)
        return item

    def _archiver_died(self, why: str) -> None:
        """Stop the crawl (once): it is not finished, the next crawl resumes it."""
        engine = self.crawler.engine
        if engine is None or self.stopping:
            return
        self.stopping = True
        logger.error("%s: stopping the crawl (the next crawl resumes it)", why)
        deferred_from_coro(engine.close_spider_async(reason="archiver_failed"))


# One stage per pipeline (the same steps, for a crawl that wants to place its
# own pipelines between stages).
class ParsePipeline(StagePipeline):
    """Decode and parse the page, read its metadata, pick its profile."""

    stages = ("parse",)


class StripWidgetsPipeline(StagePipeline):
    """Remove polls, counters, weather, link lists, related news, share bars."""

    stages = ("strip_widgets",)


class CollapseDuplicatesPipeline(StagePipeline):
    """Keep one copy of the article: drop print copies and repeated runs."""

    stages = ("collapse_duplicates",)


class NormalisePipeline(StagePipeline):
    """Read the fields and normalise their text (NFC, spaces, invisible chars)."""

    stages = ("normalise",)


class ValidatePipeline(StagePipeline):
    """Drop pages that are not articles, with the reason counted."""

    stages = ("validate",)


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            out[key] = str(value)
    return out


def _capture(item: PageItem) -> Capture:
    """Where the item's page was fetched and kept; waits for its WARC record
    when that is still being written (call it off the reactor: the store's
    writer thread does)."""
    return capture_of(item.url, item.fetched_at, item.status, resolve_capture(item.capture))


def wants_archiver(mode: str) -> bool:
    """Start an archiver process? ``process``: yes; ``inline``: no; ``auto``: when
    the machine has a second core. Either way only under the asyncio reactor,
    whose loop reads the archiver's replies."""
    from scrapy.utils.reactor import is_asyncio_reactor_installed, is_reactor_installed

    if mode == "inline":
        return False
    if not (is_reactor_installed() and is_asyncio_reactor_installed()):
        if mode == "process":
            raise ValueError("PORTAL_ARCHIVE_ARCHIVER=process needs the asyncio reactor")
        return False
    return mode == "process" or (os.cpu_count() or 1) >= 2


class StorePipeline:
    """Writes articles to the archive in batches; records the crawl run.

    By default (``PORTAL_ARCHIVE_ARCHIVER=auto``, on a machine with a second
    core) it starts the crawl's archiver process (:mod:`scraper.archiver`):
    the pages are extracted, stored and kept in WARC there, and this pipeline
    only counts what comes back. Otherwise (``inline``) the archive is used by
    one writer thread (opened, written and closed there): a full batch is
    handed to it and the crawl goes on fetching and extracting while SQLite
    (which releases the GIL) writes the rows and the FTS index. At most one
    batch is in flight: the next flush waits for it, so memory stays bounded
    and batches commit in order. Either way a batch is stored only when its
    transaction commits: a crawl killed with batches unwritten has not stored
    those articles, and the next crawl fetches them again (their WARC records
    are already on disk).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("PORTAL_ARCHIVE_DB")
        self.batch_size = settings.getint("PORTAL_ARCHIVE_BATCH", 100)
        self.run_id = settings.getint("PORTAL_ARCHIVE_RUN_ID", 0)
        self.archiver_mode = archiver_mode(settings.get("PORTAL_ARCHIVE_ARCHIVER"))
        self.client: ArchiverClient | None = None
        self.archive: Archive | None = None
        self.buffer: list[Article] = []
        #: The items of the buffered articles (their captures are read when written).
        self.captures: list[PageItem] = []
        self.portal_id = ""
        self.counts = {"new": 0, "changed": 0, "unchanged": 0}
        self.writer: Executor | None = None
        self.threaded = settings.getbool("PORTAL_ARCHIVE_STORE_THREAD", True)
        #: The batch being written: (its future, its articles, their captures).
        self.pending: tuple[Future[SaveResult], list[Article], list[PageItem]] | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def _in_writer(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn`` in the writer thread and wait for it."""
        assert self.writer is not None
        return self.writer.submit(fn, *args).result()

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        portal = spider.portal
        self.portal_id = portal.id
        if wants_archiver(self.archiver_mode):
            self._start_archiver(portal)
            return
        self.writer = writer_executor(self.threaded, "archive-writer")
        self.archive = self._in_writer(self._open, portal)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(f"{STATS_PREFIX}/run_id", self.run_id)

    def _start_archiver(self, portal: Any) -> None:
        config = ArchiverConfig(
            db_path=str(self.db_path), portal=portal, run_id=self.run_id,
            batch_size=self.batch_size,
            forced_profile=self.crawler.settings.get("PORTAL_ARCHIVE_PROFILE") or None)
        self.client = ArchiverClient(config, on_stats=self._archiver_stats)
        self.run_id = self.client.run_id
        setattr(self.crawler, ARCHIVER_ATTR, self.client)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(f"{STATS_PREFIX}/run_id", self.run_id)

    def _archiver_stats(self, values: dict[str, Any]) -> None:
        """The archiver's counters (articles stored, WARC records …) into the crawl's stats."""
        for key in self.counts:
            self.counts[key] = values.get(f"articles_{key}", self.counts[key])
        stats = self.crawler.stats
        if stats is not None:
            for key, value in values.items():
                if key.endswith("max_rss_kb"):
                    stats.max_value(f"{STATS_PREFIX}/{key}", value)
                else:
                    stats.set_value(f"{STATS_PREFIX}/{key}", value)

    def _open(self, portal: Any) -> Archive:
        archive = Archive(self.db_path)
        archive.ensure_portal(portal)
        if not self.run_id:
            self.run_id = archive.start_run(portal.id, {"started_by": "scrapy crawl"})
        return archive

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageItem) and item.summary is not None:
            # Extracted and stored by the archiver process.
            item.image_urls = item.summary.image_urls
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value(f"{STATS_PREFIX}/articles")
            return item
        if isinstance(item, PageItem) and item.article is not None:
            self.buffer.append(item.article)
            self.captures.append(item)
            item.image_urls = [i.url for i in item.article.images]
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value(f"{STATS_PREFIX}/articles")
            if len(self.buffer) >= self.batch_size:
                self.flush()
            # The stored article is all later stages need: free the parse tree.
            item.page = None
        return item

    def _close_archiver(self, reason: str) -> None:
        client, self.client = self.client, None
        assert client is not None
        status = "finished" if reason == "finished" else reason
        try:
            if not client.dead:
                # Its last counters first (they come as stats), so that the run records them.
                client.call("flush", answer="flushed")
                error = client.call("finish", self._run_stats(reason), status,
                                    answer="finished")
                if error:
                    logger.error("the crawl run was not recorded: %s", error)
            self._archiver_stats(client.close())
        except ArchiverError as exc:
            logger.error("archiver: %s", exc)
        finally:
            delattr(self.crawler, ARCHIVER_ATTR)
        if client.dead:
            # Recorded from here: the run is not finished, the next crawl resumes it.
            with Archive(self.db_path) as archive:
                stats = self._run_stats(reason)
                archive.finish_run(self.run_id, stats, columns=run_columns(stats),
                                   status="archiver_failed" if status == "finished" else status)

    def _save(self, articles: list[Article], items: list[PageItem]) -> SaveResult:
        """Store one batch (writer thread). Each page's WARC record is written
        before the transaction that records where it is commits."""
        assert self.archive is not None
        captures: list[Capture | None] = [_capture(item) for item in items]
        return self.archive.save_articles(articles, portal_id=self.portal_id,
                                          run_id=self.run_id, captures=captures)

    def flush(self, wait: bool = False) -> None:
        """Hand the buffered articles to the writer (after the batch before them)."""
        if self.archive is None or self.writer is None:
            return
        self._collect()
        if self.buffer:
            batch, captures = self.buffer, self.captures
            self.buffer, self.captures = [], []
            self.pending = (self.writer.submit(self._save, batch, captures), batch, captures)
        if wait:
            self._collect()

    def _collect(self) -> None:
        """Wait for the batch in flight; count what it stored.

        A batch that failed goes back to the front of the buffer (written with
        the next one) and its error is raised here, as a synchronous write's was.
        """
        if self.pending is None:
            return
        future, batch, captures = self.pending
        self.pending = None
        try:
            result = future.result()
        except Exception:
            self.buffer[:0] = batch
            self.captures[:0] = captures
            raise
        for key in self.counts:
            self.counts[key] += getattr(result, key)
        stats = self.crawler.stats
        if stats is not None:
            for key in self.counts:
                stats.set_value(f"{STATS_PREFIX}/articles_{key}", self.counts[key])

    def close_spider(self, spider: Any = None) -> None:
        if self.client is not None:
            error = self.client.call("flush", answer="flushed")
            if error:
                raise ArchiverError(f"the last batch was not stored: {error}")
            return
        self.flush(wait=True)

    def _run_stats(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        stats = _jsonable(stats)
        stats["finish_reason"] = reason
        stats["finished_at"] = datetime.now(UTC).isoformat()
        return stats

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.client is not None:
            self._close_archiver(reason)
            return
        if self.archive is None or self.writer is None:
            return
        stats = self._run_stats(reason)
        archive = self.archive
        try:
            self._in_writer(lambda: archive.finish_run(
                self.run_id, stats, status="finished" if reason == "finished" else reason,
                columns=run_columns(stats)))
        finally:
            self._in_writer(archive.close)
            self.archive = None
            self.writer.shutdown()
            self.writer = None


# ------------------------------------------------------------------- images
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
               "TIFF": ".tif"}
IMAGE_META = "portal_archive_image"


def inspect_image(url: str, status: int, body: bytes, root: Path) -> ImageDownload:
    """Check a downloaded image and store it content-addressed under ``root``.

    The file goes to ``images/<sha256[:2]>/<sha256><ext>`` (written once: the
    same bytes from two URLs or two articles are one file). A non-200 status,
    an empty body or bytes Pillow cannot read make a failed download.
    """
    if status != 200:
        return ImageDownload(url, ok=False, http_status=status, error=f"HTTP {status}")
    if not body:
        return ImageDownload(url, ok=False, http_status=status, error="empty body")
    try:
        with PILImage.open(io.BytesIO(body)) as img:
            fmt = img.format or ""
            width, height = img.size
            mime = img.get_format_mimetype() or PILImage.MIME.get(fmt, "application/octet-stream")
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        return ImageDownload(url, ok=False, http_status=status,
                             error=f"not an image ({type(exc).__name__})")
    sha = hashlib.sha256(body).hexdigest()
    rel = f"images/{sha[:2]}/{sha}{_EXTENSIONS.get(fmt, '.bin')}"
    path = root / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)
    return ImageDownload(url, ok=True, sha256=sha, size=len(body), width=width, height=height,
                         mime=mime, path=rel, http_status=status)


def _url_key(url: str) -> int:
    return hash(url) & 0xFFFF_FFFF_FFFF_FFFF


class ImageFilesPipeline:
    """Downloads the images of stored articles, content-addressed, recorded per URL.

    Runs after :class:`StorePipeline`: the article is stored first, and its
    images are then *scheduled* as ordinary requests (robots.txt, politeness,
    retries and the WARC middleware apply to them), so an image never holds
    up or drops its article. Each outcome is recorded in ``image_files``
    (status ok/failed, sha256, size, width × height, MIME type, attempts,
    last error). An image already stored is not fetched again; a failed one
    (up to ``PORTAL_ARCHIVE_IMAGE_MAX_ATTEMPTS`` attempts), or one a killed
    crawl never got to, is fetched by the next crawl at its start, even when
    its article is not crawled again.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.enabled = settings.getbool("PORTAL_ARCHIVE_IMAGES", True)
        self.db_path = settings.get("PORTAL_ARCHIVE_DB")
        self.root = Path(settings.get("PORTAL_ARCHIVE_DATA_DIR")
                         or Path(self.db_path).resolve().parent)
        self.max_attempts = settings.getint("PORTAL_ARCHIVE_IMAGE_MAX_ATTEMPTS", 5)
        self.archive: Archive | None = None
        self.portal_id = ""
        #: 64-bit keys of the image URLs scheduled in this crawl (compact, flat memory).
        self.scheduled = FingerprintSet()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageFilesPipeline:
        if not crawler.settings.getbool("PORTAL_ARCHIVE_IMAGES", True):
            # Off: not in the chain at all (no per-item call for nothing).
            raise NotConfigured("PORTAL_ARCHIVE_IMAGES is off")
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"{STATS_PREFIX}/images/{key}", count)

    @property
    def run_id(self) -> int | None:
        stats = self.crawler.stats
        value = stats.get_value(f"{STATS_PREFIX}/run_id") if stats is not None else None
        return int(value) if value else None

    def open_spider(self, spider: Any = None) -> None:
        if not self.enabled:
            return
        spider = spider or self.crawler.spider
        self.portal_id = spider.portal.id
        self.archive = Archive(self.db_path)

    def close_spider(self, spider: Any = None) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def spider_opened(self, spider: Any = None) -> None:
        """Fetch the images earlier crawls failed (or never got) to get."""
        if self.archive is None:
            return
        for url, status in self.archive.images_to_retry(self.portal_id,
                                                        max_attempts=self.max_attempts):
            self._inc("retried" if status == "failed" else "resumed")
            self._schedule(url)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.archive is None or not isinstance(item, PageItem):
            return item
        for url in item.image_urls:
            if _url_key(url) in self.scheduled:
                continue
            state = self.archive.image_state(url)
            if state is not None and (state["status"] == "ok"
                                      or state["attempts"] >= self.max_attempts):
                self._inc("known")
                continue
            self._schedule(url)
        return item

    def _schedule(self, url: str) -> None:
        if _url_key(url) in self.scheduled or self.crawler.engine is None:
            return
        self.scheduled.add(_url_key(url))
        request = Request(url, callback=self._downloaded, errback=self._failed,
                          dont_filter=True, priority=-10,
                          meta={IMAGE_META: url, "allow_offsite": True,
                                "handle_httpstatus_all": True})
        self.crawler.engine.crawl(request)

    def _record(self, download: ImageDownload) -> None:
        self._inc("ok" if download.ok else "failed")
        if not download.ok:
            self._inc(f"failed/{(download.error or 'error').split(' (')[0]}")
        if self.archive is not None:
            self.archive.record_image(download, run_id=self.run_id)

    def _downloaded(self, response: Response) -> list[Any]:
        url = response.meta.get(IMAGE_META) or response.url
        try:
            download = inspect_image(url, response.status, response.body, self.root)
        except OSError as exc:
            download = ImageDownload(url, ok=False, http_status=response.status,
                                     error=f"cannot store: {exc.strerror or exc}")
        self._record(download)
        return []

    def _failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = (request.meta.get(IMAGE_META) or request.url) if request is not None else ""
        error = failure.value
        self._record(ImageDownload(url, ok=False,
                                   error=f"{type(error).__name__}: {error}"[:300]))

"""Item pipelines: thin glue between the crawl and its storage.

``StorePipeline`` opens the crawl run's storage when the spider opens (an
archiver process, or the crawl process itself: :mod:`scraper.storage`) and
records the run when it closes. ``ExtractPipeline`` hands each page to that
storage, which extracts it (the steps ``extract_article`` runs) and stores
its article through :class:`archive.sink.ArticleSink`; the item gets back a
:class:`~scraper.archiver.PageSummary`, or is dropped with the reason the
page is not an article. ``ImageFilesPipeline`` then fetches the article's
images, and ``DocumentFilesPipeline`` its attached documents.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from archive.store import Archive, DocumentDownload, ImageDownload
from scraper.archiver import ArchiverClient, ArchiverConfig, ArchiverError, PageSummary
from scraper.extract.steps import STEPS
from scraper.fpset import FingerprintSet
from scraper.imagefiles import inspect_image
from scraper.items import PageItem
from scraper.runcontext import RunContext, RunStats, run_context
from scraper.runstats import run_columns
from scraper.storage import InProcessStorage, PageStorage

logger = logging.getLogger(__name__)


def wants_archiver(storage: str) -> bool:
    """Start an archiver process? ``process``: yes; ``in_process``: no; ``auto``:
    when the machine has a second core. Either way only under the asyncio
    reactor, whose loop reads the archiver's replies."""
    from scrapy.utils.reactor import is_asyncio_reactor_installed, is_reactor_installed

    if storage == "in_process":
        return False
    if not (is_reactor_installed() and is_asyncio_reactor_installed()):
        if storage == "process":
            raise ValueError("PORTAL_ARCHIVE_ARCHIVER=process needs the asyncio reactor")
        return False
    return storage == "process" or (os.cpu_count() or 1) >= 2


class ExtractPipeline:
    """Hands each page to the crawl's storage; counts what comes back.

    The storage extracts the page with every step of ``extract_article``
    (:data:`~scraper.extract.steps.STEPS`, in order) and stores its article:
    in the archiver process, on another core, or right here (the in-process
    storage extracts on the reactor and stores on a writer thread). A page
    that is not an article is dropped with its reason counted.
    """

    #: The extraction steps every page goes through (run by the storage).
    steps = STEPS

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = RunStats(crawler.stats)
        #: The pipeline that opens the storage (it opens after this one).
        self.store: StorePipeline | None = None
        #: The storage died and the crawl is being stopped.
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        store = self.crawler.get_item_pipeline(StorePipeline)
        if store is None:
            raise RuntimeError("ExtractPipeline stores through StorePipeline: enable both")
        self.store = store

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        storage = self.store.storage if self.store is not None else None
        assert storage is not None, "the spider is not open"
        if isinstance(storage, ArchiverClient):
            storage.attach(asyncio.get_running_loop())
        try:
            summary = await storage.page(item.url, item.html, item.status, item.fetched_at,
                                         item.capture)
        except ArchiverError as exc:
            if storage.dead:
                self._storage_died(storage.dead)
                self._drop(item, "archiver_failed", str(exc))
            self._drop(item, "extraction_error", str(exc))  # this page only
        if summary.reason:
            self._drop(item, summary.reason, summary.message)
        self._count(summary)
        item.summary = summary
        return item

    def _drop(self, item: PageItem, reason: str, message: str) -> NoReturn:
        self.stats.inc(f"dropped/{reason}")
        self.stats.inc("dropped")
        raise DropItem(f"{item.url}: {message}")

    def _count(self, summary: PageSummary) -> None:
        """Count the widgets removed, and the extractor and warnings of an article."""
        for name, count in summary.removed.items():
            if count:
                self.stats.inc(f"removed/{name}", count)
        if summary.extractor:
            self.stats.inc(f"extractor/{summary.extractor}")
        for warning in summary.warnings:
            self.stats.inc(f"warnings/{warning}")

    def _storage_died(self, why: str) -> None:
        """Stop the crawl (once): it is not finished, the next crawl resumes it."""
        engine = self.crawler.engine
        if engine is None or self.stopping:
            return
        self.stopping = True
        self.stats.set("archiver/died", why)
        logger.error("%s: stopping the crawl (the next crawl resumes it)", why)
        deferred_from_coro(engine.close_spider_async(reason="archiver_failed"))


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


class StorePipeline:
    """Opens the crawl run's storage; counts the articles stored; records the run.

    The storage (:mod:`scraper.storage`) is an archiver process
    (``PORTAL_ARCHIVE_ARCHIVER=process``, and ``auto`` on a machine with a
    second core) or the crawl process itself (``in_process``: batches stored
    by a writer thread, ``PORTAL_ARCHIVE_STORE_THREAD``). Either way a batch
    is stored when its transaction commits: a crawl killed with batches
    unwritten has not stored those articles, and the next crawl fetches them
    again (their WARC records are already on disk).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = RunStats(crawler.stats)
        self.threaded = crawler.settings.getbool("PORTAL_ARCHIVE_STORE_THREAD", True)
        self.storage: PageStorage | None = None
        self.context: RunContext | None = None
        #: Articles stored so far, by what the store did with them.
        self.counts = {"new": 0, "changed": 0, "unchanged": 0}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        context = self.context = run_context(self.crawler)
        storage: PageStorage
        if wants_archiver(context.storage):
            storage = ArchiverClient(
                ArchiverConfig(db_path=context.db_path, portal=context.portal,
                               run_id=context.run_id, batch_size=context.batch_size,
                               forced_profile=context.forced_profile),
                on_stats=self._storage_stats)
        else:
            storage = InProcessStorage(
                context.db_path, context.portal, run_id=context.run_id,
                batch_size=context.batch_size, forced_profile=context.forced_profile,
                threaded=self.threaded, on_stats=self._storage_stats)
        self.storage = storage
        context.set_run_id(storage.run_id)
        self.stats.set("run_id", context.run_id)

    @property
    def archiver(self) -> ArchiverClient | None:
        """The crawl's archiver process, when its storage is one."""
        return self.storage if isinstance(self.storage, ArchiverClient) else None

    def _storage_stats(self, values: dict[str, Any]) -> None:
        """The storage's counters (articles stored, WARC records …) into the crawl's stats."""
        for key in self.counts:
            self.counts[key] = values.get(f"articles_{key}", self.counts[key])
        for key, value in values.items():
            if key.endswith("max_rss_kb"):
                self.stats.max(key, value)
            else:
                self.stats.set(key, value)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageItem) and item.summary is not None:
            item.image_urls = item.summary.image_urls
            item.document_urls = item.summary.document_urls
            self.stats.inc("articles")
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.storage is not None and not self.storage.dead:
            error = self.storage.flush()
            if error:
                raise ArchiverError(f"the last batch was not stored: {error}")

    def _run_stats(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        stats = _jsonable(stats)
        stats["finish_reason"] = reason
        stats["finished_at"] = datetime.now(UTC).isoformat()
        return stats

    def spider_closed(self, spider: Any, reason: str) -> None:
        storage, self.storage = self.storage, None
        if storage is None:
            return
        status = "finished" if reason == "finished" else reason
        try:
            if not storage.dead:
                # Its last counters first (they come as stats), so that the run records them.
                storage.flush()
                error = storage.finish(self._run_stats(reason), status)
                if error:
                    logger.error("the crawl run was not recorded: %s", error)
            self._storage_stats(storage.close())
        except ArchiverError as exc:
            logger.error("archiver: %s", exc)
        if storage.dead:
            # Recorded from here: the run is not finished, the next crawl resumes it.
            assert self.context is not None
            with Archive(self.context.db_path) as archive:
                stats = self._run_stats(reason)
                archive.finish_run(storage.run_id, stats, columns=run_columns(stats),
                                   status="archiver_failed" if status == "finished" else status)


# ------------------------------------------------------------------- images
IMAGE_META = "portal_archive_image"


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
        self.stats = RunStats(crawler.stats)
        self.max_attempts = crawler.settings.getint("PORTAL_ARCHIVE_IMAGE_MAX_ATTEMPTS", 5)
        self.context: RunContext | None = None
        self.archive: Archive | None = None
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
        self.stats.inc(f"images/{key}", count)

    def open_spider(self, spider: Any = None) -> None:
        self.context = run_context(self.crawler)
        self.archive = Archive(self.context.db_path)

    def close_spider(self, spider: Any = None) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def spider_opened(self, spider: Any = None) -> None:
        """Fetch the images earlier crawls failed (or never got) to get."""
        if self.archive is None:
            return
        assert self.context is not None
        for url, status in self.archive.images_to_retry(self.context.portal.id,
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
            self.archive.record_image(download, run_id=self.context.run_id or None
                                      if self.context is not None else None)

    def _downloaded(self, response: Response) -> list[Any]:
        url = response.meta.get(IMAGE_META) or response.url
        try:
            assert self.context is not None
            download = inspect_image(url, response.status, response.body, self.context.data_dir)
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


# ---------------------------------------------------------------- documents
DOCUMENT_META = "portal_archive_document"
#: Default cap on one attached document's size (``PORTAL_ARCHIVE_DOCUMENT_MAX_BYTES``).
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
_DOCUMENT_MIME = {
    "pdf": "application/pdf", "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
}


def document_path(sha256: str, kind: str) -> str:
    """Where a document's bytes are kept, relative to the archive's folder (the
    images' folder's parent): ``documents/<sha256[:2]>/<sha256>.<kind>``."""
    return f"documents/{sha256[:2]}/{sha256}.{kind or 'bin'}"


def _write_once(root: Path, rel: str, body: bytes) -> None:
    path = root / rel
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)


def store_document(url: str, kind: str, status: int, body: bytes, root: Path,
                   content_type: str = "") -> DocumentDownload:
    """Check a downloaded document, store it content-addressed under ``root``
    (:func:`document_path`, written once) and read its text
    (:func:`scraper.doctext.document_text`). Blocking: run it off the reactor."""
    from scraper.doctext import document_text

    if status != 200:
        return DocumentDownload(url, "failed", kind, http_status=status, error=f"HTTP {status}")
    if not body:
        return DocumentDownload(url, "failed", kind, http_status=status, error="empty body")
    if content_type.startswith("text/html"):
        return DocumentDownload(url, "failed", kind, http_status=status,
                                error="an HTML page, not a document")
    sha = hashlib.sha256(body).hexdigest()
    rel = document_path(sha, kind)
    _write_once(root, rel, body)
    text = document_text(body, kind)
    return DocumentDownload(url, "ok", kind, sha256=sha, path=rel, size=len(body),
                            mime=_DOCUMENT_MIME.get(kind, "application/octet-stream"),
                            http_status=status, error=text.error, text=text.text,
                            text_status=text.status, pages=text.pages)


class DocumentFilesPipeline:
    """Downloads the documents attached to stored articles (PDF, DOC, DOCX, XLS,
    XLSX, ODT), content-addressed beside the images, recorded per URL.

    Like :class:`ImageFilesPipeline`: scheduled as ordinary requests after the
    article is stored (robots.txt, politeness, retries and the WARC middleware
    apply), so a document never holds up or drops its article. A response
    over ``PORTAL_ARCHIVE_DOCUMENT_MAX_BYTES`` (default 50 MB) is cancelled by
    Scrapy's own size cap and recorded ``too_large`` (not retried). The text
    is read on a worker thread (:func:`store_document`), never on the
    reactor. A failed document (fewer than ``PORTAL_ARCHIVE_DOCUMENT_MAX_TRIES``
    tries), or one a killed crawl never got to, is fetched by the next crawl
    at its start.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = RunStats(crawler.stats)
        settings = crawler.settings
        self.max_tries = settings.getint("PORTAL_ARCHIVE_DOCUMENT_MAX_TRIES", 5)
        self.max_bytes = settings.getint("PORTAL_ARCHIVE_DOCUMENT_MAX_BYTES", DOCUMENT_MAX_BYTES)
        self.context: RunContext | None = None
        self.archive: Archive | None = None
        self.scheduled = FingerprintSet()
        #: Seconds spent reading documents' text, and how many were read.
        self.read_seconds = 0.0
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DocumentFilesPipeline:
        if not crawler.settings.getbool("PORTAL_ARCHIVE_DOCUMENTS", True):
            raise NotConfigured("PORTAL_ARCHIVE_DOCUMENTS is off")
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        self.stats.inc(f"documents/{key}", count)

    def open_spider(self, spider: Any = None) -> None:
        self.context = run_context(self.crawler)
        self.archive = Archive(self.context.db_path)

    def close_spider(self, spider: Any = None) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def spider_opened(self, spider: Any = None) -> None:
        """Fetch the documents earlier crawls failed (or never got) to get."""
        if self.archive is None:
            return
        assert self.context is not None
        for url, status in self.archive.documents_to_retry(self.context.portal.id,
                                                           max_tries=self.max_tries):
            self._inc("retried" if status == "failed" else "resumed")
            self._schedule(url, _kind_of(url))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.archive is None or not isinstance(item, PageItem):
            return item
        for url, kind in item.document_urls:
            if _url_key(url) in self.scheduled:
                continue
            state = self.archive.document_state(url)
            if state is not None and (state["status"] in ("ok", "too_large")
                                      or state["tries"] >= self.max_tries):
                self._inc("known")
                continue
            self._schedule(url, kind)
        return item

    def _schedule(self, url: str, kind: str) -> None:
        if _url_key(url) in self.scheduled or self.crawler.engine is None:
            return
        self.scheduled.add(_url_key(url))
        request = Request(url, callback=self._downloaded, errback=self._failed,
                          dont_filter=True, priority=-20,
                          meta={DOCUMENT_META: (url, kind), "allow_offsite": True,
                                "handle_httpstatus_all": True,
                                "download_maxsize": self.max_bytes,
                                "download_warnsize": 0})
        self.crawler.engine.crawl(request)

    def _record(self, download: DocumentDownload) -> None:
        self._inc(download.status)
        if download.status == "failed":
            self._inc(f"failed/{(download.error or 'error').split(':')[0][:40]}")
        if download.text_status:
            self._inc(f"text/{download.text_status}")
        if self.archive is not None:
            self.archive.record_document(download, run_id=self.context.run_id or None
                                         if self.context is not None else None)

    async def _downloaded(self, response: Response) -> list[Any]:
        url, kind = response.meta.get(DOCUMENT_META) or (response.url, _kind_of(response.url))
        assert self.context is not None
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        started = time.perf_counter()
        try:
            download = await asyncio.to_thread(store_document, url, kind, response.status,
                                               response.body, self.context.data_dir,
                                               content_type)
        except OSError as exc:
            download = DocumentDownload(url, "failed", kind, http_status=response.status,
                                        error=f"cannot store: {exc.strerror or exc}")
        self.read_seconds += time.perf_counter() - started
        self.stats.set("documents/read_seconds", round(self.read_seconds, 3))
        self._record(download)
        return []

    def _failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url, kind = ((request.meta.get(DOCUMENT_META) or (request.url, _kind_of(request.url)))
                     if request is not None else ("", ""))
        error = failure.value
        message = f"{type(error).__name__}: {error}"[:300]
        # Scrapy cancels a response over download_maxsize with this message.
        too_large = "maxsize" in str(error) or "max size" in str(error)
        self._record(DocumentDownload(
            url, "too_large" if too_large else "failed", kind,
            error=f"larger than {self.max_bytes} bytes" if too_large else message))


def _kind_of(url: str) -> str:
    from scraper.extract.attachments import document_kind

    return document_kind(url) or ""

"""Where a crawl's pages are extracted, stored and kept in WARC.

Two places, one interface. The crawl's Scrapy components (``StorePipeline``
opens the storage, ``ExtractPipeline`` hands it each page, ``WarcMiddleware``
each response) do not know which one they talk to:

* :class:`~scraper.archiver.ArchiverClient`: an archiver process beside the
  crawl does it all, on another core (``PORTAL_ARCHIVE_ARCHIVER=process``,
  and ``auto`` on a machine with two cores);
* :class:`InProcessStorage` and :class:`WarcThread`: the crawl process does
  it (``in_process``): extraction on the reactor, the store's batches on a
  writer thread, the WARC records on a WARC thread.

Either way the articles go through one :class:`archive.sink.ArticleSink`
(batches, captures, counters, the run's record), in the archiver process or
in the crawl process. No Scrapy here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, Protocol

from archive.sink import ArticleSink, writer_executor
from scraper.archiver import PageSummary, extract_page, summarise
from scraper.portals import Portal
from scraper.runstats import run_columns
from scraper.warc import CaptureRef, RecordLocation, WarcOptions, WarcWriter, capture_of

StatsCallback = Callable[[dict[str, Any]], None]


class PageStorage(Protocol):
    """Extracts and stores the pages of one crawl run."""

    #: The crawl run the articles are stored under.
    run_id: int
    #: Why the storage is gone ("" while it works): the crawl must stop.
    dead: str

    def page(self, url: str, html: bytes, status: int, fetched_at: str,
             capture: CaptureRef | None) -> Awaitable[PageSummary]:
        """Extract one page and store its article; what the crawl needs of it."""
        ...

    def flush(self) -> str:
        """Store what is buffered; the error ("" when stored)."""
        ...

    def finish(self, stats: dict[str, Any], status: str) -> str:
        """Store the rest and record the run's end; the error ("" when recorded)."""
        ...

    def close(self) -> dict[str, Any]:
        """Close the archive (and WARC files); the last counters."""
        ...


class WarcKeeper(Protocol):
    """Writes a crawl's exchanges to its WARC files, in arrival order."""

    @property
    def gone(self) -> bool:
        """The writer is gone (the archiver process died): use another."""
        ...

    def keep(self, exchange: dict[str, Any]) -> CaptureRef | None:
        """Write one exchange (later, elsewhere); the reference its page carries."""
        ...

    def close(self) -> None: ...


class InProcessStorage:
    """Extraction in the caller's thread; the sink's batches on a writer thread."""

    dead = ""

    def __init__(self, db_path: str, portal: Portal, *, run_id: int = 0, batch_size: int = 100,
                 forced_profile: str | None = None, threaded: bool = True,
                 on_stats: StatsCallback | None = None) -> None:
        self.forced_profile = forced_profile
        self.on_stats = on_stats
        self.sink = ArticleSink.open(db_path, portal, run_id=run_id,
                                     run_settings={"started_by": "scrapy crawl"},
                                     batch_size=batch_size,
                                     executor=writer_executor(threaded, "archive-writer"))
        self.run_id = self.sink.run_id

    async def page(self, url: str, html: bytes, status: int, fetched_at: str,
                   capture: CaptureRef | None) -> PageSummary:
        return self.extract_and_store(url, html, status, fetched_at, capture)

    def extract_and_store(self, url: str, html: bytes, status: int, fetched_at: str,
                          capture: CaptureRef | None) -> PageSummary:
        """Extract now; buffer the article. A full batch goes to the writer thread;
        the error of the batch before it, if it failed, is raised here (once)."""
        outcome = extract_page(url, html, self.forced_profile)
        if outcome.article is not None:
            def where() -> Any:  # on the writer thread: waits for the WARC thread
                return capture_of(url, fetched_at, status,
                                  capture.location() if capture is not None else None)

            self.sink.add(outcome.article, where)
            if self.sink.batch_due:
                self._flush(wait=False)
        return summarise(outcome)

    def _flush(self, wait: bool) -> None:
        try:
            self.sink.flush(wait=wait)
        finally:
            if self.on_stats is not None:
                self.on_stats(self.sink.counts.as_stats())

    def flush(self) -> str:
        try:
            self._flush(wait=True)
        except Exception as exc:  # noqa: BLE001 - told to the caller, as the archiver's is
            return f"{type(exc).__name__}: {exc}"
        return ""

    def finish(self, stats: dict[str, Any], status: str) -> str:
        error = self.flush()
        try:
            self.sink.finish(stats, status, columns=run_columns(stats))
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__}: {exc}"
        return error

    def close(self) -> dict[str, Any]:
        self.sink.close()
        return dict(self.sink.counts.as_stats())


class WarcThread:
    """Writes WARC records in the crawl process, on a thread of their own (or the caller's).

    zlib and file writes release the GIL; the records are written in
    arrival order, and each page's :class:`~scraper.warc.CaptureRef` holds
    the future of its write.
    """

    def __init__(self, options: WarcOptions, *, threaded: bool = True,
                 on_stats: StatsCallback | None = None) -> None:
        self.writer: WarcWriter = options.writer()
        self.executor: Executor = writer_executor(threaded, "warc-writer")
        self.on_stats = on_stats

    @property
    def gone(self) -> bool:
        return False

    def keep(self, exchange: dict[str, Any]) -> CaptureRef | None:
        if self.writer.stopped:
            return None
        return CaptureRef(status=exchange["status"],
                          written=self.executor.submit(self._write, exchange))

    def _write(self, exchange: dict[str, Any]) -> RecordLocation | None:
        location = self.writer.keep(exchange)
        if location is not None and self.on_stats is not None:
            self.on_stats(self.writer.stats())
        return location

    def close(self) -> None:
        self.executor.shutdown(wait=True)  # every response written
        self.writer.close()


__all__ = ["InProcessStorage", "PageStorage", "StatsCallback", "WarcKeeper", "WarcThread"]

"""The article sink: one run's articles, stored in batches with their captures.

Every path that stores extracted articles goes through :class:`ArticleSink`:
the crawl's archiver process (``scraper/archiver.py``), a crawl that keeps
its store in its own process (``PORTAL_ARCHIVE_ARCHIVER=in_process``) and
``portal-archive import-text``. The sink owns what they share: the
buffer, one :meth:`~archive.store.Archive.save_articles` transaction per
batch, the capture of each article (where its page is kept in WARC), the
run's counters (new / changed / unchanged) and the run's record.

Where the writes run is the caller's choice, given as an executor:
:class:`SameThreadExecutor` runs each call at once in the caller's thread
(the archiver process, import-text), a one-thread pool runs them on a writer
thread (a crawl storing in its own process: SQLite releases the GIL while it
writes, so the crawl goes on fetching). The archive is opened, written and
closed in that executor, as SQLite connections belong to the thread that
opened them. At most one batch is in flight: the next flush waits for it, so
memory stays bounded and batches commit in order.

Crash-safety: an article is stored when its batch's transaction commits. A
batch that fails goes back to the front of the buffer (stored with the next
one) and its error is raised to the caller once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from archive.store import Archive, Capture, SaveResult
from scraper.extract.article import Article
from scraper.portals import Portal

_T = TypeVar("_T")

#: Where an article's page is kept: known now, or known once its WARC record is
#: written (called on the sink's executor, just before the batch is stored).
CaptureSource = Capture | Callable[[], Capture | None] | None


class SameThreadExecutor(Executor):
    """``submit`` runs the call now, in the caller's thread, and returns its finished future.

    Stands in for a one-thread pool when the work should not leave the
    caller's thread: the code that submits work and waits for futures is the
    same either way.
    """

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the future, as a pool does
            future.set_exception(exc)
        return future


def writer_executor(threaded: bool, name: str) -> Executor:
    """One writer thread (calls run in submission order), or the caller's thread."""
    if threaded:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    return SameThreadExecutor()


@dataclass
class SinkCounts:
    """Articles a run stored so far, by what the store did with them."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    #: Archived texts kept as versions of an article holding a live or newer text.
    versions: int = 0

    def add(self, result: SaveResult) -> None:
        self.new += result.new
        self.changed += result.changed
        self.unchanged += result.unchanged
        self.versions += result.versions

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged}

    def as_stats(self) -> dict[str, int]:
        """The counters as the run's stats name them (``articles_new`` …)."""
        return {f"articles_{key}": value for key, value in self.as_dict().items()}


class ArticleSink:
    """Stores one run's articles in batches; records the run when it ends.

    Use :meth:`open`; then :meth:`add` each article and :meth:`flush` when
    :attr:`batch_due` (the batch is handed to the executor) and at the end
    (``wait=True`` to know it is stored), :meth:`finish` to record the run,
    and :meth:`close`.
    """

    def __init__(self, archive: Archive, portal_id: str, run_id: int, *,
                 batch_size: int = 100, executor: Executor | None = None) -> None:
        self.archive = archive
        self.portal_id = portal_id
        self.run_id = run_id
        self.batch_size = max(1, batch_size)
        self.executor: Executor = executor or SameThreadExecutor()
        self.counts = SinkCounts()
        self.buffer: list[Article] = []
        self.captures: list[CaptureSource] = []
        #: The batch being stored: its future, its articles, their captures.
        self.pending: tuple[Future[SaveResult], list[Article], list[CaptureSource]] | None = None
        self.closed = False

    @classmethod
    def open(cls, db_path: str | Path, portal: Portal, *, run_id: int = 0,
             run_settings: dict[str, Any] | None = None, batch_size: int = 100,
             executor: Executor | None = None, run_kind: str = "crawl") -> ArticleSink:
        """Open the archive (in ``executor``), record the portal, and the run unless
        ``run_id`` names one already recorded (``portal-archive crawl`` does)."""
        executor = executor or SameThreadExecutor()

        def opened() -> tuple[Archive, int]:
            archive = Archive(db_path)
            try:
                archive.ensure_portal(portal)
                run = run_id or archive.start_run(portal.id, run_settings, kind=run_kind)
            except BaseException:
                archive.close()
                raise
            return archive, run

        archive, run = executor.submit(opened).result()
        return cls(archive, portal.id, run, batch_size=batch_size, executor=executor)

    # ----------------------------------------------------------------- writes
    def add(self, article: Article, capture: CaptureSource = None) -> None:
        """Buffer one article (and where its page is kept); :attr:`batch_due`
        says when the buffer should be flushed."""
        self.buffer.append(article)
        self.captures.append(capture)

    @property
    def batch_due(self) -> bool:
        """The buffer holds a full batch."""
        return len(self.buffer) >= self.batch_size

    def flush(self, wait: bool = False) -> SaveResult | None:
        """Hand the buffered articles on (after the batch in flight is stored).

        With ``wait``, return once they are stored, with what storing them did
        (None when nothing was buffered or in flight). Raises the error of a
        batch that failed (its articles are buffered again).
        """
        result = self._collect()
        if self.buffer:
            batch, captures = self.buffer, self.captures
            self.buffer, self.captures = [], []
            self.pending = (self.executor.submit(self._save, batch, captures), batch, captures)
        if wait:
            last = self._collect()
            result = last if result is None else (result if last is None else result + last)
        return result

    def _save(self, articles: list[Article], captures: list[CaptureSource]) -> SaveResult:
        """Store one batch (on the executor), each article with its capture."""
        resolved = [source() if callable(source) else source for source in captures]
        return self.archive.save_articles(articles, portal_id=self.portal_id,
                                          run_id=self.run_id, captures=resolved)

    def _collect(self) -> SaveResult | None:
        """Wait for the batch in flight and count it; a failed one is buffered again."""
        if self.pending is None:
            return None
        future, batch, captures = self.pending
        self.pending = None
        try:
            result = future.result()
        except Exception:
            self.buffer[:0] = batch
            self.captures[:0] = captures
            raise
        self.counts.add(result)
        return result

    # ------------------------------------------------------------- the run
    def finish(self, stats: dict[str, Any], status: str = "finished", *,
               columns: dict[str, Any] | None = None) -> None:
        """Record the run's end: its stats, status and the run's provenance
        ``columns`` (see :meth:`Archive.finish_run`); the articles are counted by
        the store as they are saved."""
        archive = self.archive
        self.executor.submit(archive.finish_run, self.run_id, stats, status=status,
                             columns=columns).result()

    def close(self) -> None:
        """Close the archive (unstored articles are not written) and the writer."""
        if self.closed:
            return
        self.closed = True
        try:
            self.executor.submit(self.archive.close).result()
        finally:
            self.executor.shutdown()


__all__ = ["ArticleSink", "CaptureSource", "SameThreadExecutor", "SinkCounts",
           "writer_executor"]

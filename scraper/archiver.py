"""The archiver process: a crawl's extraction, store and WARC files on a core of their own.

A crawl process is CPU-bound on its reactor thread (fetching, parsing links,
scheduling). Everything it keeps — the WARC records of every response, the
extraction of every article page, the batches written to SQLite — can run
elsewhere: the crawl hands the raw bytes to one *archiver* process, which
does that work in arrival order, and gets back per page only what the crawl
still needs (the image URLs, the counts for its stats, or why the page was
dropped). The reactor's cost per page is a pickle and a pipe write.

No Scrapy here. :class:`Archiver` is the work, with no transport:
:func:`main` runs it in the child process behind a pipe, and
:class:`ArchiverClient` is the crawl's end of that pipe (non-blocking on the
asyncio loop, so the reactor never waits for the archiver except when the
spider closes). The archiver runs the same extraction steps as
``extract_article`` and the in-process pipelines (``STEPS``) and stores
with the same :meth:`archive.store.Archive.save_articles`.

Crash-safety is the in-process store's: a batch is stored when its
transaction commits. The archiver reads its orders from the crawl's pipe; when
the crawl dies (SIGKILL), the pipe ends and the archiver exits at once,
without writing the articles of its unfinished batch (the next crawl fetches
them again; their WARC records are on disk). Only a clean close flushes.

Protocol: frames of a 4-byte big-endian length and a pickle, each way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from archive.store import Archive, Capture
from scraper.extract import extract_page_state
from scraper.extract.article import Article, NotAnArticle
from scraper.runstats import run_columns

logger = logging.getLogger(__name__)

_LEN = struct.Struct(">I")
#: WARC locations kept for pages still to come (oldest dropped first): a page
#: arrives a few hundred responses after its WARC record at most.
LOCATIONS_KEPT = 20_000


# ------------------------------------------------------------- extraction
@dataclass
class Outcome:
    """What extraction made of one page (the parse tree stays where it was built)."""

    article: Article | None = None
    removed: dict[str, int] = field(default_factory=dict)
    #: ``NotAnArticle`` reason and message, when the page is not an article.
    reason: str = ""
    message: str = ""


def extract_page(url: str, raw: bytes | str, forced_profile: str | None) -> Outcome:
    """Run every extraction step on one page, as ``extract_article`` does."""
    try:
        page = extract_page_state(raw, url, profile=forced_profile)
    except NotAnArticle as exc:
        return Outcome(reason=exc.reason, message=str(exc))
    return Outcome(article=page.article, removed=dict(page.removed))


@dataclass
class PageSummary:
    """What the crawl gets back for one page: enough for its stats and images."""

    #: ``NotAnArticle`` reason (the page was dropped), else "".
    reason: str = ""
    message: str = ""
    removed: dict[str, int] = field(default_factory=dict)
    extractor: str = ""
    warnings: list[str] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)


def summarise(outcome: Outcome) -> PageSummary:
    article = outcome.article
    if article is None:
        return PageSummary(reason=outcome.reason, message=outcome.message,
                           removed=outcome.removed)
    return PageSummary(removed=outcome.removed, extractor=article.extractor,
                       warnings=list(article.warnings),
                       image_urls=[image.url for image in article.images])


def max_rss_kb() -> int:
    """This process's peak resident set size (KiB).

    ``VmHWM`` of this address space: ``ru_maxrss`` survives ``execve`` and would
    report the crawl process's size at the moment it started the archiver.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ------------------------------------------------------------------ work
def capture_of(url: str, fetched_at: str, status: int,
               location: dict[str, Any] | None) -> Capture:
    """Where a page was fetched and kept: its WARC record's location, when it has one."""
    c = location or {}
    return Capture(url=url, fetched=c.get("fetched") or fetched_at or None,
                   http_status=c.get("status", status), warc_file=c.get("file"),
                   warc_offset=c.get("offset"), warc_length=c.get("length"),
                   warc_record_id=c.get("record_id"))


@dataclass
class ArchiverConfig:
    """What the archiver needs to know of its crawl."""

    db_path: str
    #: The portal (a :class:`scraper.portals.Portal`).
    portal: Any
    run_id: int = 0
    batch_size: int = 100
    forced_profile: str | None = None


class Archiver:
    """Keeps what one crawl fetched: WARC records, articles in batches, the run's end."""

    def __init__(self, config: ArchiverConfig) -> None:
        self.config = config
        self.archive = Archive(config.db_path)
        self.archive.ensure_portal(config.portal)
        self.run_id = config.run_id or self.archive.start_run(
            config.portal.id, {"started_by": "scrapy crawl"})
        self.warc_writer: Any = None
        self.locations: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.buffer: list[Article] = []
        self.captures: list[Any] = []
        self.counts = {"new": 0, "changed": 0, "unchanged": 0}

    # WARC
    def warc_open(self, kwargs: dict[str, Any]) -> None:
        from scraper.warc import WarcWriter

        self.warc_writer = WarcWriter(**kwargs)

    def warc(self, seq: int, exchange: dict[str, Any]) -> None:
        """Write one exchange; keep where its response went for the page to come."""
        if self.warc_writer is None:
            return
        location = self.warc_writer.keep(exchange)
        if location is not None:
            self.locations[seq] = location
            if len(self.locations) > LOCATIONS_KEPT:
                self.locations.popitem(last=False)

    def stats(self) -> dict[str, Any]:
        """Counters the crawl copies into its stats."""
        out: dict[str, Any] = {f"articles_{key}": value for key, value in self.counts.items()}
        writer = self.warc_writer
        if writer is not None:
            # records: responses written (each with its request), as in the crawl process.
            out.update({"warc/records": writer.exchanges, "warc/bytes": writer.bytes_written,
                        "warc/files": list(writer.files)})
        out["archiver/max_rss_kb"] = max_rss_kb()
        return out

    # Articles
    def page(self, url: str, html: bytes, status: int, fetched_at: str,
             capture: dict[str, Any] | None) -> PageSummary:
        """Extract one page; buffer its article for the next batch."""
        outcome = extract_page(url, html, self.config.forced_profile)
        if outcome.article is not None:
            location = self.locations.pop(capture["seq"], None) \
                if capture is not None and "seq" in capture else capture
            self.buffer.append(outcome.article)
            self.captures.append(capture_of(url, fetched_at, status, location))
        return summarise(outcome)

    def batch_due(self) -> bool:
        return len(self.buffer) >= self.config.batch_size

    def flush(self) -> None:
        """Store the buffered articles in one transaction (kept for the next try if it fails)."""
        if not self.buffer:
            return
        result = self.archive.save_articles(self.buffer, portal_id=self.config.portal.id,
                                            run_id=self.run_id, captures=self.captures)
        self.buffer, self.captures = [], []
        for key in self.counts:
            self.counts[key] += getattr(result, key)

    def finish(self, stats: dict[str, Any], status: str) -> None:
        self.archive.finish_run(self.run_id, stats, status=status, columns=run_columns(stats))

    def close(self) -> None:
        if self.warc_writer is not None:
            self.warc_writer.close()
        self.archive.close()


# ------------------------------------------------------------ the process
def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(data)) + data


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def _serve(orders: BinaryIO, replies: BinaryIO) -> int:
    def reply(*message: Any) -> None:
        replies.write(_frame(message))
        replies.flush()

    head = _read_exactly(orders, _LEN.size)
    if head is None:
        return 0
    config = pickle.loads(orders.read(_LEN.unpack(head)[0]))
    try:
        archiver = Archiver(config)
    except Exception as exc:  # noqa: BLE001 - told to the crawl, which stops
        reply("failed", f"{type(exc).__name__}: {exc}")
        return 1
    reply("ready", archiver.run_id)
    while True:
        head = _read_exactly(orders, _LEN.size)
        if head is None:
            # The crawl is gone without closing us (killed): the unfinished
            # batch is not written, as a killed in-process crawl's is not.
            return 0
        body = _read_exactly(orders, _LEN.unpack(head)[0])
        if body is None:
            return 0
        order = pickle.loads(body)
        kind = order[0]
        if kind == "warc":
            archiver.warc(order[1], order[2])
        elif kind == "page":
            token = order[1]
            try:
                summary = archiver.page(*order[2:])
            except Exception as exc:  # noqa: BLE001 - this page only
                logger.exception("archiving %s failed", order[2])
                reply("page_failed", token, f"{type(exc).__name__}: {exc}")
                continue
            reply("page", token, summary)
            if archiver.batch_due():
                _flush(archiver, reply)
        elif kind == "warc_open":
            archiver.warc_open(order[1])
        elif kind == "flush":
            reply("flushed", _flush(archiver, reply))
        elif kind == "finish":
            ok = _flush(archiver, reply)
            try:
                archiver.finish(order[1], order[2])
            except Exception as exc:  # noqa: BLE001
                ok = f"{type(exc).__name__}: {exc}"
            reply("finished", ok)
        elif kind == "close":
            archiver.close()
            reply("closed", archiver.stats())
            return 0


def _flush(archiver: Archiver, reply: Callable[..., None]) -> str:
    """Store the batch; tell the crawl the counts (or the error: "" when stored)."""
    try:
        archiver.flush()
    except Exception as exc:  # noqa: BLE001 - the batch is kept and tried again
        logger.exception("storing a batch failed")
        reply("stats", archiver.stats())
        return f"{type(exc).__name__}: {exc}"
    reply("stats", archiver.stats())
    return ""


def main() -> int:
    """The archiver process: orders on stdin, replies on (the original) stdout."""
    # The crawl decides when to stop: Ctrl-C or a service manager's SIGTERM reach
    # the whole process group, the crawl then closes down cleanly and tells us
    # to flush; if it dies instead, the pipe's end of file stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the replies
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s [archiver] %(levelname)s: %(message)s")
    orders = os.fdopen(0, "rb", buffering=1 << 20)
    return _serve(orders, replies)


# ------------------------------------------------------------ the crawl's end
ARCHIVER_MODES = ("auto", "process", "inline")


def archiver_mode(setting: str | None) -> str:
    """``PORTAL_ARCHIVE_ARCHIVER``, checked: ``auto``, ``process`` or ``inline``."""
    value = (setting or "auto").strip().lower()
    if value not in ARCHIVER_MODES:
        raise ValueError(f"PORTAL_ARCHIVE_ARCHIVER must be auto, process or inline, "
                         f"not {setting!r}")
    return value


#: Where the crawler object keeps its archiver client (when it has one).
ARCHIVER_ATTR = "_portal_archive_archiver"


def archiver_of(crawler: Any) -> ArchiverClient | None:
    """The crawl's archiver process, when the store pipeline started one."""
    return getattr(crawler, ARCHIVER_ATTR, None)


class ArchiverError(RuntimeError):
    """The archiver failed, or is gone."""


class ArchiverClient:
    """The crawl's end of the pipe to its archiver process.

    Orders are written without blocking (what the pipe does not take waits in
    a buffer, written when the pipe is writable again); replies are read when
    the asyncio loop sees them. :meth:`page` returns a future; :meth:`call`
    waits (used when the spider closes).
    """

    def __init__(self, config: ArchiverConfig,
                 on_stats: Callable[[dict[str, Any]], None] | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        # Not ``-m scraper.archiver``: its classes must pickle under this module's name.
        self.proc = subprocess.Popen([sys.executable, "-c", _ENTRY],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.out_fd = self.proc.stdin.fileno()
        self.in_fd = self.proc.stdout.fileno()
        self.on_stats = on_stats
        self.outgoing = bytearray()
        self.incoming = bytearray()
        self.futures: dict[int, asyncio.Future[PageSummary]] = {}
        self.tokens = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.writing = False
        self.dead = ""
        #: The archiver's end of the pipe is closed; we asked it to close.
        self.eof = False
        self.closing = False
        self.replies: list[tuple[Any, ...]] = []
        try:
            os.write(self.out_fd, _frame(config))
        except OSError as exc:
            raise ArchiverError(f"the archiver did not start: {exc}") from exc
        os.set_blocking(self.out_fd, False)
        os.set_blocking(self.in_fd, False)
        self.run_id: int = config.run_id
        if not self.run_id:
            # The archiver creates the run: wait for its id. With the id given
            # (portal-archive crawl), the crawl goes on while the archiver starts;
            # an archive it cannot open then stops the crawl at the first page.
            try:
                self.run_id = self._wait_for("ready")[1]
            except ArchiverError:
                self.proc.wait()
                raise

    # writing
    def send(self, *order: Any) -> None:
        if self.dead:
            return
        self.outgoing += _frame(order)
        self._write()

    def _write(self) -> None:
        while self.outgoing:
            try:
                written = os.write(self.out_fd, self.outgoing)
            except BlockingIOError:
                break
            except OSError as exc:  # the archiver is gone
                self._died(f"the archiver process is gone ({exc.strerror or exc})")
                return
            del self.outgoing[:written]
        if self.outgoing and not self.writing and self.loop is not None:
            self.loop.add_writer(self.out_fd, self._write)
            self.writing = True
        elif not self.outgoing and self.writing and self.loop is not None:
            self.loop.remove_writer(self.out_fd)
            self.writing = False

    # reading
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read replies (and write what waits) on this loop from now on."""
        if self.loop is None:
            self.loop = loop
            loop.add_reader(self.in_fd, self._readable)
            self._write()

    def _readable(self) -> None:
        try:
            messages = self._read()
        except Exception as exc:  # noqa: BLE001 - a reply we cannot read: stop here
            self._died(f"unreadable reply from the archiver ({type(exc).__name__}: {exc})")
            return
        self._take(messages)

    def _take(self, messages: list[tuple[Any, ...]]) -> None:
        """Dispatch replies; then, when the pipe has ended, the archiver is gone
        (its last words, such as why it failed, are read first)."""
        for message in messages:
            self._dispatch(message)
        if self.eof and not self.closing:  # after its "closed" the archiver exits: no death
            self._died("the archiver process is gone")

    def _read(self) -> list[tuple[Any, ...]]:
        while True:
            try:
                chunk = os.read(self.in_fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                self.eof = True
                break
            self.incoming += chunk
        messages = []
        while len(self.incoming) >= _LEN.size:
            size = _LEN.unpack_from(self.incoming)[0]
            if len(self.incoming) < _LEN.size + size:
                break
            messages.append(pickle.loads(bytes(self.incoming[_LEN.size:_LEN.size + size])))
            del self.incoming[:_LEN.size + size]
        return messages

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "page":
            future = self.futures.pop(message[1], None)
            if future is not None and not future.done():
                future.set_result(message[2])
        elif kind == "page_failed":
            future = self.futures.pop(message[1], None)
            if future is not None and not future.done():
                future.set_exception(ArchiverError(message[2]))
        elif kind == "stats":
            if self.on_stats is not None:
                self.on_stats(message[1])
        elif kind == "failed":
            self._died(f"the archiver did not start: {message[1]}")
        else:
            self.replies.append(message)

    def _died(self, why: str) -> None:
        if self.dead:
            return
        self.dead = why
        if self.loop is not None:
            self.loop.remove_reader(self.in_fd)
            if self.writing:
                self.loop.remove_writer(self.out_fd)
                self.writing = False
        for future in self.futures.values():
            if not future.done():
                future.set_exception(ArchiverError(why))
        self.futures.clear()

    # orders
    def page(self, url: str, html: bytes, status: int, fetched_at: str,
             capture: dict[str, Any] | None) -> asyncio.Future[PageSummary]:
        assert self.loop is not None, "attach() the client to the loop first"
        future: asyncio.Future[PageSummary] = self.loop.create_future()
        if self.dead:
            future.set_exception(ArchiverError(self.dead))
            return future
        self.tokens += 1
        self.futures[self.tokens] = future
        self.send("page", self.tokens, url, html, status, fetched_at, capture)
        return future

    def _wait_for(self, *kinds: str, timeout: float | None = None) -> tuple[Any, ...]:
        """Write what waits, then read until a reply of one of ``kinds`` (blocking)."""
        while True:
            for i, message in enumerate(self.replies):
                if message[0] in kinds:
                    return self.replies.pop(i)
            if self.dead or self.eof:
                raise ArchiverError(self.dead or "the archiver process is gone")
            wants_write = [self.out_fd] if self.outgoing else []
            readable, writable, _ = select.select([self.in_fd], wants_write, [], timeout)
            if not readable and not writable:
                raise ArchiverError("the archiver does not answer")
            if writable:
                self._write()
            if readable:
                self._take(self._read())

    def call(self, kind: str, *args: Any, answer: str) -> Any:
        """Send an order and wait for its answer (blocking: the spider is closing)."""
        self.send(kind, *args)
        return self._wait_for(answer)[1]

    def close(self, timeout: float = 60) -> dict[str, Any]:
        """Close the archiver (its WARC file and archive); its last stats."""
        stats: dict[str, Any] = {}
        try:
            if not self.dead:
                self.closing = True
                stats = self.call("close", answer="closed")
        finally:
            if self.loop is not None and not self.dead:
                self.loop.remove_reader(self.in_fd)
                if self.writing:
                    self.loop.remove_writer(self.out_fd)
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return stats


_ENTRY = "import sys; from scraper.archiver import main; sys.exit(main())"


__all__ = ["ARCHIVER_ATTR", "Archiver", "ArchiverClient", "ArchiverConfig", "ArchiverError", "Outcome",
           "PageSummary", "archiver_mode", "archiver_of", "capture_of", "extract_page"]

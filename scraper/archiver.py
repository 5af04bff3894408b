"""The archiver process: a crawl's extraction, store and WARC files on a core of their own.

A crawl process is CPU-bound on its reactor thread (fetching, parsing links,
scheduling). Everything it keeps — the WARC records of every response, the
extraction of every article page, the batches written to SQLite — can run
elsewhere: the crawl hands the raw bytes to one *archiver* process, which
does that work in arrival order, and gets back per page only what the crawl
still needs (the image URLs, the counts for its stats, or why the page was
dropped). The reactor's cost per page is a pickle and a pipe write.

No Scrapy here. :class:`ArchiverWorker` is the work, with no transport:
:func:`main` runs it in the child process behind a pipe, and
:class:`ArchiverClient` is the crawl's end of that pipe (non-blocking on the
asyncio loop, so the reactor never waits for the archiver except when the
spider closes). The worker runs the same extraction steps as
``extract_article`` (``extract_page_state``) and stores through the same
:class:`archive.sink.ArticleSink` as a crawl that stores in its own process.

Crash-safety is the sink's: a batch is stored when its transaction commits.
The archiver reads its orders from the crawl's pipe; when the crawl dies
(SIGKILL), the pipe ends and the archiver exits at once, without writing the
articles of its unfinished batch (the next crawl fetches them again; their
WARC records are on disk). Only a clean close flushes.

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

from archive.sink import ArticleSink
from scraper.extract import extract_page_state
from scraper.extract.article import Article, NotAnArticle
from scraper.portals import Portal
from scraper.runstats import run_columns
from scraper.warc import CaptureRef, RecordLocation, WarcOptions, WarcWriter, capture_of

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
    #: ``(url, kind)`` of the documents the article links.
    document_urls: list[tuple[str, str]] = field(default_factory=list)


def summarise(outcome: Outcome) -> PageSummary:
    article = outcome.article
    if article is None:
        return PageSummary(reason=outcome.reason, message=outcome.message,
                           removed=outcome.removed)
    return PageSummary(removed=outcome.removed, extractor=article.extractor,
                       warnings=list(article.warnings),
                       image_urls=[image.url for image in article.images],
                       document_urls=[(a.url, a.kind) for a in article.attachments])


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
@dataclass
class ArchiverConfig:
    """What the archiver process needs to know of its crawl."""

    db_path: str
    portal: Portal
    run_id: int = 0
    batch_size: int = 100
    forced_profile: str | None = None


class ArchiverWorker:
    """The archiver process's work: WARC records, then each page's article into the sink.

    Pages come in the order their responses arrived, each after its WARC
    record: the record's location is looked up by the exchange's number and
    recorded as the article's capture.
    """

    def __init__(self, config: ArchiverConfig) -> None:
        self.config = config
        self.sink = ArticleSink.open(config.db_path, config.portal, run_id=config.run_id,
                                     run_settings={"started_by": "scrapy crawl"},
                                     batch_size=config.batch_size)
        self.run_id = self.sink.run_id
        self.warc_writer: WarcWriter | None = None
        self.locations: OrderedDict[int, RecordLocation] = OrderedDict()

    # WARC
    def warc_open(self, options: WarcOptions) -> None:
        self.warc_writer = options.writer()

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
        out: dict[str, Any] = dict(self.sink.counts.as_stats())
        if self.warc_writer is not None:
            out.update(self.warc_writer.stats())
        out["archiver/max_rss_kb"] = max_rss_kb()
        return out

    # Articles
    def page(self, url: str, html: bytes, status: int, fetched_at: str,
             seq: int | None) -> PageSummary:
        """Extract one page; hand its article, with its capture, to the sink."""
        outcome = extract_page(url, html, self.config.forced_profile)
        if outcome.article is not None:
            location = self.locations.pop(seq, None) if seq is not None else None
            self.sink.add(outcome.article, capture_of(url, fetched_at, status, location))
        return summarise(outcome)

    def flush(self) -> None:
        """Store what the sink holds (kept there for the next try if it fails)."""
        self.sink.flush(wait=True)

    def finish(self, stats: dict[str, Any], status: str) -> None:
        self.sink.finish(stats, status, columns=run_columns(stats))

    def close(self) -> None:
        if self.warc_writer is not None:
            self.warc_writer.close()
        self.sink.close()


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
        archiver = ArchiverWorker(config)
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
            if archiver.sink.batch_due:
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


def _flush(archiver: ArchiverWorker, reply: Callable[..., None]) -> str:
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
#: Where a crawl extracts and stores its pages (``PORTAL_ARCHIVE_ARCHIVER``).
STORAGE_MODES = ("auto", "process", "in_process")
#: Older spellings still accepted.
STORAGE_ALIASES = {"inline": "in_process"}


def archiver_mode(setting: str | None) -> str:
    """``PORTAL_ARCHIVE_ARCHIVER``, checked: ``auto``, ``process`` or ``in_process``
    (``inline`` is read as ``in_process``)."""
    value = (setting or "auto").strip().lower()
    value = STORAGE_ALIASES.get(value, value)
    if value not in STORAGE_MODES:
        raise ValueError(f"PORTAL_ARCHIVE_ARCHIVER must be auto, process or in_process, "
                         f"not {setting!r}")
    return value


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
             capture: CaptureRef | None) -> asyncio.Future[PageSummary]:
        """Hand one page to the archiver (with the number of its WARC exchange, which
        the archiver wrote before); its summary once the archiver has handled it."""
        assert self.loop is not None, "attach() the client to the loop first"
        future: asyncio.Future[PageSummary] = self.loop.create_future()
        if self.dead:
            future.set_exception(ArchiverError(self.dead))
            return future
        self.tokens += 1
        self.futures[self.tokens] = future
        self.send("page", self.tokens, url, html, status, fetched_at,
                  capture.seq if capture is not None else None)
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

    def flush(self) -> str:
        """Store the archiver's batch now (blocking); the error, "" when stored.
        Its counters come back first, as stats."""
        return str(self.call("flush", answer="flushed"))

    def finish(self, stats: dict[str, Any], status: str) -> str:
        """Store the last batch and record the run's end (blocking); the error or ""."""
        return str(self.call("finish", stats, status, answer="finished"))

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


class ArchiverWarc:
    """The archiver process as the crawl's WARC writer: each exchange is sent with
    its number, and the page that comes of it carries that number."""

    def __init__(self, client: ArchiverClient, options: WarcOptions) -> None:
        self.client = client
        self.seq = 0
        client.send("warc_open", options)

    @property
    def gone(self) -> bool:
        return bool(self.client.dead)

    def keep(self, exchange: dict[str, Any]) -> CaptureRef | None:
        if self.client.dead:
            return None
        self.seq += 1
        self.client.send("warc", self.seq, exchange)
        return CaptureRef(status=exchange["status"], seq=self.seq)

    def close(self) -> None:
        """Nothing to do: the archiver closes its WARC file when it is closed."""


_ENTRY = "import sys; from scraper.archiver import main; sys.exit(main())"


__all__ = ["STORAGE_MODES", "ArchiverClient", "ArchiverWarc", "ArchiverConfig", "ArchiverError", "ArchiverWorker",
           "Outcome", "PageSummary", "archiver_mode", "extract_page"]

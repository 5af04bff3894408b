"""Extraction in worker processes: the same steps, off the crawl's reactor.

On a fast portal (the demo portal on loopback) the crawl process is CPU-bound
and every millisecond of extraction is a millisecond of wall time; a worker
process runs the extraction steps on another core while the reactor goes on
fetching. The worker runs exactly :data:`scraper.extract.steps.STAGES` (the
steps ``extract_article`` runs) on the page's bytes and sends back the
:class:`~scraper.extract.article.Article` (or why the page is not one) and
the widgets removed: the parse tree never crosses the process boundary.

No Scrapy here (workers import only the extraction). Workers are started
with ``spawn`` (a fresh interpreter: nothing of the crawl's threads or
reactor is inherited), ignore SIGINT (the crawl decides when to stop), and
exit by themselves when the crawl process is gone (killed with SIGKILL),
so no orphan stays behind.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from scraper.extract.article import Article, NotAnArticle
from scraper.extract.steps import STAGES, Page, run

#: Seconds between a worker's checks that the crawl process is still there.
PARENT_CHECK_SECONDS = 0.5


@dataclass
class Outcome:
    """What a worker sends back for one page."""

    article: Article | None = None
    removed: dict[str, int] = field(default_factory=dict)
    #: ``NotAnArticle`` reason and message, when the page is not an article.
    reason: str = ""
    message: str = ""


def extract_page(url: str, raw: bytes | str, forced_profile: str | None,
                 stages: Sequence[str]) -> Outcome:
    """Run the named stages on one page (in a worker, or anywhere)."""
    steps = tuple(step for name in stages for step in STAGES[name])
    try:
        page = run(Page(url=url, raw=raw, forced_profile=forced_profile), steps)
    except NotAnArticle as exc:
        return Outcome(reason=exc.reason, message=str(exc))
    return Outcome(article=page.article, removed=dict(page.removed))


def max_rss_kb() -> int:
    """This process's peak resident set size (KiB): asked of a worker at the end.

    ``VmHWM`` of this address space: ``ru_maxrss`` survives ``execve`` and would
    report the crawl process's size at the moment it forked the worker.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(0)  # the crawl is gone (SIGKILL): nothing to send results to


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="parent-watch").start()


def start_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of ``processes`` extraction workers (spawned, orphan-safe), started now."""
    pool = ProcessPoolExecutor(max_workers=processes,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))
    for _ in range(processes):  # a pool spawns its workers on submit: start them now
        pool.submit(os.getpid)
    return pool

"""What every part of one crawl run needs to know, in one typed object.

The portal spider builds the :class:`RunContext` once, in its
``from_crawler`` (it alone holds the spider arguments, such as the portal,
and plans the crawl there), from the settings and its arguments. The
pipelines, middlewares and extensions read it with :func:`run_context`,
through Scrapy's documented ``crawler.spider``; nothing about the run travels
through the stats collector or attributes set on the crawler.

The run id is the one value not always known when the context is built:
``portal-archive crawl`` records the run before it starts the crawl and
passes its id (``PORTAL_ARCHIVE_RUN_ID``); a spider started another way
(``scrapy crawl``, Scrapyd) has its run recorded by the store when the
spider opens, which sets it here (:meth:`RunContext.set_run_id`) before any
response arrives.

The crawl's stats keys live under :data:`STATS_PREFIX`; :class:`RunStats`
writes them. No Scrapy is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scraper.archiver import archiver_mode
from scraper.crawlstate import CrawlPlan
from scraper.portals import Portal

#: The prefix of every stats key the crawl sets (``portal_archive/articles`` …).
STATS_PREFIX = "portal_archive"


def stat_key(name: str) -> str:
    """The full stats key of one of the crawl's counters."""
    return f"{STATS_PREFIX}/{name}"


class _Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...
    def set_value(self, key: str, value: Any) -> None: ...
    def max_value(self, key: str, value: Any) -> None: ...
    def get_value(self, key: str, default: Any = None) -> Any: ...


class RunStats:
    """The crawl's counters, each under :data:`STATS_PREFIX` (no-ops without a collector)."""

    def __init__(self, stats: _Stats | None) -> None:
        self.stats = stats

    def inc(self, name: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(stat_key(name), count)

    def set(self, name: str, value: Any) -> None:
        if self.stats is not None:
            self.stats.set_value(stat_key(name), value)

    def max(self, name: str, value: Any) -> None:
        if self.stats is not None:
            self.stats.max_value(stat_key(name), value)

    def get(self, name: str, default: Any = None) -> Any:
        return self.stats.get_value(stat_key(name), default) if self.stats is not None else default


class _Settings(Protocol):
    def get(self, name: str, default: Any = None) -> Any: ...
    def getint(self, name: str, default: int = 0) -> int: ...
    def getbool(self, name: str, default: bool = False) -> bool: ...


@dataclass
class RunContext:
    """One crawl run: its portal, its archive, where its files go, how it stores."""

    portal: Portal
    #: The archive database (``PORTAL_ARCHIVE_DB``; "" when none is named).
    db_path: str
    #: The data folder: ``warc/`` and ``images/`` go under it.
    data_dir: Path
    #: Where pages are extracted and stored: ``auto``, ``process`` or ``in_process``.
    storage: str = "auto"
    #: Articles per store transaction.
    batch_size: int = 100
    #: An extraction profile forced on every page (None: each page's structure picks).
    forced_profile: str | None = None
    #: The crawl's mode and why (set by the spider once it has planned the crawl).
    plan: CrawlPlan | None = None
    #: The ``crawl_runs`` row of this crawl; 0 until it is recorded.
    run_id: int = 0

    @classmethod
    def from_settings(cls, settings: _Settings, portal: Portal) -> RunContext:
        """The context of a crawl of ``portal`` with these Scrapy settings.

        Raises ValueError for a bad ``PORTAL_ARCHIVE_ARCHIVER``.
        """
        db = settings.get("PORTAL_ARCHIVE_DB") or ""
        data_dir = settings.get("PORTAL_ARCHIVE_DATA_DIR") \
            or Path(db or "data/archive.db").resolve().parent
        return cls(portal=portal, db_path=str(db), data_dir=Path(data_dir),
                   storage=archiver_mode(settings.get("PORTAL_ARCHIVE_ARCHIVER")),
                   batch_size=settings.getint("PORTAL_ARCHIVE_BATCH", 100),
                   forced_profile=settings.get("PORTAL_ARCHIVE_PROFILE") or None,
                   run_id=settings.getint("PORTAL_ARCHIVE_RUN_ID", 0))

    def set_run_id(self, run_id: int) -> None:
        """The run is recorded (by the store, when no id was given)."""
        if self.run_id and run_id != self.run_id:
            raise ValueError(f"the crawl's run is {self.run_id}, not {run_id}")
        self.run_id = run_id

    @property
    def archive_exists(self) -> bool:
        return bool(self.db_path) and Path(self.db_path).is_file()


def run_context(crawler: Any) -> RunContext:
    """The run context of the crawl ``crawler`` runs (built by the portal spider)."""
    context = getattr(getattr(crawler, "spider", None), "run_context", None)
    if not isinstance(context, RunContext):
        raise RuntimeError("this component needs the portal spider's run context "
                           "(crawler.spider.run_context)")
    return context


__all__ = ["STATS_PREFIX", "RunContext", "RunStats", "run_context", "stat_key"]

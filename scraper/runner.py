"""Running crawls from the CLI.

A crawl is a real Scrapy process (``python -m scrapy crawl portal``): the
archive library never imports Scrapy, and a crawl that dies cannot take the
CLI with it. This module creates the ``crawl_runs`` row, starts the process,
and reads the run's outcome back from the archive.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.errors import ArchiveError
from archive.store import Archive
from scraper.crawlstate import RESUMABLE_MARK, job_dir
from scraper.portals import Portal, load_portals
from scraper.progress import run_crawl_process
from scraper.runcontext import stat_key

__all__ = ["RESUMABLE_MARK", "CrawlError", "CrawlInterrupted", "PortalOutcome", "crawl_settings", "demo_portal",
           "is_local", "job_dir", "run_all", "run_crawl", "run_demo"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The crawl process reports its progress every second (shown unless --quiet).
PROGRESS_SETTINGS = {"PORTAL_ARCHIVE_PROGRESS_INTERVAL": 1.0}


class CrawlError(ArchiveError):
    """The crawl process failed."""


class CrawlInterrupted(CrawlError):
    """The crawl was stopped by Ctrl-C (it resumes next time)."""


def is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def crawl_settings(portal: Portal, db_path: str | Path, run_id: int,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Scrapy settings of one crawl: polite defaults, fast on loopback."""
    from scraper import settings as defaults  # plain module, no Scrapy import

    settings: dict[str, Any] = {
        "PORTAL_ARCHIVE_DB": str(db_path),
        "PORTAL_ARCHIVE_RUN_ID": run_id,
        "LOG_LEVEL": "WARNING",
    }
    if is_local(portal.base_url):
        settings.update(defaults.FAST_LOCAL_SETTINGS)
    settings.update(PROGRESS_SETTINGS)
    settings.update(extra or {})
    return settings


def _settings_that_matter(settings: dict[str, Any], portal: Portal) -> dict[str, Any]:
    keep = {k: v for k, v in settings.items() if k not in ("PORTAL_ARCHIVE_RUN_ID",)}
    keep["portal"] = asdict(portal)
    return keep


def run_crawl(portal: Portal, db_path: str | Path, *, settings: dict[str, Any] | None = None,
              quiet: bool = False, full: bool = False, jobdir: bool = True,
              revisit: int | str | None = None) -> dict[str, Any]:
    """Crawl one portal into the archive at ``db_path``; return the run's record.

    ``full`` fetches everything again. Otherwise the spider chooses
    (:func:`scraper.crawlstate.plan_crawl`): incremental, or a resume of an
    interrupted crawl. ``jobdir`` keeps the crawl's queue on disk under
    ``<db folder>/jobs/<portal>/`` so that an interrupted crawl continues where
    it stopped; it is removed when the crawl finishes. ``revisit`` is the
    incremental crawl's revisit budget (``PORTAL_ARCHIVE_REVISIT``: a number,
    ``"P%"`` or ``"auto"``; None: the setting's default).
    """
    # Absolute: the crawl process runs in the project folder, not the caller's.
    db_path = Path(os.path.abspath(db_path))
    db_path.parent.mkdir(parents=True, exist_ok=True)
    requested = {"PORTAL_ARCHIVE_MODE": "full" if full else "auto"}
    if revisit is not None:
        requested["PORTAL_ARCHIVE_REVISIT"] = str(revisit)
    archive = Archive(db_path)
    try:
        archive.ensure_portal(portal)
        all_settings = crawl_settings(portal, db_path, 0, {**requested, **(settings or {})})
        if not jobdir:
            all_settings["PORTAL_ARCHIVE_JOBDIR"] = False
        elif "JOBDIR" not in all_settings:
            all_settings["JOBDIR"] = str(job_dir(db_path, portal.id))
        run_id = archive.start_run(portal.id, _settings_that_matter(all_settings, portal))
    finally:
        archive.close()
    all_settings["PORTAL_ARCHIVE_RUN_ID"] = run_id

    cmd = [sys.executable, "-m", "scrapy", "crawl", "portal",
           "-a", "portal=" + json.dumps(asdict(portal), ensure_ascii=False)]
    for key, value in all_settings.items():
        cmd += ["-s", f"{key}={json.dumps(value) if isinstance(value, (list, dict)) else value}"]
    env = dict(os.environ)
    env["SCRAPY_SETTINGS_MODULE"] = "scraper.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    # Live progress and the error tail: scraper/progress.py.
    try:
        proc = run_crawl_process(cmd, env=env, cwd=str(PROJECT_ROOT), quiet=quiet)
    except KeyboardInterrupt:
        # The crawl process had the Ctrl-C too: it stopped cleanly and saved its queue.
        raise CrawlInterrupted(f"crawl of {portal.id} interrupted (Ctrl-C): the next crawl "
                         "resumes where it stopped") from None
    archive = Archive(db_path)
    try:
        run = archive.get_run(run_id)
        stored = archive.count_live(portal.id) if run is not None else 0
        max_lost = float(all_settings.get("PORTAL_ARCHIVE_MAX_LOST", defaults_max_lost()))
        reason = failure_reason(run, proc.returncode, proc.tail, portal, stored, max_lost)
        if reason is not None:
            stats = dict((run or {}).get("stats") or {})
            stats.update(failure=reason, exit_code=proc.returncode)
            status = "failed"
            if run is not None and run.get("status") not in (None, "running", "finished"):
                status = str(run["status"])  # archiver_failed, shutdown …
            archive.finish_run(run_id, stats, status=status)
            raise CrawlError(f"crawl of {portal.id} failed: {reason}")
        assert run is not None
        #: Not stored: how the crawl process ran (seconds, max_rss_kb, cpu_seconds).
        run["process"] = proc.process
        if run.get("status") == "finished" and "JOBDIR" in all_settings and jobdir:
            shutil.rmtree(all_settings["JOBDIR"], ignore_errors=True)
            with contextlib.suppress(OSError):
                Path(all_settings["JOBDIR"]).parent.rmdir()  # jobs/, when no other job is left
        return run
    finally:
        archive.close()


#: What the crawl process or the archiver says when the disk is full.
_DISK_FULL = ("no space left on device", "enospc", "database or disk is full", "sqlite_full",
              "disk full", "errno 28")


def defaults_max_lost() -> float:
    from scraper import settings as defaults  # plain module, no Scrapy import

    return float(defaults.PORTAL_ARCHIVE_MAX_LOST)


def failure_reason(run: dict[str, Any] | None, returncode: int, tail: list[str],
                   portal: Portal, stored: int, max_lost: float) -> str | None:
    """Why a crawl failed, in one line (None: it did not).

    In this order: a full disk, a dead archiver, a crawl process that failed,
    a start page that failed, a portal that did not answer, nothing stored,
    more than ``max_lost`` of the article pages lost after their retries.
    ``stored``: the portal's articles in the archive after the crawl.
    """
    stats: dict[str, Any] = dict((run or {}).get("stats") or {})
    archiver = str(stats.get(stat_key("archiver/died")) or "")
    said = " ".join([*tail[-10:], archiver]).lower()
    if any(marker in said for marker in _DISK_FULL):
        return "disk full"
    status = (run or {}).get("status")
    if archiver or status == "archiver_failed":
        return f"the archiver died ({archiver or 'see the log'})"
    if returncode != 0 or run is None or status in (None, "running"):
        last = next((line for line in reversed(tail) if line.strip()), "")
        return f"the crawl process failed (exit {returncode})" + (f": {last.strip()}"
                                                                  if last else "")
    start = stats.get(stat_key("start_page/failed"))
    if start:
        robots = stats.get(stat_key("robots/unavailable_reason"))
        return f"start page failed: {start}" + (
            f" ({robots}: crawling disallowed, RFC 9309)" if robots else "")
    if not stats.get("downloader/response_count"):
        return f"{portal.base_url} did not answer"
    if stored == 0:
        return "nothing could be stored (no article found on the portal)"

    def n(name: str) -> int:
        value = stats.get(stat_key(name)) or 0
        return int(value) if isinstance(value, (int, float)) else 0

    lost = n("articles/lost")
    archived = sum(int(run.get(k) or 0) for k in ("articles_new", "articles_changed",
                                                   "articles_unchanged")) if run else 0
    if lost and lost > max_lost * (lost + archived):
        return (f"{lost} of {lost + archived} article pages lost after retries "
                f"(more than {max_lost:.0%})")
    return None


@dataclass
class PortalOutcome:
    """How the crawl of one portal of ``crawl --all`` went."""

    portal: Portal
    ok: bool
    seconds: float
    run: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def run_all(portals: list[Portal], db_path: str | Path, *, parallel: int = 1,
            settings: dict[str, Any] | None = None, full: bool = False, quiet: bool = True,
            on_done: Callable[[PortalOutcome], None] | None = None) -> list[PortalOutcome]:
    """Crawl every portal (``parallel`` at a time, each with its own polite limits).

    A portal that fails does not stop the others; the outcomes come back in
    the order of ``portals``.
    """

    def one(portal: Portal) -> PortalOutcome:
        started = time.monotonic()
        try:
            run = run_crawl(portal, db_path, settings=settings, quiet=quiet, full=full)
            outcome = PortalOutcome(portal, True, time.monotonic() - started, run)
        except CrawlInterrupted:
            raise  # Ctrl-C stops --all, not only this portal
        except Exception as exc:  # one portal's failure is reported, not raised
            outcome = PortalOutcome(portal, False, time.monotonic() - started,
                                    error=" ".join(str(exc).split()) or type(exc).__name__)
        if on_done is not None:
            on_done(outcome)
        return outcome

    if parallel <= 1:
        return [one(p) for p in portals]
    # Create (migrate) the archive once, before the crawls open it at the same time.
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    Archive(db_path).close()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, portals))


def demo_portal(base_url: str) -> Portal:
    """The demo portal of portals.toml, served from ``base_url``."""
    portals = load_portals()
    template = portals.get("demo") or Portal("demo", "Demo portal", "Thanh Hóa", base_url, "thanhhoa")
    return template.with_base_url(base_url)


def run_demo(db_path: str | Path, *, size: int = 200, seed: int = 1, quiet: bool = False) -> None:
    """Start the demo portal, crawl it into db_path, print a summary and a sample search."""
    from archive.search import search
    from scraper.demo.server import DemoServer
    from scraper.demo.site import DemoSite

    site = DemoSite(size=size, seed=seed)
    # The demo portal's declared address, so that articles keep their canonical
    # URLs from one demo run to the next; any free port if it is taken.
    declared_portal = load_portals().get("demo")
    declared = urlsplit(declared_portal.base_url).port if declared_portal else None
    try:
        server = DemoServer(site, port=declared or 8765).start()
    except OSError:
        server = DemoServer(site).start()
    with server:
        print(f"Demo portal: {server.base_url} ({site.article_count} articles)")
        portal = demo_portal(server.base_url)
        print(f"Crawling {portal.name} into {db_path} …", flush=True)
        run = run_crawl(portal, db_path, quiet=quiet)
    archive = Archive(db_path)
    try:
        stats = archive.stats()
        print(f"Archived {stats['articles']} articles and {stats['images']} images "
              f"(this run: {run.get('articles_new', 0)} new, "
              f"{run.get('articles_changed', 0)} changed, "
              f"{run.get('articles_unchanged', 0)} unchanged).")
        query = "nong thon moi"
        hits = search(archive, query, limit=3)
        print(f'Search "{query}": {len(hits)} shown')
        for hit in hits:
            print(f"  {hit.published or ''}  {hit.title}")
            print(f"      {hit.snippet}")
    finally:
        archive.close()

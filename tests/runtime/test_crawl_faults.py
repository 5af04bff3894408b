"""Portals that misbehave: the demo portal's fault modes against a real crawl.

For each fault mode, a real Scrapy crawl of the demo portal (on loopback)
must finish, retry what is worth retrying, archive every article exactly
once, and show the fault in the run's stats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows as _rows

from archive.store import Archive
from scraper.demo.app import BOUNDS_FAULTS, FAULT_MODES
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.runner import CrawlError, demo_portal, run_crawl

SIZE = 50
SEED = 3
#: Per mode: a stalled response waits longer than the crawl does.
SETTINGS: dict[str, dict[str, Any]] = {"timeout": {"DOWNLOAD_TIMEOUT": 1}}
#: How long the demo stalls a response in the ``timeout`` mode (seconds).
STALL_S = 4.0


def _stat(stats: dict[str, Any], fragment: str) -> int:
    """Sum of the counters whose name contains ``fragment``."""
    return sum(int(v) for k, v in stats.items() if fragment in k and isinstance(v, int))




def _expected(site: DemoSite, base_url: str) -> set[str]:
    return {a.to_article(base_url).canonical_url for a in site.iter_articles()}


def _fetched_once(stats: dict[str, Any], hits: dict[str, int]) -> None:
    """Every article page requested once, retries apart."""
    assert SIZE <= hits["article"] <= SIZE + stats.get("retry/count", 0)


#: mode → check(stats, server hits) that the fault shows and was contained.
CHECKS: dict[str, Callable[[dict[str, Any], dict[str, int]], None]] = {}


def check(mode: str) -> Callable[[Callable[[dict[str, Any], dict[str, int]], None]],
                                  Callable[[dict[str, Any], dict[str, int]], None]]:
    def register(fn: Callable[[dict[str, Any], dict[str, int]], None]
                 ) -> Callable[[dict[str, Any], dict[str, int]], None]:
        CHECKS[mode] = fn
        return fn
    return register


@check("error_burst")
def _burst(stats: dict[str, Any], hits: dict[str, int]) -> None:
    # Every page failed twice (503 then 500) and was retried.
    assert _stat(stats, "downloader/response_status_count/503") >= SIZE
    assert _stat(stats, "downloader/response_status_count/500") >= SIZE
    # The 503s are waited out (backoff), the 500s retried.
    assert stats["retry/count"] + stats["portal_archive/waits/503"] >= 2 * SIZE
    assert hits["article"] >= 3 * SIZE


@check("timeout")
def _timeout(stats: dict[str, Any], hits: dict[str, int]) -> None:
    # (A loaded machine may time out more than the stalled ones.)
    assert _stat(stats, "retry/reason_count/scrapy.exceptions.DownloadTimeoutError") >= SIZE // 10
    # No stalled response was waited out: each stalls STALL_S, and the crawl gives
    # up after DOWNLOAD_TIMEOUT (1 s). The measured latency of an ordinary page
    # includes the reactor's own delays, which a loaded machine stretches past 1 s,
    # so the bound is the stall itself, not the timeout.
    assert stats["portal_archive/slowest_response_ms"] < STALL_S * 1000


@check("slow")
def _slow(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/slowest_response_ms"] >= 50


@check("truncated")
def _truncated(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert _stat(stats, "retry/reason_count/scrapy.exceptions.ResponseDataLossError") \
        == SIZE // 10
    _fetched_once(stats, hits)


@check("endless_pagination")
def _endless(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/pages/not_followed"] >= 5
    # 1 real page per category, then at most the margin of "nothing new" pages.
    assert hits["listing"] <= 5 * (1 + 2 + 1)


@check("calendar")
def _calendar(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/pages/not_followed"] >= 1
    assert 1 <= hits["other"] <= 8


@check("redirect_loop")
def _redirect(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["downloader/response_status_count/302"] >= 1
    assert hits["other"] <= 4


@check("session_path")
def _session_path(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/links/canonicalised"] > SIZE
    # Each fetched once (retries apart) despite a new session id per view.
    _fetched_once(stats, hits)


@check("session_query")
def _session_query(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/links/canonicalised"] > SIZE
    _fetched_once(stats, hits)


@check("duplicate_urls")
def _duplicates(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/links/same_page"] > SIZE
    _fetched_once(stats, hits)


@check("wrong_charset")
def _charset(stats: dict[str, Any], hits: dict[str, int]) -> None:
    assert stats["portal_archive/pages/charset_mismatch"] >= SIZE


def test_every_fault_mode_has_a_check() -> None:
    # The bounds and resource modes: tests/runtime/test_crawl_bounds.py.
    assert set(CHECKS) | {"deleted"} | BOUNDS_FAULTS == set(FAULT_MODES)


@pytest.mark.parametrize("mode", sorted(CHECKS))
def test_crawl_survives_fault(mode: str, tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    with DemoServer(site, faults=frozenset({mode})) as server:
        server.app.timeout_delay = STALL_S
        run = run_crawl(demo_portal(server.base_url), db, quiet=True,
                        settings=SETTINGS.get(mode))
        base, hits = server.base_url, dict(server.hits)
    assert run["status"] == "finished"
    stored = [r[0] for r in _rows(db, "SELECT canonical_url FROM articles")]
    assert len(stored) == len(set(stored)), "an article is stored twice"
    assert set(stored) == _expected(site, base)
    CHECKS[mode](run["stats"], hits)
    if mode == "wrong_charset":
        archive = Archive(db)
        try:
            for demo in site.iter_articles():
                want = demo.to_article(base)
                got = archive.get_article(want.canonical_url)
                assert got is not None and (got.title, got.body) == (want.title, want.body)
        finally:
            archive.close()


def test_deleted_article_kept_and_marked_gone(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        run_crawl(portal, db, quiet=True)
        base = server.base_url
    with DemoServer(site, port=int(base.rsplit(":", 1)[1].strip("/")),
                    faults=frozenset({"deleted"})) as server:
        server.app.deleted_ids = frozenset({20, 40})
        second = run_crawl(portal, db, quiet=True, full=True)
    gone = {site.article(n).to_article(base).canonical_url for n in (20, 40)}
    assert second["stats"]["portal_archive/articles/gone"] == 2
    rows = dict(_rows(db, "SELECT canonical_url, status FROM articles"))
    assert len(rows) == SIZE, "a deleted article must stay in the archive"
    assert {u for u, s in rows.items() if s == "gone"} == gone
    assert _rows(db, "SELECT DISTINCT last_run_id FROM articles WHERE status = 'gone'") \
        == [(second["id"],)], "the run that found them gone (and so when)"
    assert second["articles_unchanged"] == SIZE - 2


def test_recrawl_where_every_page_fails_loses_nothing(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        run_crawl(portal, db, quiet=True)
        base = server.base_url
    before = _rows(db, "SELECT canonical_url, content_hash, status FROM articles ORDER BY id")
    with DemoServer(site, port=int(base.rsplit(":", 1)[1].strip("/")),
                    faults=frozenset({"error_burst"})) as server:
        server.app.burst = 100  # more failures than retries (and waits)
        with pytest.raises(CrawlError, match="start page failed: .* answers HTTP 5"):
            run_crawl(portal, db, quiet=True, full=True,
                      settings={"PORTAL_ARCHIVE_RETRY_AFTER_TIMES": 1})
    [(status, stats)] = _rows(db, "SELECT status, stats FROM crawl_runs ORDER BY id DESC LIMIT 1")
    assert status == "failed" and json.loads(stats)["retry/max_reached"] >= 1
    assert _rows(db, "SELECT canonical_url, content_hash, status FROM articles ORDER BY id") \
        == before

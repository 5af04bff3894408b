"""Incremental, full and resumed crawls; `crawl --all`. Real demo portals, real Scrapy.

The demo portal is its own oracle: ``DemoSite(size=S, visible=N)`` serves the
first N articles of a site whose S - N newest ones appear later (same URLs,
same content), so a re-crawl must find exactly those.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dbrows import rows as _rows
from factories import free_port, run_cli

from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.runner import PROJECT_ROOT, RESUMABLE_MARK, demo_portal, job_dir, run_crawl


def _urls(db: Path) -> list[str]:
    return [r[0] for r in _rows(db, "SELECT canonical_url FROM articles")]


def _expected(site: DemoSite, base_url: str) -> set[str]:
    return {a.to_article(base_url).canonical_url for a in site.iter_articles()}


def _port(base_url: str) -> int:
    return int(base_url.rstrip("/").rsplit(":", 1)[1])


def test_recrawl_fetches_only_what_is_new(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    before = DemoSite(size=230, seed=5, visible=200)
    with DemoServer(before) as server:
        portal = demo_portal(server.base_url)
        first = run_crawl(portal, db, quiet=True)
        first_hits = sum(server.hits.values())
        server.app.reset_counts()
        second = run_crawl(portal, db, quiet=True)
        second_hits = dict(server.hits)
        base = server.base_url
    assert first["articles_new"] == 200
    assert first["settings"]["PORTAL_ARCHIVE_MODE"] == "incremental"
    assert first["settings"]["PORTAL_ARCHIVE_MODE_REASON"] == "first crawl of the portal"
    # Unchanged portal: no new article fetched, a few listing pages per category,
    # the revisit budget (default: at least 50) of archived articles verified,
    # and one soft-404 probe (an article URL that cannot exist).
    assert second["settings"]["PORTAL_ARCHIVE_REVISIT_BUDGET"] == 50
    assert second["articles_revisited"] == 50
    assert second_hits.get("article", 0) == 50 + 1
    assert second["stats"]["portal_archive/soft404/probe_status/404"] == 1
    assert second_hits["listing"] <= 5 * 3
    assert sum(second_hits.values()) - 51 < first_hits / 10
    assert second["articles_new"] == second["articles_changed"] == 0
    assert second["articles_unchanged"] == 50 and second["articles_gone"] == 0
    assert second["stats"]["portal_archive/articles/known_skipped"] > 0

    # 30 articles published since: found, and only they are fetched.
    after = DemoSite(size=230, seed=5)
    with DemoServer(after, port=_port(base)) as server:
        third = run_crawl(portal, db, quiet=True)
        third_hits = dict(server.hits)
        rotation = dict(_rows(db, "SELECT last_run_id, count(*) FROM articles GROUP BY 1"))
        server.app.reset_counts()
        full = run_crawl(portal, db, quiet=True, full=True)
        full_hits = dict(server.hits)
    assert third["articles_new"] == 30
    # The 30 new ones, the next 50 archived articles in the revisit rotation, the probe.
    assert third_hits["article"] == 30 + 50 + 1
    assert third["articles_unchanged"] == third["articles_revisited"] == 50
    # Not the same 50 again: the least recently seen first, so the archive rotates.
    assert rotation == {first["id"]: 100, second["id"]: 50, third["id"]: 80}
    stored = _urls(db)
    assert len(stored) == len(set(stored)) == 230
    assert set(stored) == _expected(after, base)

    # --full: everything fetched again, nothing changes.
    assert full["settings"]["PORTAL_ARCHIVE_MODE"] == "full"
    assert full_hits["article"] == 230 + 1  # and the soft-404 probe
    assert (full["articles_new"], full["articles_changed"], full["articles_unchanged"]) \
        == (0, 0, 230)
    assert len(_urls(db)) == 230


def _crawl_process(base_url: str, db: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "archive.cli", "crawl", "demo", "--base-url", base_url,
         "--db", str(db), "-q", "-s", "PORTAL_ARCHIVE_BATCH=10", *extra],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return int(_rows(db, "SELECT count(*) FROM articles")[0][0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def _wait_for(db: Path, articles: int, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while _count(db) < articles:
        assert proc.poll() is None, "the crawl ended before it could be interrupted"
        assert time.monotonic() < deadline, "the crawl made no progress"
        time.sleep(0.05)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: list[int] = []
    todo = [pid]
    while todo:
        here = todo.pop()
        kids = [p for p, parent in parents.items() if parent == here]
        found += kids
        todo += kids
    return found


def test_sigkill_mid_crawl_then_resume(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    site = DemoSite(size=300, seed=9)
    with DemoServer(site, faults=frozenset({"slow"})) as server:
        server.app.slow_delay = 0.1
        proc = _crawl_process(server.base_url, db)
        _wait_for(db, 60, proc)
        # The CLI, its Scrapy process and the archiver, no goodbye (a power cut;
        # the crawl has a process group of its own, and would stop cleanly if
        # only the CLI died: tests/runtime/test_crawl_bounds.py).
        for pid in [*_descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        for pid in [*_descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        kept = _count(db)
        assert 60 <= kept < 300, "the kill must land mid-crawl"
        # What was committed is whole: no half-written row, the index agrees.
        assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
        conn = sqlite3.connect(db)
        conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
        conn.close()
        assert _rows(db, "SELECT status FROM crawl_runs") == [("running",)]

        server.app.reset_counts()
        resumed = run_crawl(demo_portal(server.base_url), db, quiet=True)
        hits = dict(server.hits)
        base = server.base_url
    assert resumed["settings"]["PORTAL_ARCHIVE_MODE"] == "resume"
    assert resumed["status"] == "finished"
    stored = _urls(db)
    assert len(stored) == len(set(stored)) == 300, "every article exactly once"
    assert set(stored) == _expected(site, base)
    # It did not start from zero: what the killed crawl stored is not fetched again.
    assert hits["article"] <= 300 - kept + 16
    assert resumed["articles_new"] == 300 - kept
    assert _rows(db, "SELECT status FROM crawl_runs ORDER BY id") \
        == [("interrupted",), ("finished",)]
    assert not job_dir(db, "demo").exists(), "the job folder is cleared when a crawl finishes"


def _scrapy_child(pid: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.05)
    raise AssertionError("no Scrapy process started")


def test_clean_stop_resumes_from_the_job_queue(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    site = DemoSite(size=300, seed=9)
    with DemoServer(site, faults=frozenset({"slow"})) as server:
        server.app.slow_delay = 0.1
        proc = _crawl_process(server.base_url, db)
        child = _scrapy_child(proc.pid)
        _wait_for(db, 40, proc)
        os.kill(child, signal.SIGINT)  # Ctrl-C: Scrapy stops cleanly, saves its queue
        proc.wait(timeout=60)
        jobs = job_dir(db, "demo")
        assert (jobs / RESUMABLE_MARK).is_file()
        assert _rows(db, "SELECT status FROM crawl_runs") == [("shutdown",)]
        kept = _count(db)
        server.app.reset_counts()
        resumed = run_crawl(demo_portal(server.base_url), db, quiet=True)
        hits = dict(server.hits)
    assert resumed["settings"]["PORTAL_ARCHIVE_JOB_RESUMED"] is True
    stored = _urls(db)
    assert len(stored) == len(set(stored)) == 300
    assert hits["article"] <= 300 - kept + 16
    assert not jobs.exists()


def test_crawl_all_survives_a_failing_portal(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    portals = tmp_path / "portals.toml"
    with DemoServer(DemoSite(size=30, seed=1)) as a, DemoServer(DemoSite(size=40, seed=2)) as b:
        entries = [("huyen-a", a.base_url), ("huyen-chet", f"http://127.0.0.1:{free_port()}/"),
                   ("huyen-b", b.base_url)]
        portals.write_text("".join(
            f'[[portal]]\nid = "{pid}"\nname = "Huyện {pid}"\nprovince = "Thanh Hóa"\n'
            f'base_url = "{url}"\nlayout = "thanhhoa"\n\n' for pid, url in entries),
            encoding="utf-8")
        result = run_cli("crawl", "--all", "--parallel", "2", "--portals",
                         str(portals), "--db", str(db))
    assert result.exit_code == 1, result.output
    assert "Error: 1 of 3 portals failed: huyen-chet" in result.output, result.output
    assert "huyen-a        ok" in result.output and "huyen-b        ok" in result.output
    assert dict(_rows(db, "SELECT portal_id, count(*) FROM articles GROUP BY portal_id")) \
        == {"huyen-a": 30, "huyen-b": 40}
    assert dict(_rows(db, "SELECT portal_id, status FROM crawl_runs")) \
        == {"huyen-a": "finished", "huyen-b": "finished", "huyen-chet": "failed"}


def test_crawl_all_skips(tmp_path: Path, monkeypatch: Any) -> None:
    import scraper.runner

    crawled: list[str] = []

    def fake_run_all(portals: list[Any], db: Any, **kw: Any) -> list[Any]:
        crawled.extend(p.id for p in portals)
        return [scraper.runner.PortalOutcome(p, True, 0.1, {"articles_new": 1}) for p in portals]

    monkeypatch.setattr(scraper.runner, "run_all", fake_run_all)
    result = run_cli("crawl", "--all", "--skip", "hauloc",
                     "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0, result.output
    assert "demo" not in crawled and "hauloc" not in crawled and "trieuson" in crawled


def test_crawl_needs_one_portal_or_all(tmp_path: Path) -> None:
    result = run_cli("crawl", "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "give one PORTAL, or --all" in result.output

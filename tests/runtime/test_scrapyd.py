"""The spiders under a real Scrapyd: deploy with scrapyd-deploy, schedule a crawl
of the demo portal through the HTTP API, see the articles arrive. Then jobs
that are killed (SIGKILL) or stopped (cancel: SIGINT): the next job resumes by
itself, as ``portal-archive crawl`` would.

Scrapyd runs on a free 127.0.0.1 port from the repository's scrapyd.conf
(ports and folders moved to a temporary directory); the project is deployed
from a copy of the repository whose scrapy.cfg points at it.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from dbrows import rows
from factories import free_port

from scraper import settings as defaults
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.runner import PROJECT_ROOT, demo_portal

BIN = Path(sys.executable).parent
PROJECT = "portal_archive"
SIZE = 40


def _api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urlencode(data).encode() if data is not None else None
    with urlopen(base + endpoint, data=body, timeout=30) as resp:
        result: dict[str, Any] = json.loads(resp.read())
    assert result.get("status") == "ok", result
    return result


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """A real Scrapyd from the repository's scrapyd.conf, on a free loopback port."""
    port = free_port()
    conf = configparser.ConfigParser()
    conf.read(PROJECT_ROOT / "scrapyd.conf", encoding="utf-8")
    run_dir = tmp_path / "scrapyd"
    run_dir.mkdir()
    conf["scrapyd"].update({"http_port": str(port), "eggs_dir": str(run_dir / "eggs"),
                            "logs_dir": str(run_dir / "logs"), "dbs_dir": str(run_dir / "dbs"),
                            "poll_interval": "0.2"})
    with open(run_dir / "scrapyd.conf", "w", encoding="utf-8") as f:
        conf.write(f)
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=run_dir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _api(base, "daemonstatus.json")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
                assert time.monotonic() < deadline, "Scrapyd did not start"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _deploy(scrapyd: str, tmp_path: Path) -> None:
    """scrapyd-deploy from a copy of the project (it writes build files where it runs)."""
    src = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv", "data", "tests",
                                    ".git", "*.db")
    for name in ("scraper", "spiders", "archive"):
        shutil.copytree(PROJECT_ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md", "portals.toml"):
        shutil.copy2(PROJECT_ROOT / name, src / name)
    cfg = configparser.ConfigParser()
    cfg.read(PROJECT_ROOT / "scrapy.cfg", encoding="utf-8")
    assert cfg["deploy"]["project"] == PROJECT
    cfg["deploy"]["url"] = scrapyd
    with open(src / "scrapy.cfg", "w", encoding="utf-8") as f:
        cfg.write(f)
    result = subprocess.run([str(BIN / "scrapyd-deploy"), "--version", "1"], cwd=src,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"status": "ok"' in result.stdout + result.stderr


def test_scheduled_crawl_under_scrapyd(scrapyd: str, tmp_path: Path) -> None:
    _deploy(scrapyd, tmp_path)
    assert _api(scrapyd, f"listspiders.json?project={PROJECT}")["spiders"] == ["portal"]
    db = tmp_path / "archive.db"
    site = DemoSite(size=SIZE, seed=4)
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        settings = {"PORTAL_ARCHIVE_DB": str(db), **defaults.FAST_LOCAL_SETTINGS}
        job = _api(scrapyd, "schedule.json", [
            ("project", PROJECT), ("spider", "portal"),
            ("portal", json.dumps(asdict(portal), ensure_ascii=False)),
            *(("setting", f"{k}={v}") for k, v in settings.items()),
        ])["jobid"]
        deadline = time.monotonic() + 120
        while True:
            jobs = _api(scrapyd, f"listjobs.json?project={PROJECT}")
            if any(j["id"] == job for j in jobs["finished"]):
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.3)
        base = server.base_url
    stored = [r[0] for r in rows(db, "SELECT canonical_url FROM articles")]
    runs = rows(db, "SELECT status FROM crawl_runs")
    assert sorted(stored) == sorted(a.to_article(base).canonical_url
                                    for a in site.iter_articles())
    assert runs == [("finished",)]

    _killed_and_stopped_jobs_resume(scrapyd, tmp_path)


def _schedule(scrapyd: str, portal: Any, settings: dict[str, Any]) -> str:
    return str(_api(scrapyd, "schedule.json", [
        ("project", PROJECT), ("spider", "portal"),
        ("portal", json.dumps(asdict(portal), ensure_ascii=False)),
        *(("setting", f"{k}={v}") for k, v in settings.items()),
    ])["jobid"])


def _wait_job(scrapyd: str, job: str, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not any(j["id"] == job for j in _api(scrapyd, f"listjobs.json?project={PROJECT}")
                  ["finished"]):
        assert time.monotonic() < deadline, f"job {job} did not end"
        time.sleep(0.3)


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def _wait_articles(db: Path, n: int, limit: float = 60) -> int:
    deadline = time.monotonic() + limit
    while True:
        rows = _query(db, "SELECT count(*) FROM articles")
        if rows and rows[0][0] >= n:
            return int(rows[0][0])
        assert time.monotonic() < deadline, f"fewer than {n} articles after {limit} s"
        time.sleep(0.1)


def _killed_and_stopped_jobs_resume(scrapyd: str, tmp_path: Path) -> None:
    """Scrapyd runs the spider itself (``scrapy crawl portal -a …``): the spider
    chooses resume mode after a killed job and continues a cancelled job's queue."""
    from scraper.crawlstate import RESUMABLE_MARK, job_dir

    db = tmp_path / "resume" / "archive.db"
    size = 150
    site = DemoSite(size=size, seed=6)
    with DemoServer(site, faults=frozenset({"slow"})) as server:
        server.app.slow_delay = 0.1
        portal = demo_portal(server.base_url)
        settings = {"PORTAL_ARCHIVE_DB": str(db), **defaults.FAST_LOCAL_SETTINGS,
                    "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "PORTAL_ARCHIVE_BATCH": 5,
                    "PORTAL_ARCHIVE_IMAGES": False}
        # 1. Killed mid-crawl (cancel with SIGKILL): its run stays "running".
        job = _schedule(scrapyd, portal, settings)
        _wait_articles(db, 20)
        _api(scrapyd, "cancel.json", [("project", PROJECT), ("job", job), ("signal", "KILL")])
        _wait_job(scrapyd, job)
        assert _query(db, "SELECT status FROM crawl_runs") == [("running",)]
        killed_at = _wait_articles(db, 0)
        assert killed_at < size, "the kill must land mid-crawl"
        # 2. The next job resumes; cancelled (SIGINT: a clean stop) it keeps its queue.
        job = _schedule(scrapyd, portal, settings)
        _wait_articles(db, killed_at + 10)
        _api(scrapyd, "cancel.json", [("project", PROJECT), ("job", job)])
        _wait_job(scrapyd, job)
        jobs = job_dir(db, portal.id)
        assert (jobs / RESUMABLE_MARK).is_file(), "a clean stop leaves a resumable queue"
        stopped_at = _wait_articles(db, 0)
        assert stopped_at < size, "the stop must land mid-crawl"
        # 3. The next job continues that queue to the end.
        server.app.reset_counts()
        job = _schedule(scrapyd, portal, settings)
        _wait_job(scrapyd, job)
        hits = dict(server.hits)
        base = server.base_url
    runs = [(status, json.loads(settings_json)) for status, settings_json in _query(
        db, "SELECT status, settings FROM crawl_runs ORDER BY id")]
    assert [r[0] for r in runs] == ["interrupted", "shutdown", "finished"]
    assert [r[1]["PORTAL_ARCHIVE_MODE"] for r in runs] == ["incremental", "resume", "resume"]
    assert runs[1][1]["PORTAL_ARCHIVE_MODE_REASON"] == "the last run did not finish (running)"
    assert [r[1]["PORTAL_ARCHIVE_JOB_RESUMED"] for r in runs] == [False, False, True]
    stored = [r[0] for r in _query(db, "SELECT canonical_url FROM articles")]
    assert len(stored) == len(set(stored)) == size, "every article exactly once"
    assert set(stored) == {a.to_article(base).canonical_url for a in site.iter_articles()}
    # Not from zero: the last job fetched what the stopped ones had not stored.
    assert hits["article"] <= size - stopped_at + 16
    assert not jobs.exists(), "a finished job's queue is removed"

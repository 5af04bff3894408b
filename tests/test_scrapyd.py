"""The spiders under a real Scrapyd: deploy with scrapyd-deploy, schedule a crawl
of the demo portal through the HTTP API, see the articles arrive.

Scrapyd runs on a free 127.0.0.1 port from the repository's scrapyd.conf
(ports and folders moved to a temporary directory); the project is deployed
from a copy of the repository whose scrapy.cfg points at it.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import socket
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

from archive.crawl import PROJECT_ROOT, demo_portal
from scraper import settings as defaults
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite

BIN = Path(sys.executable).parent
PROJECT = "portal_archive"
SIZE = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urlencode(data).encode() if data is not None else None
    with urlopen(base + endpoint, data=body, timeout=30) as resp:
        result: dict[str, Any] = json.loads(resp.read())
    assert result.get("status") == "ok", result
    return result


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """A real Scrapyd from the repository's scrapyd.conf, on a free loopback port."""
    port = _free_port()
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
    conn = sqlite3.connect(db)
    try:
        stored = [r[0] for r in conn.execute("SELECT canonical_url FROM articles")]
        runs = conn.execute("SELECT status FROM crawl_runs").fetchall()
    finally:
        conn.close()
    assert sorted(stored) == sorted(a.to_article(base).canonical_url
                                    for a in site.iter_articles())
    assert runs == [("finished",)]

"""The CLI's crawl and demo commands, in-process, against the real demo portal."""

from __future__ import annotations

import json
from pathlib import Path

from factories import run_cli

from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite


def test_crawl_command_archives_the_demo_portal(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    site = DemoSite(size=30, seed=3)
    with DemoServer(site) as server:
        result = run_cli("crawl", "demo", "--base-url", server.base_url, "--db", db, "--quiet")
    assert result.exit_code == 0, result.output
    stats = run_cli("stats", "--db", db, "--json")
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.stdout)["articles"] == 30
    found = run_cli("search", "tong ket NTM 2018", "--db", db, "--json")
    assert found.exit_code == 0
    hits = json.loads(found.stdout)["results"]
    assert hits and hits[0]["published"] == "2019-03-14T15:41:05+07:00"
    assert hits[0]["author"] == "Thùy Dung"


def test_demo_command(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    result = run_cli("demo", "--size", "25", "--db", db, "--quiet")
    assert result.exit_code == 0, result.output
    assert "Archived 25 articles" in result.output
    assert 'Search "nong thon moi"' in result.output


def test_crawl_unknown_portal_is_one_line_error(tmp_path: Path) -> None:
    result = run_cli("crawl", "no-such-portal", "--db", str(tmp_path / "x.db"))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0
    assert "unknown portal" in result.stderr


def test_crawl_bad_archiver_setting_is_one_line_error(tmp_path: Path) -> None:
    result = run_cli("crawl", "demo", "-s", "PORTAL_ARCHIVE_ARCHIVER=fast",
                     "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0
    assert "PORTAL_ARCHIVE_ARCHIVER must be auto, process or in_process" in result.stderr
    assert not (tmp_path / "x.db").exists(), "refused before any crawl"

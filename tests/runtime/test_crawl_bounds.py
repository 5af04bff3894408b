"""Every crawl ends, waits politely and stays small, whatever the portal serves.

For each bounds fault mode of the demo portal (scraper/demo/app.py
BOUNDS_FAULTS), a real crawl (a real Scrapy process, the demo on loopback)
is scored against the demo's own list of articles: every article stored
once, the crawl ends, the crawl process (and its archiver) under the memory
cap, the exit status and the stats as docs/archival.md says. The table of
docs/archival.md is printed by ``-s`` (``FAULT_TABLE`` lines).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows
from factories import free_port

from scraper.bounds import CrawlBounds, ShapeCounter, path_loop, url_shape
from scraper.demo.app import BOUNDS_FAULTS, DemoApp, gzip_bomb
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.portals import Portal
from scraper.runner import PROJECT_ROOT, CrawlError, demo_portal, run_crawl
from spiders.discovery import InflateLimit, gunzip_capped

SIZE = 24
SEED = 5
#: The crawl process with its archiver: the larger of the two stays under half
#: the cap, so that both together stay under 500 MiB.
MEMORY_CAP_KB = 250 * 1024


def _expected(site: DemoSite, base_url: str) -> set[str]:
    return {a.to_article(base_url).canonical_url for a in site.iter_articles()}


def _stat(run: dict[str, Any], name: str) -> int:
    value = (run.get("stats") or {}).get(f"portal_archive/{name}", 0)
    return int(value) if isinstance(value, (int, float)) else 0


def _crawl(mode: str, tmp_path: Path, *, generic: bool = False,
           settings: dict[str, Any] | None = None,
           tune: dict[str, Any] | None = None) -> tuple[dict[str, Any], DemoSite, str, float]:
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    started = time.monotonic()
    with DemoServer(site, faults=frozenset({mode})) as server:
        for key, value in (tune or {}).items():
            setattr(server.app, key, value)
        portal = (Portal.adhoc(server.base_url) if generic else demo_portal(server.base_url))
        run = run_crawl(portal, db, quiet=True,
                        settings={"PORTAL_ARCHIVE_IMAGES": False, **(settings or {})})
        base = server.base_url
    seconds = time.monotonic() - started
    stored = [r[0] for r in rows(db, "SELECT canonical_url FROM articles")]
    expected = _expected(site, base)
    duplicated = len(stored) - len(set(stored))
    peak = int(run["process"].get("max_rss_kb") or 0)
    print(f"FAULT_TABLE {mode} | {len(expected)} | {len(set(stored) & expected)} | "
          f"{duplicated} | {seconds:.1f} s | {peak / 1024:.0f} MiB | exit 0")
    assert duplicated == 0, "an article is stored twice"
    if not generic:
        assert set(stored) == expected
    else:  # the generic extractor may keep a listing as an article; none is missing
        assert expected <= set(stored)
    assert peak < MEMORY_CAP_KB, f"{peak} kB"
    return run, site, base, seconds


# ------------------------------------------------------------------ pure rules
def test_path_loops_and_shapes() -> None:
    assert path_loop("http://h/thu-muc/con/con/con/")
    assert path_loop("http://h/a/b/a/b/a/b/a/b/")
    assert not path_loop("http://h/portal/Pages/2024-1-2/tin-moi.aspx")
    assert not path_loop("http://h/con/con/")
    assert path_loop("http://h/" + "/".join(f"s{i}" for i in range(30)))
    assert url_shape("http://h/lich.aspx?ngay=2021-01-01&x=1") == "/lich.aspx?ngay=&x="
    shapes = ShapeCounter(limit=2)
    assert [shapes.news(f"http://h/l?d={i}") for i in range(3)] == [True, True, False]


def test_bounds_cut_and_count() -> None:
    bounds = CrawlBounds(max_pages=2, max_depth=3)
    assert bounds.check("mailto:x@y.vn") == "scheme"
    assert bounds.check("javascript:void(0)") == "scheme"
    assert bounds.check("http://h/a", depth=4) == "depth"
    assert bounds.check("http://h/a") is None and bounds.check("http://h/b") is None
    assert bounds.check("http://h/c") == "budget"
    assert bounds.check("http://h/c", counted=False) is None  # a revisit, a retry
    assert dict(bounds.cuts) == {"scheme": 2, "depth": 1, "budget": 1}


def test_gzip_bomb_inflates_no_further_than_its_cap() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 3 * 1024 * 1024
    with pytest.raises(InflateLimit):
        gunzip_capped(bomb, 8 * 1024 * 1024)
    two = gzip.compress(b"<a/>") + gzip.compress(b"<b/>")
    assert gunzip_capped(two) == b"<a/><b/>"


def test_demo_bounds_modes_answer_as_documented() -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    app = DemoApp(site, faults=BOUNDS_FAULTS - {"start_404"})
    assert app.handle("GET", "/robots.txt").status == 503
    a = DemoApp(site, faults=frozenset({"crawl_delay"}))
    assert b"Crawl-delay: 0.5" in a.handle("GET", "/robots.txt").body
    r = DemoApp(site, faults=frozenset({"retry_after"}))
    path = site.article(3).path
    answers = [r.handle("GET", path) for _ in range(3)]
    assert [x.status for x in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "1"
    c = DemoApp(site, faults=frozenset({"redirect_chain"}))
    assert c.handle("GET", "/portal/Pages/chuyen/7").headers["Location"].endswith("/8")
    assert DemoApp(site, faults=frozenset({"start_404"})).handle("GET", "/").status == 404


# ------------------------------------------------------------- real crawls
def test_relative_link_loop_is_cut(tmp_path: Path) -> None:
    run, *_ = _crawl("relative_loop", tmp_path, generic=True)
    assert run["status"] == "finished"
    assert _stat(run, "cut/path_loop") >= 1


def test_redirect_chain_is_cut(tmp_path: Path) -> None:
    run, *_ = _crawl("redirect_chain", tmp_path, generic=True)
    assert _stat(run, "cut/redirect_chain") >= 1


def test_calendar_trap_ends_a_generic_crawl(tmp_path: Path) -> None:
    run, *_ = _crawl("calendar", tmp_path, generic=True,
                     settings={"PORTAL_ARCHIVE_SHAPE_PAGES": 20})
    # The calendar's days stop counting as news: the branch is cut.
    assert run["stats"]["downloader/request_count"] < 400
    assert _stat(run, "pages/not_followed") >= 1


def test_page_budget_ends_an_endless_pager(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    with DemoServer(site, faults=frozenset({"endless_pagination", "calendar"})) as server:
        run = run_crawl(Portal.adhoc(server.base_url), tmp_path / "a.db", quiet=True,
                        settings={"PORTAL_ARCHIVE_MAX_PAGES": 30,
                                  "PORTAL_ARCHIVE_IMAGES": False})
    assert _stat(run, "cut/budget") >= 1
    assert run["stats"]["downloader/request_count"] <= 30 + 10  # robots, sitemaps, retries


def test_retry_after_is_waited_out_not_a_failure(tmp_path: Path) -> None:
    run, _, _, seconds = _crawl("retry_after", tmp_path)
    assert run["status"] == "finished"
    assert _stat(run, "waits/429") >= 2 * SIZE
    assert _stat(run, "articles/lost") == 0
    assert seconds >= 2  # each page waited Retry-After (1 s) twice


def test_503_without_retry_after_backs_off(tmp_path: Path) -> None:
    run, *_ = _crawl("unavailable", tmp_path)
    assert _stat(run, "waits/503") >= SIZE


def test_crawl_delay_is_obeyed(tmp_path: Path) -> None:
    run, _, _, seconds = _crawl("crawl_delay", tmp_path,
                                settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 1},
                                tune={"crawl_delay": 0.2})
    assert run["stats"]["portal_archive/robots/crawl_delay"] == 0.2
    requests = run["stats"]["downloader/request_count"]
    assert seconds >= 0.2 * (requests - 5)


def test_robots_5xx_disallows_the_crawl(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    with DemoServer(site, faults=frozenset({"robots_5xx"})) as server, \
            pytest.raises(CrawlError) as failed:
        run_crawl(demo_portal(server.base_url), tmp_path / "a.db", quiet=True,
                  settings={"PORTAL_ARCHIVE_BACKOFF": 0.05})
    assert "start page failed" in str(failed.value) and "RFC 9309" in str(failed.value)
    [(status, stats)] = rows(tmp_path / "a.db", "SELECT status, stats FROM crawl_runs")
    assert status == "failed"
    assert json.loads(stats)["portal_archive/robots/unavailable"] == 1
    print(f"FAULT_TABLE robots_5xx | {SIZE} | 0 | 0 | - | - | exit 1")


def test_sitemap_bomb_is_capped(tmp_path: Path) -> None:
    run, *_ = _crawl("sitemap_bomb", tmp_path, generic=True)
    assert _stat(run, "bombs/sitemap") == 1


def test_content_encoding_bomb_is_capped(tmp_path: Path) -> None:
    run, *_ = _crawl("encoding_bomb", tmp_path)
    assert _stat(run, "bombs/content_encoding") == 1


def test_start_page_404_fails_the_crawl(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    with DemoServer(site, faults=frozenset({"start_404"})) as server, \
            pytest.raises(CrawlError) as failed:
        run_crawl(demo_portal(server.base_url), tmp_path / "a.db", quiet=True)
    assert "start page failed" in str(failed.value) and "404" in str(failed.value)
    print(f"FAULT_TABLE start_404 | {SIZE} | - | 0 | - | - | exit 1")


def test_too_many_lost_articles_fail_the_crawl(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    with DemoServer(site, faults=frozenset({"lost_articles"})) as server, \
            pytest.raises(CrawlError) as failed:
        run_crawl(demo_portal(server.base_url), tmp_path / "a.db", quiet=True,
                  settings={"RETRY_TIMES": 1, "PORTAL_ARCHIVE_IMAGES": False})
    lost = sum(1 for a in site.iter_articles() if a.id % 4 == 0)
    assert f"{lost} of {SIZE} article pages lost after retries" in str(failed.value)
    stored = rows(tmp_path / "a.db", "SELECT count(*), count(DISTINCT canonical_url) "
                  "FROM articles")
    assert stored == [(SIZE - lost, SIZE - lost)]
    print(f"FAULT_TABLE lost_articles | {SIZE} | {SIZE - lost} | 0 | - | - | exit 1")
    # A share the user accepts: the same crawl passes.
    with DemoServer(site, faults=frozenset({"lost_articles"})) as server:
        run = run_crawl(demo_portal(server.base_url), tmp_path / "b.db", quiet=True,
                        settings={"RETRY_TIMES": 1, "PORTAL_ARCHIVE_IMAGES": False,
                                  "PORTAL_ARCHIVE_MAX_LOST": 0.5})
    assert _stat(run, "articles/lost") == lost


def test_failure_reasons_in_one_line() -> None:
    from scraper.runner import failure_reason

    portal = Portal.adhoc("http://127.0.0.1:9/")
    ok = {"status": "finished", "articles_new": 10,
          "stats": {"downloader/response_count": 12}}
    assert failure_reason(ok, 0, [], portal, 10, 0.05) is None
    assert failure_reason(ok, 1, ["sqlite3.OperationalError: database or disk is full"],
                          portal, 10, 0.05) == "disk full"
    assert failure_reason(ok, 0, ["OSError: [Errno 28] No space left on device"],
                          portal, 10, 0.05) == "disk full"
    died = {**ok, "status": "archiver_failed",
            "stats": {"portal_archive/archiver/died": "the archiver process is gone"}}
    assert failure_reason(died, 0, [], portal, 10, 0.05).startswith("the archiver died")
    assert failure_reason({**ok, "status": "running"}, -9, [], portal, 10, 0.05) == \
        "the crawl process failed (exit -9)"
    assert failure_reason(ok, 0, [], portal, 0, 0.05).startswith("nothing could be stored")
    lossy = {**ok, "stats": {**ok["stats"], "portal_archive/articles/lost": 2}}
    assert failure_reason(lossy, 0, [], portal, 10, 0.05) == \
        "2 of 12 article pages lost after retries (more than 5%)"
    assert failure_reason(lossy, 0, [], portal, 10, 0.2) is None


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archive.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


def test_unreachable_portal_one_line_exit_1(tmp_path: Path) -> None:
    port = free_port()
    result = _cli("crawl", f"http://127.0.0.1:{port}/", "--db", "rel/a.db", "-q",
                  cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "start page failed" in result.stderr
    runs = _cli("runs", "--db", "rel/a.db", cwd=tmp_path)
    assert "start page failed" in runs.stdout
    print("FAULT_TABLE unreachable | - | 0 | 0 | - | - | exit 1")


def test_sigkill_of_the_cli_stops_the_crawl(tmp_path: Path) -> None:
    """The CLI process alone is killed: its crawl process stops too, and the
    next crawl marks the run killed (interrupted) and finishes the work."""
    site = DemoSite(size=200, seed=SEED)
    with DemoServer(site, faults=frozenset({"slow"})) as server:
        server.app.slow_delay = 0.05
        cli = subprocess.Popen(
            [sys.executable, "-m", "archive.cli", "crawl", "demo", "--base-url",
             server.base_url, "--db", str(tmp_path / "a.db"), "-q",
             "-s", "PORTAL_ARCHIVE_IMAGES=false", "-s", "CONCURRENT_REQUESTS=2"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        crawl_pid = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and crawl_pid is None:
            crawl_pid = _child_crawl(cli.pid)
            time.sleep(0.1)
        assert crawl_pid is not None, "no crawl process started"
        time.sleep(2)
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _alive(crawl_pid):
            time.sleep(0.1)
        assert not _alive(crawl_pid), "the crawl process outlived the CLI"
        assert not any("scraper.archiver" in _cmdline(p) or "_ENTRY" in _cmdline(p)
                       for p in _children_of(crawl_pid))
        server.app.faults = frozenset()
        second = run_crawl(demo_portal(server.base_url), tmp_path / "a.db", quiet=True,
                           settings={"PORTAL_ARCHIVE_IMAGES": False})
    statuses = [r[0] for r in rows(tmp_path / "a.db", "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses[0] in ("interrupted", "shutdown") and statuses[-1] == "finished"
    assert second["status"] == "finished"
    assert rows(tmp_path / "a.db", "SELECT count(*), count(DISTINCT canonical_url) "
                "FROM articles") == [(site.article_count, site.article_count)]


def test_ctrl_c_says_the_next_crawl_resumes(tmp_path: Path) -> None:
    """Ctrl-C reaches the CLI (its own process group holds the crawl): the crawl
    is handed one SIGINT, stops cleanly, and the CLI says it resumes; it does."""
    site = DemoSite(size=200, seed=SEED)
    with DemoServer(site, faults=frozenset({"slow"})) as server:
        server.app.slow_delay = 0.05
        cli = subprocess.Popen(
            [sys.executable, "-m", "archive.cli", "crawl", "demo", "--base-url",
             server.base_url, "--db", str(tmp_path / "a.db"), "-q",
             "-s", "PORTAL_ARCHIVE_IMAGES=false", "-s", "CONCURRENT_REQUESTS=2"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        crawl_pid = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and crawl_pid is None:
            crawl_pid = _child_crawl(cli.pid)
            time.sleep(0.1)
        assert crawl_pid is not None
        time.sleep(2)
        os.kill(cli.pid, signal.SIGINT)
        _, err = cli.communicate(timeout=90)
        assert cli.returncode == 1
        assert "interrupted (Ctrl-C): the next crawl resumes" in err
        assert "Traceback" not in err
        assert not _alive(crawl_pid)
        second = run_crawl(demo_portal(server.base_url), tmp_path / "a.db", quiet=True,
                           settings={"PORTAL_ARCHIVE_IMAGES": False})
    assert second["settings"]["PORTAL_ARCHIVE_MODE"] == "resume"
    assert rows(tmp_path / "a.db", "SELECT count(*), count(DISTINCT canonical_url) "
                "FROM articles") == [(site.article_count, site.article_count)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out


def _child_crawl(pid: int) -> int | None:
    return next((c for c in _children_of(pid) if "scrapy" in _cmdline(c)), None)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_reextract_skips_a_bomb_in_a_warc_record(tmp_path: Path) -> None:
    """A WARC record whose gzip Content-Encoding inflates to 2 GiB is skipped and
    counted; the pages beside it are read; memory stays small (own process)."""
    from scraper.warc import WarcWriter

    writer = WarcWriter(tmp_path, "warc/x", "run000001")
    html = [("Content-Type", "text/html; charset=utf-8")]
    writer.write_exchange(url="http://h/bom", method="GET", request_headers=[],
                          request_body=b"", status=200,
                          response_headers=[*html, ("Content-Encoding", "gzip")],
                          body=gzip_bomb())
    writer.write_exchange(url="http://h/p", method="GET", request_headers=[], request_body=b"",
                          status=200, response_headers=html, body=b"<html>ok</html>")
    writer.close()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from archive.reextract import iter_html_pages\n"
        "bombs = []\n"
        "pages = list(iter_html_pages(Path(sys.argv[1]), on_bomb=lambda: bombs.append(1)))\n"
        # VmHWM, not ru_maxrss: the latter keeps the forking pytest's peak across exec.
        "hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "print(len(pages), len(bombs), pages[0].body.decode(), hwm)\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / writer.files[0])],
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
                         env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}).stdout.split()
    assert out[:3] == ["1", "1", "<html>ok</html>"]
    assert int(out[3]) < 250 * 1024, f"{out[3]} kB"
    print(f"FAULT_TABLE reextract_warc_bomb | 1 | 1 | 0 | - | {int(out[3]) / 1024:.0f} MiB | "
          "exit 0")


def test_demo_prints_no_traceback_when_old_urls_are_unreachable(tmp_path: Path) -> None:
    """The demo archive's articles live at the declared port; a later demo run on
    another port (the declared one taken, refusing connections) revisits them:
    each refused connection is counted, not printed as a Scrapy traceback."""
    import socket

    first = _cli("demo", "--size", "20", "-q", "--db", "d/demo.db", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", 8765))  # bound, not listening: connections refused
    except OSError:
        blocker.close()
        pytest.skip("port 8765 is in use by another process")
    try:
        second = _cli("demo", "--size", "20", "--db", "d/demo.db", cwd=tmp_path)
    finally:
        blocker.close()
    assert second.returncode == 0
    assert "Traceback" not in second.stderr and "ERROR" not in second.stderr
    assert "Archived " in second.stdout  # (two ports, two portals: URL identity, not here)

"""The archiver process (scraper/archiver.py): a real child process behind a real pipe.

No Scrapy: the crawl's end (:class:`ArchiverClient`) on a plain asyncio loop,
pages of the demo portal, a real archive file and real WARC files.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows
from warcio.archiveiterator import ArchiveIterator

from scraper.archiver import ArchiverClient, ArchiverConfig, ArchiverError, PageSummary
from scraper.demo.app import DemoApp
from scraper.demo.site import DemoSite
from scraper.extract import extract_article
from scraper.runner import demo_portal
from scraper.warc import CaptureRef, WarcOptions

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:9/"


def _pages(count: int) -> list[tuple[str, bytes]]:
    site = DemoSite(size=max(count, 10), seed=5)
    app = DemoApp(site, base_url=BASE)
    return [(BASE.rstrip("/") + a.path, app.handle("GET", a.path).body)
            for a in list(site.iter_articles())[:count]]


def _client(db: Path, batch: int = 100, stats: list[dict[str, Any]] | None = None
            ) -> ArchiverClient:
    return ArchiverClient(ArchiverConfig(str(db), demo_portal(BASE), batch_size=batch),
                          on_stats=stats.append if stats is not None else None)


def _archive(client: ArchiverClient, pages: list[tuple[str, bytes]],
             captures: list[CaptureRef] | None = None) -> list[PageSummary]:
    async def go() -> list[PageSummary]:
        client.attach(asyncio.get_running_loop())
        futures = [client.page(url, html, 200, "2026-11-22T20:00:00+00:00",
                               captures[i] if captures else None)
                   for i, (url, html) in enumerate(pages)]
        return list(await asyncio.wait_for(asyncio.gather(*futures), 60))
    return asyncio.run(go())


def test_stores_what_extract_article_gives_in_batches(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    stats: list[dict[str, Any]] = []
    client = _client(db, batch=4, stats=stats)
    pages = _pages(10)
    summaries = _archive(client, pages)
    assert client.call("flush", answer="flushed") == ""
    client.close()
    assert client.proc.returncode == 0
    stored = {r[0]: r[1:] for r in rows(db, "SELECT canonical_url, title, body FROM articles")}
    assert len(stored) == 10
    for (url, html), summary in zip(pages, summaries, strict=True):
        article = extract_article(html, url)
        assert stored[article.canonical_url] == (article.title, article.body)
        assert summary.reason == "" and summary.extractor == article.extractor
        assert summary.image_urls == [i.url for i in article.images]
    # Two full batches went by themselves, the flush wrote the last two.
    assert [s["articles_new"] for s in stats] == [4, 8, 10]
    assert stats[-1]["archiver/max_rss_kb"] > 0


def test_pages_that_are_not_articles_come_back_with_their_reasons(tmp_path: Path) -> None:
    """Bad input (empty, binary, absurdly deep markup) is a reason, never a dead
    archiver: the article after them is stored."""
    db = tmp_path / "a.db"
    client = _client(db)
    bad = [b"", bytes(range(256)) * 40, b"<html><body>" + b"<div>" * 100_000 + b"chu"]
    try:
        summaries = _archive(client, [(BASE + f"x{n}.html", page)
                                      for n, page in enumerate(bad)] + _pages(1))
        assert client.call("flush", answer="flushed") == ""
    finally:
        client.close()
    assert summaries[0].reason == "empty"
    assert all(s.reason for s in summaries[:3]) and summaries[3].reason == ""
    assert rows(db, "SELECT count(*) FROM articles") == [(1,)]


def test_each_article_points_at_its_warc_record(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    client = _client(db)
    pages = _pages(3)
    client.send("warc_open", WarcOptions(root=tmp_path, folder="warc/demo", prefix="run000001",
                                         max_bytes=10_000_000))
    for seq, (url, html) in enumerate(pages, start=1):
        client.send("warc", seq, {
            "url": url, "method": "GET", "request_headers": [("Accept", "text/html")],
            "request_body": b"", "status": 200,
            "response_headers": [("Content-Type", "text/html; charset=utf-8")],
            "body": html, "when": datetime.now(UTC)})
    _archive(client, pages, [CaptureRef(status=200, seq=n) for n in range(1, 4)])
    client.call("flush", answer="flushed")
    client.close()
    found = rows(db, "SELECT url, warc_file, warc_offset FROM captures ORDER BY url")
    assert len(found) == 3
    for url, warc_file, offset in found:
        with open(tmp_path / warc_file, "rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert record.content_stream().read() == dict(pages)[url]


def test_an_archive_it_cannot_open_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiverError) as caught:
        _client(tmp_path / "file" / "a.db")
    assert "\n" not in str(caught.value) and str(caught.value)


def test_with_the_run_given_the_crawl_does_not_wait_and_a_failure_reaches_its_pages(
        tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    client = ArchiverClient(ArchiverConfig(str(tmp_path / "file" / "a.db"), demo_portal(BASE),
                                           run_id=7))
    assert client.run_id == 7
    with pytest.raises(ArchiverError, match="did not start"):
        _archive(client, _pages(1))
    client.close()


def test_a_dead_archiver_fails_its_pages_instead_of_hanging(tmp_path: Path) -> None:
    client = _client(tmp_path / "a.db")
    client.proc.kill()
    client.proc.wait()
    with pytest.raises(ArchiverError):
        _archive(client, _pages(2))
    assert client.dead
    client.close()


def test_sigterm_and_sigint_leave_the_stopping_to_the_crawl(tmp_path: Path) -> None:
    """A service manager's SIGTERM (or Ctrl-C) reaches the whole process group:
    the archiver stays, so the crawl's clean shutdown can still store its last batch."""
    db = tmp_path / "a.db"
    client = _client(db, batch=100)
    _archive(client, _pages(3))
    for sig in (signal.SIGTERM, signal.SIGINT):
        os.kill(client.proc.pid, sig)
    time.sleep(0.2)
    assert client.proc.poll() is None
    assert client.call("flush", answer="flushed") == ""
    client.close()
    assert rows(db, "SELECT count(*) FROM articles") == [(3,)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie runs nothing: gone for our purpose
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_killed_crawl_takes_its_archiver_along_and_leaves_no_half_batch(
        tmp_path: Path) -> None:
    """SIGKILL the process that holds the client: the archiver exits by itself,
    and the articles of its unfinished batch are not written (the next crawl
    fetches them again), as a killed in-process crawl's are not."""
    db = tmp_path / "a.db"
    code = (
        "import asyncio, sys, time\n"
        "sys.path[:0] = ['tests/runtime', 'tests']\n"
        "from test_archiver import _client, _archive, _pages\n"
        "from pathlib import Path\n"
        f"client = _client(Path({str(db)!r}), batch=5)\n"
        "_archive(client, _pages(7))\n"
        "print(client.proc.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout is not None
    archiver = int(proc.stdout.readline())
    assert _alive(archiver)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _alive(archiver) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(archiver), "the archiver outlived the killed crawl"
    # The first batch of 5 committed; the 2 after it were never written.
    assert rows(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(5, 5)]


def _archiver_of(db: Path) -> int | None:
    """The archiver process writing ``db`` (found by its open files)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"scraper.archiver import main" not in (proc / "cmdline").read_bytes():
                continue
            if any(os.readlink(fd) == str(db) for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


def test_a_crawl_whose_archiver_dies_stops_and_the_next_one_finishes_it(
        tmp_path: Path) -> None:
    """The archiver is killed mid-crawl: the crawl stops and fails, saying so
    (run status archiver_failed, not finished); the next crawl resumes, and
    every article ends up in the archive exactly once."""
    import threading

    from scraper.demo.server import DemoServer
    from scraper.runner import CrawlError, run_crawl

    site = DemoSite(size=120, seed=9)
    db = tmp_path / "archive.db"
    settings = {"PORTAL_ARCHIVE_ARCHIVER": "process", "PORTAL_ARCHIVE_BATCH": 10,
                "PORTAL_ARCHIVE_IMAGES": False, "CONCURRENT_REQUESTS": 2}
    with DemoServer(site, faults=frozenset({"slow"})) as server:
        server.app.slow_delay = 0.02
        portal = demo_portal(server.base_url)
        errors: list[str] = []

        def first() -> None:
            try:
                run_crawl(portal, db, quiet=True, settings=settings)
            except CrawlError as exc:
                errors.append(str(exc))

        crawl = threading.Thread(target=first)
        crawl.start()
        killed = False
        deadline = time.monotonic() + 60
        while crawl.is_alive() and time.monotonic() < deadline and not killed:
            try:
                stored = rows(db, "SELECT count(*) FROM articles")[0][0]
            except sqlite3.OperationalError:  # not created yet
                stored = 0
            pid = _archiver_of(db) if stored >= 20 else None
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                killed = True
            time.sleep(0.05)
        crawl.join(120)
        assert killed, "the crawl ended before its archiver could be killed"
        assert errors and "the archiver died" in errors[0]
        [(status, new, failure)] = rows(
            db, "SELECT status, articles_new, json_extract(stats, '$.failure') FROM crawl_runs")
        assert status == "archiver_failed" and failure.startswith("the archiver died")
        assert new < site.article_count
        server.app.faults = frozenset()
        second = run_crawl(portal, db, quiet=True, settings=settings)
    assert second["status"] == "finished"
    assert second["settings"]["PORTAL_ARCHIVE_MODE"] == "resume"
    assert rows(db, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == \
        [(site.article_count, site.article_count)]

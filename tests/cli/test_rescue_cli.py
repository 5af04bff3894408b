"""`portal-archive rescue` end to end: a switched-off demo portal recovered from pywb.

The demo portal is recorded at three dates (tests/rescue_servers.py) and
switched off; pywb serves the recordings on loopback. The rescue goes through
the CLI into a real SQLite archive and our own WARC files, and is measured:
articles recovered over articles with a whole capture, requests per
recovered article, requests a second against the archive.
"""

from __future__ import annotations

import html
import json
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.request import urlopen

import pytest
from factories import run_cli
from rescue_servers import (
    SNAPSHOTS,
    CapturedPortal,
    CcCrawl,
    CommonCrawlServer,
    Pywb,
    archive_tool,
    capture_demo_portal,
    expected_best,
)
from warcio.archiveiterator import ArchiveIterator

RATE = 25.0


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> CapturedPortal:
    return capture_demo_portal(tmp_path_factory.mktemp("captures"))


@pytest.fixture(scope="module")
def pywb(portal: CapturedPortal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pywb]:
    with Pywb(tmp_path_factory.mktemp("pywb"), portal.warcs) as server:
        yield server


def _rescue(pywb: Pywb, portal: CapturedPortal, db: Path, *extra: str) -> dict[str, object]:
    result = run_cli("rescue", portal.base_url, "--cdx", pywb.cdx, "--replay", pywb.root,
                     "--rate", str(RATE), "--db", str(db), *extra)
    assert result.exit_code == 0, result.output
    assert "Rescue run #" in result.output
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).output)
    return runs[0]


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_rescue_recovers_the_switched_off_portal(pywb: Pywb, portal: CapturedPortal,
                                                 tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    run = _rescue(pywb, portal, db)
    stats = run["stats"]
    assert isinstance(stats, dict)
    best = expected_best(SNAPSHOTS)
    wanted = {portal.urls[n]: portal.timestamp(snap) for n, snap in best.items()}

    stored = {url: (source, captured) for url, source, captured in _rows(
        db, "SELECT url, source, captured_at FROM articles")}
    recovered = [u for u in wanted if u in stored]
    ratio = len(recovered) / len(wanted)
    assert ratio >= 0.99, sorted(set(wanted) - set(stored))
    # Each article holds the text of its newest whole capture, dated by the capture.
    for url, ts in wanted.items():
        source, captured = stored[url]
        assert source == "wayback"
        assert str(captured).replace("-", "").replace("T", "").replace(":", "")[:14] == ts

    # Captures: source and capture time recorded, and the WARC record says where from.
    caps = _rows(db, "SELECT url, source, captured_at, warc_file, warc_offset FROM captures")
    assert {c[1] for c in caps} == {"wayback"} and len(caps) == len(recovered)
    url, _source, _captured, warc_file, offset = caps[0]
    with (tmp_path / str(warc_file)).open("rb") as fh:
        fh.seek(int(str(offset)))
        record = next(iter(ArchiveIterator(fh)))
    assert record.rec_headers.get_header("WARC-Target-URI") == url
    assert record.rec_headers.get_header("WARC-Refers-To-Target-URI") == url
    assert "id_/" in record.rec_headers.get_header("WARC-Source-URI")
    assert record.rec_headers.get_header("WARC-Date").startswith(
        str(_captured)[:19].replace("+00:00", ""))

    # Images came through the archive too.
    images_ok = _rows(db, "SELECT count(*) FROM image_files WHERE status = 'ok'")[0][0]
    assert images_ok == stats["images_ok"] and int(images_ok) > 0

    assert run["kind"] == "rescue" and run["status"] == "finished"
    assert run["articles_new"] == len(recovered)
    requests = int(stats["requests"])
    per_article = requests / len(recovered)
    rate = float(stats["requests_per_second"])
    assert rate <= RATE * 1.05
    print(f"\nrescue measure: recovered {len(recovered)}/{len(wanted)} = {ratio:.3f}; "
          f"requests {requests} ({per_article:.2f} per recovered article); "
          f"{rate:.2f} requests/s (limit {RATE}); failures {stats['failures']}")

    # A second run fetches nothing it holds: only the index is asked again.
    again = _rescue(pywb, portal, db)
    assert again["articles_new"] == 0
    again_stats = again["stats"]
    assert isinstance(again_stats, dict)
    assert again_stats["captures_fetched"] == 0 or again_stats["recovered"] == 0
    assert int(again_stats["requests"]) < requests / 4

    # `stats` and `runs` show the rescue.
    out = run_cli("runs", "--db", str(db)).output
    assert "captures found" in out and "recovered" in out
    out = run_cli("stats", "--db", str(db)).output
    assert f"wayback {len(recovered)}" in out and "rescues: 2 runs" in out
    assert "last rescue #" in out


def test_rescue_versions_and_live_text_wins(pywb: Pywb, portal: CapturedPortal,
                                            tmp_path: Path) -> None:
    """Older different captures become versions; an article already held live is
    not overwritten by its archived text."""
    db = tmp_path / "archive.db"
    run = _rescue(pywb, portal, db, "--versions", "--no-images")
    stats = run["stats"]
    assert isinstance(stats, dict)
    edited = portal.urls[3]
    versions = _rows(db, "SELECT v.first_seen FROM article_versions v JOIN articles a "
                         "ON a.id = v.article_id WHERE a.url = '" + edited + "'")
    assert len(versions) == 2, versions
    assert int(stats["articles_versions"]) >= 2


def test_rescue_bad_input_is_one_line(tmp_path: Path) -> None:
    result = run_cli("rescue", "http://127.0.0.1:9/", "--cdx", "http://127.0.0.1:9/cdx",
                     "--since", "2024-13", "--db", str(tmp_path / "a.db"), catch_exceptions=True)
    assert result.exit_code != 0 and "--since" in result.output
    assert "Traceback" not in result.output


def test_export_wacz_of_the_rescued_archive_validates_and_replays(
        pywb: Pywb, portal: CapturedPortal, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    db = tmp_path / "archive.db"
    _rescue(pywb, portal, db, "--no-images")
    out = tmp_path / "district.wacz"
    result = run_cli("export", "--format", "wacz", "--out", str(out), "--db", str(db))
    assert result.exit_code == 0, result.output
    check = subprocess.run([str(archive_tool("wacz")), "validate", "-f", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(out) as zf:
        lines = zf.read("pages/pages.jsonl").decode().splitlines()
    pages = [json.loads(line) for line in lines[1:]]
    assert len(pages) == len(expected_best(SNAPSHOTS))
    page = next(p for p in pages if p["url"] == portal.urls[3])
    assert page["title"] and page["text"] and page["ts"].startswith("2025-05-02")

    with Pywb(tmp_path_factory.mktemp("pywb-export"), [out], collection="exported") as replay, \
            urlopen(f"{replay.root}/20250502101500id_/{portal.urls[3]}", timeout=30) as resp:
        body = resp.read().decode("utf-8", "replace")
    assert html.escape(page["title"], quote=False) in body or page["title"] in body


def test_a_rescue_stopped_by_a_failing_archive_resumes(pywb: Pywb, portal: CapturedPortal,
                                                       tmp_path: Path) -> None:
    """The replay goes down mid-way: the run stops (exit 1, one line, run recorded
    as failed); the next run recovers the rest."""
    from factories import free_port

    db = tmp_path / "archive.db"
    dead = f"http://127.0.0.1:{free_port()}/demo"
    result = run_cli("rescue", portal.base_url, "--cdx", pywb.cdx, "--replay", dead,
                     "--rate", str(RATE), "--no-images", "--db", str(db),
                     catch_exceptions=True)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "stopped:" in result.output
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).output)
    assert runs[0]["status"] == "failed" and runs[0]["articles_new"] == 0
    run = _rescue(pywb, portal, db, "--no-images")
    assert run["articles_new"] == len(expected_best(SNAPSHOTS))


def test_rescue_from_common_crawl(pywb: Pywb, portal: CapturedPortal, tmp_path: Path) -> None:
    """Common Crawl only (--source commoncrawl): its crawls by date, records by byte
    range; the articles and captures say `commoncrawl`. With --source both, the
    Wayback captures fill in what the chosen crawls lack."""
    s1, s2, s3 = portal.warcs
    crawls = [CcCrawl("CC-MAIN-2024-10", datetime(2024, 2, 20), datetime(2024, 3, 5), [s1]),
              CcCrawl("CC-MAIN-2024-36", datetime(2024, 8, 28), datetime(2024, 9, 10), [s2]),
              CcCrawl("CC-MAIN-2025-18", datetime(2025, 4, 28), datetime(2025, 5, 10), [s3])]
    db = tmp_path / "archive.db"
    with CommonCrawlServer(crawls, page_size=5) as cc:
        run = _rescue(pywb, portal, db, "--source", "commoncrawl", "--cc-index", cc.root,
                      "--cc-data", cc.root, "--since", "2024-06", "--no-images")
        assert run["status"] == "finished"
        # Only the crawls from June 2024 on: articles 1..30 but those only in s1.
        rows = _rows(db, "SELECT DISTINCT source FROM articles")
        assert rows == [("commoncrawl",)]
        got = {u for (u,) in _rows(db, "SELECT url FROM articles")}
        in_later = {portal.urls[n] for s in SNAPSHOTS[1:] for n in s.articles}
        assert got and got <= in_later
        both = _rescue(pywb, portal, db, "--source", "both", "--cc-index", cc.root,
                       "--cc-data", cc.root, "--no-images")
    total = {u for (u,) in _rows(db, "SELECT url FROM articles")}
    assert len(total) == len(expected_best(SNAPSHOTS))
    assert int(both["articles_new"]) == len(total) - len(got)


def test_crawl_of_a_gone_portal_points_at_rescue(tmp_path: Path) -> None:
    from factories import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    result = run_cli("crawl", url, "-q", "--no-resume", "--db", str(tmp_path / "a.db"),
                     catch_exceptions=True)
    assert result.exit_code != 0 and "Traceback" not in result.output
    line = result.output.strip().splitlines()[-1]
    assert "looks gone: it refuses connections" in line
    assert "portal-archive rescue 127-0-0-1" in line

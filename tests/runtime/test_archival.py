"""Archival crawling end to end: raw pages in WARC, captures, re-extraction,
images, revisions, run provenance and progress (issue 5 §1 revisions, §3-5).

Two real crawls of the demo portal on loopback into a real archive:

1. the portal serves every article, but one image file is missing (404);
2. two articles have been edited, the image is back, and WARC files rotate
   at a small size.

The WARC files are checked with warcio's own reader and checker; the
re-extraction from them is compared with the crawl's archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows as _rows
from factories import make_article, run_cli
from PIL import Image as PILImage
from warcio.archiveiterator import ArchiveIterator

from archive.store import Archive, ImageDownload
from scraper.demo.site import DemoSite
from scraper.progress import (
    PROGRESS_TAG,
    ProgressDisplay,
    format_progress,
    parse_progress,
    run_crawl_process,
)
from scraper.runner import demo_portal, run_crawl
from scraper.runstats import run_columns

#: A complete re-crawl (the crawl runner may default to incremental crawls).
FULL: dict[str, Any] = {"full": True} if "full" in inspect.signature(run_crawl).parameters \
    else {}
SIZE = 30
EDITED = (4, 9)
ROTATE_AT = 40_000


def _first_image(site: DemoSite) -> tuple[int, str, str]:
    for demo in site.iter_articles():
        if demo.images and demo.id not in EDITED:
            ref = demo.images[0][0]
            return demo.id, ref.file, ref.path
    raise AssertionError("the demo site has no image")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from scraper.demo.server import DemoServer

    site = DemoSite(size=SIZE, seed=11)
    owner, missing_file, missing_path = _first_image(site)
    site.missing_images.add(missing_file)
    folder = tmp_path_factory.mktemp("archival")
    db = folder / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        first = run_crawl(portal, db, quiet=True)
        with Archive(db) as archive:
            before = {demo_id: archive.get_stored(site.article(demo_id).url(server.base_url))
                      for demo_id in EDITED}
            image_after_first = archive.image_state(server.base_url.rstrip("/") + missing_path)
        for demo_id in EDITED:
            site.revisions[demo_id] = 1
        site.missing_images.clear()
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            second = run_crawl(portal, db, quiet=False,
                               settings={"PORTAL_ARCHIVE_WARC_MAX_BYTES": ROTATE_AT}, **FULL)
        base = server.base_url
    return {"site": site, "db": db, "folder": folder, "base": base, "first": first,
            "second": second, "before": before, "missing_url": base.rstrip("/") + missing_path,
            "missing_owner": owner, "image_after_first": image_after_first,
            "stderr": stderr.getvalue()}




def _warcs(crawled: dict[str, Any]) -> list[Path]:
    return sorted((crawled["folder"] / "warc").rglob("*.warc.gz"))


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, check_digests=True)
        for record in it:
            payload = record.content_stream().read()
            out.append({
                "type": record.rec_type,
                "headers": dict(record.rec_headers.headers),
                "status": int(record.http_headers.get_statuscode())
                if record.rec_type == "response" and record.http_headers else None,
                "content_type": record.http_headers.get_header("Content-Type")
                if record.http_headers else None,
                "payload": payload,
                "offset": it.get_record_offset(),
            })
    return out


# ---------------------------------------------------------------------- WARC
def test_warcs_written_per_run_and_rotated(crawled: dict[str, Any]) -> None:
    files = _warcs(crawled)
    first_files = crawled["first"]["warc_files"]
    second_files = crawled["second"]["warc_files"]
    assert len(first_files) == 1
    assert len(second_files) > 1, "the second run's files should rotate at the small limit"
    assert {str(f.relative_to(crawled["folder"])) for f in files} == \
        set(first_files) | set(second_files)
    for name in second_files[:-1]:
        # Closed once it reached the limit: at most one exchange beyond it.
        assert ROTATE_AT <= (crawled["folder"] / name).stat().st_size < ROTATE_AT + 60_000
    assert crawled["second"]["warc_bytes"] == sum(
        (crawled["folder"] / n).stat().st_size for n in second_files)


def test_warcio_checker_accepts_every_file(crawled: dict[str, Any]) -> None:
    files = [str(f) for f in _warcs(crawled)]
    proc = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", *files],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "digest pass" in proc.stdout
    assert "fail" not in proc.stdout.lower()


def test_every_response_recorded_with_its_request(crawled: dict[str, Any]) -> None:
    responses: list[dict[str, Any]] = []
    requests: dict[str, dict[str, Any]] = {}
    for path in _warcs(crawled):
        records = _records(path)
        assert records[0]["type"] == "warcinfo"
        info = records[0]["payload"].decode()
        assert "software: portal-archive" in info and "portal-archive-run:" in info
        for r in records[1:]:
            h = r["headers"]
            for name in ("WARC-Date", "WARC-Target-URI", "WARC-Record-ID", "WARC-Block-Digest"):
                assert name in h, (name, h)
            if r["type"] == "response":
                assert "WARC-Payload-Digest" in h
                digest = "sha1:"  # warcio's default algorithm, base32
                assert h["WARC-Payload-Digest"].startswith(digest)
                responses.append(r)
            elif r["type"] == "request":
                requests[h["WARC-Concurrent-To"]] = r
    assert responses and all(r["headers"]["WARC-Record-ID"] in requests for r in responses)
    uris = [r["headers"]["WARC-Target-URI"] for r in responses]
    assert any(u.endswith("/robots.txt") for u in uris)
    statuses = {r["status"] for r in responses}
    assert {200, 404} <= statuses, statuses
    assert crawled["missing_url"] in [u for u, r in zip(uris, responses, strict=True)
                                      if r["status"] == 404]
    images = [r for r in responses if (r["content_type"] or "").startswith("image/")]
    assert images and all(r["payload"][:3] == b"\xff\xd8\xff" for r in images if r["status"] == 200)
    # Every request Scrapy counted got its response into the WARCs.
    total = crawled["first"]["responses"] + crawled["second"]["responses"]
    assert len(responses) == total


def test_each_capture_points_to_the_article_response(crawled: dict[str, Any]) -> None:
    rows = _rows(crawled["db"], """SELECT a.url, c.warc_file, c.warc_offset, c.warc_length,
                                          c.run_id, c.content_hash
                                   FROM captures c JOIN articles a ON a.id = c.article_id""")
    assert len(rows) == 2 * SIZE, "every capture is kept: one per article per run"
    runs = {r[4] for r in rows}
    assert runs == {crawled["first"]["id"], crawled["second"]["id"]}
    for url, warc_file, offset, length, _, _ in rows:
        path = crawled["folder"] / warc_file
        with path.open("rb") as fh:
            fh.seek(offset)
            chunk = io.BytesIO(fh.read(length))
            record = next(iter(ArchiveIterator(chunk)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert record.http_headers.get_statuscode() == "200"


def test_reextract_from_warc_gives_the_same_archive(crawled: dict[str, Any],
                                                     tmp_path: Path) -> None:
    rebuilt = tmp_path / "rebuilt.db"
    result = run_cli("reextract", "--db", str(rebuilt),
                     "--warc-dir", str(crawled["folder"] / "warc"))
    assert result.exit_code == 0, result.output
    assert f"{2 * SIZE} article pages" in result.output
    q = "SELECT canonical_url, content_hash, title, body, published FROM articles ORDER BY 1"
    assert _rows(rebuilt, q) == _rows(crawled["db"], q)
    q = "SELECT a.canonical_url, v.content_hash FROM article_versions v " \
        "JOIN articles a ON a.id = v.article_id ORDER BY 1"
    assert _rows(rebuilt, q) == _rows(crawled["db"], q)
    # Captures point into the same records (paths are relative to each archive).
    q = "SELECT a.canonical_url, c.warc_offset, c.warc_length FROM captures c " \
        "JOIN articles a ON a.id = c.article_id ORDER BY 1, 2"
    assert _rows(rebuilt, q) == _rows(crawled["db"], q)
    run = _rows(rebuilt, "SELECT settings, pages_dropped FROM crawl_runs")[0]
    assert json.loads(run[0])["reextract"] is True


def test_reextract_into_the_crawled_archive_does_not_replay_history(
        crawled: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "archive.db"
    shutil.copy(crawled["db"], db)
    (tmp_path / "warc").symlink_to(crawled["folder"] / "warc")
    counts = "SELECT (SELECT count(*) FROM article_versions), (SELECT count(*) FROM captures)"
    before = _rows(db, counts)
    result = run_cli("reextract", "--db", str(db), "--portal", "demo")
    assert result.exit_code == 0, result.output
    assert f"0 new, 0 changed, {SIZE} unchanged" in result.output
    assert f"{SIZE} older than the archive's capture skipped" in result.output
    assert _rows(db, counts) == before


def test_reextract_errors_are_one_line(tmp_path: Path) -> None:
    result = run_cli("reextract", "--db", str(tmp_path / "x.db"),
                     "--warc-dir", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: no WARC folder") and result.output.count("\n") == 1
    (tmp_path / "warc").mkdir()
    result = run_cli("reextract", "--db", str(tmp_path / "x.db"),
                     "--portal", "nope")
    assert result.exit_code == 1
    assert result.output == f"Error: no portal-archive WARC files under {tmp_path / 'warc'} " \
                            "for portal 'nope'\n"


# -------------------------------------------------------------------- images
def test_images_downloaded_content_addressed(crawled: dict[str, Any]) -> None:
    site: DemoSite = crawled["site"]
    want = {i.url for a in site.iter_articles() for i in a.to_article(crawled["base"]).images}
    rows = _rows(crawled["db"], "SELECT url, status, sha256, size, width, height, mime, path "
                                "FROM image_files")
    assert {r[0] for r in rows} == want
    for url, status, sha, size, width, height, mime, path in rows:
        assert status == "ok", url
        data = (crawled["folder"] / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha and len(data) == size
        assert path == f"images/{sha[:2]}/{sha}.jpg" and mime == "image/jpeg"
        with PILImage.open(io.BytesIO(data)) as img:
            assert img.size == (width, height)
    stored = list((crawled["folder"] / "images").rglob("*.*"))
    assert len(stored) == len({r[2] for r in rows}), "one file per distinct content"
    # The article rows carry the download state too.
    assert _rows(crawled["db"], "SELECT count(*) FROM images WHERE status = 'ok' "
                                "AND sha256 IS NOT NULL AND width > 0")[0][0] == len(
        _rows(crawled["db"], "SELECT 1 FROM images"))


def test_failed_image_recorded_retried_and_never_drops_the_article(
        crawled: dict[str, Any]) -> None:
    first = crawled["image_after_first"]
    assert first is not None and first["status"] == "failed"
    assert first["attempts"] == 1 and first["last_error"] == "HTTP 404"
    assert crawled["first"]["images_failed"] == 1
    assert crawled["first"]["articles_new"] == SIZE, "the article with the missing image is kept"
    with Archive(crawled["db"]) as archive:
        now = archive.image_state(crawled["missing_url"])
    assert now is not None and now["status"] == "ok" and now["attempts"] == 2
    assert now["last_error"] is None
    assert crawled["second"]["images_failed"] == 0 and crawled["second"]["images_ok"] >= 1
    # Retried because it had failed (at the start of the crawl, whether or not
    # its article is fetched again); images already stored are not fetched again.
    stats = crawled["second"]["stats"]
    assert stats["portal_archive/images/retried"] == 1
    assert crawled["second"]["images_ok"] == 1
    assert stats["portal_archive/images/known"] > 0


def test_same_image_bytes_stored_once(tmp_path: Path) -> None:
    from scraper.demo.images import jpeg_bytes
    from scraper.pipelines import inspect_image

    data = jpeg_bytes("shared.jpg")
    a = inspect_image("http://x/a.jpg", 200, data, tmp_path)
    b = inspect_image("http://x/b.jpg", 200, data, tmp_path)
    assert a.ok and b.ok and a.path == b.path and a.sha256 == b.sha256
    assert [p.name for p in tmp_path.rglob("*.jpg")] == [f"{a.sha256}.jpg"]
    bad = inspect_image("http://x/c.jpg", 200, b"<html>not found</html>", tmp_path)
    assert not bad.ok and bad.error and bad.error.startswith("not an image")
    gone = inspect_image("http://x/d.jpg", 500, b"", tmp_path)
    assert not gone.ok and gone.error == "HTTP 500"
    with Archive(tmp_path / "a.db") as archive:
        archive.record_image(gone)
        archive.record_image(a)
        archive.record_image(gone)  # a later failure keeps the stored file
        state = archive.image_state("http://x/d.jpg")
        assert state is not None and state["attempts"] == 2
        archive.record_image(ImageDownload("http://x/d.jpg", ok=True, sha256=a.sha256,
                                           path=a.path))
        archive.record_image(ImageDownload("http://x/d.jpg", ok=False, error="HTTP 503"))
        state = archive.image_state("http://x/d.jpg")
        assert state is not None and state["status"] == "ok" and state["path"] == a.path
        assert state["attempts"] == 4 and state["last_error"] == "HTTP 503"


def test_images_to_retry(tmp_path: Path) -> None:
    from scraper.extract.article import Image

    with Archive(tmp_path / "a.db") as archive:
        archive.ensure_portal(demo_portal("http://x/"))
        images = [Image(url=f"http://x/{n}.jpg", position=i)
                  for i, n in enumerate(("ok", "failed", "tired", "never"))]
        archive.save_articles([make_article("http://x/a", body="b", images=images)],
                              portal_id="demo")
        archive.record_image(ImageDownload("http://x/ok.jpg", ok=True, sha256="0" * 64))
        archive.record_image(ImageDownload("http://x/failed.jpg", ok=False, error="HTTP 500"))
        for _ in range(3):
            archive.record_image(ImageDownload("http://x/tired.jpg", ok=False, error="HTTP 404"))
        assert archive.images_to_retry("demo", max_attempts=3) == [
            ("http://x/failed.jpg", "failed"), ("http://x/never.jpg", None)]
        assert archive.images_to_retry("other") == []
        rows = list(archive.db.query("SELECT url, status, attempts FROM images ORDER BY position"))
    assert [(r["status"], r["attempts"]) for r in rows] == \
        [("ok", 1), ("failed", 1), ("failed", 3), (None, 0)]


# ----------------------------------------------------------------- revisions
def test_changed_articles_keep_their_old_text(crawled: dict[str, Any]) -> None:
    second = crawled["second"]
    assert second["articles_changed"] == len(EDITED)
    assert second["articles_unchanged"] == SIZE - len(EDITED)
    with Archive(crawled["db"]) as archive:
        for before in crawled["before"].values():
            assert before is not None
            versions = archive.versions(before.id)
            assert len(versions) == 1
            old = versions[0]
            assert old["body"] == before.article.body and "Cập nhật lần 1" not in old["body"]
            assert old["content_hash"] == before.content_hash
            assert old["first_seen"] == before.first_seen
            assert old["last_seen"] == before.last_seen
            assert old["first_run_id"] == crawled["first"]["id"]
            assert old["replaced_by_run_id"] == crawled["second"]["id"]
            assert [i["url"] for i in old["images"]] == [i.url for i in before.article.images]
            now = archive.get_stored(before.id)
            assert now is not None and "Cập nhật lần 1" in now.article.body
            assert now.first_seen == before.first_seen
    # The visitor counter differs on every visit: it never makes a version.
    assert _rows(crawled["db"], "SELECT count(*) FROM article_versions")[0][0] == len(EDITED)


def test_history_command(crawled: dict[str, Any]) -> None:
    before = crawled["before"][EDITED[0]]
    result = run_cli("history", str(before.id), "--db", str(crawled["db"]))
    assert result.exit_code == 0, result.output
    assert "Versions (2, oldest first)" in result.output and "Captures (2)" in result.output
    assert before.content_hash[:12] in result.output and "(current)" in result.output
    result = run_cli("history", before.article.canonical_url, "--json",
                     "--db", str(crawled["db"]))
    data = json.loads(result.output)
    assert [v["content_hash"] for v in data["versions"]] == [before.content_hash]
    assert [c["run_id"] for c in data["captures"]] == [crawled["first"]["id"],
                                                       crawled["second"]["id"]]
    result = run_cli("history", "999", "--db", str(crawled["db"]))
    assert result.exit_code == 1 and result.output.startswith("Error: no article '999'")


def test_versions_in_the_store(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from scraper.extract.article import Article

    def art(body: str) -> Article:
        return make_article("http://x/a", body=body)

    times = [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    with Archive(tmp_path / "a.db") as archive:
        archive.ensure_portal(demo_portal("http://x/"))
        archive.save_articles([art("one")], portal_id="demo", now=times[0])
        archive.save_articles([art("one")], portal_id="demo", now=times[1])
        archive.save_articles([art("two")], portal_id="demo", now=times[2])
        archive.save_articles([art("three")], portal_id="demo", now=times[3])
        versions = archive.versions("http://x/a")
    assert [v["body"] for v in versions] == ["one", "two"]
    assert (versions[0]["first_seen"], versions[0]["last_seen"]) == \
        ("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z")
    assert (versions[1]["first_seen"], versions[1]["last_seen"]) == \
        ("2025-01-03T00:00:00Z", "2025-01-03T00:00:00Z")


# ---------------------------------------------------------------- provenance
def test_runs_record_provenance(crawled: dict[str, Any]) -> None:
    first, second = crawled["first"], crawled["second"]
    for run in (first, second):
        assert run["status"] == "finished" and run["finished"]
        assert run["requests"] >= run["responses"] > SIZE
        assert sum(run["responses_by_status"].values()) == run["responses"]
        assert run["warc_files"] and run["warc_bytes"] > 0
        assert run["duration_s"] and run["duration_s"] > 0
        assert run["settings"]["portal"]["id"] == "demo"
        assert run["errors"] == 0
    assert first["responses_by_status"].get("404") == 1
    assert first["articles_new"] == SIZE


def test_run_columns_read_a_crawls_stats(tmp_path: Path) -> None:
    """The crawl runtime reads the provenance columns out of Scrapy's stats keys;
    the store records what it is given, and keeps a column the stats say nothing of."""
    stats = {"downloader/request_count": 12, "downloader/response_count": "11",
             "downloader/response_status_count/200": 10,
             "downloader/response_status_count/404": 1,
             "portal_archive/dropped": 3, "portal_archive/dropped/listing": 2,
             "portal_archive/dropped/empty": 1, "portal_archive/dropped/x/y": 9,
             "portal_archive/warc/files": '["warc/a.warc.gz"]', "elapsed_time_seconds": 1.5,
             "log_count/ERROR": 2, "portal_archive/articles/revisited": 4}
    columns = run_columns(stats)
    assert columns["responses_by_status"] == {"200": 10, "404": 1}
    assert columns["dropped_reasons"] == {"empty": 1, "listing": 2}
    assert (columns["requests"], columns["responses"], columns["pages_dropped"],
            columns["errors"], columns["articles_revisited"]) == (12, 11, 3, 2, 4)
    assert columns["warc_files"] == ["warc/a.warc.gz"] and columns["duration_s"] == 1.5
    assert columns["images_ok"] is None and columns["bytes_received"] is None
    with Archive(tmp_path / "a.db") as archive:
        archive.ensure_portal(demo_portal("http://127.0.0.1:1/"))
        run_id = archive.start_run("demo")
        archive.finish_run(run_id, {"images": 7}, columns={"images_ok": 7})
        run = archive.finish_run(run_id, stats, columns=columns)
    assert run["stats"] == stats and run["images_ok"] == 7
    assert run["responses_by_status"] == {"200": 10, "404": 1}
    assert run["dropped_reasons"] == {"empty": 1, "listing": 2}
    assert run["warc_files"] == ["warc/a.warc.gz"] and run["articles_revisited"] == 4


def test_runs_command(crawled: dict[str, Any]) -> None:
    result = run_cli("runs", "--db", str(crawled["db"]))
    assert result.exit_code == 0, result.output
    assert result.output.index(f"Run #{crawled['second']['id']}") < \
        result.output.index(f"Run #{crawled['first']['id']}")
    assert "1 failed" in result.output and "404: 1" in result.output
    result = run_cli("runs", "--db", str(crawled["db"]), "--json", "--limit", "1",
                     "--portal", "demo")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == [crawled["second"]["id"]]
    assert rows[0]["articles_changed"] == len(EDITED)
    result = run_cli("runs", "--db", str(crawled["db"]), "--portal", "nope")
    assert result.exit_code == 0 and "No crawl runs of nope" in result.output


def test_crawl_showed_progress(crawled: dict[str, Any]) -> None:
    lines = [line for line in crawled["stderr"].splitlines() if line.strip()]
    # stderr is not a terminal here: plain lines, the last one final.
    assert lines, crawled["stderr"]
    assert all(PROGRESS_TAG not in line for line in lines)
    assert f"{SIZE} articles" in lines[-1] and "pages (" in lines[-1] and "0 errors" in lines[-1]


def test_progress_display() -> None:
    p = {"elapsed": 2.0, "pages": 50, "articles": 20, "images_ok": 7, "images_failed": 1,
         "errors": 0, "http_errors": 1}
    assert format_progress(p) == \
        "[0:02] 20 articles · 50 pages (25.0/s) · 7 images (1 failed) · 0 errors · 1 HTTP 4xx/5xx"
    assert parse_progress(PROGRESS_TAG + json.dumps(p)) == p
    assert parse_progress("2025 [scrapy] WARNING: x") is None
    tty = io.StringIO()
    display = ProgressDisplay(tty, tty=True)
    display.update(p)
    display.update({**p, "articles": 21})
    display.passthrough("a warning")
    out = tty.getvalue()
    assert out.startswith("\r[0:02] 20 articles") and "\r[0:02] 21 articles" in out
    assert out.endswith("\na warning\n")
    plain = io.StringIO()
    display = ProgressDisplay(plain, tty=False, plain_every=3600)
    display.update(p)
    display.update({**p, "articles": 21})
    display.update({**p, "articles": 22, "final": True})
    assert plain.getvalue().count("\n") == 2 and "\r" not in plain.getvalue()


def test_run_crawl_process_separates_progress_from_log(tmp_path: Path) -> None:
    script = (
        "import sys, json\n"
        f"sys.stderr.write({PROGRESS_TAG!r} + json.dumps({{'pages': 3, 'elapsed': 1}}) + '\\n')\n"
        "sys.stderr.write('WARNING something odd\\n')\n"
        "sys.exit(3)\n"
    )
    out = io.StringIO()
    result = run_crawl_process([sys.executable, "-c", script], env={}, cwd=str(tmp_path),
                               quiet=False, stream=out)
    assert result.returncode == 3
    assert result.tail == ["WARNING something odd"]
    assert result.process["max_rss_kb"] > 0 and result.process["seconds"] > 0
    assert result.progress == {"pages": 3, "elapsed": 1}
    assert "3 pages (3.0/s)" in out.getvalue() and "WARNING something odd" in out.getvalue()
    quiet = io.StringIO()
    result = run_crawl_process([sys.executable, "-c", script], env={}, cwd=str(tmp_path),
                               quiet=True, stream=quiet)
    assert quiet.getvalue() == "" and result.tail == ["WARNING something odd"]

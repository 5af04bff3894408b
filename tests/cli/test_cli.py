"""The portal-archive CLI, in-process: output, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from factories import make_archive, make_article
from factories import run_cli as run

import scraper.extract
import scraper.runner
from archive.store import Archive
from scraper.extract.article import VIETNAM_TZ, Article, Image, NotAnArticle
from scraper.portals import Portal, resolve_portal

ARTICLES = [
    make_article(f"https://trieuson.thanhhoa.gov.vn/tin/{n}.htm", title, body=body,
                 author=author, published=datetime(2022, 1, 15 + n, 16, 48, tzinfo=VIETNAM_TZ),
                 images=[Image(f"https://trieuson.thanhhoa.gov.vn/img/{n}.jpg", "Ảnh minh họa")],
                 category="Tin tức")
    for n, (title, body, author) in enumerate([
        ("Xã Đồng Tiến đạt chuẩn nông thôn mới", "Năm 2022 xã Đồng Tiến về đích nông thôn mới.",
         "Văn Hùng"),
        ("Hội nghị tổng kết công tác khuyến nông", "Hội nghị đánh giá vụ chiêm xuân.",
         "Thùy Dung"),
    ])
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "archive.db"
    make_archive(path, {resolve_portal("trieuson"): ARTICLES}).close()
    return str(path)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# -------------------------------------------------------------------- search
def test_search_prints_ranked_highlighted_results(db: str) -> None:
    result = run("search", "dong tien", "--db", db)
    assert result.exit_code == 0, result.output
    assert "1 article matches 'dong tien'; showing 1–1" in result.stdout
    assert "Xã [Đồng] [Tiến] đạt chuẩn nông thôn mới" in result.stdout
    assert "https://trieuson.thanhhoa.gov.vn/tin/0.htm" in result.stdout
    assert "2022-01-15 16:48 · trieuson · Văn Hùng" in result.stdout


def test_search_renders_bold_on_a_terminal(db: str) -> None:
    result = run("search", "dong tien", "--db", db, color=True)
    assert "\x1b[1mĐồng\x1b[22m" in result.stdout


def test_search_json_and_filters(db: str) -> None:
    result = run("search", "hội*", "--db", db, "--json", "--since", "2022-01-16",
                 "--author", "thuy")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 1
    assert [h["title"] for h in data["results"]] == ["Hội nghị tổng kết công tác khuyến nông"]
    assert data["results"][0]["snippet"].startswith("[Hội] nghị")
    assert_one_line_error(run("search", "-nông hội*", "--db", db), "No such option",
                          "after '--'")
    leading_not = run("search", "--db", db, "--json", "--", "-đồng hội*")
    assert leading_not.exit_code == 0, leading_not.output
    assert json.loads(leading_not.stdout)["total"] == 1
    empty = run("search", "xyzzy", "--db", db)
    assert empty.exit_code == 0 and "No articles match 'xyzzy'" in empty.stdout


def test_search_rank_window_note_and_exhaustive(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.cli

    def urls(*extra: str) -> list[str]:
        result = run("search", "nông OR đồng", "--db", db, "--json", *extra)
        assert result.exit_code == 0, result.output
        return [h["canonical_url"].rsplit("/", 1)[1] for h in json.loads(result.stdout)["results"]]

    assert urls() == ["0.htm", "1.htm"]  # both ranked: the better match first
    monkeypatch.setattr(archive.cli, "RANK_WINDOW", 1)
    assert urls() == ["1.htm", "0.htm"]  # blocks of one, newest first
    assert urls("--exhaustive") == ["0.htm", "1.htm"]
    text = run("search", "nông OR đồng", "--db", db).stdout
    assert "(ranked in blocks of 1, newest first; --exhaustive ranks all)" in text
    assert "--exhaustive" not in run("search", "nông OR đồng", "--db", db, "--exhaustive").stdout
    assert json.loads(run("search", "nông OR đồng", "--db", db, "--json").stdout)["rank_window"] == 1


def test_database_from_environment(db: str) -> None:
    result = run("search", "khuyen nong", env={"PORTAL_ARCHIVE_DB": db})
    assert result.exit_code == 0 and "[khuyến] [nông]" in result.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["search", '"'], "nothing to search for"),
    (["search", "--", "-nông"], "nothing to search for"),
    (["search", "--limit", "0", "nông"], "limit"),
    (["search", ""], "empty query"),
    (["search", "x" * 10_000], "query too long"),
    (["search", "nông", "--since", "2022-13-01"], "bad --since date"),
    (["search", "nông", "--portal", "nowhere"], "no portal 'nowhere'"),
    (["export", "-f", "csv", "-o", "-", "--query", "()"], "nothing to search for"),
    (["export", "-f", "csv", "-o", "-", "--until", "soon"], "bad --until date"),
])
def test_user_errors_are_one_line(db: str, args: list[str], fragment: str) -> None:
    assert_one_line_error(run(args[0], "--db", db, *args[1:]), fragment)


@pytest.mark.parametrize("command", [["search", "nông"], ["export", "-f", "csv", "-o", "x.csv"],
                                     ["stats"], ["show", "1"]])
def test_missing_database(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "data" / "x.db"
    result = run(*command, "--db", str(missing))
    assert_one_line_error(result, f"no archive at {missing}", "portal-archive crawl", "make demo")
    assert not missing.exists()


def test_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    Archive(path).close()
    assert_one_line_error(run("search", "nông", "--db", str(path)), "holds no articles yet")
    assert_one_line_error(run("export", "-f", "csv", "-o", "-", "--db", str(path)),
                          "holds no articles yet")
    stats = run("stats", "--db", str(path))
    assert stats.exit_code == 0 and "no articles yet" in stats.stdout


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello\n" * 500)
    assert_one_line_error(run("stats", "--db", str(path)), "not a SQLite database")


# -------------------------------------------------------------------- export
def test_export_csv_round_trip(db: str, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "all.csv"
    result = run("export", "--format", "csv", "--out", str(out), "--db", db)
    assert result.exit_code == 0, result.output
    assert "Exported 2 articles" in result.stderr
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["title"] for r in rows] == [a.title for a in ARTICLES]
    assert json.loads(rows[0]["images"])[0]["caption"] == "Ảnh minh họa"
    assert rows[0]["published"] == "2022-01-15T16:48:00+07:00"


def test_export_jsonl_to_stdout_with_query(db: str) -> None:
    result = run("export", "-f", "jsonl", "-o", "-", "--query", "nong thon", "--db", db)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Article.from_dict(r) for r in records] == ARTICLES[:1]


# --------------------------------------------------------- stats, portals, show
def test_stats(db: str) -> None:
    result = run("stats", "--db", db)
    assert result.exit_code == 0, result.output
    assert "articles: 2  images: 2  portals: 1" in result.stdout
    assert "trieuson" in result.stdout
    data = json.loads(run("stats", "--db", db, "--json").stdout)
    assert data["articles"] == 2 and data["per_portal"][0]["portal_id"] == "trieuson"


def test_portals_with_and_without_archive(db: str, tmp_path: Path) -> None:
    with_db = run("portals", "--db", db, "--json")
    rows = {r["id"]: r for r in json.loads(with_db.stdout)}
    assert rows["trieuson"]["articles"] == 2 and rows["hoanghoa"]["articles"] == 0
    without = run("portals", "--db", str(tmp_path / "none.db"))
    assert without.exit_code == 0
    assert "trieuson" in without.stdout and "article counts not shown" in without.stderr


def test_portals_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "portals.toml"
    bad.write_text("[[portal]]\nid = 'Bad Id'\nname = 'x'\nbase_url = 'https://x/'\n")
    assert_one_line_error(run("portals", "--portals", str(bad)), "bad portal id")
    assert_one_line_error(run("portals", "--portals", str(tmp_path / "missing.toml")),
                          "portals file not found")


def test_show(db: str) -> None:
    result = run("show", "https://trieuson.thanhhoa.gov.vn/tin/1.htm", "--db", db, "--json")
    assert json.loads(result.stdout)["title"] == ARTICLES[1].title
    assert_one_line_error(run("show", "999", "--db", db), "no article '999'")


# --------------------------------------------------------------- crawl, demo
def test_crawl_resolves_the_portal(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Portal, Any, dict[str, Any]]] = []

    def fake_run_crawl(portal: Portal, db_path: Any, **kw: Any) -> dict[str, Any]:
        calls.append((portal, db_path, kw))
        return {"articles_new": 3, "pages_dropped": 1}

    monkeypatch.setattr(scraper.runner, "run_crawl", fake_run_crawl)
    result = run("crawl", "demo", "--base-url", "http://127.0.0.1:9999", "-s", "DEPTH_LIMIT=2",
                 "-s", "NAME=x", "--db", db)
    assert result.exit_code == 0, result.output
    portal, db_path, kw = calls[0]
    assert (portal.id, portal.base_url) == ("demo", "http://127.0.0.1:9999/")
    assert db_path == db and kw == {"settings": {"DEPTH_LIMIT": 2, "NAME": "x"}, "quiet": False,
                                    "full": False, "jobdir": True}
    assert "3 new" in result.stdout and "1 pages that are not articles" in result.stdout

    run("crawl", "https://example.gov.vn/tin-tuc/", "--db", db)
    assert calls[1][0].id == "example-gov-vn"


def test_crawl_unknown_portal(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scraper.runner, "run_crawl", lambda *a, **k: pytest.fail("crawled"))
    assert_one_line_error(run("crawl", "atlantis", "--db", db), "unknown portal 'atlantis'")
    assert_one_line_error(run("crawl", "ftp://x", "--db", db), "unknown portal")


def test_demo_calls_run_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(scraper.runner, "run_demo", lambda path, **kw: calls.append((path, kw)))
    target = tmp_path / "d" / "demo.db"
    result = run("demo", "--size", "20", "--seed", "7", "--db", str(target))
    assert result.exit_code == 0, result.output
    assert calls == [(str(target), {"size": 20, "seed": 7, "quiet": False})]


# ------------------------------------------------------------------- extract
def test_extract_prints_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.html"
    page.write_bytes("<html>Xã Đồng Tiến</html>".encode())
    seen: list[tuple[bytes | str, str]] = []

    def fake_extract(html: bytes | str, url: str, *, profile: str | None = None) -> Article:
        seen.append((html, url))
        return ARTICLES[0]

    monkeypatch.setattr(scraper.extract, "extract_article", fake_extract)
    result = run("extract", str(page), "--url", ARTICLES[0].url)
    assert result.exit_code == 0, result.output
    assert Article.from_dict(json.loads(result.stdout)) == ARTICLES[0]
    assert seen == [(page.read_bytes(), ARTICLES[0].url)]


def test_extract_not_an_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "home.html"
    page.write_text("<html><body><ul><li>Trang chủ</li></ul></body></html>")

    def not_article(html: bytes | str, url: str, *, profile: str | None = None) -> Article:
        raise NotAnArticle("listing", "a list of links")

    monkeypatch.setattr(scraper.extract, "extract_article", not_article)
    assert_one_line_error(run("extract", str(page), "--url", "https://x.gov.vn/"),
                          "not an article (listing)")


def test_extract_unreadable_file(tmp_path: Path) -> None:
    assert_one_line_error(run("extract", str(tmp_path / "nope.html"), "--url", "https://x/"),
                          "No such file or directory", "nope.html")


# ---------------------------------------------------------------------- help
@pytest.mark.parametrize("command", ["crawl", "demo", "search", "export", "stats", "portals",
                                     "extract", "show"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"portal-archive {command}" in result.stdout
    if command != "extract":
        assert "--db" in result.stdout and "PORTAL_ARCHIVE_DB" in result.stdout


# ------------------------------------------------ export parquet / excel, serve (issue 4)
def test_export_parquet_and_excel(db: str, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    result = run("export", "-f", "parquet", "-o", str(tmp_path / "p" / "all.parquet"), "--db", db)
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "p" / "all.parquet").num_rows == 2
    assert pq.read_table(tmp_path / "p" / "all.images.parquet").num_rows == 2
    assert (tmp_path / "p" / "all.datapackage.json").exists()
    result = run("export", "-f", "csv", "--excel", "-o", str(tmp_path / "x.csv"), "--db", db)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.csv").read_bytes().startswith("\ufeffid,".encode())
    result = run("export", "-f", "csv", "-o", str(tmp_path / "folder") + "/", "--db", db)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "folder" / "datapackage.json").exists()
    assert_one_line_error(run("export", "-f", "jsonl", "--excel", "-o", "-", "--db", db),
                          "CSV only")


def test_serve_errors_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "x.db"
    assert_one_line_error(run("serve", "--db", str(missing)), "no archive at")
    assert_one_line_error(run("serve", "--port", "70000", "--db", str(missing)), "--port")
    assert "127.0.0.1" in run("serve", "--help").stdout

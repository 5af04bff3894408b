"""End to end: the demo portal on loopback, a real Scrapy crawl, a real archive.

The demo portal's own generator is the oracle: every article it serves must be
in the archive exactly once, with the fields it rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dbrows import rows as _rows

from archive.search import search
from archive.store import Archive
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.runner import demo_portal, run_crawl

SIZE = 120
WIDGET_TEXT = ["Ý kiến thăm dò", "Bạn quan tâm đến chuyên mục nào", "Biểu quyết", "Xem kết quả",
               "Truy cập", "Hôm nay:", "Hôm qua:", "Tất cả:", "Dự báo thời tiết", "Các tin khác",
               "Đăng lúc", "Liên kết website", "Chịu trách nhiệm"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    site = DemoSite(size=SIZE, seed=7)
    db = tmp_path_factory.mktemp("e2e") / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        first = run_crawl(portal, db, quiet=True)
        hits_after_first = dict(server.hits)
        # --full: every page fetched again (an incremental re-crawl would skip them all).
        second = run_crawl(portal, db, quiet=True, full=True)
        base_url = server.base_url
    return {"site": site, "db": db, "base": base_url, "first": first, "second": second,
            "hits": hits_after_first}




def test_every_article_archived_exactly_once(crawled: dict[str, Any]) -> None:
    site: DemoSite = crawled["site"]
    expected = {a.to_article(crawled["base"]).canonical_url for a in site.iter_articles()}
    stored = [r[0] for r in _rows(crawled["db"], "SELECT canonical_url FROM articles")]
    assert len(stored) == len(set(stored)), "an article is stored twice"
    assert set(stored) == expected


def test_fields_as_served(crawled: dict[str, Any]) -> None:
    site: DemoSite = crawled["site"]
    archive = Archive(crawled["db"])
    mismatches = []
    try:
        for demo in site.iter_articles():
            want = demo.to_article(crawled["base"])
            got = archive.get_article(want.canonical_url)
            assert got is not None, want.canonical_url
            for field in ("title", "published", "published_raw", "author", "body", "category"):
                if getattr(got, field) != getattr(want, field):
                    mismatches.append((demo.id, field, getattr(got, field), getattr(want, field)))
            if [(i.url, i.caption) for i in got.images] != [(i.url, i.caption) for i in want.images]:
                mismatches.append((demo.id, "images", got.images, want.images))
            assert got.published is None or got.published.utcoffset() is not None
    finally:
        archive.close()
    assert not mismatches, mismatches[:5]


def test_no_widget_text_and_no_second_copy(crawled: dict[str, Any]) -> None:
    for title, body, author in _rows(crawled["db"], "SELECT title, body, author FROM articles"):
        for text in WIDGET_TEXT:
            assert text not in body, (title, text)
        first_paragraph = body.split("\n\n")[0]
        assert body.count(first_paragraph) == 1, f"body of {title!r} appears twice"
        assert author is None or author not in body.split("\n\n")[-1:]


def test_images_recorded(crawled: dict[str, Any]) -> None:
    site: DemoSite = crawled["site"]
    want = sum(len(a.to_article(crawled["base"]).images) for a in site.iter_articles())
    assert want > 0
    assert _rows(crawled["db"], "SELECT count(*) FROM images")[0][0] == want


def test_seed_found_by_phrase(crawled: dict[str, Any]) -> None:
    archive = Archive(crawled["db"])
    try:
        hits = search(archive, '"giao nhiệm vụ xây dựng xã đạt chuẩn nông thôn mới"', limit=5)
        assert hits and hits[0].title == \
            "UBND huyện làm việc giao nhiệm vụ xây dựng xã đạt chuẩn nông thôn mới"
        hits = search(archive, "Thùy Dung tổng kết NTM 2018", limit=5)
        assert hits and hits[0].published == "2019-03-14T15:41:05+07:00"
    finally:
        archive.close()


def test_second_crawl_adds_no_rows(crawled: dict[str, Any]) -> None:
    first, second = crawled["first"], crawled["second"]
    assert first["articles_new"] == SIZE
    assert second["articles_new"] == 0
    assert second["articles_changed"] == 0, "the visitor counter must not count as a change"
    assert second["articles_unchanged"] == SIZE
    assert _rows(crawled["db"], "SELECT count(*) FROM articles")[0][0] == SIZE
    assert _rows(crawled["db"], "SELECT count(*) FROM crawl_runs WHERE status='finished'")[0][0] == 2


def test_robots_txt_obeyed(crawled: dict[str, Any]) -> None:
    hits = crawled["hits"]
    assert hits.get("robots", 0) >= 1
    # The pages link to the portal's search page, which robots.txt disallows.
    assert hits.get("search", 0) == 0, hits


@pytest.mark.parametrize("mode", ["process", "in_process"])
def test_crawl_stores_what_extract_article_gives(tmp_path: Path, mode: str) -> None:
    """PORTAL_ARCHIVE_ARCHIVER: extracted, stored and kept in WARC by the
    archiver process or in the crawl process, the archive holds what the pure
    function gives, and each article points at its WARC record."""
    from scraper.demo.app import DemoApp
    from scraper.extract import extract_article

    site = DemoSite(size=40, seed=11)
    db = tmp_path / "worker.db"
    with DemoServer(site) as server:
        run = run_crawl(demo_portal(server.base_url), db, quiet=True,
                        settings={"PORTAL_ARCHIVE_ARCHIVER": mode,
                                  "PORTAL_ARCHIVE_IMAGES": False})
        base = server.base_url
    assert run["articles_new"] == 40 and run["status"] == "finished"
    has_archiver = "portal_archive/archiver/max_rss_kb" in run["stats"]
    assert has_archiver == (mode == "process")
    assert run["stats"]["portal_archive/warc/records"] == run["requests"]
    assert _rows(db, "SELECT count(*) FROM captures WHERE warc_file IS NOT NULL") == [(40,)]
    app = DemoApp(site, base_url=base)
    stored = {r[0]: r[1:] for r in _rows(db, "SELECT canonical_url, title, body, author, "
                                         "published, body_html FROM articles")}
    assert len(stored) == 40
    for demo in site.iter_articles():
        url = base.rstrip("/") + demo.path
        article = extract_article(app.handle("GET", demo.path).body, url)
        published = article.published.isoformat() if article.published else None
        assert stored[article.canonical_url] == (article.title, article.body, article.author,
                                                 published, article.body_html)

"""Deleted and edited articles found by incremental crawls (the revisit budget), for
real: the demo portal's ``deleted`` fault mode, real Scrapy processes, a real
archive. And the pure parts: the budget, the crawl plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows as _rows

from archive.store import Archive
from scraper.crawlstate import RESUMABLE_MARK, plan_crawl, revisit_budget
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.portals import Portal
from scraper.runner import demo_portal, run_crawl

SIZE = 50
SEED = 3




def _port(base_url: str) -> int:
    return int(base_url.rstrip("/").rsplit(":", 1)[1])


def test_incremental_crawls_find_deleted_and_edited_articles_in_turn(tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        first = run_crawl(portal, db, quiet=True)
        base = server.base_url
    assert first["articles_new"] == SIZE
    deleted = {site.article(n).to_article(base).canonical_url for n in (20, 40)}
    edited = site.article(7).to_article(base).canonical_url
    site.revisions[7] = 1  # an edit between two crawls: only a revisit can see it

    runs = []
    seen_by: dict[str, int] = {}
    with DemoServer(site, port=_port(base), faults=frozenset({"deleted"})) as server:
        server.app.deleted_ids = frozenset({20, 40})
        server.app.deleted_as = "410"
        for _ in range(3):  # 3 × 20 ≥ 50: every article verified once in turn
            server.app.reset_counts()
            run = run_crawl(portal, db, quiet=True, revisit=20)
            runs.append(run)
            assert run["settings"]["PORTAL_ARCHIVE_MODE"] == "incremental"
            assert run["articles_revisited"] == 20
            # The budget, not more (nothing new to fetch), and the soft-404 probe.
            assert server.hits["article"] == 20 + 1
            for url, in _rows(db, "SELECT canonical_url FROM articles WHERE last_run_id = ?",
                              (run["id"],)):
                seen_by.setdefault(url, run["id"])
    # The rotation: the least recently seen first, so three runs cover the archive.
    assert len(seen_by) == SIZE
    assert sum(r["articles_gone"] for r in runs) == 2
    assert sum(r["stats"].get("portal_archive/articles/gone", 0) for r in runs) == 2
    assert sum(r["articles_changed"] for r in runs) == 1
    assert sum(r["articles_new"] for r in runs) == 0

    rows = {u: (s, g, rid) for u, s, g, rid in _rows(
        db, "SELECT canonical_url, status, gone_at, last_run_id FROM articles")}
    assert len(rows) == SIZE, "a deleted article stays in the archive"
    assert {u for u, (s, _, _) in rows.items() if s == "gone"} == deleted
    by_id = {r["id"]: r for r in runs}
    for url in deleted:
        _, gone_at, run_id = rows[url]
        run = by_id[run_id]
        assert run["started"] <= gone_at <= run["finished"], "gone_at: when that run found it"
    with Archive(db) as archive:
        assert len(archive.versions(edited)) == 1  # the old text kept, as --full does
        stored = archive.get_stored(edited)
        assert stored is not None and "Cập nhật lần 1" in stored.article.body
        assert stored.status == "live" and stored.gone_at is None


def test_a_redirect_to_the_home_page_is_gone_and_a_full_crawl_brings_it_back(
        tmp_path: Path) -> None:
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        run_crawl(portal, db, quiet=True)
        base = server.base_url
    url = site.article(20).to_article(base).canonical_url
    with DemoServer(site, port=_port(base), faults=frozenset({"deleted"})) as server:
        server.app.deleted_ids = frozenset({20})
        server.app.deleted_as = "home"
        run = run_crawl(portal, db, quiet=True, revisit="100%")
        hits = dict(server.hits)
    assert run["articles_revisited"] == SIZE and hits["article"] == SIZE + 1  # + the probe
    assert run["articles_gone"] == 1
    assert run["stats"]["portal_archive/articles/gone_redirected"] == 1
    assert run["stats"]["downloader/response_status_count/302"] >= 1
    assert _rows(db, "SELECT status FROM articles WHERE canonical_url = ?", (url,)) \
        == [("gone",)]
    assert run["articles_unchanged"] == SIZE - 1

    # The portal serves it again: a --full crawl revisits gone articles too.
    with DemoServer(site, port=_port(base)) as server:
        full = run_crawl(portal, db, quiet=True, full=True)
    assert full["articles_unchanged"] == SIZE and full["articles_gone"] == 0
    assert _rows(db, "SELECT status, gone_at FROM articles WHERE canonical_url = ?", (url,)) \
        == [("live", None)]


def test_a_soft_404_is_gone_and_the_probe_tells_it(tmp_path: Path) -> None:
    """A deleted article answered with status 200 and the portal's template around
    "Bài viết không tồn tại" is gone; the probe (an article URL that cannot exist)
    got that page too; no article is made of it, the others stay live."""
    site = DemoSite(size=SIZE, seed=SEED)
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        run_crawl(portal, db, quiet=True)
        base = server.base_url
    url = site.article(20).to_article(base).canonical_url
    with DemoServer(site, port=_port(base), faults=frozenset({"deleted"})) as server:
        server.app.deleted_ids = frozenset({20})
        server.app.deleted_as = "soft404"
        run = run_crawl(portal, db, quiet=True, revisit="100%")
    assert run["articles_revisited"] == SIZE and run["articles_gone"] == 1
    assert run["stats"]["portal_archive/articles/gone_soft404"] == 1
    assert run["stats"]["portal_archive/soft404/probe_status/200"] == 1
    assert run["articles_unchanged"] == SIZE - 1 and run["articles_new"] == 0
    assert _rows(db, "SELECT status FROM articles WHERE canonical_url = ?", (url,)) \
        == [("gone",)]
    assert _rows(db, "SELECT count(*) FROM articles WHERE status = 'live'") == [(SIZE - 1,)]


def test_a_moved_article_goes_to_the_back_of_the_revisit_line(tmp_path: Path) -> None:
    """An archived article that now redirects to another article is verified: its
    last_seen moves on, so the next revisit budget takes the others first."""
    from scrapy.utils.test import get_crawler

    from spiders.portal import PortalSpider

    db = tmp_path / "archive.db"
    site = DemoSite(size=10, seed=SEED)
    base = "http://127.0.0.1:8000/"
    portal = demo_portal(base)
    with Archive(db) as archive:
        archive.ensure_portal(portal)
        articles = [a.to_article(base) for a in site.iter_articles()]
        archive.save_articles(articles, portal_id="demo",
                              now=datetime(2025, 1, 1, tzinfo=UTC))
        oldest = archive.least_recently_seen("demo", 1)

    crawler = get_crawler(PortalSpider, settings_dict={"PORTAL_ARCHIVE_DB": str(db)})
    spider = PortalSpider.from_crawler(crawler, portal="demo", base_url=base)
    spider.ledger.moved = list(oldest)
    spider.closed("finished")
    with Archive(db) as archive:
        assert oldest[0] not in archive.least_recently_seen("demo", 9)
        assert archive.least_recently_seen("demo", 10)[-1] == oldest[0]


def test_revisit_budget() -> None:
    assert revisit_budget("auto", 200) == 50  # at least 50 …
    assert revisit_budget("auto", 10_000) == 100  # … or 1%
    assert revisit_budget("auto", 30) == 30  # never more than there is
    assert revisit_budget(None, 1_000_000) == 10_000
    assert revisit_budget("0", 500) == 0
    assert revisit_budget(20, 500) == 20
    assert revisit_budget("5%", 1000) == 50
    assert revisit_budget("0.1%", 1001) == 2  # rounded up
    for bad in ("-1", "lots", "%", "-3%"):
        with pytest.raises(ValueError, match="PORTAL_ARCHIVE_REVISIT"):
            revisit_budget(bad, 100)


PORTAL = Portal("p", "P", "", "http://127.0.0.1:1/", "thanhhoa")


def test_plan_crawl_chooses_from_the_runs_and_the_job_folder(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs" / "p"
    assert plan_crawl(None, "p").mode == "incremental"  # no archive yet
    with Archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        assert plan_crawl(a, "p").reason == "first crawl of the portal"
        done = a.start_run("p")
        a.finish_run(done)
        assert plan_crawl(a, "p").mode == "incremental"
        # A crawl killed: its run is still "running".
        killed = a.start_run("p")
        jobs.mkdir(parents=True)
        (jobs / "requests.seen").write_text("x")
        own = a.start_run("p")  # the run `portal-archive crawl` made for this crawl
        plan = plan_crawl(a, "p", own_run_id=own, jobdir=jobs)
        assert (plan.mode, plan.job_resumed, plan.interrupted) == ("resume", False, 1)
        assert plan.reason == "the last run did not finish (running)"
        assert not jobs.exists(), "a killed crawl's job folder is discarded"
        assert a.get_run(killed)["status"] == "interrupted"  # type: ignore[index]
        assert a.get_run(own)["status"] == "running"  # type: ignore[index]
        # A clean stop: its queue is kept, unless the new crawl is full.
        a.finish_run(own, status="shutdown")
        jobs.mkdir(parents=True)
        (jobs / RESUMABLE_MARK).write_text("shutdown\n")
        plan = plan_crawl(a, "p", jobdir=jobs)
        assert (plan.mode, plan.job_resumed) == ("resume", True) and jobs.exists()
        plan = plan_crawl(a, "p", requested="full", jobdir=jobs)
        assert (plan.mode, plan.job_resumed, plan.reason) == ("full", False, "asked for")
        assert not jobs.exists()
        with pytest.raises(ValueError, match="unknown crawl mode"):
            plan_crawl(a, "p", requested="fast")


def _spider_and_revisit(url: str) -> tuple[Any, Any]:
    from scrapy.utils.test import get_crawler

    from spiders.portal import PortalSpider

    crawler = get_crawler(PortalSpider)
    spider = PortalSpider.from_crawler(crawler, portal="demo", base_url="http://127.0.0.1:8000/")
    spider.known.add(spider._key(url))
    return spider, spider._revisit(url)


def _redirect(request: Any, location: str, status: int = 301) -> Any:
    from scrapy.http import Response

    return Response(request.url, status=status, headers={"Location": location},
                    request=request)


def test_a_revisit_follows_a_respelt_url_and_tells_gone_from_moved() -> None:
    from spiders.portal import REVISIT

    article = "http://127.0.0.1:8000/portal/Pages/2022-1-15/bai-viet.aspx"
    spider, request = _spider_and_revisit(article)
    assert request.meta["dont_redirect"] and 404 in request.meta["handle_httpstatus_list"]
    stats = spider.crawler.stats

    # The same article, respelt (a tracking parameter): followed, a few hops at most.
    follow = list(spider.parse(_redirect(request, article + "?utm_source=x")))
    assert [(r.url, r.dont_filter, r.meta["portal_archive_hops"]) for r in follow] == \
        [(article + "?utm_source=x", True, 1)]
    hop = follow[0]
    for _ in range(5):
        nxt = list(spider.parse(_redirect(hop, article + "?utm_source=x")))
        hop = nxt[0] if nxt else hop
    assert stats.get_value("portal_archive/articles/revisit_redirect_loop") == 1
    assert not spider.ledger.gone and not stats.get_value("portal_archive/articles/revisited")

    # Sent to the home page, or to a listing: gone.
    assert list(spider.parse(_redirect(request, "/", 302))) == []
    assert list(spider.parse(_redirect(request, "/portal/Pages/Tin-tuc.aspx", 302))) == []
    assert spider.ledger.gone == [article, article]
    assert stats.get_value("portal_archive/articles/gone_redirected") == 2

    # Moved to another article URL: still live; the new URL is fetched as an article.
    moved = list(spider.parse(_redirect(request, "/portal/Pages/2022-1-16/bai-moi.aspx")))
    assert [r.url for r in moved] == ["http://127.0.0.1:8000/portal/Pages/2022-1-16/bai-moi.aspx"]
    assert REVISIT not in moved[0].meta
    assert spider.ledger.gone == [article, article]
    assert spider.ledger.moved == [article], "verified (last_seen), not revisited again next run"
    assert stats.get_value("portal_archive/articles/moved") == 1
    assert stats.get_value("portal_archive/articles/revisited") == 3

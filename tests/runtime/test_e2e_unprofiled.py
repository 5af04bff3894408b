"""End to end: a portal nobody has profiled, crawled by its URL.

For every layout family the demo portal serves (``scraper.demo.layouts.LAYOUTS``,
so new families are covered as they arrive), ``portal-archive crawl <url>
--profile generic`` crawls the demo portal as a portal that is not in
portals.toml: generic link discovery, generic extraction, no profile. Twice per
family: once with the portal's sitemaps and RSS feed, once without (links and
pagination only). The demo's own generator is the oracle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows
from factories import run_cli

from archive.store import Archive
from scraper.demo.layouts import LAYOUTS
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.portals import load_portals

SIZE = 60
#: What the generic path still gets wrong on a family's demo portal, per test
#: (strict: the test says so the day it passes).
KNOWN_GAPS = {
    ("nukeviet", "test_every_article_archived_once_by_the_generic_extractor"):
        "the print/savefile copies (canonical: themselves, as on real NukeViet sites) and the "
        "static page /vi/about/gioi-thieu.html are stored as articles",
    ("tandan", "test_fields_match_the_demo_oracle"):
        "the caption paragraphs after images stay in the body; the summary is dropped",
}


def _known_gap(crawled: dict[str, Any], request: pytest.FixtureRequest) -> None:
    gap = KNOWN_GAPS.get((crawled["layout"], request.node.originalname))
    if gap:
        request.applymarker(pytest.mark.xfail(reason=gap, strict=True))


def _crawl(layout: str, feeds: bool, tmp: Path) -> dict[str, Any]:
    site = DemoSite(size=SIZE, seed=11, layout=layout)
    db = tmp / "archive.db"
    with DemoServer(site, feeds=feeds) as server:
        declared = {p.base_url for p in load_portals().values()}
        assert server.base_url not in declared  # an unknown portal
        result = run_cli("crawl", server.base_url, "--profile", "generic", "-q", "--db", str(db))
        hits = dict(server.hits)
        base = server.base_url
    assert result.exit_code == 0, result.output
    row = rows(db, "SELECT stats, portal_id FROM crawl_runs ORDER BY id DESC")[0]
    return {"site": site, "db": db, "base": base, "stats": json.loads(row[0]),
            "portal_id": row[1], "hits": hits}


@pytest.fixture(scope="module", params=[(name, feeds) for name in LAYOUTS
                                        for feeds in (True, False)],
                ids=lambda p: f"{p[0]}-{'feeds' if p[1] else 'links-only'}")
def crawled(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    layout, feeds = request.param
    data = _crawl(layout, feeds, tmp_path_factory.mktemp(f"unprofiled-{layout}"))
    data["feeds"] = feeds
    data["layout"] = layout
    return data


def test_every_article_archived_once_by_the_generic_extractor(
        crawled: dict[str, Any], request: pytest.FixtureRequest) -> None:
    _known_gap(crawled, request)
    site: DemoSite = crawled["site"]
    expected = {a.to_article(crawled["base"]).canonical_url for a in site.iter_articles()}
    stored = rows(crawled["db"], "SELECT canonical_url, extractor FROM articles")
    urls = [r[0] for r in stored]
    assert len(urls) == len(set(urls)), "an article is stored twice"
    assert set(urls) == expected
    assert {r[1] for r in stored} == {"generic"}
    assert crawled["portal_id"] not in load_portals()


def test_fields_match_the_demo_oracle(crawled: dict[str, Any],
                                      request: pytest.FixtureRequest) -> None:
    _known_gap(crawled, request)
    site: DemoSite = crawled["site"]
    mismatches = []
    with Archive.open(crawled["db"]) as archive:
        for demo in site.iter_articles():
            want = demo.to_article(crawled["base"])
            got = archive.get_article(want.canonical_url)
            assert got is not None, want.canonical_url
            for field in ("title", "published", "author", "body"):
                if getattr(got, field) != getattr(want, field):
                    mismatches.append((demo.id, field, getattr(got, field), getattr(want, field)))
    assert not mismatches, mismatches[:3]


def test_listing_pages_dropped_as_not_articles(crawled: dict[str, Any]) -> None:
    stats, hits = crawled["stats"], crawled["hits"]
    listing_pages = hits.get("home", 0) + hits.get("listing", 0)
    pages = site_pages(crawled["site"])
    assert min(pages) >= 2
    assert hits.get("listing", 0) >= sum(pages)  # every page of every category: pagination followed
    assert stats.get("portal_archive/dropped/listing") == listing_pages, stats
    assert hits.get("article", 0) >= SIZE


def test_discovery_used_sitemaps_and_feeds_only_when_served(crawled: dict[str, Any]) -> None:
    stats, hits = crawled["stats"], crawled["hits"]
    if crawled["feeds"]:
        assert hits.get("sitemap", 0) >= 2 and hits.get("feed", 0) == 1
        assert stats.get("portal_archive/discovery/sitemap_urls", 0) >= SIZE
        assert stats.get("portal_archive/discovery/feed_urls", 0) >= 1
    else:
        assert "portal_archive/discovery/sitemap_urls" not in stats
        assert hits.get("feed", 0) == 0


def site_pages(site: DemoSite) -> list[int]:
    return [site.page_count(c.slug) for c in site.categories]

"""Every layout family is one complete, consistent record.

For each family the demo serves, started as a real server on 127.0.0.1: the
family's profile recognises its article pages, and its link rules classify
the demo's own article, listing and home URLs as what they are, with the
listing pages numbered in order. The registry is core data: it imports
neither Scrapy, nor the demo, nor the archive, nor the spiders.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest
from lxml import html as lxml_html

from scraper.demo.layouts import LAYOUTS
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.extract import extract_article
from scraper.extract.profiles import PROFILES, detect_profile, get_profile
from scraper.families import LayoutFamily, UnknownFamily, families, family, link_rules

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ("base", "home", "listing", "article", "_blocks")
SERVED = sorted(name for name, f in families().items() if f.scheme is not None)


def _get(url: str) -> bytes:
    with urlopen(url, timeout=10) as resp:
        assert resp.status == 200, url
        body: bytes = resp.read()
        return body


@pytest.fixture(scope="module", params=SERVED)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[LayoutFamily, DemoSite, DemoServer]]:
    site = DemoSite(size=60, seed=4, layout=request.param)
    with DemoServer(site) as server:
        yield family(request.param), site, server


def test_record_is_complete() -> None:
    for name, record in families().items():
        assert record.name == name and record.description
        assert record.links.name == name
        assert (record.profile is None) == (name == "generic"), name
        if record.profile is not None:
            assert record.profile.name == name
            assert PROFILES[name] is record.profile is get_profile(name)
        if record.scheme is not None:
            assert record.templates is not None
            folder = LAYOUTS[name].templates
            assert all((folder / f"{t}.html").is_file() for t in TEMPLATES), folder
    assert set(LAYOUTS) == set(SERVED)
    assert set(PROFILES) == {n for n in families() if n != "generic"}


def test_every_profiled_family_is_served_by_the_demo() -> None:
    assert set(SERVED) == set(PROFILES)


def test_profile_recognises_the_family_article_pages(
        served: tuple[LayoutFamily, DemoSite, DemoServer]) -> None:
    record, site, server = served
    for article in list(site.iter_articles())[::7]:
        body = _get(server.url(article.path))
        doc = lxml_html.document_fromstring(body.decode("utf-8"))
        assert detect_profile(doc, body.decode("utf-8")) is record.profile, article.path
        got = extract_article(body, server.url(article.path))
        assert got.extractor == record.name
    home = _get(server.base_url).decode("utf-8")
    assert detect_profile(lxml_html.document_fromstring(home), home) is None
    assert record.scheme is not None
    assert f'href="{record.scheme.feed_path}"' in home
    assert _get(server.url(record.scheme.feed_path)).startswith(b'<?xml')


def test_link_rules_classify_the_demo_urls(
        served: tuple[LayoutFamily, DemoSite, DemoServer]) -> None:
    record, site, server = served
    rules = record.links
    assert rules is link_rules(record.name)
    assert record.links.article is not None  # the crawl knows this family's articles
    for article in site.iter_articles():
        url = server.url(article.path)
        assert rules.classify(url) == "article", url
        assert rules.same_page(url) == url
        assert rules.listing_page(url) is None
    # The URLs as the demo's own pages link them, not just as the site builds them.
    home = _get(server.base_url).decode("utf-8")
    links = {server.url(href) for href in lxml_html.document_fromstring(home).xpath("//a/@href")
             if href.startswith("/")}
    assert {u for u in links if rules.classify(u) == "article"}
    assert rules.classify(server.base_url) == "listing"
    for category in site.categories:
        pages = range(1, site.page_count(category.slug) + 1)
        urls = [server.url(site.listing_path(category.slug, n)) for n in pages]
        for url in urls:
            _get(url)
            assert rules.classify(url) == "listing", url
        numbered = [rules.listing_page(u) for u in urls]
        assert [n[1] if n else None for n in numbered] == list(pages)
        assert len({n[0] for n in numbered if n}) == 1, numbered
    other = {rules.listing_page(server.url(site.listing_path(c.slug))) for c in site.categories}
    assert len(other) == len(site.categories)  # each listing has its own key


def test_generic_rules_know_no_urls() -> None:
    generic = link_rules("generic")
    assert generic.article is None and generic.classify("http://h/tin/1.html") == "page"
    assert link_rules("no-such-family") is generic
    with pytest.raises(UnknownFamily, match="known: dnn, dual, generic"):
        family("no-such-family")


FORBIDDEN = ("scrapy", "twisted", "scraper.demo", "archive", "spiders", "scraper.pipelines",
             "scraper.items", "scraper.settings")


def test_registry_is_core_data() -> None:
    offenders = []
    for path in sorted((ROOT / "scraper" / "families").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            offenders += [f"{path.name}: {n}" for n in names
                          if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    assert not offenders, offenders


@pytest.mark.parametrize("layout", [n for n in SERVED if n != "thanhhoa"])  # thanhhoa: test_e2e_crawl
def test_portal_declared_with_the_family_crawls_by_its_rules(layout: str, tmp_path: Path) -> None:
    """portals.toml → spider (link rules, no discovery) → extractor (the profile):
    a portal declared with the family is archived whole, by the family's profile."""
    from click.testing import CliRunner

    from archive.cli import main

    site = DemoSite(size=40, seed=6, layout=layout)
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        portals = tmp_path / "portals.toml"
        portals.write_text(f'[[portal]]\nid = "fam"\nname = "Demo"\nbase_url = "{server.base_url}"\n'
                           f'layout = "{layout}"\n', encoding="utf-8")
        result = CliRunner().invoke(main, ["crawl", "fam", "--portals", str(portals), "-q",
                                           "--db", str(db)], catch_exceptions=False)
        hits = dict(server.hits)
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT canonical_url, extractor FROM articles").fetchall()
        stats = json.loads(conn.execute("SELECT stats FROM crawl_runs").fetchone()[0])
    finally:
        conn.close()
    assert sorted(r[0] for r in rows) == sorted(
        a.to_article(server.base_url).canonical_url for a in site.iter_articles())
    assert {r[1] for r in rows} == {layout}
    assert not any(k.startswith("portal_archive/discovery") for k in stats), stats
    assert hits.get("article") == len(rows), hits

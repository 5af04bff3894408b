"""Discovery for unprofiled portals: robots.txt, sitemaps, feeds, URL shapes,
page shapes; and the crawl command's --profile option."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from factories import run_cli
from lxml import html as lxml_html

from scraper.demo.app import DemoApp
from scraper.demo.layouts import LAYOUTS
from scraper.demo.site import DemoSite
from scraper.extract.shape import Shape, analyse
from spiders.discovery import (
    feeds_in_page,
    parse_feed,
    parse_sitemap,
    sitemaps_in_robots,
    url_kind,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE = "https://portal.gov.vn/"


def test_sitemaps_in_robots() -> None:
    robots = ("User-agent: *\nDisallow: /admin/\nSitemap: https://portal.gov.vn/sitemap.xml\n"
              "sitemap: /news-sitemap.xml\n# Sitemap: /commented.xml\n")
    assert sitemaps_in_robots(robots, BASE) == ["https://portal.gov.vn/sitemap.xml",
                                                "https://portal.gov.vn/news-sitemap.xml"]


def test_sitemap_and_index_plain_and_gzipped() -> None:
    urlset = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b"<url><loc> https://portal.gov.vn/tin/1.html </loc><lastmod>2022-01-15</lastmod>"
              b"</url><url><loc>https://portal.gov.vn/tin/2.html</loc></url></urlset>")
    index = (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
             b"<loc>https://portal.gov.vn/s1.xml</loc></sitemap></sitemapindex>")
    assert parse_sitemap(urlset) == (["https://portal.gov.vn/tin/1.html",
                                      "https://portal.gov.vn/tin/2.html"], [])
    assert parse_sitemap(gzip.compress(urlset))[0][1] == "https://portal.gov.vn/tin/2.html"
    assert parse_sitemap(index) == ([], ["https://portal.gov.vn/s1.xml"])
    assert parse_sitemap(b"<html>not a sitemap") == ([], [])
    assert parse_sitemap(b"\x1f\x8bbroken gzip") == ([], [])


def test_rss_and_atom_feeds() -> None:
    rss = (b'<rss version="2.0"><channel><link>https://portal.gov.vn/</link><item><title>A</title>'
           b"<link>https://portal.gov.vn/tin/1.html</link></item><item><link>/tin/2.html</link>"
           b"</item></channel></rss>")
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><link href="https://portal.gov.vn/"/>'
            b'<entry><link rel="alternate" href="https://portal.gov.vn/tin/3.html"/>'
            b'<link rel="edit" href="https://portal.gov.vn/edit/3"/></entry></feed>')
    assert parse_feed(rss, BASE) == ["https://portal.gov.vn/tin/1.html",
                                     "https://portal.gov.vn/tin/2.html"]
    assert parse_feed(atom, BASE) == ["https://portal.gov.vn/tin/3.html"]


def test_feeds_announced_in_a_page() -> None:
    page = ('<html><head><link rel="stylesheet" href="/a.css">'
            '<link rel="alternate" type="application/rss+xml" title="Tin" href="/rss/tin.rss">'
            "<link href='/atom.xml' type='application/atom+xml' rel='alternate'></head></html>")
    assert feeds_in_page(page, BASE) == ["https://portal.gov.vn/rss/tin.rss",
                                         "https://portal.gov.vn/atom.xml"]


@pytest.mark.parametrize(("url", "kind"), [
    ("https://portal.gov.vn/portal/Pages/2022-1-15/UBND-huyen-lam-viec-a126.aspx", "article"),
    ("https://portal.gov.vn/tin-tuc/xa-dong-tien-dat-chuan-nong-thon-moi-12345.html", "article"),
    ("https://portal.gov.vn/news/2022/01/15/hoi-nghi/", "article"),
    ("https://portal.gov.vn/Default.aspx?tabid=120&newsid=4567", "article"),
    ("https://portal.gov.vn/tin-tuc?page=3", "listing"),
    ("https://portal.gov.vn/portal/Pages/Tin-tuc-Su-kien.aspx?Page=2", "listing"),
    ("https://portal.gov.vn/chuyen-muc/kinh-te/", "listing"),
    ("https://portal.gov.vn/gioi-thieu", "page"),
    ("https://portal.gov.vn/", "page"),
])
def test_url_kind(url: str, kind: str) -> None:
    assert url_kind(url) == kind


def _shape(data: bytes, url: str | None = None) -> Shape:
    return analyse(lxml_html.document_fromstring(data.decode("utf-8", "replace")), url)


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir()
                                        if (p / "page.html").exists()))
def test_fixture_articles_are_not_listings(case: str) -> None:
    shape = _shape((FIXTURES / case / "page.html").read_bytes())
    assert not shape.is_listing, (case, shape)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_demo_pages_by_shape(layout: str) -> None:
    site = DemoSite(size=60, seed=5, layout=layout)
    app = DemoApp(site, "http://127.0.0.1:9/")
    for a in site.iter_articles():
        assert not _shape(app.handle("GET", a.path).body).is_listing, a.path
    assert _shape(app.handle("GET", "/").body).is_listing
    for c in site.categories:
        for page in range(1, site.page_count(c.slug) + 1):
            path = site.listing_path(c.slug, page)
            assert _shape(app.handle("GET", path).body, "http://127.0.0.1:9" + path).is_listing


def test_short_article_next_to_a_few_headlines_is_an_article() -> None:
    related = "".join(f'<li><a href="/tin/{i}.html">Xã Đồng Tiến tổ chức hội nghị tổng kết '
                      f"công tác năm {2010 + i}</a></li>" for i in range(5))
    page = ("<html><body><h1>Thông báo lịch tiếp công dân</h1><p>Chủ tịch UBND huyện thông báo "
            "lịch tiếp công dân định kỳ tháng 02 năm 2022 tại Trụ sở Tiếp công dân huyện, "
            "từ 7 giờ 30 phút ngày 15/02/2022; công dân mang theo giấy tờ tùy thân và tài liệu "
            f"liên quan.</p><p>Văn phòng HĐND và UBND huyện</p><ul>{related}</ul></body></html>")
    assert not _shape(page.encode()).is_listing


def test_crawl_rejects_an_unknown_profile_in_one_line() -> None:
    result = run_cli("crawl", "http://127.0.0.1:9/", "--profile", "nope")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "nope" in lines[0]


def test_article_in_table_rows_next_to_many_headlines_is_an_article() -> None:
    related = "".join(f'<li><a href="/tin/{i}.html">Xã Đồng Tiến tổ chức hội nghị tổng kết '
                      f"công tác năm {2010 + i}</a></li>" for i in range(10))
    paragraph = ("Chủ tịch UBND huyện thông báo lịch tiếp công dân định kỳ tháng 02 năm 2022 "
                 "tại Trụ sở Tiếp công dân huyện, từ 7 giờ.")
    rows = "".join(f"<tr><td>{paragraph}</td></tr>" for _ in range(3))
    page = f"<html><body><h1>Thông báo</h1><table>{rows}</table><ul>{related}</ul></body></html>"
    shape = _shape(page.encode())
    assert shape.headlines == 10 and not shape.is_listing


def test_bare_list_of_many_headlines_is_a_listing() -> None:
    related = "".join(f'<li><a href="/tin/{i}.html">Xã Đồng Tiến tổ chức hội nghị tổng kết '
                      f"công tác năm {2010 + i}</a> (15/01/2022)</li>" for i in range(10))
    page = f"<html><body><h1>Tin tức - Sự kiện</h1><ul>{related}</ul></body></html>"
    assert _shape(page.encode()).is_listing

"""Pages that are not articles are never articles.

Home pages and category listings raise ``NotAnArticle("listing")``; a
portal's standing pages ("Giới thiệu", "Chức năng nhiệm vụ", "Sơ đồ cổng",
"Liên hệ") raise ``NotAnArticle("static_page")`` — never news with an
invented date. Checked on the demo's home, listing and static pages of every
layout family it has templates for (profiles on and off), on the real
platforms' listing pages of ``tests/platform_listings`` and on hand-made
standing pages.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urljoin

import pytest
from jinja2 import FileSystemLoader

from scraper.demo.layouts import TEMPLATES_DIR
from scraper.demo.render import Renderer
from scraper.demo.site import DemoSite
from scraper.extract import NotAnArticle, extract_article

BASE = "http://127.0.0.1:8000"
FAMILIES = sorted(p.name for p in TEMPLATES_DIR.iterdir() if (p / "home.html").exists())
LISTINGS = Path(__file__).resolve().parents[1] / "platform_listings"
PROFILES = (None, "generic")
PARAGRAPH = ("Xã nằm ở phía Tây Bắc của huyện, diện tích tự nhiên 2.350 ha, dân số hơn 9.000 "
             "người, gồm 12 thôn; phía Bắc giáp xã Hải Lộc, phía Nam giáp thị trấn.")


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(size=60, seed=5)


def renderer(site: DemoSite, family: str) -> Renderer:
    r = Renderer(site)
    r.env.loader = FileSystemLoader(TEMPLATES_DIR / family)
    return r


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("family", FAMILIES)
def test_home_and_listings_are_not_articles(site: DemoSite, family: str,
                                            profile: str | None) -> None:
    r = renderer(site, family)
    for cat in site.categories[:2]:
        path = site.listing_path(cat.slug)
        for number in (1, 2):
            html = r.listing(cat.slug, number, path, 0)
            with pytest.raises(NotAnArticle) as info:
                extract_article(html, urljoin(BASE, path), profile=profile)
            assert info.value.reason == "listing", (family, path, number)
    with pytest.raises(NotAnArticle) as info:
        extract_article(r.home("/", 0), BASE + "/", profile=profile)
    assert info.value.reason == "listing"


STATIC = [("Giới thiệu chung", "/gioi-thieu"), ("Chức năng nhiệm vụ", "/vi/about/chuc-nang.html"),
          ("Sơ đồ cổng thông tin", "/so-do-cong"), ("Liên hệ", "/lien-he"),
          ("Lịch sử hình thành và phát triển", "/portal/Pages/Lich-su.aspx")]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("family", [f for f in FAMILIES if (TEMPLATES_DIR / f / "page.html").exists()])
def test_demo_static_pages_are_static_pages(site: DemoSite, family: str,
                                            profile: str | None) -> None:
    r = renderer(site, family)
    template = r.env.get_template("page.html")
    for title, path in STATIC:
        html = template.render(portal=site.portal, categories=r.categories, poll=r.poll,
                               counter=[("Hôm nay:", 1)], weather=r.weather, request_path=path,
                               page={"title": title, "paragraphs": [PARAGRAPH] * 3})
        with pytest.raises(NotAnArticle) as info:
            extract_article(html, urljoin(BASE, path), profile=profile)
        assert info.value.reason == "static_page", (family, title)


def _plain_page(title: str, breadcrumb: str = "") -> str:
    crumbs = f'<div class="breadcrumb"><a href="/">Trang chủ</a> » <a href="#">{breadcrumb}</a></div>' \
        if breadcrumb else ""
    return (f"<html><head><title>{title} - UBND xã Hải Lộc</title></head><body>"
            f"<div id='menu'><a href='/'>Trang chủ</a></div>{crumbs}<div class='content'>"
            f"<h1>{title}</h1>" + "".join(f"<p>{PARAGRAPH}</p>" for _ in range(4))
            + "</div><div class='footer'>Bản quyền thuộc về UBND xã Hải Lộc</div></body></html>")


@pytest.mark.parametrize(("title", "path", "crumb"), [
    ("Giới thiệu chung về xã Hải Lộc", "/index.php?id=12", ""),
    ("Vị trí địa lý, điều kiện tự nhiên", "/trang/12", "Giới thiệu"),
    ("Danh sách cán bộ xã", "/vi/about/can-bo.html", ""),
    ("Sơ đồ cổng", "/sitemap", ""),
])
def test_standing_pages_are_not_news(title: str, path: str, crumb: str) -> None:
    with pytest.raises(NotAnArticle) as info:
        extract_article(_plain_page(title, crumb), "https://hailoc.gov.vn" + path)
    assert info.value.reason == "static_page"


def test_undated_news_stays_news() -> None:
    """No date and nothing saying "standing page": still an article (warned)."""
    a = extract_article(_plain_page("Xã Hải Lộc ra quân làm đường giao thông nông thôn"),
                        "https://hailoc.gov.vn/tin-tuc/ra-quan-12.html")
    assert a.published is None and "no-date" in a.warnings


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", sorted(p.name for p in LISTINGS.iterdir() if p.is_dir()))
def test_platform_listings_are_not_articles(case: str, profile: str | None) -> None:
    spec = json.loads((LISTINGS / case / "expected.json").read_text("utf-8"))
    with pytest.raises(NotAnArticle) as info:
        extract_article((LISTINGS / case / "page.html").read_bytes(), spec["url"], profile=profile)
    assert info.value.reason == spec["not_an_article"]

"""Every layout family of the demo portal, extracted with its profile and with the
generic extractor (profile switched off), against the demo's oracle
(:meth:`DemoArticle.to_article`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from scraper.demo import DemoSite
from scraper.demo.app import DemoApp
from scraper.demo.layouts import LAYOUTS
from scraper.extract import Article, extract_article
from scraper.extract.profiles import GENERIC_VERSION, PROFILES

BASE = "http://127.0.0.1:8765/"
SIZE = 60
FAMILIES = ("thanhhoa", "dnn", "html5", "dual")
FIELDS = ("title", "published", "published_raw", "author", "authors", "body", "category",
          "canonical_url")
#: Text of the widgets every family carries; none may reach an article.
WIDGET_TEXT = ("Thăm dò ý kiến", "Ý kiến thăm dò", "Bình chọn", "Biểu quyết", "Hôm nay",
               "Tổng lượt truy cập", "Đang online", "Dự báo thời tiết", "Tin liên quan",
               "Tin cùng chuyên mục", "Các tin khác", "Chịu trách nhiệm", "Liên kết web",
               "In bài viết", "In trang", "Chia sẻ", "Bạn quan tâm đến chuyên mục nào")


def _served(layout: str) -> tuple[DemoSite, DemoApp]:
    site = DemoSite(size=SIZE, seed=3, layout=layout)
    return site, DemoApp(site, base_url=BASE)


def _diff(got: Article, want: Article) -> list[tuple[str, Any, Any]]:
    out = [(f, getattr(got, f), getattr(want, f)) for f in FIELDS
           if getattr(got, f) != getattr(want, f)]
    g = [(i.url, i.caption, i.position) for i in got.images]
    w = [(i.url, i.caption, i.position) for i in want.images]
    if g != w:
        out.append(("images", g, w))
    return out


def test_every_family_is_registered() -> None:
    assert set(FAMILIES) <= set(LAYOUTS)
    assert set(FAMILIES) <= set(PROFILES)
    for name in FAMILIES:
        for template in ("base", "home", "listing", "article", "_blocks"):
            assert LAYOUTS[name].templates.joinpath(f"{template}.html").is_file()


@pytest.mark.parametrize("profile", ["own", "generic"])
@pytest.mark.parametrize("layout", FAMILIES)
def test_family_extracts_like_the_oracle(layout: str, profile: str) -> None:
    site, app = _served(layout)
    ids = sorted({*site.seed_ids.values(), *range(1, SIZE + 1, 4)})
    mismatches = []
    for n in ids:
        demo = site.article(n)
        response = app.handle("GET", demo.path)
        assert response.status == 200
        want = demo.to_article(BASE)
        forced = None if profile == "own" else "generic"
        got = extract_article(response.body, want.url, profile=forced)
        assert (got.extractor, got.extractor_version) == (
            (layout, PROFILES[layout].version) if profile == "own" else ("generic", GENERIC_VERSION))
        mismatches += [(n, *d) for d in _diff(got, want)]
        text = "\n".join([got.title, got.body, got.author or "", got.category or "",
                          *(i.caption or "" for i in got.images)])
        leaked = [w for w in WIDGET_TEXT if w in text and w not in demo.title
                  and all(w not in p for p in demo.paragraphs)]
        assert not leaked, (n, leaked)
        first = got.body.split("\n\n")[0]
        assert got.body.count(first) == 1, f"article {n}: body twice"
    assert not mismatches, mismatches[:3]


@pytest.mark.parametrize("layout", FAMILIES)
def test_family_pages_look_their_part(layout: str) -> None:
    """Each family shows its own date and author shapes (issue 3 §2)."""
    site, app = _served(layout)
    demo = site.article(site.seed_ids["000_9a865e4b931171f1"])
    page = app.handle("GET", demo.path).body.decode()
    shown = {"thanhhoa": "Ngày 15/01/2022 16:48:18", "dnn": "Cập nhật lúc 16:48 - 15/01/2022",
             "html5": "Thứ Bảy, 15/01/2022 - 16:48", "dual": ">15/01/2022<"}[layout]
    assert shown in page
    assert demo.to_article(BASE).published_raw == shown.strip("<>")
    if layout == "dnn":
        assert "Tác giả: " in page and "DnnModule" in page and "ContentPane" in page
        assert "Thống kê truy cập" in page and "Thăm dò ý kiến" in page and "Tin liên quan" in page
    if layout == "html5":
        assert "<figcaption>" in page and "application/ld+json" in page and "data-src=" in page
        assert 'datetime="2022-01-15T16:48:18+07:00"' in page and "Tin cùng chuyên mục" in page
    if layout == "dual":
        assert page.count(demo.title) >= 3 and "d-md-none" in page and "display:none" not in page
        first = demo.paragraphs[0][:60]
        assert page.count(first) == 2
    listing = app.handle("GET", site.listing_path(demo.category.slug, 2))
    assert listing.status == 200
    assert app.handle("GET", "/").status == 200
    assert app.handle("GET", site.layout.scheme.search()).status == 200


@pytest.mark.parametrize("layout", FAMILIES)
def test_family_served_over_http(layout: str) -> None:
    """A real server per family: home, a listing page, an article, its images,
    robots.txt disallowing the family's search pages, its stylesheet."""
    from urllib.request import urlopen

    from scraper.demo import DemoServer
    from scraper.demo.__main__ import build_parser

    assert build_parser().parse_args(["serve", "--layout", layout]).layout == layout
    site = DemoSite(size=SIZE, seed=4, layout=layout)
    with DemoServer(site) as server:
        demo = next(a for a in site.iter_articles() if a.images)
        with urlopen(server.url(demo.path), timeout=10) as resp:
            html = resp.read()
        article = extract_article(html, server.url(demo.path))
        assert article.extractor == layout
        assert [i.url for i in article.images] == [i.url for i in demo.to_article(server.base_url).images]
        for img in article.images:
            with urlopen(img.url, timeout=10) as resp:
                assert resp.headers["Content-Type"] == "image/jpeg"
        css = re.search(rb'<link[^>]+rel="?stylesheet"?[^>]+href="([^"]+)"|<link[^>]+href="([^"]+)"[^>]+rel="?stylesheet',
                        html)
        assert css is not None
        with urlopen(server.url((css.group(1) or css.group(2)).decode()), timeout=10) as resp:
            sheet = resp.read().decode()
            assert resp.headers["Content-Type"].startswith("text/css")
        if layout == "dual":  # each copy shown by a media query, none hidden inline
            assert "@media (min-width:768px)" in sheet and ".d-md-none{display:none" in sheet
        with urlopen(server.url("/robots.txt"), timeout=10) as resp:
            assert f"Disallow: {site.layout.scheme.disallow[0]}" in resp.read().decode()
        with urlopen(server.url(site.listing_path(demo.category.slug, 2)), timeout=10) as resp:
            assert resp.status == 200
        assert server.hits["article"] == 1 and server.hits["image"] == len(article.images)

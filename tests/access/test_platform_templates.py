"""The demo templates of the NukeViet, Tân Dân and Liferay families.

The families are not in the demo's layout registry yet (their URL schemes
come with it), so each test renders the family's template folder with the
demo's own renderer and site content, then checks the page as a reader and
the crawler would: the family's profile (registered for the test) detects
it and extracts exactly the demo article; listings are not articles.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader

from scraper.demo.layouts import TEMPLATES_DIR
from scraper.demo.render import Renderer
from scraper.demo.site import DemoArticle, DemoSite
from scraper.extract import NotAnArticle, extract_article
from scraper.extract.profiles import PROFILES, liferay, nukeviet, tandan

BASE = "http://127.0.0.1:8000"
FAMILIES = {"nukeviet": nukeviet.NUKEVIET, "tandan": tandan.TANDAN, "liferay": liferay.LIFERAY}


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(size=120, seed=3)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, profile in FAMILIES.items():
        monkeypatch.setitem(PROFILES, name, profile)


def renderer(site: DemoSite, family: str, article_template: str = "article.html") -> Renderer:
    r = Renderer(site)
    folder = TEMPLATES_DIR / family
    loader = FileSystemLoader(folder)
    if article_template != "article.html":
        # Render another page of the article (print/savefile) with the article's context.
        source = (folder / article_template).read_text("utf-8")
        r.env.loader = ChoiceLoader([DictLoader({"article.html": source}), loader])
    else:
        r.env.loader = loader
    return r


def sample(site: DemoSite, *, signed_only: bool = False) -> Iterator[DemoArticle]:
    """Articles with and without images, signed and unsigned."""
    picked: dict[str, DemoArticle] = {}
    for a in site.iter_articles():
        if signed_only and not a.author:
            continue
        key = ("img" if a.images else "noimg") + ("-signed" if a.author else "-unsigned")
        picked.setdefault(key, a)
    return iter(picked.values())


def check(html: str, a: DemoArticle, family: str, *, category: bool = True) -> None:
    url = a.url(BASE)
    got = extract_article(html, url)
    assert got.extractor == family
    assert got.title == a.title
    assert got.body.split("\n\n") == a.paragraphs
    assert got.author == a.author
    assert got.published is not None
    assert got.published.replace(second=0) == a.published.replace(second=0, microsecond=0)
    assert got.category == (a.category.name if category else None)
    expected_images = [(urljoin(BASE, img.path), cap) for img, cap in a.images]
    assert [(i.url, i.caption) for i in got.images] == expected_images
    for widget in ("Thống kê truy cập", "Thăm dò ý kiến", "Dự báo thời tiết", "Cơ quan chủ quản"):
        assert widget not in got.body


# An unsigned NukeViet article gets <meta name="author"> (the site's name) as
# its author: the shared author step's fallback, recorded in
# tests/fixtures_pending/nukeviet_egov_counter_attachments; NukeViet pages are
# compared on signed articles only until that is fixed.
@pytest.mark.parametrize(("family", "signed_only"), [("nukeviet", True), ("liferay", False)])
def test_article_pages(site: DemoSite, family: str, signed_only: bool) -> None:
    r = renderer(site, family)
    for a in sample(site, signed_only=signed_only):
        check(r.article(a, BASE, a.path, 0), a, family)


def test_nukeviet_savefile_page(site: DemoSite) -> None:
    r = renderer(site, "nukeviet", "print.html")
    for a in sample(site, signed_only=True):
        # The print page has no breadcrumb: no category.
        check(r.article(a, BASE, a.path, 0), a, "nukeviet", category=False)


def test_tandan_article_pages(site: DemoSite) -> None:
    """Like the real page, a caption is a plain paragraph after its image: the
    shared caption step does not attach it yet (tests/fixtures_pending), so
    only articles without images are compared in full."""
    r = renderer(site, "tandan")
    for a in sample(site):
        html = r.article(a, BASE, a.path, 0)
        if a.images:
            got = extract_article(html, a.url(BASE))
            assert got.extractor == "tandan" and got.title == a.title
            assert got.body.split("\n\n")[0] == a.paragraphs[0]  # the summary
            continue
        check(html, a, "tandan")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_listing_and_home_are_not_articles(site: DemoSite, family: str) -> None:
    r = renderer(site, family)
    slug = site.categories[0].slug
    pages = [r.listing(slug, 1, site.listing_path(slug), 0), r.home("/", 0)]
    for html in pages:
        with pytest.raises(NotAnArticle):
            extract_article(html, urljoin(BASE, site.listing_path(slug)))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_static_page_is_not_claimed_by_the_profile(site: DemoSite, family: str) -> None:
    r = renderer(site, family)
    template = r.env.get_template("page.html")
    html = template.render(portal=site.portal, categories=r.categories, poll=r.poll,
                           counter=[("Hôm nay:", 1)], weather=r.weather, request_path="/p",
                           page={"title": "Giới thiệu chung",
                                 "paragraphs": ["Xã nằm ở phía Tây Bắc của huyện, diện tích tự"
                                                " nhiên 2.350 ha, dân số hơn 9.000 người."] * 3})
    try:
        got = extract_article(html, urljoin(BASE, "/gioi-thieu"))
    except NotAnArticle:
        return
    assert got.extractor == "generic"


@pytest.mark.parametrize("family", list(FAMILIES))
def test_attachments_are_listed_and_kept_out_of_the_body(site: DemoSite, family: str) -> None:
    r = renderer(site, family)
    a = next(x for x in site.iter_articles() if not x.images and x.author)
    assert a.blocks[-1].kind == "signature"
    files = [{"url": "/uploads/ke-hoach-142.pdf", "name": "ke-hoach-142.pdf"},
             {"url": "/uploads/phu-luc.docx", "name": "phu-luc.docx"}]
    template = r.env.get_template("article.html")
    context = {"title": a.title, "date_text": a.date_text, "print_date": a.print_date,
               "shown_date": a.shown_date, "iso": a.published.isoformat(), "author": a.author,
               "category": {"name": a.category.name, "url": site.listing_path(a.category.slug)},
               "blocks": [{"kind": b.kind, "text": getattr(b, "text", "")} for b in a.blocks],
               "absolute_url": a.url(BASE), "attachments": files}
    html = template.render(portal=site.portal, categories=r.categories, poll=r.poll,
                           counter=[("Hôm nay:", 1)], weather=r.weather, request_path=a.path,
                           article=context, related=[])
    assert 'href="/uploads/ke-hoach-142.pdf"' in html and "phu-luc.docx" in html
    got = extract_article(html, a.url(BASE))
    assert got.body.split("\n\n") == a.paragraphs
    assert "ke-hoach-142.pdf" not in got.body and "Tải về" not in got.body

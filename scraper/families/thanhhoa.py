"""Thanh Hóa family: the SharePoint-era table layout of the seed pages.

Three table columns (widgets | article | weather), the article in
``div.news-detail`` with ``h1.news-title``, ``div.news-date``
("Ngày 15/01/2022 16:48:18") and ``div.news-content``; a hidden print copy of
the whole article ("Đăng lúc: … (GMT+7)") after the related list.

URLs: articles ``/portal/Pages/<date>/<slug>.aspx`` (real portals also serve
them under ``/portal/Pages/<Category>/<date>/<slug>.aspx`` and with any query
string), listings ``/portal/Pages/<Category>.aspx?Page=N``.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from scraper.extract.profiles import Profile, has_class
from scraper.families import LayoutFamily
from scraper.families.links import LinkRules
from scraper.families.signals import Signal
from scraper.families.urls import UrlScheme, slugify

_cls = has_class

PROFILE = Profile(
    name="thanhhoa",
    version="2",
    hint="news-detail",
    detect=f"//div[{_cls('news-detail')}]//*[{_cls('news-title')}]",
    root=f"//div[{_cls('news-detail')}]//div[{_cls('news-content')}]",
    title=f"//div[{_cls('news-detail')}]//*[{_cls('news-title')}]",
    date=f"//div[{_cls('news-detail')}]//*[{_cls('news-date')}]",
    category=f"//div[{_cls('breadcrumb')}]//a",
)


class ThanhHoaScheme(UrlScheme):
    """The demo's spelling of the Thanh Hóa URLs.

    * home ``/``
    * listing ``/portal/Pages/Tin-tuc-Su-kien.aspx`` then ``...aspx?Page=2``
    * article ``/portal/Pages/2022-1-15/UBND-huyen-lam-viec-...-a123.aspx``
    * image ``/portal/PublishingImages/2022/01/<file>``; banner ``/portal/PublishingImages/banner.jpg``
    * search ``/portal/_layouts/OSSSearchResults.aspx`` (disallowed by robots.txt)
    * stylesheet ``/portal/Style Library/thanhhoa.css``
    """

    article_path = r"/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/[A-Za-z0-9-]+-a(?P<id>\d{1,9})\.aspx"
    listing_path = r"/portal/Pages/(?P<slug>[A-Za-z0-9-]+)\.aspx"
    page_query = "Page"
    image_path = r"/portal/PublishingImages/\d{4}/\d{2}/(?P<file>[^/]+)"
    slug_case = True
    home_paths = ("/", "/portal", "/portal/", "/portal/Pages/default.aspx")
    disallow = ("/portal/_layouts/",)
    static = {"/portal/Style Library/thanhhoa.css": "thanhhoa.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/portal/Pages/{self.slug(category_name)}.aspx"
        return path if page == 1 else f"{path}?Page={page}"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        day = f"{published.year}-{published.month}-{published.day}"
        return f"/portal/Pages/{day}/{slugify(title, 90)}-a{article_id}.aspx"

    def image(self, published: datetime, file: str) -> str:
        return f"/portal/PublishingImages/{published.year:04d}/{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/portal/PublishingImages/banner.jpg"

    def search(self) -> str:
        return "/portal/_layouts/OSSSearchResults.aspx"


# The crawl's rules are wider than the demo's scheme: real portals' article
# slugs carry no id, and an article has several spellings.
_ARTICLE_PATH = re.compile(
    r"^(/portal/Pages/)(?:[A-Za-z0-9-]+/)?(\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx)$", re.I)
_LISTING = re.compile(r"^(https?://[^/]+/portal/Pages/[^/?#]+\.aspx)(?:\?Page=(\d+))?$", re.I)


def _same_page(url: str) -> str:
    """SharePoint serves an article under ``/portal/Pages/<date>/<slug>.aspx``,
    with any query string, and under ``/portal/Pages/<Category>/<date>/<slug>.aspx``:
    all are one page, keyed on the first spelling."""
    parts = urlsplit(url)
    m = _ARTICLE_PATH.match(parts.path)
    if m:
        return urlunsplit((parts.scheme, parts.netloc, m.group(1) + m.group(2), "", ""))
    return url


def _paging(url: str) -> tuple[str, int] | None:
    m = _LISTING.match(url)
    if not m:
        return None
    return m.group(1).lower(), int(m.group(2) or 1)


LINKS = LinkRules(
    name="thanhhoa",
    article=re.compile(r"/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx$", re.I),
    listing=re.compile(r"/portal/Pages/[^/?#]+\.aspx(?:\?Page=\d+)?$|^https?://[^/]+/?$", re.I),
    paging=_paging,
    same_page=_same_page,
)

SIGNALS = (
    Signal("html", r"class=\"[^\"]*\bwebpart-title\b", 3,
           "web part titles of the Thanh Hóa portals (div.webpart-title)"),
    Signal("html", r"class=\"[^\"]*\bnews-detail[\s\"]", 2, "news-detail block"),
    Signal("link", r"^/portal/(?:Style(?:%20| )Library|PublishingImages)/", 2,
           "SharePoint publishing paths (/portal/Style Library/, /portal/PublishingImages/)"),
    Signal("generator", r"Microsoft SharePoint", 1, "generator meta names Microsoft SharePoint"),
    Signal("html", r"_spPageContextInfo", 1, "SharePoint page context (_spPageContextInfo)"),
)

FAMILY = LayoutFamily(
    name="thanhhoa",
    description="SharePoint-era tables of the Thanh Hóa district portals (hidden print copy)",
    profile=PROFILE,
    links=LINKS,
    scheme=ThanhHoaScheme(),
    templates="thanhhoa",
    signals=SIGNALS,
)

"""Responsive family that carries the article twice in the visible DOM.

A desktop copy (``div.d-none.d-md-block.detail-desktop``: ``h1.detail-title``,
``div.detail-time``, ``div.detail-body``) and a mobile copy
(``div.d-md-none.detail-mobile``), each shown by CSS media queries only — no
``display:none`` in the markup. The profile reads the desktop copy and drops
the mobile one. Only the day is shown ("15/01/2022"); the time is in
``article:published_time``. The signature is a bold last line.
"""

from __future__ import annotations

from datetime import datetime

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule
from scraper.families import LayoutFamily
from scraper.families.links import rules_from_scheme
from scraper.families.signals import Signal
from scraper.families.urls import UrlScheme, slugify

_cls = has_class
_DESKTOP = f"//div[{_cls('detail-desktop')}]"

PROFILE = Profile(
    name="dual",
    version="1",
    hint="detail-desktop",
    detect=f"{_DESKTOP}//h1[{_cls('detail-title')}]",
    root=f"{_DESKTOP}//div[{_cls('detail-body')}]",
    title=f"{_DESKTOP}//h1[{_cls('detail-title')}]",
    date=f"{_DESKTOP}//div[{_cls('detail-time')}]",
    category=f"//ol[{_cls('breadcrumb')}]//a",
    extra_rules=(
        WidgetRule(name="mobile_copy", group="duplicate",
                   xpaths=(f"//div[{_cls('detail-mobile')}]", f"//div[{_cls('d-md-none')}]")),
        WidgetRule(name="sidebar", group="widget",
                   xpaths=(f"//div[{_cls('col-md-4')}]",)),
    ),
)


class DualScheme(UrlScheme):
    """URLs of a responsive portal that serves a desktop and a mobile copy in one page.

    * home ``/`` (also ``/index.htm``)
    * listing ``/category/tin-tuc-su-kien.htm`` then ``...htm?p=2``
    * article ``/news/ubnd-huyen-lam-viec-...-n123.htm``
    * image ``/media/images/202201/<file>``; banner ``/media/banner.jpg``
    * search ``/search.htm`` (disallowed); stylesheet ``/css/app.css``
    """

    article_path = r"/news/[a-z0-9-]+-n(?P<id>\d{1,9})\.htm"
    listing_path = r"/category/(?P<slug>[a-z0-9-]+)\.htm"
    page_query = "p"
    image_path = r"/media/images/\d{6}/(?P<file>[^/]+)"
    home_paths = ("/", "/index.htm")
    disallow = ("/search.htm",)
    static = {"/css/app.css": "app.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/category/{self.slug(category_name)}.htm"
        return path if page == 1 else f"{path}?p={page}"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        return f"/news/{slugify(title, 90).lower()}-n{article_id}.htm"

    def image(self, published: datetime, file: str) -> str:
        return f"/media/images/{published.year:04d}{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/media/banner.jpg"

    def search(self) -> str:
        return "/search.htm"


SCHEME = DualScheme()

SIGNALS = (
    Signal("html", r"class=\"[^\"]*\bdetail-desktop\b", 4,
           "a desktop copy of the article (div.detail-desktop)"),
    Signal("html", r"class=\"[^\"]*\bdetail-mobile\b", 2,
           "a mobile copy of the article (div.detail-mobile)"),
    Signal("link", r"^/media/images/\d{6}/", 2, "images under /media/images/YYYYMM/"),
)

FAMILY = LayoutFamily(
    name="dual",
    description="responsive portal with desktop and mobile copies of the article in one page",
    profile=PROFILE,
    links=rules_from_scheme("dual", SCHEME),
    scheme=SCHEME,
    templates="dual",
    # Only the day is shown; the time is in <meta property="article:published_time">.
    date_text=lambda published: published.strftime("%d/%m/%Y"),
    signals=SIGNALS,
)

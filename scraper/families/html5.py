"""Modern HTML5 family: ``<article>``, ``<figure>``/``<figcaption>``, ``<aside>`` widgets.

``h1.entry-title``, ``<time class="published" datetime=…>`` showing "Thứ Bảy,
15/01/2022 - 16:48" (the seconds are in ``datetime``, OpenGraph and JSON-LD
``NewsArticle.datePublished``), ``div.entry-content`` with lazy images
(``data-src``) grouped in ``<figure>`` with one ``<figcaption>`` per run, the
signature "(Văn Hùng)" as the last paragraph. Sidebar: "Bình chọn", "Số lượt
truy cập", weather; "Tin cùng chuyên mục" after the article.
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

PROFILE = Profile(
    name="html5",
    version="1",
    hint="entry-title",
    detect=f"//article//h1[{_cls('entry-title')}]",
    root=f"//article//div[{_cls('entry-content')}]",
    title=f"//article//h1[{_cls('entry-title')}]",
    date="//article//time[@datetime]",
    category=f"//ol[{_cls('breadcrumbs')}]//a",
    extra_rules=(
        WidgetRule(name="sidebar", group="widget",
                   xpaths=("//aside", f"//section[{_cls('more-posts')}]",
                           f"//div[{_cls('entry-share')}]")),
    ),
)

_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


class Html5Scheme(UrlScheme):
    """WordPress-like permalinks.

    * home ``/``
    * listing ``/danh-muc/tin-tuc-su-kien/`` then ``.../page/2/``
    * article ``/2022/01/15/ubnd-huyen-lam-viec-...-p123/``
    * image ``/wp-content/uploads/2022/01/<file>``; banner ``/assets/img/banner.jpg``
    * search ``/tim-kiem/`` (disallowed); stylesheet ``/assets/css/site.css``
    """

    article_path = r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-p(?P<id>\d{1,9})/"
    listing_path = r"/danh-muc/(?P<slug>[a-z0-9-]+)/(?:page/(?P<page>\d{1,9})/)?"
    image_path = r"/wp-content/uploads/\d{4}/\d{2}/(?P<file>[^/]+)"
    disallow = ("/tim-kiem/",)
    static = {"/assets/css/site.css": "site.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/danh-muc/{self.slug(category_name)}/"
        return path if page == 1 else f"{path}page/{page}/"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        return f"/{published:%Y/%m/%d}/{slugify(title, 90).lower()}-p{article_id}/"

    def image(self, published: datetime, file: str) -> str:
        return f"/wp-content/uploads/{published.year:04d}/{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/assets/img/banner.jpg"

    def search(self) -> str:
        return "/tim-kiem/"


SCHEME = Html5Scheme()

SIGNALS = (
    Signal("generator", r"WordPress", 5, "generator meta names WordPress"),
    Signal("link", r"^/wp-(?:content|includes)/", 3, "WordPress paths (/wp-content/)"),
    Signal("html", r"class=\"[^\"]*\bentry-(?:title|content)\b", 2,
           "entry-title / entry-content classes"),
)

FAMILY = LayoutFamily(
    name="html5",
    description="modern HTML5 / WordPress-like (<article>, <figure>, JSON-LD NewsArticle)",
    profile=PROFILE,
    links=rules_from_scheme("html5", SCHEME),
    scheme=SCHEME,
    templates="html5",
    # "Thứ Bảy, 15/01/2022 - 16:48"; the seconds are in <time datetime> and JSON-LD.
    date_text=lambda published: f"{_WEEKDAYS[published.weekday()]}, {published:%d/%m/%Y - %H:%M}",
    signals=SIGNALS,
)

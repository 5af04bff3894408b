"""Layout families of the demo portal: a template folder plus a URL scheme.

A layout family is data: :class:`Layout` names the folder of Jinja2
templates (``templates/<name>/``: ``base``, ``home``, ``listing``,
``article`` and ``_blocks``) and a :class:`UrlScheme` that both *builds*
the portal's URLs and *matches* request paths back to a :class:`Route`.
Adding a family means adding a template folder and one small ``UrlScheme``
subclass to :data:`LAYOUTS`; the site generator and the server stay as they are.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scraper.demo.text import slugify

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Route kinds, also the keys of the server's hit counter.
ROUTE_KINDS = ("home", "listing", "article", "image", "robots", "search", "static", "other")


@dataclass(frozen=True)
class Route:
    """What a request path designates, before the site checks that it exists.

    ``kind`` is one of :data:`ROUTE_KINDS`. ``category`` is a category slug
    (listing), ``page`` a 1-based page number (0 when the query gave a bad
    one), ``article_id`` the id read from an article path, ``file`` an image
    file name (``None`` for the site banner) or a static asset name.
    """

    kind: str
    category: str | None = None
    page: int = 1
    article_id: int | None = None
    file: str | None = None


class UrlScheme(ABC):
    """How one layout family spells its URLs (paths only, root-relative)."""

    #: Path prefixes robots.txt disallows (the scheme's search pages live there).
    disallow: tuple[str, ...] = ()

    def home(self) -> str:
        return "/"

    @abstractmethod
    def listing(self, category_name: str, page: int = 1) -> str:
        """Path of page ``page`` (1-based) of a category listing."""

    @abstractmethod
    def article(self, article_id: int, published: datetime, title: str) -> str:
        """Path of an article page."""

    @abstractmethod
    def image(self, published: datetime, file: str) -> str:
        """Path of an image file uploaded with an article published at ``published``."""

    @abstractmethod
    def banner(self) -> str:
        """Path of the site banner image."""

    @abstractmethod
    def search(self) -> str:
        """Path of the search page (disallowed by robots.txt)."""

    #: Paths of the home page.
    home_paths: tuple[str, ...] = ("/",)
    #: Article path → article id (group 1); image path → file name (group 1);
    #: listing path (groups read by :meth:`listing_route`); static assets.
    _ARTICLE: re.Pattern[str]
    _IMAGE: re.Pattern[str]
    _LISTING: re.Pattern[str]
    _STATIC: Mapping[str, str] = {}

    def match(self, path: str, query: Mapping[str, Sequence[str]],
              categories: Mapping[str, str]) -> Route | None:
        """The route of a request (``path`` percent-decoded, ``query`` parsed).

        ``categories`` maps category slug → display name. ``None`` means the
        path is nothing this layout serves (404).
        """
        if path in self.home_paths:
            return Route("home")
        if path == self.banner():
            return Route("image")
        if self.disallow and path.startswith(self.disallow):
            return Route("search")
        if path in self._STATIC:
            return Route("static", file=self._STATIC[path])
        if m := self._ARTICLE.match(path):
            return Route("article", article_id=int(m.group(1)))
        if m := self._IMAGE.match(path):
            return Route("image", file=m.group(1))
        if m := self._LISTING.match(path):
            return self.listing_route(m, query, categories)
        return None

    @abstractmethod
    def listing_route(self, m: re.Match[str], query: Mapping[str, Sequence[str]],
                      categories: Mapping[str, str]) -> Route | None:
        """The listing route of a path ``_LISTING`` matched (None: no such category)."""


class ThanhHoaScheme(UrlScheme):
    """SharePoint-era URLs of the Thanh Hóa district portals.

    * home ``/``
    * listing ``/portal/Pages/Tin-tuc-Su-kien.aspx`` then ``...aspx?Page=2``
    * article ``/portal/Pages/2022-1-15/UBND-huyen-lam-viec-...-a123.aspx``
    * image ``/portal/PublishingImages/2022/01/<file>``; banner ``/portal/PublishingImages/banner.jpg``
    * search ``/portal/_layouts/OSSSearchResults.aspx`` (disallowed by robots.txt)
    * stylesheet ``/portal/Style Library/thanhhoa.css``
    """

    disallow = ("/portal/_layouts/",)

    _ARTICLE = re.compile(r"^/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/[A-Za-z0-9-]+-a(\d{1,9})\.aspx$")
    _LISTING = re.compile(r"^/portal/Pages/([A-Za-z0-9-]+)\.aspx$")
    _IMAGE = re.compile(r"^/portal/PublishingImages/\d{4}/\d{2}/([^/]+)$")
    _STATIC = {"/portal/Style Library/thanhhoa.css": "thanhhoa.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/portal/Pages/{slugify(category_name)}.aspx"
        return path if page == 1 else f"{path}?Page={page}"

    def article(self, article_id: int, published: datetime, title: str) -> str:
        day = f"{published.year}-{published.month}-{published.day}"
        return f"/portal/Pages/{day}/{slugify(title, 90)}-a{article_id}.aspx"

    def image(self, published: datetime, file: str) -> str:
        return f"/portal/PublishingImages/{published.year:04d}/{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/portal/PublishingImages/banner.jpg"

    def search(self) -> str:
        return "/portal/_layouts/OSSSearchResults.aspx"

    home_paths = ("/", "/portal", "/portal/", "/portal/Pages/default.aspx")

    def listing_route(self, m: re.Match[str], query: Mapping[str, Sequence[str]],
                      categories: Mapping[str, str]) -> Route | None:
        for slug, name in categories.items():
            if slugify(name) == m.group(1):
                return Route("listing", category=slug, page=_page_number(query))
        return None


def _page_number(query: Mapping[str, Sequence[str]], param: str = "Page") -> int:
    """``?Page=N`` (or ``?<param>=N``) as an int; 1 when absent, 0 when not a positive number."""
    values = query.get(param)
    if not values:
        return 1
    value = values[0]
    return int(value) if value.isdigit() and not value.startswith("0") else 0


class DnnScheme(UrlScheme):
    """DotNetNuke-style URLs (friendly URLs of a DNN portal).

    * home ``/`` (also ``/trang-chu``)
    * listing ``/chuyen-muc/tin-tuc-su-kien`` then ``...?page=2``
    * article ``/tin-tuc/ubnd-huyen-lam-viec-...-123.html``
    * image ``/Portals/0/Images/2022/01/<file>``; banner ``/Portals/0/banner.jpg``
    * search ``/tim-kiem`` (disallowed by robots.txt); stylesheet ``/Portals/_default/skin.css``
    """

    disallow = ("/tim-kiem",)

    _ARTICLE = re.compile(r"^/tin-tuc/[a-z0-9-]+-(\d{1,9})\.html$")
    _LISTING = re.compile(r"^/chuyen-muc/([a-z0-9-]+)$")
    _IMAGE = re.compile(r"^/Portals/0/Images/\d{4}/\d{2}/([^/]+)$")
    _STATIC = {"/Portals/_default/skin.css": "skin.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/chuyen-muc/{slugify(category_name).lower()}"
        return path if page == 1 else f"{path}?page={page}"

    def article(self, article_id: int, published: datetime, title: str) -> str:
        return f"/tin-tuc/{slugify(title, 90).lower()}-{article_id}.html"

    def image(self, published: datetime, file: str) -> str:
        return f"/Portals/0/Images/{published.year:04d}/{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/Portals/0/banner.jpg"

    def search(self) -> str:
        return "/tim-kiem"

    home_paths = ("/", "/trang-chu")

    def listing_route(self, m: re.Match[str], query: Mapping[str, Sequence[str]],
                      categories: Mapping[str, str]) -> Route | None:
        return _listing_route(m.group(1), query, categories, "page", lower=True)


class Html5Scheme(UrlScheme):
    """URLs of a modern HTML5 news template (WordPress-like permalinks).

    * home ``/``
    * listing ``/danh-muc/tin-tuc-su-kien/`` then ``.../page/2/``
    * article ``/2022/01/15/ubnd-huyen-lam-viec-...-p123/``
    * image ``/wp-content/uploads/2022/01/<file>``; banner ``/assets/img/banner.jpg``
    * search ``/tim-kiem/`` (disallowed); stylesheet ``/assets/css/site.css``
    """

    disallow = ("/tim-kiem/",)

    _ARTICLE = re.compile(r"^/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-p(\d{1,9})/$")
    _LISTING = re.compile(r"^/danh-muc/([a-z0-9-]+)/(?:page/(\d{1,9})/)?$")
    _IMAGE = re.compile(r"^/wp-content/uploads/\d{4}/\d{2}/([^/]+)$")
    _STATIC = {"/assets/css/site.css": "site.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/danh-muc/{slugify(category_name).lower()}/"
        return path if page == 1 else f"{path}page/{page}/"

    def article(self, article_id: int, published: datetime, title: str) -> str:
        return f"/{published:%Y/%m/%d}/{slugify(title, 90).lower()}-p{article_id}/"

    def image(self, published: datetime, file: str) -> str:
        return f"/wp-content/uploads/{published.year:04d}/{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/assets/img/banner.jpg"

    def search(self) -> str:
        return "/tim-kiem/"

    home_paths = ("/",)

    def listing_route(self, m: re.Match[str], query: Mapping[str, Sequence[str]],
                      categories: Mapping[str, str]) -> Route | None:
        number = m.group(2)
        page = 1 if number is None else int(number) if not number.startswith("0") else 0
        route = _listing_route(m.group(1), {}, categories, "page", lower=True)
        return Route("listing", category=route.category, page=page) if route else None


class DualScheme(UrlScheme):
    """URLs of a responsive portal that serves a desktop and a mobile copy in one page.

    * home ``/`` (also ``/index.htm``)
    * listing ``/category/tin-tuc-su-kien.htm`` then ``...htm?p=2``
    * article ``/news/ubnd-huyen-lam-viec-...-n123.htm``
    * image ``/media/images/202201/<file>``; banner ``/media/banner.jpg``
    * search ``/search.htm`` (disallowed); stylesheet ``/css/app.css``
    """

    disallow = ("/search.htm",)

    _ARTICLE = re.compile(r"^/news/[a-z0-9-]+-n(\d{1,9})\.htm$")
    _LISTING = re.compile(r"^/category/([a-z0-9-]+)\.htm$")
    _IMAGE = re.compile(r"^/media/images/\d{6}/([^/]+)$")
    _STATIC = {"/css/app.css": "app.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/category/{slugify(category_name).lower()}.htm"
        return path if page == 1 else f"{path}?p={page}"

    def article(self, article_id: int, published: datetime, title: str) -> str:
        return f"/news/{slugify(title, 90).lower()}-n{article_id}.htm"

    def image(self, published: datetime, file: str) -> str:
        return f"/media/images/{published.year:04d}{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/media/banner.jpg"

    def search(self) -> str:
        return "/search.htm"

    home_paths = ("/", "/index.htm")

    def listing_route(self, m: re.Match[str], query: Mapping[str, Sequence[str]],
                      categories: Mapping[str, str]) -> Route | None:
        return _listing_route(m.group(1), query, categories, "p", lower=True)


def _listing_route(slug: str, query: Mapping[str, Sequence[str]], categories: Mapping[str, str],
                   param: str, *, lower: bool = False) -> Route | None:
    for key, name in categories.items():
        expected = slugify(name).lower() if lower else slugify(name)
        if expected == slug:
            return Route("listing", category=key, page=_page_number(query, param))
    return None


# ------------------------------------------------------------- date shapes
_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def _date_seconds(published: datetime) -> str:
    return published.strftime("Ngày %d/%m/%Y %H:%M:%S")


def _date_dnn(published: datetime) -> str:
    return published.strftime("Cập nhật lúc %H:%M - %d/%m/%Y")


def _date_html5(published: datetime) -> str:
    return f"{_WEEKDAYS[published.weekday()]}, {published:%d/%m/%Y - %H:%M}"


def _date_day_only(published: datetime) -> str:
    return published.strftime("%d/%m/%Y")


def _to_second(published: datetime) -> datetime:
    return published.replace(microsecond=0)


def _to_minute(published: datetime) -> datetime:
    return published.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Layout:
    """A layout family: its name, template folder, URL scheme and date shape.

    ``date_text`` is the publication time as the article page shows it under
    the title; ``page_time`` is the most precise publication time the page
    carries anywhere (visible or in ``<meta>`` / JSON-LD / ``<time>``): a
    family that shows only minutes and declares nothing more precise loses
    the seconds. Both feed :meth:`DemoArticle.to_article`, the oracle.
    """

    name: str
    templates: Path
    scheme: UrlScheme
    date_text: Callable[[datetime], str] = _date_seconds
    page_time: Callable[[datetime], datetime] = _to_second


#: Registry of layout families the demo portal can imitate.
LAYOUTS: dict[str, Layout] = {
    "thanhhoa": Layout("thanhhoa", TEMPLATES_DIR / "thanhhoa", ThanhHoaScheme()),
    # DotNetNuke module panes; "Cập nhật lúc 16:48 - 15/01/2022", no seconds anywhere.
    "dnn": Layout("dnn", TEMPLATES_DIR / "dnn", DnnScheme(), _date_dnn, _to_minute),
    # HTML5 <article>; "Thứ Bảy, 15/01/2022 - 16:48", seconds in <time datetime> and JSON-LD.
    "html5": Layout("html5", TEMPLATES_DIR / "html5", Html5Scheme(), _date_html5, _to_second),
    # Desktop and mobile copies; only the day is shown, the time is in <meta>.
    "dual": Layout("dual", TEMPLATES_DIR / "dual", DualScheme(), _date_day_only, _to_second),
}


def get_layout(name: str) -> Layout:
    """The layout called ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})") from None

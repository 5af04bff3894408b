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
from collections.abc import Mapping, Sequence
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

    @abstractmethod
    def match(self, path: str, query: Mapping[str, Sequence[str]],
              categories: Mapping[str, str]) -> Route | None:
        """The route of a request (``path`` percent-decoded, ``query`` parsed).

        ``categories`` maps category slug → display name. ``None`` means the
        path is nothing this layout serves (404).
        """


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

    def match(self, path: str, query: Mapping[str, Sequence[str]],
              categories: Mapping[str, str]) -> Route | None:
        if path in ("/", "/portal", "/portal/", "/portal/Pages/default.aspx"):
            return Route("home")
        if path == self.banner():
            return Route("image")
        if path.startswith(self.disallow):
            return Route("search")
        if path in self._STATIC:
            return Route("static", file=self._STATIC[path])
        if m := self._ARTICLE.match(path):
            return Route("article", article_id=int(m.group(1)))
        if m := self._IMAGE.match(path):
            return Route("image", file=m.group(1))
        if m := self._LISTING.match(path):
            for slug, name in categories.items():
                if slugify(name) == m.group(1):
                    return Route("listing", category=slug, page=_page_number(query))
        return None


def _page_number(query: Mapping[str, Sequence[str]]) -> int:
    """``?Page=N`` as an int; 1 when absent, 0 when not a positive number."""
    values = query.get("Page")
    if not values:
        return 1
    value = values[0]
    return int(value) if value.isdigit() and not value.startswith("0") else 0


@dataclass(frozen=True)
class Layout:
    """A layout family: its name, template folder and URL scheme."""

    name: str
    templates: Path
    scheme: UrlScheme


#: Registry of layout families the demo portal can imitate.
LAYOUTS: dict[str, Layout] = {
    "thanhhoa": Layout("thanhhoa", TEMPLATES_DIR / "thanhhoa", ThanhHoaScheme()),
}


def get_layout(name: str) -> Layout:
    """The layout called ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})") from None

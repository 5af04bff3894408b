"""URL schemes: how a layout family spells its URLs, in both directions.

A :class:`UrlScheme` *builds* the paths of a family's pages (the demo portal
renders its links with it) and *recognises* them: ``article_path`` and
``listing_path`` are the patterns the demo routes requests by and the crawl's
link rules (:func:`scraper.families.links.rules_from_scheme`) classify links by.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")

#: Route kinds, also the keys of the demo server's hit counter.
ROUTE_KINDS = ("home", "listing", "article", "print", "page", "feed", "image", "document", "robots",
               "search", "static", "other")


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics: ``Đồng Tiến`` → ``Dong Tien``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(text: str, max_len: int = 100) -> str:
    """An ASCII URL slug keeping letter case, words joined by ``-``.

    ``Hội nghị tổng kết NTM 2018 , triển khai`` → ``Hoi-nghi-tong-ket-NTM-2018-trien-khai``.
    Long slugs are cut at a word boundary to at most ``max_len`` characters.
    """
    slug = _NON_ALNUM.sub("-", ascii_fold(text)).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0]
    return slug or "bai-viet"


@dataclass(frozen=True)
class Route:
    """What a request path designates, before the site checks that it exists.

    ``kind`` is one of :data:`ROUTE_KINDS`. ``category`` is a category slug
    (listing), ``page`` a 1-based page number (0 when the URL gave a bad
    one), ``article_id`` the id read from an article path (also of a
    ``print`` route: another rendering of that article), ``file`` an image
    file name (``None`` for the site banner), a static asset name, the title
    of a static ``page`` or the variant of a ``print`` route.
    """

    kind: str
    category: str | None = None
    page: int = 1
    article_id: int | None = None
    file: str | None = None


class UrlScheme(ABC):
    """How one layout family spells its URLs (paths only, root-relative).

    Subclasses set the path patterns (regular expressions without anchors)
    and the builders; :meth:`match` is shared.
    """

    #: Article path; the group ``id`` is the article's number.
    article_path: ClassVar[str]
    #: Listing path; the group ``slug`` names the category, an optional group
    #: ``page`` its page number when the page is spelt in the path.
    listing_path: ClassVar[str]
    #: Query parameter of the page number (``?page=2``), when not in the path.
    page_query: ClassVar[str | None] = None
    #: Image path; the group ``file`` is the file name.
    image_path: ClassVar[str]
    #: Do category slugs keep letter case (``Tin-tuc``) or not (``tin-tuc``)?
    slug_case: ClassVar[bool] = False
    #: Paths of the home page.
    home_paths: ClassVar[tuple[str, ...]] = ("/",)
    #: Path prefixes robots.txt disallows (the scheme's search pages live there).
    disallow: ClassVar[tuple[str, ...]] = ()
    #: Static assets: path → file name.
    static: ClassVar[Mapping[str, str]] = {}
    #: Path of the RSS feed of the latest articles (announced in every page's head).
    feed_path: ClassVar[str] = "/rss.xml"
    #: Static HTML pages ("Giới thiệu"): path → title. Served by families whose
    #: template folder has a ``page.html``.
    pages: ClassVar[Mapping[str, str]] = {}
    #: Headers the platform's server sends with every HTML page (its product
    #: header, its session cookie).
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self) -> None:
        self._article = re.compile(f"^{self.article_path}$")
        self._listing = re.compile(f"^{self.listing_path}$")
        self._image = re.compile(f"^{self.image_path}$")

    def home(self) -> str:
        return "/"

    def slug(self, category_name: str) -> str:
        """The category's slug as its listing path spells it."""
        slug = slugify(category_name)
        return slug if self.slug_case else slug.lower()

    @abstractmethod
    def listing(self, category_name: str, page: int = 1) -> str:
        """Path of page ``page`` (1-based) of a category listing."""

    @abstractmethod
    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        """Path of an article page (``category``: its category's display name,
        for the schemes that spell it in the path)."""

    @abstractmethod
    def image(self, published: datetime, file: str) -> str:
        """Path of an image file uploaded with an article published at ``published``."""

    @abstractmethod
    def banner(self) -> str:
        """Path of the site banner image."""

    @abstractmethod
    def search(self) -> str:
        """Path of the search page (disallowed by robots.txt)."""

    def page_number(self, m: re.Match[str], query: Mapping[str, Sequence[str]]) -> int:
        """The page number of a listing path ``m`` (with its parsed ``query``):
        1 when absent, 0 when not a positive number without leading zeros."""
        value: str | None = m.groupdict().get("page")
        if value is None and self.page_query:
            values = query.get(self.page_query)
            value = values[0] if values else None
        if value is None:
            return 1
        return int(value) if value.isdigit() and not value.startswith("0") else 0

    def match_more(self, path: str, query: Mapping[str, Sequence[str]],
                   categories: Mapping[str, str]) -> Route | None:
        """Routes of the scheme's own kinds of page (print copies, category
        feeds), tried before articles, images and listings. None: not one."""
        return None

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
        if path in self.static:
            return Route("static", file=self.static[path])
        if path in self.pages:
            return Route("page", file=self.pages[path])
        if route := self.match_more(path, query, categories):
            return route
        if m := self._article.match(path):
            return Route("article", article_id=int(m.group("id")))
        if m := self._image.match(path):
            return Route("image", file=m.group("file"))
        if m := self._listing.match(path):
            for key, name in categories.items():
                if self.slug(name) == m.group("slug"):
                    return Route("listing", category=key, page=self.page_number(m, query))
        return None

"""NukeViet 4 family: the news module of the open-source NukeViet CMS.

Commune and district portals run NukeViet 4.x with the ``default`` theme or
the ``egov`` theme (``nukeviet/eGovernment``). An article page is
``/vi/news/<cat>/<slug>-<id>.html``; the news block is
``div.news_column`` with ``h1.title``, the time in the first ``span.h5``
("Thứ tư - 12/03/2025 09:15", egov adds the view and comment counts in the
next ``span.h5``), the lead in ``div.hometext`` and the home image in a
``figure`` *outside* the body ``div#news-bodyhtml``, then the "File đính
kèm" list (``div.news-download-file``) and the "Tác giả:" / "Nguồn tin:"
lines (``p.h5.text-right``). Tags, rating, comments and the "Những tin mới
hơn" / "Những tin cũ hơn" lists are separate ``news_column`` panels after
the article. The savefile and print variants
(``/vi/news/savefile/<cat>/<slug>-<id>.html``, ``/vi/news/print/…``) render
``print.tpl``: ``div#print`` > ``div#content`` with ``h1``, the time as the
first ``li`` of ``ul.list-inline``, ``div#hometext``, ``div#bodytext`` and
``div#author``; the crawl keys them on the article's own URL.

``<meta name="author">`` holds the site name (``data/config/metatags.xml``
writes ``{SITE_NAME}`` there), never the writer. See docs/platforms.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule
from scraper.families import LayoutFamily
from scraper.families.links import LinkRules
from scraper.families.signals import Signal
from scraper.families.urls import Route, UrlScheme, slugify

_cls = has_class

#: The news block of an article page (both themes) and of the print/savefile page.
_BODY = "//div[@id='news-bodyhtml']"
_PANEL = f"{_BODY}/parent::div"
_PRINT = "//div[@id='print']/div[@id='content']"

PROFILE = Profile(
    name="nukeviet",
    version="2",
    hint="bodytext",
    detect=f"{_PANEL}/h1[{_cls('title')}] | {_PRINT}/h1",
    title=f"{_PANEL}/h1[{_cls('title')}] | {_PRINT}/h1",
    # The panel holding title, time, lead, home image, body, files and author
    # lines: the lead is outside #news-bodyhtml, so the body container cannot be.
    root=f"{_PANEL} | {_PRINT}",
    date=(f"({_PANEL}/div[{_cls('row')}]//span[{_cls('h5')}])[1]"
          f" | {_PRINT}/ul[{_cls('list-inline')}]/li[1]"),
    category=f"//div[{_cls('breadcrumbs-wrap')}]//li/a",
    author=f"{_BODY}/following-sibling::div/p[{_cls('text-right')}] | {_PRINT}/div[@id='author']/p",
    # Rules with a profile apply inside ``root`` only, and their paths are
    # read relative to it.
    extra_rules=(
        WidgetRule(
            name="nukeviet_tools", group="chrome",
            xpaths=(
                # schema.org copies of author, dates, publisher (hidden)
                f"//*[{_cls('d-none')}][{_cls('hidden')}]",
                # send-mail / print / save icons; egov's view and comment counts
                f"//ul[{_cls('list-inline')}][{_cls('text-right')}]",
                f"//div[{_cls('newsdetailmetatop')}]//span[{_cls('h5')}][preceding-sibling::span]",
                # print.tpl: "In ra", "Đóng cửa sổ này"
                f"//ul[{_cls('list-inline')}]/li[{_cls('hidden-print')}]",
                # the hidden enlarged copy of the home image
                "//div[@id='imgpreview']",
                f"//div[{_cls('alert')}]",
            ),
        ),
        WidgetRule(
            name="nukeviet_attachments", group="widget",
            xpaths=(f"//div[{_cls('news-download-file')}]/parent::div",),
            needs=("news-download-file",),
        ),
    ),
)

_WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")


def date_text(published: datetime) -> str:
    """``nv_date('l - d/m/Y H:i')``: ``Thứ tư - 12/03/2025 09:15``."""
    return f"{_WEEKDAYS[published.weekday()]} - {published:%d/%m/%Y %H:%M}"


class NukeVietScheme(UrlScheme):
    """The news module's rewritten URLs (language ``vi``, module ``news``).

    * home ``/`` (also ``/vi/``)
    * listing ``/vi/news/tin-tuc-su-kien/`` then ``/vi/news/tin-tuc-su-kien/page-2``
    * article ``/vi/news/tin-tuc-su-kien/ubnd-xa-lam-viec-...-123.html``; its
      print and savefile copies ``/vi/news/print/…``, ``/vi/news/savefile/…``
    * feeds ``/vi/news/rss/`` and ``/vi/news/rss/<cat>/``
    * image ``/uploads/news/2025_03/<file>``; logo ``/uploads/logo.png``
    * static page ``/vi/about/gioi-thieu.html``
    * search ``/vi/seek/`` (disallowed); stylesheets ``/themes/default/css/…``
    """

    article_path = r"/vi/news/(?P<cat>[a-z0-9-]+)/[a-z0-9-]+-(?P<id>\d{1,9})\.html"
    listing_path = r"/vi/news/(?P<slug>[a-z0-9-]+)/(?:page-(?P<page>\d{1,9}))?"
    image_path = r"/uploads/news/\d{4}_\d{2}/(?P<file>[^/]+)"
    home_paths = ("/", "/vi/")
    disallow = ("/vi/seek/",)
    static = {"/themes/default/css/nukeviet.css": "nukeviet.css",
              "/themes/default/css/news.css": "news.css"}
    feed_path = "/vi/news/rss/"
    pages = {"/vi/about/gioi-thieu.html": "Giới thiệu"}
    headers = {"Set-Cookie": "nv4c_Xa3k_sess=2f0c1e9ad4b7; path=/; HttpOnly"}

    _print = re.compile(r"^/vi/news/(?P<variant>print|savefile)(?P<article>/[a-z0-9-]+/[a-z0-9-]+"
                        r"-(?P<id>\d{1,9})\.html)$")
    _feed = re.compile(r"^/vi/news/rss/(?P<slug>[a-z0-9-]+)/$")

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/vi/news/{self.slug(category_name)}/"
        return path if page == 1 else f"{path}page-{page}"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        return f"/vi/news/{self.slug(category)}/{slugify(title, 90).lower()}-{article_id}.html"

    def image(self, published: datetime, file: str) -> str:
        return f"/uploads/news/{published.year:04d}_{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/uploads/logo.png"

    def search(self) -> str:
        return "/vi/seek/"

    def match_more(self, path: str, query: Mapping[str, Sequence[str]],
                   categories: Mapping[str, str]) -> Route | None:
        if m := self._print.match(path):
            return Route("print", article_id=int(m.group("id")), file=m.group("variant"))
        if m := self._feed.match(path):
            for key, name in categories.items():
                if self.slug(name) == m.group("slug"):
                    return Route("feed", category=key)
        return None


SCHEME = NukeVietScheme()

# ------------------------------------------------------------- link rules
# Wider than the demo's scheme: the language and the module's name vary per
# site (``/en/``, ``tin-tuc``), and sites without URL rewriting keep
# ``/index.php/`` in front.
_PREFIX = r"^https?://[^/?#]+(?:/index\.php)?/[a-z]{2}/[\w-]+/"
#: Module functions that are not categories.
_FUNCS = r"(?:savefile|print|sendmail|rss|tag|topic|author|search|groups|content)"
#: Article pages: ``/<lang>/<module>/<cat>/<slug>-<id>.html``.
ARTICLE = re.compile(_PREFIX + rf"(?!{_FUNCS}/)[\w-]+/[\w-]+-\d+\.html$")
#: The same article's print, savefile and send-mail copies: group 1 + group 2
#: is the article's own URL.
_COPY = re.compile(r"^(https?://[^/?#]+(?:/index\.php)?(?:/[a-z]{2})?(?:/[\w-]+)?)"
                   r"/(?:savefile|print|sendmail)(/[\w-]+/[\w-]+-\d+\.html)$")
#: Category listings ``/vi/news/<cat>/`` and their pages ``/vi/news/<cat>/page-2``;
#: the home page (``/``, ``/vi/``) and the module's front page ``/vi/news/``.
LISTING = re.compile(_PREFIX + rf"(?!{_FUNCS}/)[\w-]+/?(?:page-\d+/?)?$"
                     r"|^https?://[^/?#]+/(?:index\.php/?)?(?:[a-z]{2}/?)?$")
_PAGED = re.compile(r"^(https?://[^/?#]+(?:/index\.php)?/[a-z]{2}/[\w-]+/[\w-]+)/?(?:page-(\d+)/?)?$")


def _same_page(url: str) -> str:
    """The print, savefile and send-mail copies of an article are the article."""
    parts = urlsplit(url)
    m = _COPY.match(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    if m:
        return m.group(1) + m.group(2)
    return url


def _paging(url: str) -> tuple[str, int] | None:
    m = _PAGED.match(url)
    if m is None or not LISTING.match(url):
        return None
    return m.group(1).lower(), int(m.group(2) or 1)


LINKS = LinkRules(name="nukeviet", article=ARTICLE, listing=LISTING, paging=_paging,
                  same_page=_same_page)

SIGNALS = (
    Signal("generator", r"NukeViet", 5, "generator meta names NukeViet"),
    Signal("html", r"\bnv_base_siteurl\b|\bnv_module_name\b", 4,
           "NukeViet's inline script variables (nv_base_siteurl, nv_module_name)"),
    Signal("html", r"/themes/[\w-]+/css/nukeviet\.css|/assets/js/global\.js", 3,
           "NukeViet theme assets (/themes/<theme>/css/nukeviet.css, /assets/js/global.js)"),
    Signal("html", r'id="news-bodyhtml"|class="news_column', 3,
           "news module markup (div#news-bodyhtml, div.news_column)"),
    Signal("link", r"^(?:/index\.php)?/[a-z]{2}/[\w-]+/rss/", 2, "feed at /<lang>/<module>/rss/"),
    Signal("link", r"^/uploads/news/\d{4}_\d{2}/", 2, "images under /uploads/news/YYYY_MM/"),
    Signal("cookie", r"^nv\d?c_", 4, "NukeViet session cookies (nv4c_…)"),
    Signal("html", r"vinades", 4, "VINADES (NukeViet's maker) named in the page"),
    Signal("link", r"^(?:/index\.php)?(?:/[a-z]{2})?(?:/[\w-]+)?/(?:savefile|print)/[\w-]+/"
                   r"[\w-]+-\d+\.html$", 4, "a savefile/print copy of an article (NukeViet's news module)"),
    Signal("link", r"^/uploads/[\w.-]+", 1, "files under /uploads/"),
)

FAMILY = LayoutFamily(
    name="nukeviet",
    description="NukeViet 4 news module (commune portals; default and egov themes)",
    profile=PROFILE,
    links=LINKS,
    scheme=SCHEME,
    templates="nukeviet",
    date_text=date_text,
    # Minutes under the title; the hidden schema.org datePublished copy with
    # the seconds is not read (hidden elements are dropped before dates).
    page_time=lambda published: published.replace(second=0, microsecond=0),
    signals=SIGNALS,
)

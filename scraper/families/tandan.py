"""Tân Dân family: the SharePoint portals Tân Dân built for provinces and districts.

Article pages are ``/portal/Pages/YYYY-MM-DD/<slug>.aspx`` (the date may be
written ``2023-2-11``); images ``/portal/Photos/YYYY-MM-DD/<hex> (n).jpg``.
The article block holds the title ``p.tandan-p-article-news-title``, the
time ``span.tandan-span-date-publish`` ("Đăng ngày 11/02/2023 | 09:27"), the
summary ``p.tandan-p-article-news-summary`` *outside* the body, an empty
``p.tandan-p-article-main``, then the body ``div.ms-rtestate-field`` of
plain ``<p>``: each image alone in a paragraph with an empty ``alt``, its
caption in the next paragraph. Tags (``div.td-tags``), the view counter,
attachments and print/share bars follow; "Tin liên quan" is
``div.tandan-div-article-other`` after the block. See docs/platforms.md for
which of these class names come from the real page and which from public
scrapers of these portals.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule
from scraper.families import LayoutFamily
from scraper.families.links import LinkRules
from scraper.families.signals import Signal
from scraper.families.urls import UrlScheme, slugify

_cls = has_class

_BODY = f"//div[{_cls('ms-rtestate-field')}]"
#: The summary's and the body's common container.
_BLOCK = f"//p[{_cls('tandan-p-article-news-summary')}]/parent::*"

PROFILE = Profile(
    name="tandan",
    version="1",
    hint="tandan-p-article",
    detect=f"//p[{_cls('tandan-p-article-news-title')}]",
    title=f"//p[{_cls('tandan-p-article-news-title')}]",
    # The summary is outside the body container, so the block holding both is
    # the root (a page without a summary: the body's parent).
    root=f"{_BLOCK} | {_BODY}/parent::*",
    date=f"//span[{_cls('tandan-span-date-publish')}]",
    category=f"//div[{_cls('td-breadcrumb')}]//a",
    # Rules with a profile apply inside ``root`` only, paths relative to it.
    extra_rules=(
        WidgetRule(
            name="tandan_tools", group="widget",
            xpaths=(f"//div[{_cls('td-tags')}]", f"//div[{_cls('td-article-tools')}]",
                    f"//span[{_cls('tandan-span-view-count')}]",
                    f"//p[{_cls('tandan-p-article-news-view')}]",
                    f"//div[{_cls('tandan-div-article-other')}]"),
            needs=("td-tags", "td-article-tools", "tandan-span-view-count",
                   "tandan-p-article-news-view", "tandan-div-article-other"),
        ),
        WidgetRule(
            name="tandan_attachments", group="widget",
            xpaths=(f"//div[{_cls('tandan-div-attachments')}]",),
            needs=("tandan-div-attachments",),
        ),
    ),
)


class TanDanScheme(UrlScheme):
    """The Tân Dân portals' SharePoint URLs.

    * home ``/`` (also ``/portal/Pages/default.aspx``)
    * listing ``/portal/Pages/Tin-tuc-Su-kien.aspx`` then ``...aspx?PageIndex=2``
    * article ``/portal/Pages/2023-02-11/UBND-huyen-lam-viec-...-123.aspx``
    * image ``/portal/Photos/2023-02-11/<file>``; banner ``/portal/_res/img/banner.png``
    * static page ``/portal/Pages/Gioi-thieu-chung.aspx``
    * search ``/portal/_layouts/OSSSearchResults.aspx`` (disallowed);
      stylesheet ``/portal/_res/css/tandan.portal.css``
    """

    article_path = r"/portal/Pages/\d{4}-\d{2}-\d{2}/[A-Za-z0-9-]+-(?P<id>\d{1,9})\.aspx"
    listing_path = r"/portal/Pages/(?P<slug>[A-Za-z0-9-]+)\.aspx"
    page_query = "PageIndex"
    image_path = r"/portal/Photos/\d{4}-\d{2}-\d{2}/(?P<file>[^/]+)"
    slug_case = True
    home_paths = ("/", "/portal", "/portal/", "/portal/Pages/default.aspx")
    disallow = ("/portal/_layouts/",)
    static = {"/portal/_res/css/tandan.portal.css": "tandan.portal.css"}
    pages = {"/portal/Pages/Gioi-thieu-chung.aspx": "Giới thiệu chung"}
    headers = {"MicrosoftSharePointTeamServices": "15.0.0.4797",
               "Set-Cookie": "ASP.NET_SessionId=qv1d4b2m0x3k5r7t9w2y4z6a; path=/; HttpOnly"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/portal/Pages/{self.slug(category_name)}.aspx"
        return path if page == 1 else f"{path}?PageIndex={page}"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        return f"/portal/Pages/{published:%Y-%m-%d}/{slugify(title, 90)}-{article_id}.aspx"

    def image(self, published: datetime, file: str) -> str:
        return f"/portal/Photos/{published:%Y-%m-%d}/{file}"

    def banner(self) -> str:
        return "/portal/_res/img/banner.png"

    def search(self) -> str:
        return "/portal/_layouts/OSSSearchResults.aspx"


SCHEME = TanDanScheme()

# ------------------------------------------------------------- link rules
# Wider than the demo's scheme: some portals put the site under another root
# than ``/portal``, write the date unpadded, and give no numeric id.
_SITE = r"^https?://[^/?#]+/[\w-]+/Pages/"
#: Article pages: ``/portal/Pages/2023-02-11/<slug>.aspx``.
ARTICLE = re.compile(_SITE + r"\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx(?:\?|$)", re.I)
#: Category listings ``/portal/Pages/<Category>.aspx`` and their pages
#: ``?PageIndex=2``; the home page.
LISTING = re.compile(_SITE + r"[^/?#]+\.aspx(?:\?PageIndex=\d+)?$"
                     r"|^https?://[^/?#]+/(?:[\w-]+/?)?$", re.I)
_PAGED = re.compile(r"^(https?://[^/?#]+/[\w-]+/Pages/(?!default\.aspx)[^/?#]+\.aspx)"
                    r"(?:\?PageIndex=(\d+))?$", re.I)
#: Query parameters that never change an article page.
SAME_PAGE_PARAMS = frozenset({"source", "id", "rootfolder", "ref"})


def _same_page(url: str) -> str:
    """An article is one page whatever SharePoint's navigation parameters say."""
    parts = urlsplit(url)
    if not parts.query or not ARTICLE.match(url):
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in SAME_PAGE_PARAMS]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))


def _paging(url: str) -> tuple[str, int] | None:
    m = _PAGED.match(url)
    if not m:
        return None
    return m.group(1).lower(), int(m.group(2) or 1)


LINKS = LinkRules(name="tandan", article=ARTICLE, listing=LISTING, paging=_paging,
                  same_page=_same_page)

SIGNALS = (
    Signal("html", r"class=\"[^\"]*\btandan-(?:p|div|span)-", 5,
           "Tân Dân class names (tandan-p-article-…, tandan-div-…)"),
    Signal("html", r"\bTD-ul-module-", 3, "Tân Dân menu class names (TD-ul-module-…)"),
    Signal("generator", r"Microsoft SharePoint", 2, "generator meta names Microsoft SharePoint"),
    Signal("header", r"^MicrosoftSharePointTeamServices:", 2,
           "MicrosoftSharePointTeamServices header (a SharePoint server)"),
    Signal("html", r"_spPageContextInfo", 1, "SharePoint page context (_spPageContextInfo)"),
    Signal("html", r"ms-rtestate-field", 1, "SharePoint rich-text field (ms-rtestate-field)"),
    Signal("link", r"^/[\w-]+/Photos/\d{4}-\d{1,2}-\d{1,2}/", 3,
           "images under /portal/Photos/YYYY-MM-DD/"),
    Signal("link", r"^/[\w-]+/Pages/\d{4}-\d{1,2}-\d{1,2}/[^/?#]+-\d+\.aspx", 2,
           "articles at /portal/Pages/YYYY-MM-DD/<slug>-<id>.aspx"),
    Signal("cookie", r"^ASP\.NET_SessionId$", 1, "ASP.NET session cookie"),
)

FAMILY = LayoutFamily(
    name="tandan",
    description="Tân Dân SharePoint portals (summary outside the body, plain-paragraph captions)",
    profile=PROFILE,
    links=LINKS,
    scheme=SCHEME,
    templates="tandan",
    date_text=lambda published: published.strftime("Đăng ngày %d/%m/%Y | %H:%M"),
    page_time=lambda published: published.replace(second=0, microsecond=0),
    signals=SIGNALS,
)

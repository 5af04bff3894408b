"""Liferay family: provincial portals on Liferay Portal (6.x) hosting district sites.

A province runs one Liferay instance and each district or commune is a site
under ``/web/<site>/``. News pages are asset publisher portlets
(``portlet-boundary_101_``); one article in full is
``/web/<site>/<page>/-/asset_publisher/<instance>/content/<url-title>``: the
title in ``liferay-ui:header`` (``div.taglib-header`` > ``h3.header-title``)
before ``div.asset-full-content``, which holds the print action
(``asset-user-actions``), ``div.asset-content`` with the web content
rendered by its template inside ``div.journal-content-article``, social
bookmarks, ratings, related assets and comments, then ``div.asset-metadata``
whose ``span.metadata-publish-date`` is the publication day (date only) and
``span.metadata-view-count`` the view count. The time of day, lead and
signature, when shown, come from the site's own web content template. Other
asset publishers on the page ("Tin khác", "Tin mới nhất") are separate
portlets. See docs/platforms.md.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule
from scraper.families import LayoutFamily
from scraper.families.links import LinkRules
from scraper.families.signals import Signal
from scraper.families.urls import UrlScheme, slugify

_cls = has_class

_FULL = f"//div[{_cls('asset-full-content')}]"

PROFILE = Profile(
    name="liferay",
    version="1",
    hint="asset-full-content",
    detect=f"{_FULL}/preceding-sibling::div[{_cls('taglib-header')}]/h3[{_cls('header-title')}]",
    title=f"{_FULL}/preceding-sibling::div[{_cls('taglib-header')}]/h3[{_cls('header-title')}]",
    root=f"{_FULL}/div[{_cls('asset-content')}]/div[{_cls('journal-content-article')}]",
    # A dateline the site's web content template prints (with the time), else
    # the asset's publish date (the day only).
    date=(f"{_FULL}/div[{_cls('asset-content')}]/div[{_cls('journal-content-article')}]"
          "//*[contains(@class, 'date') or contains(@class, 'Date')]"
          f" | {_FULL}/div[{_cls('asset-metadata')}]/span[{_cls('metadata-publish-date')}]"),
    category=f"//ul[{_cls('breadcrumb')}]//a",
    # Rules with a profile apply inside ``root`` only, paths relative to it.
    extra_rules=(
        WidgetRule(name="liferay_tags", group="widget",
                   xpaths=("//p[starts-with(normalize-space(.), 'Từ khóa')]",
                           "//div[starts-with(normalize-space(.), 'Từ khóa')][not(.//p)]",
                           f"//*[{_cls('taglib-asset-tags-summary')}]")),
        # A list of attached documents (Documents and Media links) under its label.
        WidgetRule(name="liferay_attachments", group="widget",
                   xpaths=("//*[starts-with(normalize-space(.), 'Tài liệu đính kèm')"
                           " or starts-with(normalize-space(.), 'File đính kèm')][.//a]",)),
    ),
)

_WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
#: The demo's district site and its asset publishers' instance ids.
SITE = "trieuson"
_LIST = "101_INSTANCE_nEwSlIsT"
_DETAIL = "nEwSdEtAiL"
#: The demo site's Documents and Media group.
_GROUP = 20931


def date_text(published: datetime) -> str:
    """The dateline of the site's web content template: ``Thứ hai, 22/01/2024 - 10:35``."""
    return f"{_WEEKDAYS[published.weekday()]}, {published:%d/%m/%Y - %H:%M}"


class LiferayScheme(UrlScheme):
    """Liferay 6.2 friendly URLs of a district site hosted by its province.

    * home ``/`` (also ``/web/trieuson``)
    * listing ``/web/trieuson/tin-tuc-su-kien`` then
      ``...?p_p_id=101_INSTANCE_nEwSlIsT&p_p_lifecycle=0&_101_INSTANCE_nEwSlIsT_cur=2``
    * article ``/web/trieuson/tin-tuc-su-kien/-/asset_publisher/nEwSdEtAiL/content/<slug>-123``
    * image ``/documents/20931/0/<file>/<uuid>``; logo ``/image/layout_set_logo``
    * static page ``/web/trieuson/gioi-thieu``
    * search ``/c/portal/search`` (disallowed); stylesheet ``/site-theme/css/main.css``
    """

    article_path = (rf"/web/{SITE}/(?P<cat>[a-z0-9-]+)/-/asset_publisher/{_DETAIL}/content/"
                    r"[a-z0-9-]+-(?P<id>\d{1,9})")
    listing_path = rf"/web/{SITE}/(?P<slug>[a-z0-9-]+)"
    page_query = f"_{_LIST}_cur"
    image_path = rf"/documents/{_GROUP}/0/(?P<file>[^/]+)/[0-9a-f-]{{36}}"
    home_paths = ("/", f"/web/{SITE}", f"/web/{SITE}/trang-chu")
    disallow = ("/c/",)
    static = {"/site-theme/css/main.css": "main.css"}
    pages = {f"/web/{SITE}/gioi-thieu": "Giới thiệu"}
    headers = {"Liferay-Portal": "Liferay Portal Community Edition 6.2 CE GA6 (Newton / Build 6205)",
               "Set-Cookie": "GUEST_LANGUAGE_ID=vi_VN; Path=/"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/web/{SITE}/{self.slug(category_name)}"
        if page == 1:
            return path
        return f"{path}?p_p_id={_LIST}&p_p_lifecycle=0&_{_LIST}_cur={page}"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        return (f"/web/{SITE}/{self.slug(category)}/-/asset_publisher/{_DETAIL}/content/"
                f"{slugify(title, 90).lower()}-{article_id}")

    def image(self, published: datetime, file: str) -> str:
        return f"/documents/{_GROUP}/0/{file}/{uuid.uuid5(uuid.NAMESPACE_URL, file)}"

    def banner(self) -> str:
        return "/image/layout_set_logo"

    def search(self) -> str:
        return "/c/portal/search"


SCHEME = LiferayScheme()

# ------------------------------------------------------------- link rules
# Any site of the province's portal, any page, any asset publisher instance.
_HOST = r"^https?://[^/?#]+"
#: One asset in full: ``/web/<site>/<page>/-/asset_publisher/<instance>/content/<url-title>``;
#: journal articles by id: ``…/-/journal_content/56_INSTANCE_<id>/<group>/<article-id>``.
ARTICLE = re.compile(
    _HOST + r"/web/[\w.-]+/(?:[\w.-]+/)*-/(?:asset_publisher/\w+/content/[^/?#]+"
            r"|journal_content/56(?:_INSTANCE_\w+)?/\d+/\d+)(?:\?|$)")
#: Site pages (listings and static pages alike): ``/web/<site>/<page>[/<subpage>]``
#: with an asset publisher's page number; the portal's home page.
LISTING = re.compile(_HOST + r"(?:/web/[\w.-]+(?:/(?!-(?:/|$))[\w.-]+)*/?(?:\?[^#]*)?|/?)$")
_CUR = re.compile(r"^_101_INSTANCE_\w+?_cur$")
#: Query parameters that never change an asset's page: back links and portlet state.
SAME_PAGE_PARAMS = frozenset({"redirect", "inheritRedirect", "p_p_lifecycle", "p_p_state",
                              "p_p_mode", "p_p_col_id", "p_p_col_pos", "p_p_col_count",
                              "p_p_id"})


def _same_page(url: str) -> str:
    """An asset shown in full is one page whatever back link and portlet state it carries."""
    parts = urlsplit(url)
    if not parts.query or not ARTICLE.match(url):
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in SAME_PAGE_PARAMS and not k.startswith("_101_INSTANCE_")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))


def _paging(url: str) -> tuple[str, int] | None:
    if not LISTING.match(url) or ARTICLE.match(url):
        return None
    parts = urlsplit(url)
    if not parts.path.startswith("/web/"):
        return None
    page = 1
    for key, value in parse_qsl(parts.query):
        if _CUR.match(key):
            if not value.isdigit():
                return None
            page = int(value)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/').lower()}", page


LINKS = LinkRules(name="liferay", article=ARTICLE, listing=LISTING, paging=_paging,
                  same_page=_same_page)

SIGNALS = (
    Signal("header", r"^Liferay-Portal:", 5, "Liferay-Portal header"),
    Signal("html", r"\bvar Liferay\s*=|\bLiferay\.authToken\b|/html/js/barebone\.jsp", 5,
           "Liferay's scripts (var Liferay, Liferay.authToken, /html/js/barebone.jsp)"),
    Signal("html", r"\bportlet-boundary_\w+_", 3, "Liferay portlet boundaries (portlet-boundary_…)"),
    Signal("html", r"Powered by Liferay|Được cung cấp bởi\s*(?:<[^>]+>\s*)?Liferay", 3,
           "footer 'Powered by Liferay'"),
    Signal("link", r"^/web/[\w.-]+/(?:[\w.-]+/)*-/asset_publisher/", 3,
           "assets at /web/<site>/…/-/asset_publisher/…"),
    Signal("link", r"^/documents/\d+/\d+/", 2, "documents at /documents/<group>/<folder>/"),
    Signal("cookie", r"^(?:GUEST_LANGUAGE_ID|COOKIE_SUPPORT|LFR_SESSION_STATE_\d+)$", 3,
           "Liferay cookies (GUEST_LANGUAGE_ID, COOKIE_SUPPORT)"),
)

FAMILY = LayoutFamily(
    name="liferay",
    description="Liferay Portal asset publisher (province portals hosting /web/<site> districts)",
    profile=PROFILE,
    links=LINKS,
    scheme=SCHEME,
    templates="liferay",
    date_text=date_text,
    page_time=lambda published: published.replace(second=0, microsecond=0),
    signals=SIGNALS,
)

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

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule

_cls = has_class

_FULL = f"//div[{_cls('asset-full-content')}]"

LIFERAY = Profile(
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

# ------------------------------------------------------------- link rules
#: One asset in full: ``/web/<site>/<page>/-/asset_publisher/<instance>/content/<url-title>``
#: (group 1 is the url title); journal articles by id: ``…/-/journal_content/56_INSTANCE_<id>/<group>/<article-id>``.
ARTICLE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/web/[\w.-]+/(?:[\w.-]+/)*-/asset_publisher/\w+/content/([^/?#]+)$"),
    re.compile(r"^/web/[\w.-]+/(?:[\w.-]+/)*-/journal_content/56(?:_INSTANCE_\w+)?/\d+/(\d+)$"),
)
#: Site pages (listings and static pages alike): ``/web/<site>/<page>[/<subpage>]``
#: (a ``/-/`` segment starts a portlet's own path: not a site page).
LISTING_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/web/[\w.-]+(?:/(?!-(?:/|$))[\w.-]+)*/?$"),
)
#: Paging of an asset publisher: ``?p_p_id=101_INSTANCE_<id>&…&_101_INSTANCE_<id>_cur=2``.
PAGING = re.compile(r"[?&]_101_INSTANCE_\w+?_cur=(\d+)")
#: Query parameters that never change the page: back links and portlet state.
SAME_PAGE_PARAMS: tuple[str, ...] = ("redirect", "inheritRedirect", "p_p_lifecycle", "p_p_state",
                                     "p_p_mode", "p_p_col_id", "p_p_col_pos", "p_p_col_count",
                                     "p_r_p_564233524_resetCur")
#: Documents and images: ``/documents/<group>/<folder>/<title>/<uuid>``.
DOCUMENT_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/documents/\d+/\d+/[^/]+(?:/[0-9a-f-]{36})?"),
)
#: Never crawled: sign-in, control panel, portlet actions.
DISALLOW_PREFIXES: tuple[str, ...] = ("/c/portal/", "/group/", "/web/guest/home?p_p_id=58")

#: Evidence that a site runs Liferay (for platform detection).
DETECT_EVIDENCE: tuple[tuple[str, str], ...] = (
    ("html", "var Liferay = …, themeDisplay, /html/js/barebone.jsp, Liferay.authToken"),
    ("html", "class names portlet-boundary portlet-boundary_101_ / _56_, lfr-…"),
    ("url", "/web/<site>/…, /-/asset_publisher/<id>/content/<title>, /documents/<group>/"),
    ("class", "asset-full-content, journal-content-article, taglib-header, metadata-view-count"),
    ("footer", "'Powered by Liferay' (localised 'Được cung cấp bởi Liferay')"),
)

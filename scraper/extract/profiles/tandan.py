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

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule

_cls = has_class

_BODY = f"//div[{_cls('ms-rtestate-field')}]"
#: The summary's and the body's common container.
_BLOCK = f"//p[{_cls('tandan-p-article-news-summary')}]/parent::*"

TANDAN = Profile(
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

# ------------------------------------------------------------- link rules
#: Article pages: ``/portal/Pages/2023-02-11/<slug>.aspx`` (some portals put
#: the site under another root than ``/portal``); no numeric id is guaranteed,
#: so group 1 is the whole date-and-slug part.
ARTICLE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/[\w-]+/Pages/(\d{4}-\d{1,2}-\d{1,2}/[^/]+)\.aspx$", re.I),
)
#: Category listings: ``/portal/Pages/<Category>.aspx`` (one segment) and
#: their pages ``?PageIndex=2``; ``default.aspx`` is the home page.
LISTING_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/[\w-]+/Pages/(?!default\.aspx$)[^/]+\.aspx$", re.I),
)
#: Paging: a query parameter.
PAGING = re.compile(r"[?&]PageIndex=(\d+)", re.I)
#: Query parameters that never change the page.
SAME_PAGE_PARAMS: tuple[str, ...] = ("Source", "ID", "RootFolder")
#: Images: ``/portal/Photos/YYYY-MM-DD/<name>``.
IMAGE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/[\w-]+/Photos/\d{4}-\d{1,2}-\d{1,2}/", re.I),
)
#: Never crawled: SharePoint's own pages and search.
DISALLOW_PREFIXES: tuple[str, ...] = ("/_layouts/", "/portal/_layouts/", "/_vti_bin/",
                                      "/portal/Pages/Tim-kiem.aspx")

#: Evidence that a site is a Tân Dân SharePoint portal (for platform detection).
DETECT_EVIDENCE: tuple[tuple[str, str], ...] = (
    ("meta", "GENERATOR content 'Microsoft SharePoint'"),
    ("html", "_spPageContextInfo with webServerRelativeUrl '/portal'"),
    ("url", "/portal/Pages/YYYY-MM-DD/<slug>.aspx, /portal/Photos/YYYY-MM-DD/"),
    ("class", "tandan-p-article-news-title, tandan-p-article-news-summary, ms-rtestate-field,"
              " tandan-div-article-other"),
)

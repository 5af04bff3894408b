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
``div#author``.

``<meta name="author">`` holds the site name (``data/config/metatags.xml``
writes ``{SITE_NAME}`` there), never the writer. See docs/platforms.md.
"""

from __future__ import annotations

import re

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule

_cls = has_class

#: The news block of an article page (both themes) and of the print/savefile page.
_BODY = "//div[@id='news-bodyhtml']"
_PANEL = f"{_BODY}/parent::div"
_PRINT = "//div[@id='print']/div[@id='content']"

NUKEVIET = Profile(
    name="nukeviet",
    version="1",
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
                # the "Nguồn tin:" (source) line under the body: metadata, and
                # the shared byline parser does not read its label
                "//p[strong[starts-with(normalize-space(.), 'Nguồn tin')]]",
            ),
        ),
        WidgetRule(
            name="nukeviet_attachments", group="widget",
            xpaths=(f"//div[{_cls('news-download-file')}]/parent::div",),
            needs=("news-download-file",),
        ),
    ),
)

# ------------------------------------------------------------- link rules
#: Article pages: ``/<lang>/news/<cat>/<slug>-<id>.html`` (the ``news``
#: module may be renamed, e.g. ``tin-tuc``); group 1 is the article id.
ARTICLE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/(?:index\.php/)?[a-z]{2}/[\w-]+/(?!(?:savefile|print|sendmail|rss|tag|topic|"
               r"author|search|groups)/)[\w-]+/[\w-]+-(\d+)\.html$"),
)
#: The same article's print, savefile and send-mail variants (never followed:
#: they duplicate the article page).
DUPLICATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/(?:index\.php/)?[a-z]{2}/[\w-]+/(?:savefile|print|sendmail)/[\w-]+/[\w-]+-\d+\.html$"),
)
#: Category listings ``/vi/news/<cat>/`` and their pages ``/vi/news/<cat>/page-2``.
LISTING_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/(?:index\.php/)?[a-z]{2}/[\w-]+/[\w-]+/?(?:page-\d+/?)?$"),
)
#: Paging: the page number is a path segment.
PAGING = re.compile(r"/page-(\d+)/?$")
#: Query parameters that never change the page (none in NukeViet's rewritten URLs).
SAME_PAGE_PARAMS: tuple[str, ...] = ()
#: Feeds: ``/vi/news/rss/`` and one per category ``/vi/news/rss/<cat>/``.
FEED_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/(?:index\.php/)?[a-z]{2}/[\w-]+/rss/(?:[\w-]+/?)?$"),
)
#: Static pages of the ``page`` module (installed as ``about``): ``/vi/about/<slug>.html``.
STATIC_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/(?:index\.php/)?[a-z]{2}/about/[\w-]+\.html$"),
)
#: Never crawled: search, tags, user and admin functions.
DISALLOW_PREFIXES: tuple[str, ...] = ("/vi/seek/", "/vi/users/", "/admin/", "/vi/news/search/")

#: Evidence that a site runs NukeViet (for platform detection).
DETECT_EVIDENCE: tuple[tuple[str, str], ...] = (
    ("meta", "generator content 'NukeViet v4.x' (sites may overwrite it)"),
    ("html", "nv_base_siteurl / nv_module_name in an inline script"),
    ("html", "/themes/<theme>/css/nukeviet.css or /assets/js/global.js"),
    ("url", "/vi/news/<cat>/<slug>-<id>.html, /vi/news/rss/"),
    ("class", "div#news-bodyhtml.bodytext, div.hometext, div.news_column"),
)

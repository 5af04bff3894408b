"""How each layout family lays out its URLs: which links are articles,
which are listings, which to leave alone, and which spellings of one URL
are the same page. Layouts are code; portals are data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

#: Links no archive crawl follows: files that are not pages, and actions.
_SKIP = re.compile(
    r"\.(?:jpe?g|png|gif|bmp|webp|svg|ico|css|js|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp[34]|"
    r"avi|wmv|flv|mov)(?:\?|$)|^mailto:|^javascript:|^tel:|/login|/dang-nhap|"
    r"[?&](?:print|share)=",
    re.I,
)


def _identity(url: str) -> str:
    return url


@dataclass(frozen=True)
class LinkRules:
    name: str
    #: URL pattern of article pages; None: every page may be an article.
    article: re.Pattern[str] | None = None
    #: URL pattern of listing pages (categories and their pagination).
    listing: re.Pattern[str] | None = None
    #: ``url -> (listing key, page number)`` for a listing page, else None.
    #: Lets an incremental crawl walk a listing page by page, newest first.
    paging: Callable[[str], tuple[str, int] | None] | None = None
    #: Maps the other spellings of a page's URL (query-string variants,
    #: category paths) to the one the archive keys it on. Applied after
    #: :func:`scraper.extract.urls.canonicalize_url`.
    same_page: Callable[[str], str] = _identity

    def classify(self, url: str) -> str:
        """``article``, ``listing``, ``page`` (may be an article), ``other`` or ``skip``."""
        if _SKIP.search(url):
            return "skip"
        if self.article is not None and self.article.search(url):
            return "article"
        if self.listing is not None and self.listing.search(url):
            return "listing"
        # Unknown pages of a known layout are still fetched (robots.txt decides
        # what is off limits) but never archived as articles.
        return "page" if self.article is None else "other"

    def listing_page(self, url: str) -> tuple[str, int] | None:
        """``(listing key, page number)`` of a listing URL (None: not known)."""
        return self.paging(url) if self.paging is not None else None


# ------------------------------------------------------------------ thanhhoa
_TH_ARTICLE_PATH = re.compile(r"^(/portal/Pages/)(?:[A-Za-z0-9-]+/)?(\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx)$",
                              re.I)
_TH_LISTING = re.compile(r"^(https?://[^/]+/portal/Pages/[^/?#]+\.aspx)(?:\?Page=(\d+))?$", re.I)


def _thanhhoa_same_page(url: str) -> str:
    """SharePoint serves an article under ``/portal/Pages/<date>/<slug>.aspx``,
    with any query string, and under ``/portal/Pages/<Category>/<date>/<slug>.aspx``:
    all are one page, keyed on the first spelling."""
    parts = urlsplit(url)
    m = _TH_ARTICLE_PATH.match(parts.path)
    if m:
        return urlunsplit((parts.scheme, parts.netloc, m.group(1) + m.group(2), "", ""))
    return url


def _thanhhoa_paging(url: str) -> tuple[str, int] | None:
    m = _TH_LISTING.match(url)
    if not m:
        return None
    return m.group(1).lower(), int(m.group(2) or 1)


THANHHOA = LinkRules(
    name="thanhhoa",
    article=re.compile(r"/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx$", re.I),
    listing=re.compile(r"/portal/Pages/[^/?#]+\.aspx(?:\?Page=\d+)?$|^https?://[^/]+/?$", re.I),
    paging=_thanhhoa_paging,
    same_page=_thanhhoa_same_page,
)

GENERIC = LinkRules(name="generic")

LINK_RULES: dict[str, LinkRules] = {r.name: r for r in (THANHHOA, GENERIC)}


def rules_for(layout: str) -> LinkRules:
    return LINK_RULES.get(layout, GENERIC)

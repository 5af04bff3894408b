"""Link rules: how a crawl reads a family's URLs — which links are articles,
which are listings, which to leave alone, and which spellings of one URL are
the same page.

A family declares its :class:`LinkRules` in its own module; a family with a
URL scheme of regular shape gets them from :func:`rules_from_scheme`, so the
pattern the demo builds its URLs by is the one the crawl recognises them by.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from scraper.families.urls import UrlScheme

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


#: The rules of a portal whose layout nobody declared: every page may be an
#: article (the spider's discovery and the page's shape decide).
GENERIC = LinkRules(name="generic")

_HOST = r"^https?://[^/?#]+"


def rules_from_scheme(name: str, scheme: UrlScheme) -> LinkRules:
    """Link rules that recognise exactly what ``scheme`` builds: its
    ``article_path`` is an article, its ``listing_path`` (with the page in the
    path or in ``?<page_query>=N``) and its home paths are listings."""
    homes = "|".join(re.escape(p) for p in scheme.home_paths)
    page = rf"(?:\?{re.escape(scheme.page_query)}=\d+)?" if scheme.page_query else ""
    listing_path = re.compile(f"^{scheme.listing_path}$")

    def paging(url: str) -> tuple[str, int] | None:
        parts = urlsplit(url)
        m = listing_path.match(parts.path)
        if m is None:
            return None
        number = scheme.page_number(m, parse_qs(parts.query))
        if number < 1:
            return None
        return f"{parts.netloc.lower()} {m.group('slug').lower()}", number

    return LinkRules(
        name=name,
        article=re.compile(f"{_HOST}{scheme.article_path}$"),
        listing=re.compile(f"{_HOST}(?:{scheme.listing_path}{page}|{homes})?$"),
        paging=paging,
    )

"""How each layout family lays out its URLs: which links are articles,
which are listings, which to leave alone. Layouts are code; portals are data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Links no archive crawl follows: files that are not pages, and actions.
_SKIP = re.compile(
    r"\.(?:jpe?g|png|gif|bmp|webp|svg|ico|css|js|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp[34]|"
    r"avi|wmv|flv|mov)(?:\?|$)|^mailto:|^javascript:|^tel:|/login|/dang-nhap|"
    r"[?&](?:print|share)=",
    re.I,
)


@dataclass(frozen=True)
class LinkRules:
    name: str
    #: URL pattern of article pages; None: every page may be an article.
    article: re.Pattern[str] | None = None
    #: URL pattern of listing pages (categories and their pagination).
    listing: re.Pattern[str] | None = None

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


THANHHOA = LinkRules(
    name="thanhhoa",
    article=re.compile(r"/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx$", re.I),
    listing=re.compile(r"/portal/Pages/[^/?#]+\.aspx(?:\?Page=\d+)?$|^https?://[^/]+/?$", re.I),
)

GENERIC = LinkRules(name="generic")

LINK_RULES: dict[str, LinkRules] = {r.name: r for r in (THANHHOA, GENERIC)}


def rules_for(layout: str) -> LinkRules:
    return LINK_RULES.get(layout, GENERIC)

"""Soft 404s: a deleted article that the portal answers with status 200.

Two signs (the comparisons are :mod:`scraper.extract.notfound`'s):

* **the probe**: before its revisits, the crawl fetches one article URL that
  cannot exist (:func:`probe_url`: a revisited URL with its last number
  replaced). A 404 there is the honest answer; a page with status 200 is
  the portal's not-found page, and a revisited page that looks the same
  (word trigrams) is gone;
* **the notice**: the page's title or first heading says the article does
  not exist.

No Scrapy here: the spider makes the requests and hands the bodies over.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scraper.extract.notfound import SAME_PAGE, not_found_notice, page_signature, similarity

#: The number a probe puts in an article URL (no portal has that many articles).
PROBE_ID = "987654321"
_DIGITS = re.compile(r"\d+")


def probe_url(like: str) -> str:
    """An article URL that cannot exist, shaped like ``like``: its last number
    replaced by :data:`PROBE_ID` (or the id appended, when it has none)."""
    parts = urlsplit(like)
    numbers = list(_DIGITS.finditer(parts.path))
    if numbers:
        last = numbers[-1]
        path = parts.path[:last.start()] + PROBE_ID + parts.path[last.end():]
    else:
        stem, dot, ext = parts.path.rpartition(".")
        path = f"{stem}-{PROBE_ID}.{ext}" if dot and "/" not in ext else \
            parts.path.rstrip("/") + f"/{PROBE_ID}"
    return parts._replace(path=path, query="", fragment="").geturl()


class Soft404Detector:
    """Tells a revisited page (status 200) that is the portal's not-found page."""

    def __init__(self) -> None:
        #: Signature of the page served for the probe URL, when it came with status 200.
        self.probe_page: frozenset[int] | None = None

    def learn(self, status: int, body: bytes) -> None:
        """The probe's answer (an HTML page)."""
        if status == 200:
            self.probe_page = page_signature(body)

    def is_soft_404(self, body: bytes) -> bool:
        if self.probe_page is not None and \
                similarity(page_signature(body), self.probe_page) >= SAME_PAGE:
            return True
        return not_found_notice(body) is not None


__all__ = ["PROBE_ID", "Soft404Detector", "probe_url"]

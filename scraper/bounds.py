"""Rules that end every crawl, whatever the portal serves (no Scrapy here).

A crawl of an unknown portal meets traps: calendars that link the next day
for ever, pagers past the last page, relative links that grow the path
(``thu-muc/con/con/con/…``), redirect chains, session ids. The spider's
stale-branch rule (``PORTAL_ARCHIVE_TRAP_PAGES``) stops a branch that shows
nothing new; these rules are the backstop that needs no knowledge of the
portal at all, in the spirit of Heritrix's decide rules
(``TooManyHopsDecideRule``, ``PathologicalPathDecideRule``,
``TooManyPathSegmentsDecideRule``) and of a per-job URL budget:

* a page budget: at most ``max_pages`` distinct URLs are scheduled in one run;
* a depth limit: at most ``max_depth`` links away from the start page;
* a path loop: one path segment repeated ``max_repeat`` times or more in a
  row, any segment more than ``max_repeat`` times, or more than
  ``max_segments`` segments;
* only ``http`` and ``https`` links.

:meth:`CrawlBounds.check` answers the reason a URL is cut (the name of its
counter, ``cut/<reason>`` in the run's stats) or ``None``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

#: Default page budget of one run of one portal (distinct URLs scheduled).
DEFAULT_MAX_PAGES = 200_000
#: Default depth limit (links from the start page): old portals' listings run to
#: hundreds of pages, each linking the next few.
DEFAULT_MAX_DEPTH = 500
#: A segment met this many times (in a row or in all) makes a path a loop.
DEFAULT_MAX_REPEAT = 3
DEFAULT_MAX_SEGMENTS = 25
#: Distinct URLs of one shape (path and query parameter names) that still count
#: as news for the stale-branch rule (a calendar: one shape, a URL a day).
DEFAULT_SHAPE_PAGES = 200

CUT_REASONS = ("budget", "depth", "path_loop", "scheme", "redirect_chain")


def path_loop(url: str, max_repeat: int = DEFAULT_MAX_REPEAT,
              max_segments: int = DEFAULT_MAX_SEGMENTS) -> bool:
    """Does the path of ``url`` look like a relative-link loop?"""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) > max_segments:
        return True
    run = 1
    for before, here in zip(segments, segments[1:], strict=False):
        run = run + 1 if here == before else 1
        if run >= max_repeat:
            return True
    return any(n > max_repeat for n in Counter(segments).values())


def url_shape(url: str) -> str:
    """A URL without its query values: ``/lich.aspx?ngay=`` for every day of a calendar."""
    parts = urlsplit(url)
    names = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return parts.path + ("?" + "&".join(n + "=" for n in names) if names else "")


@dataclass
class CrawlBounds:
    """The limits of one crawl run, and what they cut."""

    max_pages: int = DEFAULT_MAX_PAGES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_repeat: int = DEFAULT_MAX_REPEAT
    max_segments: int = DEFAULT_MAX_SEGMENTS
    scheduled: int = 0
    cuts: Counter[str] = field(default_factory=Counter)

    def check(self, url: str, depth: int = 0, *, counted: bool = True) -> str | None:
        """Why ``url`` (found ``depth`` links from the start) is not followed, or None.

        ``counted``: a URL the run has not scheduled yet (it uses the budget).
        """
        reason = None
        if urlsplit(url).scheme not in ("http", "https"):
            reason = "scheme"
        elif self.max_depth and depth > self.max_depth:
            reason = "depth"
        elif path_loop(url, self.max_repeat, self.max_segments):
            reason = "path_loop"
        elif counted and self.max_pages and self.scheduled >= self.max_pages:
            reason = "budget"
        if reason is not None:
            self.cuts[reason] += 1
            return reason
        if counted:
            self.scheduled += 1
        return None


@dataclass
class ShapeCounter:
    """How many distinct URLs of each shape (:func:`url_shape`) a crawl has met."""

    limit: int = DEFAULT_SHAPE_PAGES
    counts: Counter[str] = field(default_factory=Counter)

    def news(self, url: str) -> bool:
        """Count ``url`` (met for the first time); may it still count as news?"""
        shape = url_shape(url)
        self.counts[shape] += 1
        return self.counts[shape] <= self.limit

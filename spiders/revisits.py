"""Revisits: which archived articles a crawl fetches again, and what it found.

:class:`RevisitPlan` reads the archive when the crawl starts: the keys of
every archived URL of the portal (an incremental or resumed crawl does not
fetch them again from links), the revisit budget of an incremental crawl
(the live articles seen longest ago, :func:`scraper.crawlstate.revisit_budget`),
and for a full crawl every archived URL. :class:`RevisitLedger` keeps the
verdicts (gone, moved) and writes them to the archive when the crawl
closes. No Scrapy here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from archive.store import Archive
from scraper.crawlstate import CrawlPlan, revisit_budget
from scraper.fpset import FingerprintSet


def url_key(url: str) -> int:
    """A 64-bit key per URL instead of the string (SipHash, this process only)."""
    return hash(url) & 0xFFFF_FFFF_FFFF_FFFF


@dataclass
class RevisitPlan:
    """What the archive tells a crawl when it starts."""

    #: Keys of the archived URLs of the portal.
    known: FingerprintSet = field(default_factory=FingerprintSet)
    #: The incremental crawl's revisits: live articles seen longest ago.
    revisits: list[str] = field(default_factory=list)
    #: How many articles the budget allowed.
    budget: int = 0

    @classmethod
    def read(cls, archive: Archive | None, portal_id: str, plan: CrawlPlan,
             revisit_setting: Any, run_id: int = 0) -> RevisitPlan:
        """Read the archive (none yet: nothing known); record the plan with the run."""
        if archive is None:
            return cls()
        known = FingerprintSet(url_key(u) for u in archive.known_urls(portal_id))
        budget, revisits = 0, []
        if plan.mode == "incremental":
            budget = revisit_budget(revisit_setting, archive.count_live(portal_id))
            revisits = archive.least_recently_seen(portal_id, budget)
        if run_id:
            archive.update_run_settings(run_id, {**plan.as_settings(),
                                                 "PORTAL_ARCHIVE_REVISIT_BUDGET": budget})
        return cls(known, revisits, budget)


def full_sweep(archive: Archive | None, portal_id: str) -> Iterator[str]:
    """A full crawl revisits every archived article: one the portal deleted is
    linked from nowhere any more, and answers 404 there; one marked gone that
    is served again comes back."""
    if archive is None:
        return iter(())
    return archive.archived_urls(portal_id)


@dataclass
class RevisitLedger:
    """Archived articles a crawl found gone, or moved to another article's URL."""

    #: Answered 404/410, a soft 404, or a redirect to a page that is not an article.
    gone: list[str] = field(default_factory=list)
    #: Redirect to another article's URL: verified, not revisited next time.
    moved: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.gone or self.moved)

    def record(self, archive: Archive, run_id: int | None) -> None:
        """Mark the gone articles gone (counted in the run's ``articles_gone``) and
        move the moved ones' ``last_seen`` on (to the back of the revisit line)."""
        archive.mark_gone(self.gone, run_id=run_id)
        archive.mark_seen(self.moved, run_id=run_id)


__all__ = ["RevisitLedger", "RevisitPlan", "full_sweep", "url_key"]

"""What an incremental or resumable crawl reads from the archive and marks in it:
the URLs it already holds, the live articles to verify next, the ones the
portal no longer serves (gone) or answers for without serving (moved)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from archive.store.db import Database
from archive.store.records import now_iso
from archive.store.runs import Runs


class CrawlState:
    """The article URLs of a portal, as a crawl sees them."""

    def __init__(self, database: Database, runs: Runs) -> None:
        self.database = database
        self.runs = runs

    def known_urls(self, portal_id: str) -> Iterator[str]:
        """The URLs (canonical and as fetched) of the portal's archived articles, streamed."""
        cursor = self.database.conn.execute(
            "SELECT canonical_url, url FROM articles WHERE portal_id = ?", [portal_id])
        for canonical, url in cursor:
            yield canonical
            if url != canonical:
                yield url

    def archived_urls(self, portal_id: str) -> Iterator[str]:
        """Canonical URLs of all the portal's articles, gone ones too, streamed."""
        cursor = self.database.conn.execute(
            "SELECT canonical_url FROM articles WHERE portal_id = ?", [portal_id])
        for (canonical,) in cursor:
            yield canonical

    def count_live(self, portal_id: str) -> int:
        """How many of the portal's articles are live (not marked gone)."""
        return int(self.database.conn.execute(
            "SELECT count(*) FROM articles WHERE portal_id = ? AND status = 'live'",
            [portal_id]).fetchone()[0])

    def least_recently_seen(self, portal_id: str, limit: int) -> list[str]:
        """Canonical URLs of the ``limit`` live articles the portal served longest
        ago (``last_seen`` oldest first, then by id): what a crawl's revisit
        budget verifies next. Each verification moves the article to the back
        of the line, so successive crawls cover the whole archive in turn."""
        if limit <= 0:
            return []
        return [r[0] for r in self.database.conn.execute(
            "SELECT canonical_url FROM articles "
            "WHERE portal_id = ? AND status = 'live' ORDER BY last_seen, id LIMIT ?",
            [portal_id, limit])]

    def mark_gone(self, urls: Iterable[str], *, run_id: int | None = None,
                  now: datetime | None = None) -> int:
        """Mark articles the portal no longer serves (404/410) as ``status = 'gone'``.

        They stay in the archive. ``gone_at`` records when they were found
        gone (cleared when an article write brings one back); ``last_seen``
        keeps when the portal last served them; ``last_run_id`` becomes the run
        that found them gone, and that run's ``articles_gone`` counts them.
        Articles already gone keep their ``gone_at``. Returns how many rows changed.
        """
        stamp = now_iso(now)
        changed = 0
        with self.database.db.atomic():
            for url in urls:
                cur = self.database.conn.execute(
                    "UPDATE articles SET status = 'gone', gone_at = ?, "
                    "last_run_id = coalesce(?, last_run_id) "
                    "WHERE (canonical_url = ? OR url = ?) AND status != 'gone'",
                    [stamp, run_id or None, url, url])
                changed += cur.rowcount
            if run_id and changed:
                self.runs.count_gone(run_id, changed)
        return changed

    def mark_seen(self, urls: Iterable[str], *, run_id: int | None = None,
                  now: datetime | None = None) -> int:
        """The portal answered for these articles without serving them again (a
        revisited article that now redirects to another article's URL): ``last_seen``
        becomes now, so the revisit budget verifies the others first. Returns
        how many rows changed."""
        stamp = now_iso(now)
        changed = 0
        with self.database.db.atomic():
            for url in urls:
                changed += self.database.conn.execute(
                    "UPDATE articles SET last_seen = ?, last_run_id = coalesce(?, last_run_id) "
                    "WHERE canonical_url = ? OR url = ?", [stamp, run_id or None, url, url]
                ).rowcount
        return changed

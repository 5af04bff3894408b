"""The :class:`Archive` facade: one open archive, its parts behind one API.

The facade owns the connection (:class:`~archive.store.db.Database`) and
composes the parts, each a module of its own; every method hands over to one
of them, where its documentation lives:

=============================  =============================================
portals                        :class:`~archive.store.portals.Portals`
runs                           :class:`~archive.store.runs.Runs`
articles, versions, captures   :class:`~archive.store.articles.Articles`
images and image files         :class:`~archive.store.media.Media`
the URLs a crawl reads, marks  :class:`~archive.store.crawlstate.CrawlState`
=============================  =============================================
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.store import fulltext
from archive.store.articles import Articles
from archive.store.crawlstate import CrawlState
from archive.store.db import Database
from archive.store.documents import Documents
from archive.store.media import Media
from archive.store.portals import Portals
from archive.store.records import (
    Capture,
    DocumentDownload,
    ImageDownload,
    SaveResult,
    Selection,
    StoredArticle,
)
from archive.store.runs import Runs
from archive.store.summary import summary
from scraper.extract.article import Article
from scraper.portals import Portal


class Archive:
    """One archive database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        """Open the archive at ``path``, creating it (and its folder) when ``create``.

        With ``create=False`` a missing file, a file that is not SQLite, or a
        database that holds no archive raise :class:`ArchiveError`.
        """
        self._compose(Database(path, create=create))

    @classmethod
    def open(cls, path: str | Path) -> Archive:
        """Open an existing archive (for search, export, stats)."""
        return cls(path, create=False)

    @classmethod
    def over_connection(cls, conn: sqlite3.Connection, path: str) -> Archive:
        """A read-side :class:`Archive` over a connection someone else opened and owns.

        For hosts that manage their own connections (the Datasette web UI
        opens the file read-only): no migration is run and nothing is
        written; ``pa_fold`` and ``pa_has_words`` are registered for the
        filters. The caller keeps the connection open and closes it.
        """
        archive = cls.__new__(cls)
        archive._compose(Database.over_connection(conn, path))
        return archive

    def _compose(self, database: Database) -> None:
        self._database = database
        self.path = database.path
        self.db = database.db
        self.applied_migrations = database.applied_migrations
        self._portals = Portals(database)
        self._runs = Runs(database)
        self._media = Media(database)
        self._documents = Documents(database)
        self._articles = Articles(database, self._runs, self._media, self._documents)
        self._urls = CrawlState(database, self._runs)

    # -- the connection
    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        return self._database.conn

    @property
    def folder(self) -> Path:
        """The archive's data folder: where the database file lives."""
        return self._database.folder

    @property
    def schema_version(self) -> int:
        return self._database.schema_version

    @property
    def journal_mode(self) -> str:
        return self._database.journal_mode

    def bulk_load(self) -> AbstractContextManager[None]:
        """A block of article writes indexed once, at its end (:meth:`Database.bulk_load`)."""
        return self._database.bulk_load()

    def check_fts(self) -> None:
        """Raise :class:`sqlite3.DatabaseError` if the FTS index disagrees with ``articles``."""
        fulltext.check_index(self.conn)

    def stats(self) -> dict[str, Any]:
        """Counts, date range, per-portal breakdown, last run, file size."""
        return summary(self._database)

    # -- portals and runs
    def ensure_portal(self, portal: Portal) -> str:
        return self._portals.ensure(portal)

    def portal_ids(self) -> list[str]:
        return self._portals.ids()

    def start_run(self, portal_id: str, settings: dict[str, Any] | None = None,
                  *, now: datetime | None = None, kind: str = "crawl") -> int:
        return self._runs.start(portal_id, settings, now=now, kind=kind)

    def finish_run(self, run_id: int, stats: dict[str, Any] | None = None,
                   status: str = "finished", *, columns: Mapping[str, Any] | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
        return self._runs.finish(run_id, stats, status, columns=columns, now=now)

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        return self._runs.get(run_id)

    def list_runs(self, *, portal: str | None = None,
                  limit: int | None = 20) -> list[dict[str, Any]]:
        return self._runs.latest(portal=portal, limit=limit)

    def last_run_status(self, portal_id: str, *, exclude: int | None = None) -> str | None:
        return self._runs.last_status(portal_id, exclude=exclude)

    def interrupt_stale_runs(self, portal_id: str, *, exclude: int | None = None) -> int:
        return self._runs.interrupt_stale(portal_id, exclude=exclude)

    def update_run_settings(self, run_id: int, values: dict[str, Any]) -> None:
        self._runs.update_settings(run_id, values)

    # -- articles
    def save_articles(self, items: Iterable[Article], *, portal_id: str,
                      run_id: int | None = None, now: datetime | None = None,
                      captures: Sequence[Capture | None] | None = None) -> SaveResult:
        return self._articles.save(items, portal_id=portal_id, run_id=run_id, now=now,
                                   captures=captures)

    def delete_article(self, ref: int | str) -> bool:
        return self._articles.delete(ref)

    def get_stored(self, ref: int | str) -> StoredArticle | None:
        return self._articles.get_stored(ref)

    def get_article(self, ref: int | str) -> Article | None:
        """The article by id or canonical URL, as an :class:`Article`."""
        stored = self._articles.get_stored(ref)
        return stored.article if stored else None

    def require_articles(self) -> None:
        self._articles.require()

    def iter_articles(self, filters: Selection | None = None, *, order: str = "date",
                      images: bool = True) -> Iterator[dict[str, Any]]:
        return self._articles.iterate(filters, order=order, images=images)

    def versions(self, ref: int | str) -> list[dict[str, Any]]:
        return self._articles.versions(ref)

    def captures(self, ref: int | str) -> list[dict[str, Any]]:
        return self._articles.captures(ref)

    def last_capture_time(self, url: str) -> str | None:
        return self._articles.last_capture_time(url)

    def warc_path(self, warc_file: str) -> Path:
        return self._articles.warc_path(warc_file)

    # -- images
    def image_state(self, url: str) -> dict[str, Any] | None:
        return self._media.state(url)

    def images_to_retry(self, portal_id: str, *,
                        max_attempts: int = 5) -> list[tuple[str, str | None]]:
        return self._media.to_retry(portal_id, max_attempts=max_attempts)

    def record_image(self, download: ImageDownload, *, run_id: int | None = None,
                     now: datetime | None = None) -> None:
        self._media.record(download, run_id=run_id, now=now)

    def iter_images(self, filters: Selection | None = None) -> Iterator[dict[str, Any]]:
        return self._media.iterate(filters)

    # -- documents
    def document_state(self, url: str) -> dict[str, Any] | None:
        return self._documents.state(url)

    def documents_to_retry(self, portal_id: str, *,
                           max_tries: int = 5) -> list[tuple[str, str | None]]:
        return self._documents.to_retry(portal_id, max_tries=max_tries)

    def record_document(self, download: DocumentDownload, *, run_id: int | None = None,
                        now: datetime | None = None) -> None:
        self._documents.record(download, run_id=run_id, now=now)

    def documents_of(self, article_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        return self._documents.of_articles(article_ids)

    def document_texts(self, article_id: int) -> list[tuple[str, str]]:
        return self._documents.texts(article_id)

    def iter_documents(self, filters: Selection | None = None) -> Iterator[dict[str, Any]]:
        return self._documents.iterate(filters)

    # -- crawl state
    def known_urls(self, portal_id: str) -> Iterator[str]:
        return self._urls.known_urls(portal_id)

    def archived_urls(self, portal_id: str) -> Iterator[str]:
        return self._urls.archived_urls(portal_id)

    def count_live(self, portal_id: str) -> int:
        return self._urls.count_live(portal_id)

    def least_recently_seen(self, portal_id: str, limit: int) -> list[str]:
        return self._urls.least_recently_seen(portal_id, limit)

    def mark_gone(self, urls: Iterable[str], *, run_id: int | None = None,
                  now: datetime | None = None) -> int:
        return self._urls.mark_gone(urls, run_id=run_id, now=now)

    def mark_seen(self, urls: Iterable[str], *, run_id: int | None = None,
                  now: datetime | None = None) -> int:
        return self._urls.mark_seen(urls, run_id=run_id, now=now)

"""The archive's storage: one SQLite file, a typed API over sqlite-utils.

::

    from archive.store import Archive

    with Archive("data/archive.db") as archive:          # created if missing
        archive.ensure_portal(portal)
        run_id = archive.start_run(portal.id, {"depth": 3})
        result = archive.save_articles(articles, portal_id=portal.id, run_id=run_id)
        archive.finish_run(run_id, {"reason": "finished"}, columns={"pages_dropped": 4})

    archive = Archive.open("data/archive.db")            # must exist (search, export)

Design:

* **WAL** journal, foreign keys on, a busy timeout, on every connection
  (:mod:`archive.store.db`).
* **Migrations** (:data:`MIGRATIONS`, :mod:`archive.store.migrations`): an
  ordered list of functions, each applied once, in its own ``BEGIN
  IMMEDIATE`` transaction, recorded in ``schema_migrations``; ``PRAGMA
  user_version`` mirrors their count. A later schema change is a new function
  decorated with :func:`migration`, appended after the last one. Never edit
  an applied one.
* **Text** is stored NFC. Each searchable column (title, body, author) has a
  ``*_folded`` twin (:func:`archive.textfold.fold`) written by this library
  (:mod:`archive.store.records`), so the database needs no Python function
  to stay consistent.
* **Full-text search**: ``articles_fts`` is an FTS5 external-content table
  over ``articles`` indexing the exact and the folded columns
  (``unicode61 remove_diacritics 0``), kept in sync by triggers, so any
  connection that writes ``articles`` keeps the index right. Its rowid is
  ``articles.search_key`` (newest published first, see
  :data:`SEARCH_KEY_SQL`), not ``articles.id``: join on ``search_key``
  (:mod:`archive.store.fulltext`).

The modules, lowest first: :mod:`~archive.store.fulltext` (the index's
columns, key and vocabulary), :mod:`~archive.store.records` (dataclasses, row
conversion), :mod:`~archive.store.migrations`, :mod:`~archive.store.db` (the
connection), the parts (:mod:`~archive.store.portals`,
:mod:`~archive.store.runs`, :mod:`~archive.store.media`,
:mod:`~archive.store.articles`, :mod:`~archive.store.crawlstate`,
:mod:`~archive.store.summary`) and the :class:`Archive` facade over them
(:mod:`archive.store.archive`). Storage imports nothing from the layers
above it (filters, queries, search, export, web, the crawl).
"""

from __future__ import annotations

from archive.errors import HOW_TO_FILL, ArchiveError
from archive.store.archive import Archive
from archive.store.db import DEFAULT_DB
from archive.store.fulltext import (
    FTS_COLUMNS,
    SEARCH_EPOCH_MINUTES,
    SEARCH_KEY_SQL,
    rebuild_vocabulary,
    refresh_vocabulary,
    search_key_bounds,
)
from archive.store.migrations import (
    FACET_AUTHOR,
    FACET_CATEGORY,
    MIGRATIONS,
    migrate,
    migration,
    pending_migrations,
)
from archive.store.records import (
    DOCUMENT_COLUMNS,
    EXPORT_COLUMNS,
    IMAGE_COLUMNS,
    Capture,
    DocumentDownload,
    ImageDownload,
    SaveResult,
    Selection,
    StoredArticle,
    utc_iso,
)
from archive.store.runs import PROVENANCE_COLUMNS

__all__ = [
    "DEFAULT_DB",
    "DOCUMENT_COLUMNS",
    "EXPORT_COLUMNS",
    "FACET_AUTHOR",
    "FACET_CATEGORY",
    "FTS_COLUMNS",
    "HOW_TO_FILL",
    "IMAGE_COLUMNS",
    "MIGRATIONS",
    "PROVENANCE_COLUMNS",
    "SEARCH_EPOCH_MINUTES",
    "SEARCH_KEY_SQL",
    "Archive",
    "ArchiveError",
    "Capture",
    "DocumentDownload",
    "ImageDownload",
    "SaveResult",
    "Selection",
    "StoredArticle",
    "migrate",
    "migration",
    "pending_migrations",
    "rebuild_vocabulary",
    "refresh_vocabulary",
    "search_key_bounds",
    "utc_iso",
]

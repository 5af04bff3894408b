"""The archive: one SQLite file, a typed API over sqlite-utils.

::

    from archive.store import Archive

    with Archive("data/archive.db") as archive:          # created if missing
        archive.ensure_portal(portal)
        run_id = archive.start_run(portal.id, {"depth": 3})
        result = archive.save_articles(articles, portal_id=portal.id, run_id=run_id)
        archive.finish_run(run_id, {"pages_dropped": 4})

    archive = Archive.open("data/archive.db")            # must exist (search, export)

Design:

* **WAL** journal, foreign keys on, a busy timeout, on every connection.
* **Migrations** (:data:`MIGRATIONS`): an ordered list of functions, each
  applied once, in its own ``BEGIN IMMEDIATE`` transaction, recorded in
  ``schema_migrations``; ``PRAGMA user_version`` mirrors their count. A later
  schema change is a new function decorated with :func:`migration`, appended
  at the end of this module's migration section. Never edit an applied one.
* **Text** is stored NFC. Each searchable column (title, body, author) has a
  ``*_folded`` twin (:func:`archive.textfold.fold`) written by this library,
  so the database needs no Python function to stay consistent.
* **Full-text search**: ``articles_fts`` is an FTS5 external-content table
  over ``articles`` indexing the exact and the folded columns
  (``unicode61 remove_diacritics 0``), kept in sync by triggers, so any
  connection that writes ``articles`` keeps the index right. Its rowid is
  ``articles.search_key`` (newest published first, see
  :data:`SEARCH_KEY_SQL`), not ``articles.id``: join on ``search_key``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.errors import ArchiveError
from archive.filters import ArticleFilter, has_words, utc_iso
from archive.query import FTS_COLUMNS, compile_query, fts_id
from archive.textfold import WORD_RE, fold, fold_opt, nfc, nfc_opt
from scraper.extract.article import VIETNAM_TZ, Article, Image
from scraper.portals import Portal

__all__ = [
    "MIGRATIONS",
    "Archive",
    "ArchiveError",
    "Capture",
    "ImageDownload",
    "SaveResult",
    "StoredArticle",
    "migration",
    "pending_migrations",
]

#: Where the CLI looks for an archive unless told otherwise.
DEFAULT_DB = "data/archive.db"
#: What to tell someone whose archive is missing or empty.
HOW_TO_FILL = "run `portal-archive crawl PORTAL` or `make demo` first"


# ---------------------------------------------------------------- migrations
Migration = Callable[[sqlite_utils.Database], None]

#: ``(name, function)`` in the order they apply. Names are stable forever.
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register a schema migration; it runs once per database, after the previous ones."""

    def register(fn: Migration) -> Migration:
        if any(existing == name for existing, _ in MIGRATIONS):
            raise ValueError(f"migration {name!r} registered twice")
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    """Portals, crawl runs, articles, images, and the full-text index."""
    for sql in (
        """CREATE TABLE portals (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            province TEXT NOT NULL DEFAULT '',
            base_url TEXT NOT NULL,
            layout TEXT NOT NULL DEFAULT 'generic',
            added TEXT NOT NULL,
            updated TEXT NOT NULL
        )""",
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            portal_id TEXT NOT NULL REFERENCES portals(id),
            started TEXT NOT NULL,
            finished TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            settings TEXT NOT NULL DEFAULT '{}',
            stats TEXT NOT NULL DEFAULT '{}',
            articles_new INTEGER NOT NULL DEFAULT 0,
            articles_changed INTEGER NOT NULL DEFAULT 0,
            articles_unchanged INTEGER NOT NULL DEFAULT 0,
            pages_dropped INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX crawl_runs_portal ON crawl_runs(portal_id, started)",
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            portal_id TEXT NOT NULL REFERENCES portals(id),
            url TEXT NOT NULL,
            canonical_url TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            published TEXT,
            published_utc TEXT,
            published_raw TEXT,
            author TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            body TEXT NOT NULL,
            body_html TEXT NOT NULL DEFAULT '',
            category TEXT,
            language TEXT NOT NULL DEFAULT 'vi',
            extractor TEXT NOT NULL DEFAULT '',
            extractor_version TEXT NOT NULL DEFAULT '',
            warnings TEXT NOT NULL DEFAULT '[]',
            content_hash TEXT NOT NULL,
            title_folded TEXT NOT NULL,
            body_folded TEXT NOT NULL,
            author_folded TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            first_run_id INTEGER REFERENCES crawl_runs(id),
            last_run_id INTEGER REFERENCES crawl_runs(id),
            status TEXT NOT NULL DEFAULT 'live'
        )""",
        "CREATE INDEX articles_portal_published ON articles(portal_id, published_utc)",
        "CREATE INDEX articles_published ON articles(published_utc)",
        "CREATE INDEX articles_content_hash ON articles(content_hash)",
        """CREATE TABLE images (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            url TEXT NOT NULL,
            caption TEXT,
            alt TEXT,
            PRIMARY KEY (article_id, position)
        )""",
        "CREATE INDEX images_url ON images(url)",
        # External content: the text lives once, in `articles`; the index
        # holds only tokens. Exact columns first, folded twins after.
        """CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, body, author, title_folded, body_folded, author_folded,
            content='articles', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0'
        )""",
        """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, body, author,
                                     title_folded, body_folded, author_folded)
            VALUES (new.id, new.title, new.body, new.author,
                    new.title_folded, new.body_folded, new.author_folded);
        END""",
        """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, body, author,
                                     title_folded, body_folded, author_folded)
            VALUES ('delete', old.id, old.title, old.body, old.author,
                    old.title_folded, old.body_folded, old.author_folded);
        END""",
        # Only a change of indexed text touches the index (not last_seen …).
        """CREATE TRIGGER articles_fts_update
            AFTER UPDATE OF title, body, author, title_folded, body_folded, author_folded
            ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, body, author,
                                     title_folded, body_folded, author_folded)
            VALUES ('delete', old.id, old.title, old.body, old.author,
                    old.title_folded, old.body_folded, old.author_folded);
            INSERT INTO articles_fts(rowid, title, body, author,
                                     title_folded, body_folded, author_folded)
            VALUES (new.id, new.title, new.body, new.author,
                    new.title_folded, new.body_folded, new.author_folded);
        END""",
    ):
        db.execute(sql)


@migration("0002_article_versions")
def _article_versions(db: sqlite_utils.Database) -> None:
    """Earlier texts of changed articles, with when each was first and last seen.

    ``articles.content_first_seen`` is when the article's *current* content
    (its content hash) was first seen; ``first_seen`` stays the first time
    the URL was seen at all.
    """
    for sql in (
        "ALTER TABLE articles ADD COLUMN content_first_seen TEXT",
        "ALTER TABLE articles ADD COLUMN content_first_run_id INTEGER",
        "UPDATE articles SET content_first_seen = first_seen, content_first_run_id = first_run_id",
        """CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,
            url TEXT NOT NULL,
            title TEXT NOT NULL,
            published TEXT,
            published_raw TEXT,
            author TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            body TEXT NOT NULL,
            body_html TEXT NOT NULL DEFAULT '',
            category TEXT,
            images TEXT NOT NULL DEFAULT '[]',
            extractor TEXT NOT NULL DEFAULT '',
            extractor_version TEXT NOT NULL DEFAULT '',
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            first_run_id INTEGER,
            last_run_id INTEGER,
            replaced TEXT NOT NULL,
            replaced_by_run_id INTEGER
        )""",
        "CREATE INDEX article_versions_article ON article_versions(article_id, first_seen)",
    ):
        db.execute(sql)


@migration("0003_captures")
def _captures(db: sqlite_utils.Database) -> None:
    """Where each fetch of an article's page is kept: WARC file, offset, length.

    One row per (article, WARC record): every capture is kept, not just the
    last. ``warc_file`` is relative to the archive's folder (the folder of the
    database file) unless it lies elsewhere.
    """
    for sql in (
        """CREATE TABLE captures (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            run_id INTEGER REFERENCES crawl_runs(id),
            url TEXT NOT NULL,
            fetched TEXT,
            http_status INTEGER,
            content_hash TEXT NOT NULL,
            warc_file TEXT,
            warc_offset INTEGER,
            warc_length INTEGER,
            warc_record_id TEXT,
            UNIQUE (article_id, warc_file, warc_offset)
        )""",
        "CREATE INDEX captures_article ON captures(article_id, run_id)",
        "CREATE INDEX captures_run ON captures(run_id)",
        "CREATE INDEX captures_url ON captures(url, fetched)",
    ):
        db.execute(sql)


#: Columns of an image download, kept per URL in ``image_files`` and mirrored
#: onto every ``images`` row of that URL by triggers.
_IMAGE_FILE_COLUMNS = ("status", "sha256", "size", "width", "height", "mime", "path",
                       "attempts", "last_error")


@migration("0004_image_files")
def _image_files(db: sqlite_utils.Database) -> None:
    """Image downloads: one row per image URL; the file is stored once per sha256.

    ``image_files`` is the truth (status ok/failed, sha256, size, dimensions,
    MIME type, stored path, attempts, last error). The same columns are added
    to ``images`` and kept equal to the URL's ``image_files`` row by triggers,
    so each article's images carry them too.
    """
    mirror = ", ".join(f"{c} = new.{c}" for c in _IMAGE_FILE_COLUMNS)
    pull = ", ".join(f"{c} = (SELECT f.{c} FROM image_files f WHERE f.url = new.url)"
                     for c in _IMAGE_FILE_COLUMNS)
    for sql in (
        """CREATE TABLE image_files (
            url TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            sha256 TEXT,
            size INTEGER,
            width INTEGER,
            height INTEGER,
            mime TEXT,
            path TEXT,
            http_status INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            first_attempt TEXT NOT NULL,
            last_attempt TEXT NOT NULL,
            fetched TEXT,
            run_id INTEGER REFERENCES crawl_runs(id)
        )""",
        "CREATE INDEX image_files_sha256 ON image_files(sha256)",
        "CREATE INDEX image_files_status ON image_files(status)",
        "ALTER TABLE images ADD COLUMN status TEXT",
        "ALTER TABLE images ADD COLUMN sha256 TEXT",
        "ALTER TABLE images ADD COLUMN size INTEGER",
        "ALTER TABLE images ADD COLUMN width INTEGER",
        "ALTER TABLE images ADD COLUMN height INTEGER",
        "ALTER TABLE images ADD COLUMN mime TEXT",
        "ALTER TABLE images ADD COLUMN path TEXT",
        "ALTER TABLE images ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE images ADD COLUMN last_error TEXT",
        f"""CREATE TRIGGER image_files_insert AFTER INSERT ON image_files BEGIN
            UPDATE images SET {mirror} WHERE url = new.url;
        END""",
        f"""CREATE TRIGGER image_files_update AFTER UPDATE ON image_files BEGIN
            UPDATE images SET {mirror} WHERE url = new.url;
        END""",
        f"""CREATE TRIGGER images_insert_file AFTER INSERT ON images
            WHEN EXISTS (SELECT 1 FROM image_files f WHERE f.url = new.url) BEGIN
            UPDATE images SET {pull} WHERE rowid = new.rowid;
        END""",
    ):
        db.execute(sql)


#: First-class provenance columns of ``crawl_runs`` (migration 0005), filled
#: by :meth:`Archive.finish_run` from the crawl's stats (:func:`run_columns`).
RUN_COLUMNS = ("requests", "responses", "responses_by_status", "dropped_reasons",
               "images_ok", "images_failed", "warc_files", "warc_bytes", "bytes_received",
               "duration_s")


@migration("0005_run_provenance")
def _run_provenance(db: sqlite_utils.Database) -> None:
    """What a crawl run did, as columns: requests, responses by status, drops by
    reason, images ok/failed, WARC files written, bytes, duration."""
    for sql in (
        "ALTER TABLE crawl_runs ADD COLUMN requests INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN responses INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN responses_by_status TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE crawl_runs ADD COLUMN dropped_reasons TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE crawl_runs ADD COLUMN images_ok INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN images_failed INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN warc_files TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE crawl_runs ADD COLUMN warc_bytes INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN bytes_received INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN duration_s REAL",
    ):
        db.execute(sql)


@migration("0006_folded_filter_indexes")
def _folded_filter_indexes(db: sqlite_utils.Database) -> None:
    """A covering index for filters and facets, with a folded category to filter on.

    ``category_folded`` is :func:`archive.textfold.fold` of ``category``
    (backfilled with ``pa_fold``, the same function, registered on every
    connection the library opens).
    """
    db.execute("ALTER TABLE articles ADD COLUMN category_folded TEXT")
    db.execute("UPDATE articles SET category_folded = pa_fold(category)")
    # One narrow covering index for the filters (portal, date, folded author and
    # category) and the facets (author and category as published): filtering
    # or counting a million articles scans it, never the article rows.
    db.execute("""CREATE INDEX articles_facets ON articles(portal_id, published_utc,
                  author_folded, category_folded, author, category)""")


@migration("0007_gone_at")
def _gone_at(db: sqlite_utils.Database) -> None:
    """When an article went gone, and what each run revisited and found gone.

    * ``articles.gone_at``: when the archive found the article gone from the
      portal (UTC, :func:`archive.filters.utc_iso`); NULL while it is live, and
      cleared when it comes back.
    * ``crawl_runs.articles_revisited`` / ``articles_gone``: archived articles a
      run fetched again to verify them, and how many it marked gone.
    * ``articles_verify``: the live articles of a portal, least recently seen
      first (the revisit budget of an incremental crawl reads it in order).

    Backfill: before this migration :meth:`Archive.mark_gone` set
    ``last_run_id`` to the run that found the article gone. When that run did
    not see the article itself (``last_seen`` before the run started) it is the
    run that marked it, and ``gone_at`` becomes that run's end (its start while
    unfinished). Otherwise (a gone mark made without a run id) nothing says
    when: ``gone_at`` stays NULL.
    """
    for sql in (
        "ALTER TABLE articles ADD COLUMN gone_at TEXT",
        "ALTER TABLE crawl_runs ADD COLUMN articles_revisited INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE crawl_runs ADD COLUMN articles_gone INTEGER NOT NULL DEFAULT 0",
        """UPDATE articles SET gone_at = (
               SELECT coalesce(r.finished, r.started) FROM crawl_runs r
               WHERE r.id = articles.last_run_id AND articles.last_seen < r.started)
           WHERE status = 'gone'""",
        """UPDATE crawl_runs SET articles_gone = (
               SELECT count(*) FROM articles a WHERE a.status = 'gone'
               AND a.gone_at IS NOT NULL AND a.last_run_id = crawl_runs.id)""",
        "CREATE INDEX articles_verify ON articles(portal_id, status, last_seen)",
    ):
        db.execute(sql)


# --- issue 4 §3 (web UI at archive scale): facet counts ------------------------
#: ``facet_counts.level`` bits: which of author / category a row is broken down by.
FACET_AUTHOR, FACET_CATEGORY = 1, 2


def _facet_month(row: str) -> str:
    """SQL: the Vietnam-time month (``YYYY-MM``) of ``row.published_utc``; '' undated."""
    return f"coalesce(strftime('%Y-%m', {row}.published_utc, '+7 hours'), '')"


def _facet_keys(row: str) -> list[str]:
    """SQL value tuples ``(level, portal_id, month, author, category)`` of ``row``'s 4 rows."""
    month = _facet_month(row)
    author, category = f"coalesce({row}.author, '')", f"coalesce({row}.category, '')"
    return [f"({level}, {row}.portal_id, {month}, "
            f"{author if level & FACET_AUTHOR else chr(39) * 2}, "
            f"{category if level & FACET_CATEGORY else chr(39) * 2})"
            for level in range(4)]


def _facet_add(row: str) -> str:
    values = [f"{key[:-1]}, {f'{row}.author_folded' if level & FACET_AUTHOR else 'NULL'}, "
              f"{f'{row}.category_folded' if level & FACET_CATEGORY else 'NULL'}, 1)"
              for level, key in enumerate(_facet_keys(row))]
    return ("INSERT INTO facet_counts(level, portal_id, month, author, category, "
            "author_folded, category_folded, n) VALUES " + ", ".join(values) +
            " ON CONFLICT DO UPDATE SET n = n + 1, author_folded = excluded.author_folded, "
            "category_folded = excluded.category_folded;")


def _facet_remove(row: str) -> str:
    # One statement per key: a row-value IN (VALUES …) would scan the table.
    out = []
    for key in _facet_keys(row):
        where = f"(level, portal_id, month, author, category) = {key}"
        out.append(f"UPDATE facet_counts SET n = n - 1 WHERE {where}; "
                   f"DELETE FROM facet_counts WHERE {where} AND n <= 0;")
    return " ".join(out)


#: Columns of ``articles`` the facet counts depend on.
_FACET_COLUMNS = ("portal_id", "published_utc", "author", "category", "author_folded",
                  "category_folded")


@migration("0008_facet_counts")
def _facet_counts(db: sqlite_utils.Database) -> None:
    """Article counts per (portal, month, author, category), kept by triggers.

    ``facet_counts`` answers the web UI's facets and chart without reading
    the articles: one row per (``level``, portal, month, author, category)
    with ``n`` articles, where ``month`` is the Vietnam-time month of
    ``published_utc`` (``''`` undated) and ``level`` says which breakdowns
    the row has (bit 1: author, bit 2: category; a dimension a row is not
    broken down by is ``''``; ``''`` at a level that has it means "none").
    So level 0 is per (portal, month), level 3 per (portal, month, author,
    category). The folded author/category ride along, for the filters.
    ``articles_id_facets`` indexes the same columns by article id. Triggers on ``articles`` (insert, delete, update of those columns) keep
    it equal to a ``GROUP BY`` over the articles; rows never reach 0.
    """
    db.execute("""CREATE TABLE facet_counts (
        level INTEGER NOT NULL,
        portal_id TEXT NOT NULL,
        month TEXT NOT NULL,
        author TEXT NOT NULL,
        category TEXT NOT NULL,
        author_folded TEXT,
        category_folded TEXT,
        n INTEGER NOT NULL,
        PRIMARY KEY (level, portal_id, month, author, category)
    ) WITHOUT ROWID""")
    for level in range(4):
        author = "coalesce(author, '')" if level & FACET_AUTHOR else "''"
        category = "coalesce(category, '')" if level & FACET_CATEGORY else "''"
        # Reads the articles_facets covering index (0006), not the article rows.
        db.execute(f"""INSERT INTO facet_counts
            SELECT {level}, portal_id, {_facet_month('a')}, {author}, {category},
                   {'max(author_folded)' if level & FACET_AUTHOR else 'NULL'},
                   {'max(category_folded)' if level & FACET_CATEGORY else 'NULL'}, count(*)
            FROM articles a GROUP BY 2, 3, 4, 5""")
    # A text query's facets look up its matches by id: this narrow index
    # answers them without reading the article rows (category lies past the body).
    db.execute("""CREATE INDEX articles_id_facets
                  ON articles(id, portal_id, published_utc, author, category)""")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _FACET_COLUMNS)
    for sql in (
        f"CREATE TRIGGER facet_counts_insert AFTER INSERT ON articles BEGIN "
        f"{_facet_add('new')} END",
        f"CREATE TRIGGER facet_counts_delete AFTER DELETE ON articles BEGIN "
        f"{_facet_remove('old')} END",
        f"CREATE TRIGGER facet_counts_update AFTER UPDATE OF {', '.join(_FACET_COLUMNS)} "
        f"ON articles WHEN {changed} BEGIN {_facet_remove('old')} {_facet_add('new')} END",
    ):
        db.execute(sql)
# --- end issue 4 §3 ---


#: Minutes after 1970 that :data:`SEARCH_KEY_SQL` counts back from (the year 2160).
SEARCH_EPOCH_MINUTES = 100_000_000
#: ``articles.search_key``: the article's place in the full-text index, newest
#: published first. ``(SEARCH_EPOCH_MINUTES - minutes since 1970) * 2**32 + id``,
#: so ascending keys run from the newest minute to the oldest (within one
#: minute by id), then the undated articles, then any dated before 1970 (the
#: search checks dates itself where a range reaches that far); unique
#: because ``id`` is.
SEARCH_KEY_SQL = (
    f"(({SEARCH_EPOCH_MINUTES} - coalesce(CAST(strftime('%s', published_utc) AS INTEGER) / 60,"
    f" 0)) * 4294967296 + id)"
)


def search_key_bounds(since_utc: str | None,
                      until_utc: str | None) -> tuple[int | None, int | None]:
    """``(lo, hi)``: every article published in ``[since_utc, until_utc)`` has
    ``lo <= search_key < hi`` (None: unbounded).

    A superset (bounds are whole minutes): the caller still checks the dates
    themselves; the bounds let a full-text scan seek past everything else.
    """

    def minute(iso: str, shift: int = 0) -> int:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        return (int(moment.timestamp()) + shift) // 60

    lo = None if until_utc is None else (SEARCH_EPOCH_MINUTES - minute(until_utc, -1)) << 32
    hi = None if since_utc is None else (SEARCH_EPOCH_MINUTES - minute(since_utc) + 1) << 32
    return lo, hi


def _fts_triggers(key: str) -> tuple[str, ...]:
    cols = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    return (
        f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, {cols}) VALUES (new.{key}, {new});
        END""",
        f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {cols})
            VALUES ('delete', old.{key}, {old});
        END""",
        # Only a change of indexed text or of the date (the key) touches the index.
        f"""CREATE TRIGGER articles_fts_update
            AFTER UPDATE OF {cols}, published_utc ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {cols})
            VALUES ('delete', old.{key}, {old});
            INSERT INTO articles_fts(rowid, {cols}) VALUES (new.{key}, {new});
        END""",
    )


VOCAB_TRIGGERS = (
    """CREATE TRIGGER articles_vocab_insert AFTER INSERT ON articles BEGIN
        INSERT OR IGNORE INTO search_vocab_pending(article_id) VALUES (new.id);
    END""",
    f"""CREATE TRIGGER articles_vocab_update
        AFTER UPDATE OF {", ".join(FTS_COLUMNS)} ON articles BEGIN
        INSERT OR IGNORE INTO search_vocab_pending(article_id) VALUES (new.id);
    END""",
)


def refresh_vocabulary(conn: sqlite3.Connection, batch: int = 2000) -> int:
    """Add the words of the queued articles to ``search_vocab``; return how many
    articles were read. Words as FTS5's ``unicode61`` tokenizer cuts and
    lower-cases them, in every indexed column (:data:`FTS_COLUMNS`). (A deleted
    article's words stay: a word matching nothing costs nothing.)"""
    done = 0
    while True:
        ids = [r[0] for r in conn.execute(
            "SELECT article_id FROM search_vocab_pending LIMIT ?", [batch])]
        if not ids:
            return done
        marks = ",".join("?" * len(ids))
        terms: set[str] = set()
        for row in conn.execute(
                f"SELECT {', '.join(FTS_COLUMNS)} FROM articles WHERE id IN ({marks})", ids):
            for text in row:
                if text:
                    terms.update(WORD_RE.findall(text.lower()))
        conn.executemany("INSERT OR IGNORE INTO search_vocab(term) VALUES (?)",
                         ((t,) for t in terms))
        conn.execute(f"DELETE FROM search_vocab_pending WHERE article_id IN ({marks})", ids)
        done += len(ids)


def rebuild_vocabulary(conn: sqlite3.Connection) -> None:
    """Read ``search_vocab`` afresh from the index itself (FTS5's ``fts5vocab``
    walks it in C: seconds per 100 000 articles, the tokenizer's own words),
    after the index was rebuilt."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_fts_words "
                 "USING fts5vocab(main, articles_fts, row)")
    conn.execute("DELETE FROM search_vocab")
    conn.execute("INSERT OR IGNORE INTO search_vocab(term) "
                 "SELECT term FROM temp.articles_fts_words")
    conn.execute("DELETE FROM search_vocab_pending")


@migration("0009_search_order")
def _search_order(db: sqlite_utils.Database) -> None:
    """The full-text index in publication order, newest first, with the folded category.

    ``articles_fts`` is keyed by ``articles.search_key`` (:data:`SEARCH_KEY_SQL`,
    a virtual generated column with a unique index) instead of ``id``. FTS5
    walks its matches in key order, so a search reads the newest matches
    first and can stop early, and a date range is a key range the index
    seeks to. The index is rebuilt once.
    """
    for name in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute(f"ALTER TABLE articles ADD COLUMN search_key INTEGER "
               f"GENERATED ALWAYS AS {SEARCH_KEY_SQL} VIRTUAL")
    db.execute("CREATE UNIQUE INDEX articles_search_key ON articles(search_key)")
    db.execute(f"""CREATE VIRTUAL TABLE articles_fts USING fts5(
            {", ".join(FTS_COLUMNS)},
            content='articles', content_rowid='search_key',
            tokenize='unicode61 remove_diacritics 0')""")
    for sql in _fts_triggers("search_key"):
        db.execute(sql)
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    # The index's vocabulary, for prefix queries: `nong*` becomes an OR of the
    # words it stands for, which FTS5 walks lazily (its own prefix search
    # first merges every posting of every such word). Triggers queue each
    # written article; the library tokenises the queue (refresh_vocabulary).
    db.execute("CREATE TABLE search_vocab (term TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute("CREATE TABLE search_vocab_pending (article_id INTEGER PRIMARY KEY)")
    for sql in VOCAB_TRIGGERS:
        db.execute(sql)
    rebuild_vocabulary(db.conn)


def _applied(db: sqlite_utils.Database) -> list[str]:
    return [r["name"] for r in db.query("SELECT name FROM schema_migrations ORDER BY id")]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations this database lacks, in order; return their names.

    Each runs in its own ``BEGIN IMMEDIATE`` transaction (the write lock is
    taken first, so two processes opening a new archive at once cannot both
    apply the same migration).
    """
    if "schema_migrations" not in db.table_names():  # no write (lock) when it exists
        db.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                applied TEXT NOT NULL
            )"""
        )
    done = set(_applied(db))
    newly: list[str] = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if name not in set(_applied(db)):
                fn(db)
                db.execute(
                    "INSERT INTO schema_migrations(name, applied) VALUES (?, ?)",
                    [name, utc_iso(datetime.now(UTC))],
                )
                count = db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
                db.execute(f"PRAGMA user_version = {int(count)}")
                newly.append(name)
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
    return newly


# --- issue 4 §3: read-only check for pending migrations (serve never writes) ---
def pending_migrations(path: str | Path) -> list[str]:
    """Names of the migrations the archive at ``path`` lacks, read without writing.

    Opens the file read-only (``mode=ro``), so nothing is created, locked for
    writing or migrated. Raises :class:`ArchiveError` for a missing file, a
    file that is not SQLite, or a database that holds no archive.
    """
    file = Path(path)
    if not file.is_file():
        raise ArchiveError(f"no archive at {path} — {HOW_TO_FILL}")
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ArchiveError(f"cannot open the archive {path}: {exc}") from exc
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" not in tables:
            raise ArchiveError(f"{path} is empty or not a portal-archive database — {HOW_TO_FILL}")
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"{path} is not a SQLite database ({exc})") from exc
    finally:
        conn.close()
    return [name for name, _ in MIGRATIONS if name not in done]
# --- end issue 4 §3 ---

# ------------------------------------------------------------------- records
@dataclass
class SaveResult:
    """What :meth:`Archive.save_articles` did: counts, and the ids it touched."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.new + self.changed + self.unchanged

    def __add__(self, other: SaveResult) -> SaveResult:
        return SaveResult(self.new + other.new, self.changed + other.changed,
                          self.unchanged + other.unchanged, self.ids + other.ids)

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged}


@dataclass(frozen=True)
class Capture:
    """Where one fetch of an article's page is kept (a WARC response record)."""

    #: The URL fetched (the WARC record's target URI).
    url: str
    #: When the response arrived (ISO 8601).
    fetched: str | None = None
    http_status: int | None = None
    #: WARC file, relative to the archive's folder (or absolute); None without WARC.
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    warc_record_id: str | None = None


@dataclass(frozen=True)
class ImageDownload:
    """The outcome of one attempt to download an image file."""

    url: str
    ok: bool
    sha256: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    mime: str | None = None
    #: Stored file, relative to the archive's folder.
    path: str | None = None
    http_status: int | None = None
    error: str | None = None


@dataclass
class StoredArticle:
    """An article as archived: the :class:`Article` plus what the archive knows of it."""

    id: int
    portal_id: str
    article: Article
    content_hash: str
    published_utc: str | None
    first_seen: str
    last_seen: str
    first_run_id: int | None
    last_run_id: int | None
    status: str
    #: When the archive found the article gone from the portal (UTC); None while live.
    gone_at: str | None = None


def _normalised(article: Article) -> Article:
    """The article as stored: text NFC, a naive publication time taken as Vietnam time."""
    published = article.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=VIETNAM_TZ)
    return replace(
        article,
        title=nfc(article.title),
        body=nfc(article.body),
        body_html=nfc(article.body_html),
        author=nfc_opt(article.author),
        authors=[nfc(a) for a in article.authors],
        category=nfc_opt(article.category),
        published=published,
        images=[
            Image(url=i.url, caption=nfc_opt(i.caption), alt=nfc_opt(i.alt), position=i.position)
            for i in article.images
        ],
    )


def _article_row(article: Article) -> dict[str, Any]:
    """The ``articles`` columns an (already normalised) article determines."""
    pub = article.published
    return {
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "published": pub.isoformat() if pub else None,
        "published_utc": utc_iso(pub) if pub else None,
        "published_raw": article.published_raw,
        "author": article.author,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "body": article.body,
        "body_html": article.body_html,
        "category": article.category,
        "language": article.language,
        "extractor": article.extractor,
        "extractor_version": article.extractor_version,
        "warnings": json.dumps(article.warnings, ensure_ascii=False),
        "content_hash": article.content_hash(),
        "title_folded": fold(article.title),
        "body_folded": fold(article.body),
        "author_folded": fold_opt(article.author),
        "category_folded": fold_opt(article.category),
    }


def _article_from_row(row: dict[str, Any], images: list[dict[str, Any]]) -> Article:
    return Article(
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        body=row["body"],
        body_html=row["body_html"],
        published=datetime.fromisoformat(row["published"]) if row["published"] else None,
        published_raw=row["published_raw"],
        author=row["author"],
        authors=json.loads(row["authors"]),
        images=[Image(url=i["url"], caption=i["caption"], alt=i["alt"], position=i["position"])
                for i in images],
        category=row["category"],
        language=row["language"],
        extractor=row["extractor"],
        extractor_version=row["extractor_version"],
        warnings=json.loads(row["warnings"]),
    )


#: Columns of :meth:`Archive.iter_articles` rows, in export order.
EXPORT_COLUMNS = (
    "id", "portal_id", "canonical_url", "url", "title", "published", "published_utc",
    "published_raw", "author", "authors", "category", "language", "body", "body_html",
    "images", "extractor", "extractor_version", "warnings", "content_hash",
    "first_seen", "last_seen", "first_run_id", "last_run_id", "status", "gone_at",
)
_JSON_COLUMNS = ("authors", "warnings", "images")
#: Columns of :meth:`Archive.iter_images` rows.
IMAGE_COLUMNS = ("article_id", "position", "url", "caption", "alt")


# ------------------------------------------------------------------- archive
class Archive:
    """One archive database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        """Open the archive at ``path``, creating it (and its folder) when ``create``.

        With ``create=False`` a missing file, a file that is not SQLite, or a
        database that holds no archive raise :class:`ArchiveError`.
        """
        self.path = str(path)
        #: Inside :meth:`bulk_load` (the vocabulary is read once, at its end).
        self._bulk = False
        self._vocab: bool | None = None
        memory = self.path == ":memory:"
        if not memory:
            file = Path(path)
            if not create and not file.is_file():
                raise ArchiveError(f"no archive at {self.path} — {HOW_TO_FILL}")
            if create:
                file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite_utils.Database(self.path, execute_plugins=False)
            self.db.execute("PRAGMA schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            raise ArchiveError(f"cannot open the archive {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path} is not a SQLite database ({exc})") from exc
        try:
            self._configure(memory)
            if not create and "schema_migrations" not in self.db.table_names():
                raise ArchiveError(
                    f"{self.path} is empty or not a portal-archive database — {HOW_TO_FILL}"
                )
            self.applied_migrations = migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def open(cls, path: str | Path) -> Archive:
        """Open an existing archive (for search, export, stats)."""
        return cls(path, create=False)

    @classmethod
    def over_connection(cls, conn: sqlite3.Connection, path: str) -> Archive:
        """A read-side :class:`Archive` over a connection someone else opened and owns.

        For hosts that manage their own connections (the Datasette web UI
        opens the file read-only): no migration is run and nothing is
        written; ``pa_fold`` is registered for the filters. The caller keeps
        the connection open and closes it.
        """
        archive = cls.__new__(cls)
        archive.path = path
        archive.db = sqlite_utils.Database(conn, execute_plugins=False)
        archive.applied_migrations = []
        conn.create_function("pa_fold", 1, fold_opt, deterministic=True)
        conn.create_function("pa_has_words", 2, has_words, deterministic=True)
        return archive

    def _configure(self, memory: bool) -> None:
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        if not memory:
            self.db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
        # Used by read queries only (filters); writes never depend on it.
        conn.create_function("pa_fold", 1, fold_opt, deterministic=True)
        conn.create_function("pa_has_words", 2, has_words, deterministic=True)

    # -- lifecycle
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        """A transaction that takes the write lock at its start (``BEGIN IMMEDIATE``).

        For writes that read first (upserts): two connections writing at once
        (the crawl's store thread and its image pipeline) then wait for each
        other through ``busy_timeout``, instead of one failing with "database
        is locked" when the other commits between its read and its write.
        Inside an open transaction it is a savepoint, as ``atomic()`` is.
        """
        if self.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.rollback()
            raise

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def journal_mode(self) -> str:
        return str(self.db.journal_mode)

    # -- portals and runs
    def ensure_portal(self, portal: Portal) -> str:
        """Insert or update the portal's row; return its id."""
        now = utc_iso(datetime.now(UTC))
        self.db.execute(
            """INSERT INTO portals(id, name, province, base_url, layout, added, updated)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET name = excluded.name,
                   province = excluded.province, base_url = excluded.base_url,
                   layout = excluded.layout, updated = excluded.updated""",
            [portal.id, nfc(portal.name), nfc(portal.province), portal.base_url,
             portal.layout, now, now],
        )
        return portal.id

    def portal_ids(self) -> list[str]:
        return [r["id"] for r in self.db.query("SELECT id FROM portals ORDER BY id")]

    def start_run(self, portal_id: str, settings: dict[str, Any] | None = None,
                  *, now: datetime | None = None) -> int:
        """Record the start of a crawl of ``portal_id``; return the run id."""
        cur = self.db.execute(
            "INSERT INTO crawl_runs(portal_id, started, settings) VALUES (?, ?, ?)",
            [portal_id, utc_iso(now or datetime.now(UTC)),
             json.dumps(settings or {}, ensure_ascii=False, default=str, sort_keys=True)],
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, stats: dict[str, Any] | None = None,
                   status: str = "finished", *, now: datetime | None = None) -> dict[str, Any]:
        """Record the end of a run; return its row.

        The ``articles_*`` counters are kept by :meth:`save_articles`; the
        provenance columns (requests, responses by status, pages dropped and
        why, images, WARC files, errors …) are read from the crawl's
        ``stats`` by :func:`run_columns`. Columns ``stats`` says nothing about
        keep their value.
        """
        stats = stats or {}
        cols = run_columns(stats)
        sets = ", ".join(f"{c} = coalesce(:{c}, {c})" for c in cols)
        self.db.execute(
            f"UPDATE crawl_runs SET finished = :finished, status = :status, stats = :stats, "
            f"{sets} WHERE id = :id",
            {**cols, "finished": utc_iso(now or datetime.now(UTC)), "status": status,
             "stats": json.dumps(stats, ensure_ascii=False, default=str, sort_keys=True),
             "id": run_id},
        )
        run = self.get_run(run_id)
        if run is None:
            raise ArchiveError(f"no crawl run {run_id} in {self.path}")
        return run

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM crawl_runs WHERE id = ?", [run_id]))
        if not rows:
            return None
        return _decode_run(rows[0])

    def list_runs(self, *, portal: str | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
        """Crawl runs, newest first (JSON columns decoded)."""
        sql = "SELECT * FROM crawl_runs"
        params: list[Any] = []
        if portal:
            sql += " WHERE portal_id = ?"
            params.append(portal)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_decode_run(r) for r in self.db.query(sql, params)]

    # -- articles: write
    def save_articles(self, items: Iterable[Article], *, portal_id: str,
                      run_id: int | None = None, now: datetime | None = None,
                      captures: Sequence[Capture | None] | None = None) -> SaveResult:
        """Upsert articles keyed on ``canonical_url``, all in one transaction.

        * new URL → inserted (``first_seen`` = ``last_seen`` = now);
        * same content hash → ``unchanged``: only ``last_seen``/``last_run_id``;
        * other content hash → ``changed``: the row is rewritten (``first_seen``
          and ``first_run_id`` kept), its images replaced, the FTS index
          follows through the triggers.

        The run's ``articles_*`` counters are incremented when ``run_id`` is given.
        ``captures`` (aligned with ``items``) says where each page was fetched
        and kept (WARC file and offset); each is recorded in ``captures``.
        """
        stamp = utc_iso(now or datetime.now(UTC))
        result = SaveResult()
        with self._write_transaction():
            for index, item in enumerate(items):
                article = _normalised(item)
                row = _article_row(article)
                row.update(portal_id=portal_id, last_seen=stamp, last_run_id=run_id)
                old = self.conn.execute(
                    "SELECT id, content_hash FROM articles WHERE canonical_url = ?",
                    [article.canonical_url],
                ).fetchone()
                if old is None:
                    row.update(first_seen=stamp, first_run_id=run_id,
                               content_first_seen=stamp, content_first_run_id=run_id)
                    cols = ", ".join(row)
                    marks = ", ".join(f":{c}" for c in row)
                    cur = self.conn.execute(f"INSERT INTO articles({cols}) VALUES ({marks})", row)
                    article_id = int(cur.lastrowid or 0)
                    self._write_images(article_id, article.images)
                    result.new += 1
                elif old[1] == row["content_hash"]:
                    article_id = int(old[0])
                    self.conn.execute(
                        "UPDATE articles SET last_seen = ?, last_run_id = ?, status = 'live', "
                        "gone_at = NULL WHERE id = ?",
                        [stamp, run_id, article_id],
                    )
                    result.unchanged += 1
                else:
                    article_id = int(old[0])
                    self._before_change(article_id, row)
                    row.update(content_first_seen=stamp, content_first_run_id=run_id)
                    sets = ", ".join(f"{c} = :{c}" for c in row if c != "canonical_url")
                    self.conn.execute(
                        f"UPDATE articles SET {sets}, status = 'live', gone_at = NULL "
                        f"WHERE id = :id",
                        {**row, "id": article_id},
                    )
                    self.conn.execute("DELETE FROM images WHERE article_id = ?", [article_id])
                    self._write_images(article_id, article.images)
                    result.changed += 1
                result.ids.append(article_id)
                capture = captures[index] if captures is not None else None
                if capture is not None:
                    self._write_capture(article_id, run_id, row["content_hash"], capture)
            if run_id is not None:
                self.conn.execute(
                    """UPDATE crawl_runs SET articles_new = articles_new + ?,
                           articles_changed = articles_changed + ?,
                           articles_unchanged = articles_unchanged + ? WHERE id = ?""",
                    [result.new, result.changed, result.unchanged, run_id],
                )
            if (result.new or result.changed) and not self._bulk and self._has_vocabulary():
                refresh_vocabulary(self.conn)
        return result

    def _before_change(self, article_id: int, new_row: dict[str, Any]) -> None:
        """Keep the old text of a changed article in ``article_versions``.

        Called inside the transaction before the row is rewritten. The version
        keeps the title, body, author, date, images (JSON) and the extractor,
        with when that content was first and last seen and by which runs.
        """
        self.conn.execute(
            """INSERT INTO article_versions(article_id, content_hash, url, title, published,
                   published_raw, author, authors, body, body_html, category, images,
                   extractor, extractor_version, first_seen, last_seen, first_run_id,
                   last_run_id, replaced, replaced_by_run_id)
               SELECT a.id, a.content_hash, a.url, a.title, a.published, a.published_raw,
                   a.author, a.authors, a.body, a.body_html, a.category,
                   coalesce((SELECT json_group_array(json_object('position', i.position,
                                'url', i.url, 'caption', i.caption, 'alt', i.alt))
                             FROM (SELECT * FROM images WHERE article_id = a.id
                                   ORDER BY position) i), '[]'),
                   a.extractor, a.extractor_version,
                   coalesce(a.content_first_seen, a.first_seen), a.last_seen,
                   coalesce(a.content_first_run_id, a.first_run_id), a.last_run_id,
                   :replaced, :run_id
               FROM articles a WHERE a.id = :id""",
            {"id": article_id, "replaced": new_row["last_seen"],
             "run_id": new_row.get("last_run_id")},
        )

    def _write_capture(self, article_id: int, run_id: int | None, content_hash: str,
                       capture: Capture) -> None:
        self.conn.execute(
            """INSERT OR IGNORE INTO captures(article_id, run_id, url, fetched, http_status,
                   content_hash, warc_file, warc_offset, warc_length, warc_record_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [article_id, run_id, capture.url, capture.fetched, capture.http_status,
             content_hash, capture.warc_file, capture.warc_offset, capture.warc_length,
             capture.warc_record_id],
        )

    # -- history and provenance: read
    def versions(self, ref: int | str) -> list[dict[str, Any]]:
        """Earlier versions of an article, oldest first (images decoded)."""
        article_id = self._resolve_id(ref)
        if article_id is None:
            return []
        rows = list(self.db.query(
            "SELECT * FROM article_versions WHERE article_id = ? ORDER BY id", [article_id]))
        for row in rows:
            row["images"] = json.loads(row["images"])
            row["authors"] = json.loads(row["authors"])
        return rows

    def captures(self, ref: int | str) -> list[dict[str, Any]]:
        """Every recorded fetch of an article's page, oldest first."""
        article_id = self._resolve_id(ref)
        if article_id is None:
            return []
        return list(self.db.query(
            "SELECT * FROM captures WHERE article_id = ? ORDER BY id", [article_id]))

    def last_capture_time(self, url: str) -> str | None:
        """When the page at ``url`` (as fetched) was last captured, or None."""
        row = self.conn.execute("SELECT max(fetched) FROM captures WHERE url = ?",
                                [url]).fetchone()
        return row[0] if row and row[0] else None

    def warc_path(self, warc_file: str) -> Path:
        """The file a ``captures.warc_file`` names (relative to the archive's folder)."""
        path = Path(warc_file)
        return path if path.is_absolute() else self.folder / path

    @property
    def folder(self) -> Path:
        """The archive's data folder: where the database file lives."""
        return Path(self.path).resolve().parent if self.path != ":memory:" else Path.cwd()

    # -- image downloads
    def image_state(self, url: str) -> dict[str, Any] | None:
        """The download record of an image URL, or None when never tried."""
        rows = list(self.db.query("SELECT * FROM image_files WHERE url = ?", [url]))
        return rows[0] if rows else None

    def images_to_retry(self, portal_id: str, *,
                        max_attempts: int = 5) -> list[tuple[str, str | None]]:
        """Image URLs of this portal's articles still to fetch, with their status.

        ``failed`` ones (fewer than ``max_attempts`` attempts) and never tried
        ones (``None``: e.g. a crawl killed before it got to them).
        """
        return [(r["url"], r["status"]) for r in self.db.query(
            """SELECT i.url, f.status FROM images i
               JOIN articles a ON a.id = i.article_id
               LEFT JOIN image_files f ON f.url = i.url
               WHERE a.portal_id = ? AND (f.url IS NULL
                     OR (f.status = 'failed' AND f.attempts < ?))
               GROUP BY i.url ORDER BY i.url""", [portal_id, max_attempts])]

    def record_image(self, download: ImageDownload, *, run_id: int | None = None,
                     now: datetime | None = None) -> None:
        """Record an image download attempt (ok or failed); attempts are counted.

        A failure never erases an earlier success: the file stays known.
        """
        stamp = utc_iso(now or datetime.now(UTC))
        with self._write_transaction():
            old = self.image_state(download.url)
            if download.ok:
                values = {"status": "ok", "sha256": download.sha256, "size": download.size,
                          "width": download.width, "height": download.height,
                          "mime": download.mime, "path": download.path,
                          "http_status": download.http_status, "last_error": None,
                          "fetched": stamp}
            elif old is not None and old["status"] == "ok":
                values = {"http_status": download.http_status, "last_error": download.error}
            else:
                values = {"status": "failed", "http_status": download.http_status,
                          "last_error": download.error}
            if old is None:
                row = {"url": download.url, "attempts": 1, "first_attempt": stamp,
                       "last_attempt": stamp, "run_id": run_id, **values}
                cols = ", ".join(row)
                marks = ", ".join(f":{c}" for c in row)
                self.conn.execute(f"INSERT INTO image_files({cols}) VALUES ({marks})", row)
            else:
                sets = ", ".join(f"{c} = :{c}" for c in values)
                self.conn.execute(
                    f"UPDATE image_files SET {sets}, attempts = attempts + 1, "
                    f"last_attempt = :stamp, run_id = :run_id WHERE url = :url",
                    {**values, "stamp": stamp, "run_id": run_id, "url": download.url},
                )

    def _write_images(self, article_id: int, images: list[Image]) -> None:
        # Positions as given when they are distinct, else reading order.
        positions = [i.position for i in images]
        if len(set(positions)) != len(positions):
            positions = list(range(len(images)))
        self.conn.executemany(
            "INSERT INTO images(article_id, position, url, caption, alt) VALUES (?, ?, ?, ?, ?)",
            [(article_id, pos, i.url, i.caption, i.alt) for pos, i in zip(positions, images,
                                                                           strict=True)],
        )

    def delete_article(self, ref: int | str) -> bool:
        """Remove an article (and its images) from the archive; True if it existed."""
        article_id = self._resolve_id(ref)
        if article_id is None:
            return False
        with self.db.atomic():
            self.conn.execute("DELETE FROM articles WHERE id = ?", [article_id])
        return True

    # -- articles: read
    def _resolve_id(self, ref: int | str) -> int | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = self.conn.execute("SELECT id FROM articles WHERE id = ?", [int(ref)]).fetchone()
        else:
            row = self.conn.execute(
                "SELECT id FROM articles WHERE canonical_url = ?", [ref]
            ).fetchone()
        return int(row[0]) if row else None

    def get_stored(self, ref: int | str) -> StoredArticle | None:
        """The stored article by id or canonical URL, with its archive metadata."""
        article_id = self._resolve_id(ref)
        if article_id is None:
            return None
        row = next(self.db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        images = list(self.db.query(
            "SELECT * FROM images WHERE article_id = ? ORDER BY position", [article_id]
        ))
        return StoredArticle(
            id=row["id"], portal_id=row["portal_id"], article=_article_from_row(row, images),
            content_hash=row["content_hash"], published_utc=row["published_utc"],
            first_seen=row["first_seen"], last_seen=row["last_seen"],
            first_run_id=row["first_run_id"], last_run_id=row["last_run_id"],
            status=row["status"], gone_at=row.get("gone_at"),
        )

    def get_article(self, ref: int | str) -> Article | None:
        """The article by id or canonical URL, as an :class:`Article`."""
        stored = self.get_stored(ref)
        return stored.article if stored else None

    def count_articles(self, filters: ArticleFilter | None = None) -> int:
        filters = filters or ArticleFilter()
        if filters.query is None:
            where, params = filters.where("a")
            return int(self.conn.execute(
                f"SELECT count(*) FROM articles a WHERE {where}", params
            ).fetchone()[0])
        # Drive from the full-text index; other filters select ids through indexes.
        where, params = replace(filters, query=None).where("a")
        match = compile_query(filters.query).match
        restrict = (f"AND {fts_id()} IN (SELECT a.id FROM articles a WHERE {where})"
                    if where != "1" else "")
        return int(self.conn.execute(
            f"SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ? {restrict}",
            [match, *params]).fetchone()[0])

    def _has_vocabulary(self) -> bool:
        """Whether this archive has ``search_vocab`` (migration 0009); only an
        archive opened with fewer migrations (tests of migrations) lacks it."""
        if self._vocab is None:
            self._vocab = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'search_vocab_pending'"
            ).fetchone() is not None
        return self._vocab

    def prefix_terms(self, prefix: str, limit: int) -> list[str] | None:
        """The indexed words starting with ``prefix`` (at most ``limit``), or None
        when the vocabulary cannot say (more words than ``limit``, or articles
        written since it was last brought up to date)."""
        if self.conn.execute("SELECT 1 FROM search_vocab_pending LIMIT 1").fetchone():
            return None
        terms = [r[0] for r in self.conn.execute(
            "SELECT term FROM search_vocab WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
            [prefix, prefix + "\U0010ffff", limit + 1])]
        return None if len(terms) > limit else terms

    def require_articles(self) -> None:
        """Raise :class:`ArchiveError` when the archive holds no article yet."""
        if self.conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None:
            raise ArchiveError(f"the archive at {self.path} holds no articles yet — {HOW_TO_FILL}")

    def iter_articles(self, filters: ArticleFilter | None = None, *,
                      order: str = "date", images: bool = True) -> Iterator[dict[str, Any]]:
        """Stream articles as dicts with :data:`EXPORT_COLUMNS` (JSON columns decoded).

        ``order`` is ``"date"`` (oldest first, undated last) or ``"id"``.
        ``images=False`` leaves the ``images`` key out (and the per-article
        image lookup with it: see :meth:`iter_images` for them as a table).
        Rows are read from a cursor: memory use does not grow with the archive.
        """
        where, params = (filters or ArticleFilter()).where("a")
        if order == "date":
            # Two index-ordered scans (dated by published_utc, then undated by
            # id) instead of one sort of every row: nothing is buffered.
            parts = [("a.published_utc IS NOT NULL", "a.published_utc, a.id"),
                     ("a.published_utc IS NULL", "a.id")]
        elif order == "id":
            parts = [("1", "a.id")]
        else:
            raise ArchiveError(f"unknown order {order!r} (use date or id)")
        columns = ", ".join(f"a.{c}" for c in EXPORT_COLUMNS if c != "images")
        wanted = EXPORT_COLUMNS if images else tuple(c for c in EXPORT_COLUMNS if c != "images")
        json_columns = [c for c in _JSON_COLUMNS if c in wanted]
        image_sql = """,
                  (SELECT json_group_array(json_object(
                            'position', i.position, 'url', i.url,
                            'caption', i.caption, 'alt', i.alt))
                     FROM (SELECT * FROM images WHERE article_id = a.id ORDER BY position) i
                  ) AS images""" if images else ""
        for condition, order_by in parts:
            sql = f"""
                SELECT {columns}{image_sql}
                FROM articles a WHERE {condition} AND ({where}) ORDER BY {order_by}"""
            cursor = self.conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values, strict=True))
                for col in json_columns:
                    value = row[col]
                    row[col] = json.loads(value) if value and value != "[]" else []
                yield {c: row[c] for c in wanted}

    def iter_images(self, filters: ArticleFilter | None = None) -> Iterator[dict[str, Any]]:
        """Stream the images of the articles ``filters`` selects, by article id then position.

        Rows have :data:`IMAGE_COLUMNS`; read from a cursor like :meth:`iter_articles`.
        """
        where, params = (filters or ArticleFilter()).where("a")
        cursor = self.conn.execute(
            f"""SELECT i.article_id, i.position, i.url, i.caption, i.alt
                FROM images i JOIN articles a ON a.id = i.article_id
                WHERE {where} ORDER BY i.article_id, i.position""", params)
        for values in cursor:
            yield dict(zip(IMAGE_COLUMNS, values, strict=True))

    # -- maintenance
    def check_fts(self) -> None:
        """Raise :class:`sqlite3.DatabaseError` if the FTS index disagrees with ``articles``."""
        self.conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")

    def rebuild_fts(self) -> None:
        """Rebuild the full-text index and its vocabulary from ``articles`` (after a
        raw bulk edit)."""
        with self.db.atomic():
            self.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
            rebuild_vocabulary(self.conn)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Load many articles with the full-text triggers off, then index them once.

        Inside the block :meth:`save_articles` writes ``articles`` and
        ``images`` only; on exit the FTS index is rebuilt from ``articles`` in
        one pass and the triggers are recreated exactly as they were (their SQL
        is read back from ``sqlite_master``), so the schema is unchanged. For
        loading a new or offline archive (benchmarks, imports): another
        writer during the block would not be indexed until the rebuild.
        """
        triggers = [tuple(r) for r in self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'articles' AND name LIKE 'articles_fts_%'")]
        with self.db.atomic():
            for name, _ in triggers:
                self.conn.execute(f'DROP TRIGGER "{name}"')
        self._bulk = True
        try:
            yield
        finally:
            self._bulk = False
            with self.db.atomic():
                self.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
                for _, sql in triggers:
                    self.conn.execute(sql)
                if self._has_vocabulary():
                    rebuild_vocabulary(self.conn)

    # -- summary
    def stats(self) -> dict[str, Any]:
        """Counts, date range, per-portal breakdown, last run, file size."""
        q = self.conn.execute

        def one(sql: str) -> Any:
            row = q(sql).fetchone()
            return row[0] if row else None

        per_portal = list(self.db.query(
            """SELECT p.id AS portal_id, p.name, p.base_url,
                      count(a.id) AS articles,
                      (SELECT count(*) FROM images i JOIN articles b ON b.id = i.article_id
                        WHERE b.portal_id = p.id) AS images,
                      min(a.published_utc) AS first_published_utc,
                      max(a.published_utc) AS last_published_utc,
                      max(a.last_seen) AS last_seen,
                      (SELECT count(*) FROM crawl_runs r WHERE r.portal_id = p.id) AS runs
               FROM portals p LEFT JOIN articles a ON a.portal_id = p.id
               GROUP BY p.id ORDER BY p.id"""
        ))
        last_run = list(self.db.query(
            "SELECT id, portal_id, started, finished, status, articles_new, articles_changed, "
            "articles_unchanged, pages_dropped, errors FROM crawl_runs ORDER BY id DESC LIMIT 1"
        ))
        size = 0
        if self.path != ":memory:":
            for suffix in ("", "-wal"):
                f = Path(self.path + suffix)
                size += f.stat().st_size if f.exists() else 0
        return {
            "path": self.path,
            "schema_version": self.schema_version,
            "portals": one("SELECT count(*) FROM portals"),
            "articles": one("SELECT count(*) FROM articles"),
            "images": one("SELECT count(*) FROM images"),
            "runs": one("SELECT count(*) FROM crawl_runs"),
            "first_published": one(
                "SELECT published FROM articles WHERE published_utc IS NOT NULL "
                "ORDER BY published_utc LIMIT 1"),
            "last_published": one(
                "SELECT published FROM articles WHERE published_utc IS NOT NULL "
                "ORDER BY published_utc DESC LIMIT 1"),
            "undated": one("SELECT count(*) FROM articles WHERE published_utc IS NULL"),
            "per_portal": per_portal,
            "last_run": last_run[0] if last_run else None,
            "size_bytes": size,
        }

    # -- crawl state (incremental and resumable crawls; issue 5 §1-2) ------------
    def known_urls(self, portal_id: str) -> Iterator[str]:
        """The URLs (canonical and as fetched) of the portal's archived articles, streamed."""
        cursor = self.conn.execute(
            "SELECT canonical_url, url FROM articles WHERE portal_id = ?", [portal_id])
        for canonical, url in cursor:
            yield canonical
            if url != canonical:
                yield url

    def live_urls(self, portal_id: str) -> Iterator[str]:
        """Canonical URLs of the portal's articles not marked gone, streamed."""
        cursor = self.conn.execute(
            "SELECT canonical_url FROM articles WHERE portal_id = ? AND status != 'gone'",
            [portal_id])
        for (canonical,) in cursor:
            yield canonical

    def archived_urls(self, portal_id: str) -> Iterator[str]:
        """Canonical URLs of all the portal's articles, gone ones too, streamed."""
        cursor = self.conn.execute(
            "SELECT canonical_url FROM articles WHERE portal_id = ?", [portal_id])
        for (canonical,) in cursor:
            yield canonical

    def count_live(self, portal_id: str) -> int:
        """How many of the portal's articles are live (not marked gone)."""
        return int(self.conn.execute(
            "SELECT count(*) FROM articles WHERE portal_id = ? AND status = 'live'",
            [portal_id]).fetchone()[0])

    def least_recently_seen(self, portal_id: str, limit: int) -> list[str]:
        """Canonical URLs of the ``limit`` live articles the portal served longest
        ago (``last_seen`` oldest first, then by id): what a crawl's revisit
        budget verifies next. Each verification moves the article to the back
        of the line, so successive crawls cover the whole archive in turn."""
        if limit <= 0:
            return []
        return [r[0] for r in self.conn.execute(
            "SELECT canonical_url FROM articles "
            "WHERE portal_id = ? AND status = 'live' ORDER BY last_seen, id LIMIT ?",
            [portal_id, limit])]

    def mark_gone(self, urls: Iterable[str], *, run_id: int | None = None,
                  now: datetime | None = None) -> int:
        """Mark articles the portal no longer serves (404/410) as ``status = 'gone'``.

        They stay in the archive. ``gone_at`` records when they were found
        gone (cleared by :meth:`save_articles` if one comes back); ``last_seen``
        keeps when the portal last served them; ``last_run_id`` becomes the run
        that found them gone, and that run's ``articles_gone`` counts them.
        Articles already gone keep their ``gone_at``. Returns how many rows changed.
        """
        stamp = utc_iso(now or datetime.now(UTC))
        changed = 0
        with self.db.atomic():
            for url in urls:
                cur = self.conn.execute(
                    "UPDATE articles SET status = 'gone', gone_at = ?, "
                    "last_run_id = coalesce(?, last_run_id) "
                    "WHERE (canonical_url = ? OR url = ?) AND status != 'gone'",
                    [stamp, run_id or None, url, url])
                changed += cur.rowcount
            if run_id and changed:
                self.conn.execute(
                    "UPDATE crawl_runs SET articles_gone = articles_gone + ? WHERE id = ?",
                    [changed, run_id])
        return changed

    def mark_seen(self, urls: Iterable[str], *, run_id: int | None = None,
                  now: datetime | None = None) -> int:
        """The portal answered for these articles without serving them again (a
        revisited article that now redirects to another article's URL): ``last_seen``
        becomes now, so the revisit budget verifies the others first. Returns
        how many rows changed."""
        stamp = utc_iso(now or datetime.now(UTC))
        changed = 0
        with self.db.atomic():
            for url in urls:
                changed += self.conn.execute(
                    "UPDATE articles SET last_seen = ?, last_run_id = coalesce(?, last_run_id) "
                    "WHERE canonical_url = ? OR url = ?", [stamp, run_id or None, url, url]
                ).rowcount
        return changed

    def last_run_status(self, portal_id: str, *, exclude: int | None = None) -> str | None:
        """Status of the portal's latest crawl run (None: never crawled).

        ``exclude``: a run to leave out (the crawl asking, already recorded).
        """
        row = self.conn.execute(
            "SELECT status FROM crawl_runs WHERE portal_id = ? AND id != ? "
            "ORDER BY id DESC LIMIT 1", [portal_id, exclude or 0]).fetchone()
        return str(row[0]) if row else None

    def interrupt_stale_runs(self, portal_id: str, *, exclude: int | None = None) -> int:
        """Runs of the portal still ``running`` (their process was killed) become
        ``interrupted``; ``exclude`` (the crawl asking) is left alone."""
        with self.db.atomic():
            cur = self.conn.execute(
                "UPDATE crawl_runs SET status = 'interrupted', finished = ? "
                "WHERE portal_id = ? AND status = 'running' AND id != ?",
                [utc_iso(datetime.now(UTC)), portal_id, exclude or 0])
        return cur.rowcount

    def update_run_settings(self, run_id: int, values: dict[str, Any]) -> None:
        """Add ``values`` to a run's recorded settings (what the crawl decided)."""
        with self.db.atomic():
            row = self.conn.execute("SELECT settings FROM crawl_runs WHERE id = ?",
                                    [run_id]).fetchone()
            if row is None:
                raise ArchiveError(f"no crawl run {run_id} in {self.path}")
            merged = {**json.loads(row[0] or "{}"), **values}
            self.conn.execute(
                "UPDATE crawl_runs SET settings = ? WHERE id = ?",
                [json.dumps(merged, ensure_ascii=False, default=str, sort_keys=True), run_id])


_RUN_JSON = ("settings", "stats", "responses_by_status", "dropped_reasons", "warc_files")


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    for col in _RUN_JSON:
        if col in row and isinstance(row[col], str):
            row[col] = json.loads(row[col])
    return row


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, value in stats.items():
        if key.startswith(prefix) and "/" not in key[len(prefix):]:
            n = _int_or_none(value)
            if n is not None:
                out[key[len(prefix):]] = n
    return dict(sorted(out.items()))


def run_columns(stats: dict[str, Any]) -> dict[str, Any]:
    """The provenance columns of ``crawl_runs`` read from a crawl's Scrapy stats.

    ``None`` where the stats say nothing (the column keeps its value).
    ``errors`` counts what the crawl logged as errors (downloads that failed
    after their retries, exceptions in the spider or the pipelines).
    """
    def num(*keys: str) -> int | None:
        for key in keys:
            if key in stats:
                return _int_or_none(stats[key])
        return None

    by_status = _prefixed(stats, "downloader/response_status_count/")
    dropped = _prefixed(stats, "portal_archive/dropped/")
    warc_files = stats.get("portal_archive/warc/files")
    if isinstance(warc_files, str):
        try:
            warc_files = json.loads(warc_files)
        except ValueError:
            warc_files = [warc_files]
    duration = stats.get("elapsed_time_seconds")
    return {
        "requests": num("downloader/request_count"),
        "responses": num("downloader/response_count"),
        "responses_by_status": json.dumps(by_status) if by_status else None,
        "pages_dropped": num("pages_dropped", "portal_archive/dropped"),
        "dropped_reasons": json.dumps(dropped, ensure_ascii=False) if dropped else None,
        "images_ok": num("portal_archive/images/ok"),
        "images_failed": num("portal_archive/images/failed"),
        "warc_files": json.dumps(list(warc_files)) if isinstance(warc_files, list) else None,
        "warc_bytes": num("portal_archive/warc/bytes"),
        "bytes_received": num("downloader/response_bytes"),
        "duration_s": float(duration) if isinstance(duration, (int, float)) else None,
        "errors": num("errors", "log_count/ERROR"),
        # Migration 0007 (articles_gone is counted by Archive.mark_gone itself).
        "articles_revisited": num("portal_archive/articles/revisited"),
    }


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

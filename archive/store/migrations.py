"""The schema, as an append-only list of migrations.

:data:`MIGRATIONS` is an ordered list of functions, each applied once per
database, in its own ``BEGIN IMMEDIATE`` transaction, recorded in
``schema_migrations``; ``PRAGMA user_version`` mirrors their count
(:func:`migrate`). A later schema change is a new function decorated with
:func:`migration`, appended at the end of the migrations below (before
:func:`migrate`). Never edit an applied one: databases in the field have run it.

The triggers the migrations create live here too, as SQL built from the
columns they follow: the full-text index (:mod:`archive.store.fulltext`), the
image-file mirror, and the facet counts the web UI reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from archive.errors import HOW_TO_FILL, ArchiveError
from archive.store.fulltext import (
    FTS_COLUMNS,
    FTS_COLUMNS_0009,
    SEARCH_KEY_SQL,
    rebuild_vocabulary,
)
from archive.store.records import now_iso

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
      portal (UTC, :func:`archive.store.records.utc_iso`); NULL while it is live, and
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


# Facet counts (migration 0008): the web UI's facets and chart without reading articles.
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
    ``articles_id_facets`` indexes the same columns by article id. Triggers on
    ``articles`` (insert, delete, update of those columns) keep it equal to a
    ``GROUP BY`` over the articles; rows never reach 0.
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


def _fts_triggers(key: str, columns: tuple[str, ...] = FTS_COLUMNS) -> tuple[str, ...]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
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


def _vocab_triggers(columns: tuple[str, ...] = FTS_COLUMNS) -> tuple[str, ...]:
    return (
        """CREATE TRIGGER articles_vocab_insert AFTER INSERT ON articles BEGIN
            INSERT OR IGNORE INTO search_vocab_pending(article_id) VALUES (new.id);
        END""",
        f"""CREATE TRIGGER articles_vocab_update
            AFTER UPDATE OF {", ".join(columns)} ON articles BEGIN
            INSERT OR IGNORE INTO search_vocab_pending(article_id) VALUES (new.id);
        END""",
    )


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
            {", ".join(FTS_COLUMNS_0009)},
            content='articles', content_rowid='search_key',
            tokenize='unicode61 remove_diacritics 0')""")
    for sql in _fts_triggers("search_key", FTS_COLUMNS_0009):
        db.execute(sql)
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    # The index's vocabulary, for prefix queries: `nong*` becomes an OR of the
    # words it stands for, which FTS5 walks lazily (its own prefix search
    # first merges every posting of every such word). Triggers queue each
    # written article; the library tokenises the queue (refresh_vocabulary).
    db.execute("CREATE TABLE search_vocab (term TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute("CREATE TABLE search_vocab_pending (article_id INTEGER PRIMARY KEY)")
    for sql in _vocab_triggers(FTS_COLUMNS_0009):
        db.execute(sql)
    rebuild_vocabulary(db.conn)


@migration("0010_documents")
def _documents(db: sqlite_utils.Database) -> None:
    """Documents attached to articles, and their text in the full-text index.

    ``documents``: one row per document URL (status ok/failed/too_large/pending,
    the file content-addressed by sha256, tries, last error, the extracted
    text and how extraction went: text_status ok/scanned/none/failed, pages).
    ``article_documents``: each article's attachments (name and type as linked).
    ``articles.attachments_folded`` holds the folded text of an article's
    documents; ``articles_fts`` is rebuilt with it as one more folded column.
    """
    for sql in (
        """CREATE TABLE documents (
            url TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            sha256 TEXT,
            path TEXT,
            size INTEGER,
            mime TEXT,
            http_status INTEGER,
            error TEXT,
            tries INTEGER NOT NULL DEFAULT 0,
            text TEXT,
            text_status TEXT,
            pages INTEGER,
            first_attempt TEXT NOT NULL,
            last_attempt TEXT NOT NULL,
            fetched TEXT,
            run_id INTEGER REFERENCES crawl_runs(id)
        )""",
        "CREATE INDEX documents_sha256 ON documents(sha256)",
        "CREATE INDEX documents_status ON documents(status)",
        """CREATE TABLE article_documents (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            url TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            PRIMARY KEY (article_id, url)
        )""",
        "CREATE INDEX article_documents_url ON article_documents(url)",
    ):
        db.execute(sql)
    for name in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update",
                 "articles_vocab_insert", "articles_vocab_update"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute("ALTER TABLE articles ADD COLUMN attachments_folded TEXT")
    db.execute(f"""CREATE VIRTUAL TABLE articles_fts USING fts5(
            {", ".join(FTS_COLUMNS)},
            content='articles', content_rowid='search_key',
            tokenize='unicode61 remove_diacritics 0')""")
    for sql in (*_fts_triggers("search_key"), *_vocab_triggers()):
        db.execute(sql)
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


@migration("0011_capture_source")
def _capture_source(db: sqlite_utils.Database) -> None:
    """Where each capture and article came from, and when it was captured.

    ``source`` is ``live`` (our own crawl), ``wayback`` or ``commoncrawl``;
    ``captured_at`` is when that source saw the page (for an archive: its
    capture time, never the publication date). ``articles.captured_at`` is the
    capture time of the text the article holds, so an older archived text
    never replaces a newer one. ``crawl_runs.kind`` tells crawls from rescues.
    """
    for sql in (
        "ALTER TABLE captures ADD COLUMN source TEXT NOT NULL DEFAULT 'live'",
        "ALTER TABLE captures ADD COLUMN captured_at TEXT",
        "UPDATE captures SET captured_at = fetched",
        "ALTER TABLE articles ADD COLUMN source TEXT NOT NULL DEFAULT 'live'",
        "ALTER TABLE articles ADD COLUMN captured_at TEXT",
        "UPDATE articles SET captured_at = coalesce(content_first_seen, first_seen)",
        "ALTER TABLE crawl_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'crawl'",
    ):
        db.execute(sql)


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
                    [name, now_iso()],
                )
                count = db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
                db.execute(f"PRAGMA user_version = {int(count)}")
                newly.append(name)
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
    return newly


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


"""The full-text index as stored: its columns, its key, its vocabulary.

``articles_fts`` is an FTS5 external-content table over ``articles``
(``unicode61 remove_diacritics 0``) indexing :data:`FTS_COLUMNS`. Its rowid is
``articles.search_key`` (:data:`SEARCH_KEY_SQL`): newest published first, with
the article id in the low 32 bits (:func:`key_id`, :func:`fts_id`). Triggers
(created by the migrations) keep it equal to ``articles`` on every write.

``search_vocab`` lists the index's words, for prefix queries; triggers queue
each written article in ``search_vocab_pending`` and the writer tokenises the
queue (:func:`refresh_vocabulary`) in the same transaction. Reading the
vocabulary is the search's business (:func:`archive.search.prefix_terms`).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from archive.textfold import WORD_RE

#: FTS5 columns holding the text as published, and its folded copies.
EXACT_COLUMNS = ("title", "body", "author")
#: ``attachments_folded``: the folded text of the article's attached documents
#: (written when a document's text is extracted, :mod:`archive.store.documents`).
FOLDED_COLUMNS = ("title_folded", "body_folded", "author_folded", "attachments_folded")
#: The columns of ``articles_fts``, in order (bm25 weights follow this order):
#: the query's columns, and the folded category the category filter matches.
FTS_COLUMNS = (*EXACT_COLUMNS, *FOLDED_COLUMNS, "category_folded")
#: The columns ``articles_fts`` had before the attachments' text joined it
#: (the index as migrations 0009 built it).
FTS_COLUMNS_0009 = ("title", "body", "author", "title_folded", "body_folded", "author_folded",
                    "category_folded")

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
#: An ``articles_fts`` rowid (``articles.search_key``) holds the article id in
#: its low 32 bits.
ID_MASK = 0xFFFFFFFF


def key_id(key: int) -> int:
    """The article id behind an ``articles_fts`` rowid."""
    return key & ID_MASK


def fts_id(rowid: str = "rowid") -> str:
    """SQL for :func:`key_id` (no lookup needed)."""
    return f"({rowid} & {ID_MASK})"


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


def has_vocabulary(conn: sqlite3.Connection) -> bool:
    """Whether the database has ``search_vocab`` (migration 0009); only an
    archive opened with fewer migrations (tests of migrations) lacks it."""
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'search_vocab_pending'").fetchone() is not None


def rebuild_index(conn: sqlite3.Connection) -> None:
    """Rebuild ``articles_fts`` from ``articles`` in one pass."""
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def check_index(conn: sqlite3.Connection) -> None:
    """Raise :class:`sqlite3.DatabaseError` if the index disagrees with ``articles``."""
    conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")

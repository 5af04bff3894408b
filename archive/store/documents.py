"""Documents attached to articles: each article's links (``article_documents``)
and the downloads of the files (``documents``, one row per URL; the file is
stored once per sha256, its text extracted once).

The folded text of an article's documents is ``articles.attachments_folded``,
a column of the full-text index: it is rewritten whenever one of its
documents is recorded, or the article's links change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from archive.store.db import Database
from archive.store.records import DOCUMENT_COLUMNS, DocumentDownload, Selection, now_iso
from archive.textfold import fold
from scraper.extract.article import Attachment


class Documents:
    """The ``documents`` and ``article_documents`` tables."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def write(self, article_id: int, attachments: Sequence[Attachment], *,
              replace: bool) -> None:
        """Record an article's attachments (inside the article write's
        transaction); ``replace`` drops the links it had before."""
        conn = self.database.conn
        if replace:
            conn.execute("DELETE FROM article_documents WHERE article_id = ?", [article_id])
        elif not attachments:
            return
        conn.executemany(
            "INSERT OR IGNORE INTO article_documents(article_id, position, url, name, kind) "
            "VALUES (?, ?, ?, ?, ?)",
            [(article_id, pos, a.url, a.name, a.kind) for pos, a in enumerate(attachments)])
        self._refresh_text([article_id])

    def _refresh_text(self, article_ids: Sequence[int]) -> None:
        """Rewrite ``attachments_folded`` of these articles from their documents' text."""
        conn = self.database.conn
        for article_id in article_ids:
            texts = [r[0] for r in conn.execute(
                """SELECT d.text FROM article_documents l JOIN documents d ON d.url = l.url
                   WHERE l.article_id = ? AND d.text IS NOT NULL ORDER BY l.position""",
                [article_id])]
            folded = fold("\n\n".join(texts)) if texts else None
            conn.execute("UPDATE articles SET attachments_folded = ? WHERE id = ? "
                         "AND attachments_folded IS NOT ?", [folded, article_id, folded])

    def state(self, url: str) -> dict[str, Any] | None:
        """The download record of a document URL, or None when never tried."""
        rows = list(self.database.db.query(
            "SELECT url, kind, status, sha256, path, size, mime, tries, error, text_status "
            "FROM documents WHERE url = ?", [url]))
        return rows[0] if rows else None

    def to_retry(self, portal_id: str, *, max_tries: int = 5) -> list[tuple[str, str | None]]:
        """Document URLs of this portal's articles still to fetch, with their
        status: ``failed`` ones (fewer than ``max_tries`` tries), ``pending``
        ones and never tried ones (None). A ``too_large`` one is not retried."""
        return [(r["url"], r["status"]) for r in self.database.db.query(
            """SELECT l.url, d.status FROM article_documents l
               JOIN articles a ON a.id = l.article_id
               LEFT JOIN documents d ON d.url = l.url
               WHERE a.portal_id = ? AND (d.url IS NULL OR d.status = 'pending'
                     OR (d.status = 'failed' AND d.tries < ?))
               GROUP BY l.url ORDER BY l.url""", [portal_id, max_tries])]

    def record(self, download: DocumentDownload, *, run_id: int | None = None,
               now: datetime | None = None) -> None:
        """Record a download attempt; tries are counted. A failure never erases
        an earlier success (its file and text stay known)."""
        stamp = now_iso(now)
        conn = self.database.conn
        with self.database.write_transaction():
            old = conn.execute("SELECT status FROM documents WHERE url = ?",
                               [download.url]).fetchone()
            values: dict[str, Any]
            if download.status == "ok":
                values = {"status": "ok", "sha256": download.sha256, "path": download.path,
                          "size": download.size, "mime": download.mime,
                          "http_status": download.http_status, "error": download.error,
                          "text": download.text, "text_status": download.text_status,
                          "pages": download.pages, "fetched": stamp}
            elif old is not None and old[0] == "ok":
                values = {"http_status": download.http_status, "error": download.error}
            else:
                values = {"status": download.status, "http_status": download.http_status,
                          "size": download.size, "error": download.error}
            if download.kind:
                values["kind"] = download.kind
            if old is None:
                row = {"url": download.url, "kind": download.kind, "tries": 1,
                       "first_attempt": stamp, "last_attempt": stamp, "run_id": run_id,
                       **values}
                conn.execute(f"INSERT INTO documents({', '.join(row)}) "
                             f"VALUES ({', '.join(':' + c for c in row)})", row)
            else:
                sets = ", ".join(f"{c} = :{c}" for c in values)
                conn.execute(
                    f"UPDATE documents SET {sets}, tries = tries + 1, last_attempt = :stamp, "
                    f"run_id = :run_id WHERE url = :url",
                    {**values, "stamp": stamp, "run_id": run_id, "url": download.url})
            if download.status == "ok":
                ids = [r[0] for r in conn.execute(
                    "SELECT article_id FROM article_documents WHERE url = ?", [download.url])]
                self._refresh_text(ids)

    def of_articles(self, article_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Each article's documents, in link order, as dicts with :data:`DOCUMENT_COLUMNS`."""
        out: dict[int, list[dict[str, Any]]] = {i: [] for i in article_ids}
        if not article_ids:
            return out
        marks = ",".join("?" * len(article_ids))
        for row in self.database.conn.execute(
                f"{_SELECT} WHERE l.article_id IN ({marks}) ORDER BY l.article_id, l.position",
                list(article_ids)):
            out[row[0]].append(dict(zip(DOCUMENT_COLUMNS, row, strict=True)))
        return out

    def texts(self, article_id: int) -> list[tuple[str, str]]:
        """``(name, text)`` of an article's documents that have text."""
        return [(r[0], r[1]) for r in self.database.conn.execute(
            """SELECT l.name, d.text FROM article_documents l JOIN documents d ON d.url = l.url
               WHERE l.article_id = ? AND d.text IS NOT NULL ORDER BY l.position""",
            [article_id])]

    def iterate(self, selection: Selection | None = None) -> Iterator[dict[str, Any]]:
        """Stream the documents of the articles ``selection`` selects (all
        without one), by article id then position."""
        where, params = selection.where("a") if selection is not None else ("1", [])
        cursor = self.database.conn.execute(
            f"{_SELECT} JOIN articles a ON a.id = l.article_id WHERE {where} "
            f"ORDER BY l.article_id, l.position", params)
        for values in cursor:
            yield dict(zip(DOCUMENT_COLUMNS, values, strict=True))


_SELECT = """SELECT l.article_id, l.position, l.url, l.name, l.kind,
                    coalesce(d.status, 'pending'), d.size, d.sha256, d.mime, d.path,
                    d.text_status, d.pages, coalesce(d.tries, 0), d.error
             FROM article_documents l LEFT JOIN documents d ON d.url = l.url"""

"""Articles: the upsert a crawl writes through, their earlier versions, their
captures (where each fetch of the page is kept), and the reads.

An article is keyed on its ``canonical_url``. A write of the same content
only moves ``last_seen``; a write of other content keeps the old text in
``article_versions`` first. The full-text index and the facet counts follow
``articles`` through triggers; the search vocabulary is brought up to date in
the write's own transaction (:func:`archive.store.fulltext.refresh_vocabulary`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.errors import HOW_TO_FILL, ArchiveError
from archive.store.db import Database
from archive.store.documents import Documents
from archive.store.fulltext import refresh_vocabulary
from archive.store.media import Media
from archive.store.records import (
    EXPORT_COLUMNS,
    JSON_COLUMNS,
    Capture,
    SaveResult,
    Selection,
    StoredArticle,
    article_from_row,
    article_row,
    normalised,
    now_iso,
)
from archive.store.runs import Runs
from scraper.extract.article import Article


class Articles:
    """The ``articles``, ``article_versions`` and ``captures`` tables."""

    def __init__(self, database: Database, runs: Runs, media: Media,
                 documents: Documents) -> None:
        self.database = database
        self.runs = runs
        self.media = media
        self.documents = documents
        self._has_provenance: bool | None = None

    # -- write
    def save(self, items: Iterable[Article], *, portal_id: str, run_id: int | None = None,
             now: datetime | None = None,
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
        stamp = now_iso(now)
        result = SaveResult()
        conn = self.database.conn
        with self.database.write_transaction():
            for index, item in enumerate(items):
                article = normalised(item)
                row = article_row(article)
                capture = captures[index] if captures is not None else None
                source = capture.source if capture is not None else "live"
                archived = source != "live"
                captured = (capture.captured_at or capture.fetched if capture is not None
                            else None) or stamp
                row.update(portal_id=portal_id, last_seen=stamp, last_run_id=run_id)
                if self._provenance():
                    row.update(source=source, captured_at=captured)
                    old = conn.execute(
                        "SELECT id, content_hash, source, captured_at FROM articles "
                        "WHERE canonical_url = ?", [article.canonical_url]).fetchone()
                else:  # an archive not migrated that far (tests of older migrations)
                    old = conn.execute(
                        "SELECT id, content_hash, 'live', NULL FROM articles "
                        "WHERE canonical_url = ?", [article.canonical_url]).fetchone()
                if old is not None and archived and old[1] == row["content_hash"]:
                    # The archive holds the text we have: nothing was seen live.
                    article_id = int(old[0])
                    result.unchanged += 1
                elif old is not None and archived and (
                        old[2] == "live" or (old[3] or "") >= captured):
                    # Live text wins, and so does a newer capture: the archived
                    # text is kept as an earlier version only.
                    article_id = int(old[0])
                    if self._add_archived_version(article_id, row, article):
                        result.versions += 1
                    else:
                        result.unchanged += 1
                elif old is None:
                    row.update(first_seen=stamp, first_run_id=run_id,
                               content_first_seen=stamp, content_first_run_id=run_id)
                    cols = ", ".join(row)
                    marks = ", ".join(f":{c}" for c in row)
                    cur = conn.execute(f"INSERT INTO articles({cols}) VALUES ({marks})", row)
                    article_id = int(cur.lastrowid or 0)
                    self.media.write(article_id, article.images)
                    self.documents.write(article_id, article.attachments, replace=False)
                    result.new += 1
                elif old[1] == row["content_hash"]:
                    article_id = int(old[0])
                    conn.execute(
                        "UPDATE articles SET last_seen = ?, last_run_id = ?, status = 'live', "
                        "gone_at = NULL" + (", source = 'live'" if self._provenance() else "")
                        + " WHERE id = ?",
                        [stamp, run_id, article_id],
                    )
                    self.documents.write(article_id, article.attachments, replace=False)
                    result.unchanged += 1
                else:
                    article_id = int(old[0])
                    self._keep_version(article_id, row)
                    row.update(content_first_seen=stamp, content_first_run_id=run_id)
                    sets = ", ".join(f"{c} = :{c}" for c in row if c != "canonical_url")
                    conn.execute(
                        f"UPDATE articles SET {sets}, status = 'live', gone_at = NULL "
                        f"WHERE id = :id",
                        {**row, "id": article_id},
                    )
                    conn.execute("DELETE FROM images WHERE article_id = ?", [article_id])
                    self.media.write(article_id, article.images)
                    self.documents.write(article_id, article.attachments, replace=True)
                    result.changed += 1
                result.ids.append(article_id)
                if capture is not None:
                    self._write_capture(article_id, run_id, row["content_hash"], capture)
            if run_id is not None:
                self.runs.count_saved(run_id, result)
            if (result.new or result.changed) and not self.database.bulk \
                    and self.database.has_vocabulary():
                refresh_vocabulary(conn)
        return result

    def _keep_version(self, article_id: int, new_row: dict[str, Any]) -> None:
        """Keep the old text of a changed article in ``article_versions``.

        Called inside the transaction before the row is rewritten. The version
        keeps the title, body, author, date, images (JSON) and the extractor,
        with when that content was first and last seen and by which runs.
        """
        self.database.conn.execute(
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

    def _provenance(self) -> bool:
        """The archive has the ``source`` columns (migration 0011_capture_source)."""
        if self._has_provenance is None:
            cols = {r[1] for r in self.database.conn.execute("PRAGMA table_info(articles)")}
            self._has_provenance = "source" in cols
        return self._has_provenance

    def _add_archived_version(self, article_id: int, row: dict[str, Any],
                              article: Article) -> bool:
        """Keep an archived text as a version of the article (once per content hash);
        False when the article or a version already holds it."""
        conn = self.database.conn
        seen = conn.execute(
            "SELECT 1 FROM article_versions WHERE article_id = ? AND content_hash = ?",
            [article_id, row["content_hash"]]).fetchone()
        if seen is not None:
            return False
        images = json.dumps([{"position": i.position, "url": i.url, "caption": i.caption,
                              "alt": i.alt} for i in article.images], ensure_ascii=False)
        conn.execute(
            """INSERT INTO article_versions(article_id, content_hash, url, title, published,
                   published_raw, author, authors, body, body_html, category, images,
                   extractor, extractor_version, first_seen, last_seen, first_run_id,
                   last_run_id, replaced, replaced_by_run_id)
               VALUES (:article_id, :content_hash, :url, :title, :published, :published_raw,
                   :author, :authors, :body, :body_html, :category, :images, :extractor,
                   :extractor_version, :captured_at, :captured_at, :last_run_id,
                   :last_run_id, :captured_at, NULL)""",
            {**row, "article_id": article_id, "images": images},
        )
        return True

    def _write_capture(self, article_id: int, run_id: int | None, content_hash: str,
                       capture: Capture) -> None:
        self.database.conn.execute(
            """INSERT OR IGNORE INTO captures(article_id, run_id, url, fetched, http_status,
                   content_hash, warc_file, warc_offset, warc_length, warc_record_id,
                   source, captured_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""" if self._provenance() else
            """INSERT OR IGNORE INTO captures(article_id, run_id, url, fetched, http_status,
                   content_hash, warc_file, warc_offset, warc_length, warc_record_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [article_id, run_id, capture.url, capture.fetched, capture.http_status,
             content_hash, capture.warc_file, capture.warc_offset, capture.warc_length,
             capture.warc_record_id,
             *([capture.source, capture.captured_at or capture.fetched]
               if self._provenance() else [])],
        )

    def delete(self, ref: int | str) -> bool:
        """Remove an article (and its images) from the archive; True if it existed."""
        article_id = self.resolve_id(ref)
        if article_id is None:
            return False
        with self.database.db.atomic():
            self.database.conn.execute("DELETE FROM articles WHERE id = ?", [article_id])
        return True

    # -- history and provenance
    def versions(self, ref: int | str) -> list[dict[str, Any]]:
        """Earlier versions of an article, oldest first (images decoded)."""
        article_id = self.resolve_id(ref)
        if article_id is None:
            return []
        rows = list(self.database.db.query(
            "SELECT * FROM article_versions WHERE article_id = ? ORDER BY id", [article_id]))
        for row in rows:
            row["images"] = json.loads(row["images"])
            row["authors"] = json.loads(row["authors"])
        return rows

    def captures(self, ref: int | str) -> list[dict[str, Any]]:
        """Every recorded fetch of an article's page, oldest first."""
        article_id = self.resolve_id(ref)
        if article_id is None:
            return []
        return list(self.database.db.query(
            "SELECT * FROM captures WHERE article_id = ? ORDER BY id", [article_id]))

    def last_capture_time(self, url: str) -> str | None:
        """When the page at ``url`` (as fetched) was last captured, or None."""
        row = self.database.conn.execute("SELECT max(fetched) FROM captures WHERE url = ?",
                                         [url]).fetchone()
        return row[0] if row and row[0] else None

    def warc_path(self, warc_file: str) -> Path:
        """The file a ``captures.warc_file`` names (relative to the archive's folder)."""
        path = Path(warc_file)
        return path if path.is_absolute() else self.database.folder / path

    # -- read
    def resolve_id(self, ref: int | str) -> int | None:
        """The id of the article ``ref`` names (an id or a canonical URL), or None."""
        conn = self.database.conn
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = conn.execute("SELECT id FROM articles WHERE id = ?", [int(ref)]).fetchone()
        else:
            row = conn.execute("SELECT id FROM articles WHERE canonical_url = ?",
                               [ref]).fetchone()
        return int(row[0]) if row else None

    def get_stored(self, ref: int | str) -> StoredArticle | None:
        """The stored article by id or canonical URL, with its archive metadata."""
        article_id = self.resolve_id(ref)
        if article_id is None:
            return None
        db = self.database.db
        row = next(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        images = list(db.query(
            "SELECT * FROM images WHERE article_id = ? ORDER BY position", [article_id]))
        return StoredArticle(
            id=row["id"], portal_id=row["portal_id"], article=article_from_row(row, images),
            content_hash=row["content_hash"], published_utc=row["published_utc"],
            first_seen=row["first_seen"], last_seen=row["last_seen"],
            first_run_id=row["first_run_id"], last_run_id=row["last_run_id"],
            status=row["status"], gone_at=row.get("gone_at"),
        )

    def require(self) -> None:
        """Raise :class:`ArchiveError` when the archive holds no article yet."""
        if self.database.conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None:
            raise ArchiveError(
                f"the archive at {self.database.path} holds no articles yet — {HOW_TO_FILL}")

    def iterate(self, selection: Selection | None = None, *, order: str = "date",
                images: bool = True) -> Iterator[dict[str, Any]]:
        """Stream the articles ``selection`` selects (all without one) as dicts
        with :data:`EXPORT_COLUMNS` (JSON columns decoded).

        ``order`` is ``"date"`` (oldest first, undated last) or ``"id"``.
        ``images=False`` leaves the ``images`` key out (and the per-article
        image lookup with it). Rows are read from a cursor: memory use does
        not grow with the archive.
        """
        where, params = selection.where("a") if selection is not None else ("1", [])
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
        json_columns = [c for c in JSON_COLUMNS if c in wanted]
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
            cursor = self.database.conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values, strict=True))
                for col in json_columns:
                    value = row[col]
                    row[col] = json.loads(value) if value and value != "[]" else []
                yield {c: row[c] for c in wanted}

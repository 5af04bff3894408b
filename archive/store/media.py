"""Images: each article's images (``images``) and the downloads of their files
(``image_files``, one row per URL; the file is stored once per sha256).

Triggers (migration 0004) mirror a URL's download columns onto every
``images`` row of that URL, so each article's images carry them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from archive.store.db import Database
from archive.store.records import IMAGE_COLUMNS, ImageDownload, Selection, now_iso
from scraper.extract.article import Image


class Media:
    """The ``images`` and ``image_files`` tables."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def write(self, article_id: int, images: list[Image]) -> None:
        """Insert an article's images (inside the article write's transaction)."""
        # Positions as given when they are distinct, else reading order.
        positions = [i.position for i in images]
        if len(set(positions)) != len(positions):
            positions = list(range(len(images)))
        self.database.conn.executemany(
            "INSERT INTO images(article_id, position, url, caption, alt) VALUES (?, ?, ?, ?, ?)",
            [(article_id, pos, i.url, i.caption, i.alt) for pos, i in zip(positions, images,
                                                                           strict=True)],
        )

    def state(self, url: str) -> dict[str, Any] | None:
        """The download record of an image URL, or None when never tried."""
        rows = list(self.database.db.query("SELECT * FROM image_files WHERE url = ?", [url]))
        return rows[0] if rows else None

    def to_retry(self, portal_id: str, *, max_attempts: int = 5) -> list[tuple[str, str | None]]:
        """Image URLs of this portal's articles still to fetch, with their status.

        ``failed`` ones (fewer than ``max_attempts`` attempts) and never tried
        ones (``None``: e.g. a crawl killed before it got to them).
        """
        return [(r["url"], r["status"]) for r in self.database.db.query(
            """SELECT i.url, f.status FROM images i
               JOIN articles a ON a.id = i.article_id
               LEFT JOIN image_files f ON f.url = i.url
               WHERE a.portal_id = ? AND (f.url IS NULL
                     OR (f.status = 'failed' AND f.attempts < ?))
               GROUP BY i.url ORDER BY i.url""", [portal_id, max_attempts])]

    def record(self, download: ImageDownload, *, run_id: int | None = None,
               now: datetime | None = None) -> None:
        """Record an image download attempt (ok or failed); attempts are counted.

        A failure never erases an earlier success: the file stays known.
        """
        stamp = now_iso(now)
        conn = self.database.conn
        with self.database.write_transaction():
            old = self.state(download.url)
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
                conn.execute(f"INSERT INTO image_files({cols}) VALUES ({marks})", row)
            else:
                sets = ", ".join(f"{c} = :{c}" for c in values)
                conn.execute(
                    f"UPDATE image_files SET {sets}, attempts = attempts + 1, "
                    f"last_attempt = :stamp, run_id = :run_id WHERE url = :url",
                    {**values, "stamp": stamp, "run_id": run_id, "url": download.url},
                )

    def iterate(self, selection: Selection | None = None) -> Iterator[dict[str, Any]]:
        """Stream the images of the articles ``selection`` selects (all without
        one), by article id then position, as dicts with :data:`IMAGE_COLUMNS`,
        read from a cursor."""
        where, params = selection.where("a") if selection is not None else ("1", [])
        cursor = self.database.conn.execute(
            f"""SELECT i.article_id, i.position, i.url, i.caption, i.alt
                FROM images i JOIN articles a ON a.id = i.article_id
                WHERE {where} ORDER BY i.article_id, i.position""", params)
        for values in cursor:
            yield dict(zip(IMAGE_COLUMNS, values, strict=True))

"""Crawl runs (``crawl_runs``): one row per crawl (or import, or re-extraction).

A run is started, counts the articles it saves (:meth:`Runs.count_saved`) and
marks gone (:meth:`Runs.count_gone`), and is finished with the stats of the
process that ran it and its provenance columns (:data:`PROVENANCE_COLUMNS`).
Reading those columns out of a crawl's Scrapy stats is the crawl runtime's
business (:func:`scraper.runstats.run_columns`): storage only records them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from archive.errors import ArchiveError
from archive.store.db import Database
from archive.store.records import SaveResult, now_iso

#: The columns of ``crawl_runs`` that say what a run did (migrations 0001,
#: 0005 and 0007), set by :meth:`Runs.finish`; ``articles_*`` counters are
#: kept by the writes themselves.
PROVENANCE_COLUMNS = ("requests", "responses", "responses_by_status", "pages_dropped",
                      "dropped_reasons", "images_ok", "images_failed", "warc_files",
                      "warc_bytes", "bytes_received", "duration_s", "errors",
                      "articles_revisited")
#: Columns stored as JSON text (decoded on read).
_JSON_COLUMNS = ("settings", "stats", "responses_by_status", "dropped_reasons", "warc_files")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


class Runs:
    """The ``crawl_runs`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def start(self, portal_id: str, settings: dict[str, Any] | None = None,
              *, now: datetime | None = None, kind: str = "crawl") -> int:
        """Record the start of a run of ``portal_id`` (``kind``: ``crawl`` or
        ``rescue``); return the run id."""
        row = {"portal_id": portal_id, "started": now_iso(now), "settings": _json(settings or {})}
        if kind != "crawl":  # the column's default
            row["kind"] = kind
        cur = self.database.db.execute(
            f"INSERT INTO crawl_runs({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        return int(cur.lastrowid or 0)

    def finish(self, run_id: int, stats: dict[str, Any] | None = None,
               status: str = "finished", *, columns: Mapping[str, Any] | None = None,
               now: datetime | None = None) -> dict[str, Any]:
        """Record the end of a run; return its row.

        ``stats`` is kept as the run's ``stats`` (JSON); ``columns`` are
        provenance columns (:data:`PROVENANCE_COLUMNS`: a dict or list for the
        JSON ones); a column they leave out or set to None keeps its value.
        """
        values = {c: v for c, v in (columns or {}).items() if v is not None}
        unknown = sorted(set(values) - set(PROVENANCE_COLUMNS))
        if unknown:
            raise ValueError(f"not a provenance column of crawl_runs: {', '.join(unknown)}")
        values = {c: json.dumps(v, ensure_ascii=False) if c in _JSON_COLUMNS else v
                  for c, v in values.items()}
        sets = "".join(f", {c} = :{c}" for c in values)
        self.database.db.execute(
            f"UPDATE crawl_runs SET finished = :finished, status = :status, stats = :stats"
            f"{sets} WHERE id = :id",
            {**values, "finished": now_iso(now), "status": status,
             "stats": _json(stats or {}), "id": run_id},
        )
        run = self.get(run_id)
        if run is None:
            raise ArchiveError(f"no crawl run {run_id} in {self.database.path}")
        return run

    def get(self, run_id: int) -> dict[str, Any] | None:
        """The run's row (JSON columns decoded), or None."""
        rows = list(self.database.db.query("SELECT * FROM crawl_runs WHERE id = ?", [run_id]))
        return _decoded(rows[0]) if rows else None

    def latest(self, *, portal: str | None = None,
               limit: int | None = 20) -> list[dict[str, Any]]:
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
        return [_decoded(r) for r in self.database.db.query(sql, params)]

    def last_status(self, portal_id: str, *, exclude: int | None = None) -> str | None:
        """Status of the portal's latest crawl run (None: never crawled).

        ``exclude``: a run to leave out (the crawl asking, already recorded).
        """
        row = self.database.conn.execute(
            "SELECT status FROM crawl_runs WHERE portal_id = ? AND id != ? "
            "ORDER BY id DESC LIMIT 1", [portal_id, exclude or 0]).fetchone()
        return str(row[0]) if row else None

    def interrupt_stale(self, portal_id: str, *, exclude: int | None = None) -> int:
        """Runs of the portal still ``running`` (their process was killed) become
        ``interrupted``; ``exclude`` (the crawl asking) is left alone."""
        with self.database.db.atomic():
            cur = self.database.conn.execute(
                "UPDATE crawl_runs SET status = 'interrupted', finished = ? "
                "WHERE portal_id = ? AND status = 'running' AND id != ?",
                [now_iso(), portal_id, exclude or 0])
        return cur.rowcount

    def update_settings(self, run_id: int, values: dict[str, Any]) -> None:
        """Add ``values`` to a run's recorded settings (what the crawl decided)."""
        conn = self.database.conn
        with self.database.db.atomic():
            row = conn.execute("SELECT settings FROM crawl_runs WHERE id = ?",
                               [run_id]).fetchone()
            if row is None:
                raise ArchiveError(f"no crawl run {run_id} in {self.database.path}")
            merged = {**json.loads(row[0] or "{}"), **values}
            conn.execute("UPDATE crawl_runs SET settings = ? WHERE id = ?",
                         [_json(merged), run_id])

    def count_saved(self, run_id: int, result: SaveResult) -> None:
        """Add a write's new / changed / unchanged articles to the run's counters
        (inside the write's transaction)."""
        self.database.conn.execute(
            """UPDATE crawl_runs SET articles_new = articles_new + ?,
                   articles_changed = articles_changed + ?,
                   articles_unchanged = articles_unchanged + ? WHERE id = ?""",
            [result.new, result.changed, result.unchanged, run_id],
        )

    def count_gone(self, run_id: int, n: int) -> None:
        """Add ``n`` articles the run found gone to its ``articles_gone``."""
        self.database.conn.execute(
            "UPDATE crawl_runs SET articles_gone = articles_gone + ? WHERE id = ?", [n, run_id])


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for col in _JSON_COLUMNS:
        if col in row and isinstance(row[col], str):
            row[col] = json.loads(row[col])
    return row

"""What an archive holds, in numbers (``portal-archive stats``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.store.db import Database


def summary(database: Database) -> dict[str, Any]:
    """Counts, date range, per-portal breakdown, last run, file size."""
    q = database.conn.execute

    def one(sql: str) -> Any:
        row = q(sql).fetchone()
        return row[0] if row else None

    per_portal = list(database.db.query(
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
    last_run = list(database.db.query(
        "SELECT id, portal_id, kind, started, finished, status, articles_new, articles_changed, "
        "articles_unchanged, pages_dropped, errors FROM crawl_runs "
        "ORDER BY id DESC LIMIT 1"
    ))
    by_source = {r[0]: r[1] for r in q(
        "SELECT source, count(*) FROM articles GROUP BY source ORDER BY source")}
    rescues = list(database.db.query(
        """SELECT count(*) AS runs,
                  coalesce(sum(json_extract(stats, '$.captures_found')), 0) AS captures_found,
                  coalesce(sum(json_extract(stats, '$.captures_fetched')), 0) AS captures_fetched,
                  coalesce(sum(articles_new), 0) AS articles_new,
                  coalesce(sum(json_extract(stats, '$.articles_versions')), 0) AS versions,
                  coalesce(sum(errors), 0) AS failures
           FROM crawl_runs WHERE kind = 'rescue'"""))
    size = 0
    if database.path != ":memory:":
        for suffix in ("", "-wal"):
            f = Path(database.path + suffix)
            size += f.stat().st_size if f.exists() else 0
    return {
        "path": database.path,
        "schema_version": database.schema_version,
        "portals": one("SELECT count(*) FROM portals"),
        "articles": one("SELECT count(*) FROM articles"),
        "images": one("SELECT count(*) FROM images"),
        "runs": one("SELECT count(*) FROM crawl_runs"),
        "articles_by_source": by_source,
        "rescues": rescues[0] if rescues and rescues[0]["runs"] else None,
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

"""Merging shard archives into one archive (storage layer).

A fleet worker writes its own archive, a *shard* (``<data>/<worker>/archive.db``
with its ``warc/`` and ``images/`` folders). :func:`merge_shards` folds shards
into a target archive:

* **portals** by id; **runs** once per (shard, run): the mapping is kept in the
  target's ``shard_runs`` table, and a run still going on in the shard is
  brought up to date by the next merge;
* **articles** by canonical URL: a new URL is inserted; the same content only
  widens first/last seen; other content becomes a version (the newer content,
  by when it was first seen, stays current; the other goes to
  ``article_versions`` unless that content is there already); the shard's own
  versions are added the same way;
* **captures** with their WARC files: the files are copied into the target's
  folder under ``warc/shards/<shard>/…`` (a file still growing is copied
  again when it has grown) and the capture rows point at the copies;
* **images**: the content-addressed files (``images/ab/<sha256>.<ext>``) are
  copied when missing; download records by image URL, a success winning over
  a failure.

Each shard is read inside one read transaction (SQLite WAL: a consistent
snapshot while its worker goes on writing). The target is written in batches,
one transaction each, files copied before the rows that name them. A merge
killed at any point loses nothing: the next one completes it, and merging the
same shards again adds nothing.

The shard's name is the name of its folder (the worker's name): keep it when
copying shards from the machines.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError
from archive.store.archive import Archive
from archive.store.fulltext import refresh_vocabulary
from archive.store.migrations import pending_migrations

__all__ = ["MergeReport", "merge_shards"]

#: Articles merged per target transaction.
BATCH = 500

_BOOKKEEPING = """CREATE TABLE IF NOT EXISTS shard_runs (
    shard TEXT NOT NULL,
    shard_run_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
    PRIMARY KEY (shard, shard_run_id)
)"""

#: Article columns that hold crawl run ids (mapped from the shard's runs).
_ARTICLE_RUN_COLUMNS = ("first_run_id", "last_run_id", "content_first_run_id")
#: The article's content: what a version keeps (besides the images).
_CONTENT_COLUMNS = ("content_hash", "url", "title", "published", "published_raw", "author",
                    "authors", "body", "body_html", "category", "extractor", "extractor_version")


@dataclass
class MergeReport:
    """What a merge added to the target."""

    shards: int = 0
    runs_new: int = 0
    portals_new: int = 0
    articles_seen: int = 0
    articles_new: int = 0
    articles_changed: int = 0
    versions_new: int = 0
    captures_new: int = 0
    image_records_new: int = 0
    files_copied: int = 0
    bytes_copied: int = 0
    seconds: float = 0.0
    per_shard: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def added(self) -> int:
        """Rows and files added or changed: 0 when the target had everything."""
        return (self.runs_new + self.portals_new + self.articles_new + self.articles_changed
                + self.versions_new + self.captures_new + self.image_records_new
                + self.files_copied)


def shard_name(path: str | Path) -> str:
    """A shard's name: the name of the folder its database lives in."""
    return Path(path).resolve().parent.name


def merge_shards(shards: Iterable[str | Path], into: str | Path, *,
                 on_progress: Callable[[str, int], None] | None = None) -> MergeReport:
    """Merge each shard archive into the archive at ``into`` (created if missing)."""
    import time

    started = time.monotonic()
    paths = [Path(s) for s in shards]
    target_path = Path(into)
    names: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            raise ArchiveError(f"{path} is a folder: give the shard's archive.db")
        if path.resolve() == target_path.resolve():
            raise ArchiveError(f"{path} is the target archive itself")
        missing = pending_migrations(path)  # also: the file exists and is an archive
        if missing:
            raise ArchiveError(f"{path} lacks migrations ({', '.join(missing)}): "
                               f"run `portal-archive migrate --db {path}` first")
        name = shard_name(path)
        if name in names and names[name].resolve() != path.resolve():
            raise ArchiveError(f"two shards are named {name!r} ({names[name]}, {path}): "
                               f"each shard's folder must have its own name")
        names[name] = path
    report = MergeReport()
    with Archive(target_path) as target:
        target.conn.execute(_BOOKKEEPING)
        for name, path in names.items():
            before = report.added
            _ShardMerge(target, path, name, report, on_progress).run()
            report.shards += 1
            report.per_shard[name] = {"added": report.added - before}
    report.seconds = time.monotonic() - started
    return report


class _ShardMerge:
    def __init__(self, target: Archive, path: Path, name: str, report: MergeReport,
                 on_progress: Callable[[str, int], None] | None) -> None:
        self.target, self.path, self.name, self.report = target, path, name, report
        self.on_progress = on_progress
        self.dst = target.conn
        self.src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None)
        self.src.row_factory = sqlite3.Row
        self.src_folder = path.resolve().parent
        self.dst_folder = target.folder
        self.runs: dict[int, int] = {}
        self.copied: set[str] = set()

    # -- helpers
    def _rows(self, sql: str, params: Iterable[Any] = ()) -> Iterable[dict[str, Any]]:
        for row in self.src.execute(sql, list(params)):
            yield dict(row)

    def _insert(self, table: str, row: dict[str, Any], *, verb: str = "INSERT") -> int:
        cols = ", ".join(row)
        marks = ", ".join(f":{c}" for c in row)
        cur = self.dst.execute(f"{verb} INTO {table}({cols}) VALUES ({marks})", row)
        return cur.rowcount

    def _run(self, shard_run_id: Any) -> int | None:
        return self.runs.get(int(shard_run_id)) if shard_run_id is not None else None

    def _begin(self) -> None:
        self.dst.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.dst.execute("COMMIT")

    def run(self) -> None:
        try:
            # One read transaction: every read below sees the same snapshot.
            self.src.execute("BEGIN")
            self.src.execute("SELECT count(*) FROM schema_migrations").fetchone()
            self._transaction(self._portals_and_runs)
            self._transaction(self._image_records)
            self._articles()
        finally:
            if self.dst.in_transaction:
                self.dst.rollback()
            self.src.close()

    def _transaction(self, step: Callable[[], None]) -> None:
        self._begin()
        try:
            step()
            self._commit()
        except BaseException:
            self.dst.rollback()
            raise

    # -- portals and runs
    def _portals_and_runs(self) -> None:
        for row in self._rows("SELECT * FROM portals"):
            self.report.portals_new += self._insert("portals", row, verb="INSERT OR IGNORE")
        known = {r[0]: r[1] for r in self.dst.execute(
            "SELECT shard_run_id, run_id FROM shard_runs WHERE shard = ?", [self.name])}
        for row in self._rows("SELECT * FROM crawl_runs ORDER BY id"):
            shard_id = int(row.pop("id"))
            if shard_id in known:
                run_id = int(known[shard_id])
                sets = ", ".join(f"{c} = :{c}" for c in row if c != "settings")
                self.dst.execute(f"UPDATE crawl_runs SET {sets} WHERE id = :_id",
                                 {**row, "_id": run_id})
            else:
                cur = self.dst.execute(
                    f"INSERT INTO crawl_runs({', '.join(row)}) "
                    f"VALUES ({', '.join(':' + c for c in row)})", row)
                run_id = int(cur.lastrowid or 0)
                self.dst.execute("INSERT INTO shard_runs(shard, shard_run_id, run_id) "
                                 "VALUES (?, ?, ?)", [self.name, shard_id, run_id])
                self.report.runs_new += 1
            self.runs[shard_id] = run_id

    # -- image downloads and files
    def _image_records(self) -> None:
        for row in self._rows("SELECT * FROM image_files"):
            row["run_id"] = self._run(row.get("run_id"))
            old = self.dst.execute("SELECT status FROM image_files WHERE url = ?",
                                   [row["url"]]).fetchone()
            if old is not None and (old[0] == "ok" or row["status"] != "ok"):
                continue
            if row["status"] == "ok" and row.get("path"):
                self._copy_file(row["path"])
            self._insert("image_files", row, verb="INSERT OR REPLACE")
            self.report.image_records_new += 1

    def _copy_file(self, rel: str, *, growing: bool = False) -> str:
        """Copy a file of the shard's folder into the target's; return its target path."""
        source = Path(rel)
        if source.is_absolute():
            return rel  # outside the shard's folder: referenced where it is
        dest_rel = rel if not growing else f"warc/shards/{self.name}/{_after_warc(rel)}"
        if dest_rel in self.copied:
            return dest_rel
        src = self.src_folder / source
        dst = self.dst_folder / dest_rel
        if src.is_file():
            size = src.stat().st_size
            if not dst.exists() or (growing and dst.stat().st_size < size):
                dst.parent.mkdir(parents=True, exist_ok=True)
                tmp = dst.with_name(dst.name + ".merging")
                shutil.copyfile(src, tmp)
                tmp.replace(dst)
                self.report.files_copied += 1
                self.report.bytes_copied += size
        self.copied.add(dest_rel)
        return dest_rel

    # -- articles
    def _articles(self) -> None:
        columns = [r[1] for r in self.src.execute("PRAGMA table_xinfo(articles)")
                   if r[6] == 0 and r[1] != "id"]  # hidden 0: not generated
        cursor = self.src.execute(
            f"SELECT id, {', '.join(columns)} FROM articles ORDER BY id")
        while True:
            batch = cursor.fetchmany(BATCH)
            if not batch:
                break
            rows = [dict(r) for r in batch]
            # Files first: a row never names a file the target lacks.
            captures = {r["id"]: list(self._rows(
                "SELECT * FROM captures WHERE article_id = ? ORDER BY id", [r["id"]]))
                for r in rows}
            for caps in captures.values():
                for cap in caps:
                    if cap.get("warc_file"):
                        cap["warc_file"] = self._copy_file(cap["warc_file"], growing=True)
            self._begin()
            try:
                self._article_batch(rows, captures)
                self._commit()
            except BaseException:
                self.dst.rollback()
                raise
            self.report.articles_seen += len(rows)
            if self.on_progress is not None:
                self.on_progress(self.name, self.report.articles_seen)

    def _article_batch(self, rows: list[dict[str, Any]],
                       captures: dict[int, list[dict[str, Any]]]) -> None:
        wrote = False
        for row in rows:
            shard_id = row.pop("id")
            for col in _ARTICLE_RUN_COLUMNS:
                if col in row:
                    row[col] = self._run(row[col])
            old = self.dst.execute(
                "SELECT id, content_hash, first_seen, last_seen, "
                "coalesce(content_first_seen, first_seen) FROM articles "
                "WHERE canonical_url = ?", [row["canonical_url"]]).fetchone()
            images = list(self._rows(
                "SELECT position, url, caption, alt FROM images WHERE article_id = ? "
                "ORDER BY position", [shard_id]))
            if old is None:
                article_id = int(self.dst.execute(
                    f"INSERT INTO articles({', '.join(row)}) "
                    f"VALUES ({', '.join(':' + c for c in row)})", row).lastrowid or 0)
                self._write_images(article_id, images)
                self.report.articles_new += 1
                wrote = True
            else:
                article_id = int(old[0])
                wrote |= self._fold_into(article_id, old, row, images)
            for version in self._rows(
                    "SELECT * FROM article_versions WHERE article_id = ? ORDER BY id", [shard_id]):
                version.pop("id")
                version["article_id"] = article_id
                for col in ("first_run_id", "last_run_id", "replaced_by_run_id"):
                    version[col] = self._run(version.get(col))
                self._add_version(article_id, version)
            for cap in captures.get(shard_id, []):
                cap.pop("id")
                cap.update(article_id=article_id, run_id=self._run(cap.get("run_id")))
                if cap.get("warc_file") is None and self.dst.execute(
                        "SELECT 1 FROM captures WHERE article_id = ? AND warc_file IS NULL "
                        "AND url = ? AND fetched IS ? AND content_hash = ?",
                        [article_id, cap["url"], cap.get("fetched"),
                         cap["content_hash"]]).fetchone():
                    continue  # no WARC file: the unique key (NULLs differ) cannot tell
                self.report.captures_new += self._insert("captures", cap,
                                                         verb="INSERT OR IGNORE")
        if wrote:  # the words of new texts, for prefix search
            refresh_vocabulary(self.dst)

    def _fold_into(self, article_id: int, old: tuple[Any, ...], row: dict[str, Any],
                   images: list[dict[str, Any]]) -> bool:
        """The shard's copy of an article the target holds; True if its text changed."""
        _, old_hash, first_seen, last_seen, old_content_since = old
        if row["first_seen"] < first_seen:
            self.dst.execute("UPDATE articles SET first_seen = ?, first_run_id = ? WHERE id = ?",
                             [row["first_seen"], row.get("first_run_id"), article_id])
        newer_sighting = row["last_seen"] > last_seen
        if newer_sighting:
            self.dst.execute(
                "UPDATE articles SET last_seen = ?, last_run_id = ?, status = ?, gone_at = ? "
                "WHERE id = ?", [row["last_seen"], row.get("last_run_id"), row["status"],
                                 row.get("gone_at"), article_id])
        if row["content_hash"] == old_hash:
            return False
        shard_since = row.get("content_first_seen") or row["first_seen"]
        if shard_since > old_content_since:
            # The shard holds newer content: the target's current text becomes a version.
            if not self._has_version(article_id, old_hash):
                self._version_of_current(article_id, replaced=shard_since,
                                         run_id=row.get("content_first_run_id"))
            content = {c: row[c] for c in (*_CONTENT_COLUMNS, "title_folded", "body_folded",
                                           "author_folded", "category_folded",
                                           "published_utc", "content_first_seen",
                                           "content_first_run_id", "warnings", "language")
                       if c in row}
            sets = ", ".join(f"{c} = :{c}" for c in content)
            self.dst.execute(f"UPDATE articles SET {sets} WHERE id = :_id",
                             {**content, "_id": article_id})
            self.dst.execute("DELETE FROM images WHERE article_id = ?", [article_id])
            self._write_images(article_id, images)
            self.report.articles_changed += 1
            return True
        # The shard's content is older: it is a version of the target's article.
        import json

        version = {c: row[c] for c in _CONTENT_COLUMNS}
        version.update(article_id=article_id, images=json.dumps(images, ensure_ascii=False),
                       first_seen=shard_since, last_seen=row["last_seen"],
                       first_run_id=row.get("content_first_run_id"),
                       last_run_id=row.get("last_run_id"),
                       replaced=old_content_since, replaced_by_run_id=None)
        self._add_version(article_id, version)
        return False

    def _has_version(self, article_id: int, content_hash: str) -> bool:
        return self.dst.execute(
            "SELECT 1 FROM article_versions WHERE article_id = ? AND content_hash = ?",
            [article_id, content_hash]).fetchone() is not None

    def _add_version(self, article_id: int, version: dict[str, Any]) -> None:
        current = self.dst.execute("SELECT content_hash FROM articles WHERE id = ?",
                                   [article_id]).fetchone()[0]
        if version["content_hash"] == current or self._has_version(
                article_id, version["content_hash"]):
            return
        self._insert("article_versions", version)
        self.report.versions_new += 1

    def _version_of_current(self, article_id: int, *, replaced: str, run_id: Any) -> None:
        self.dst.execute(
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
            {"id": article_id, "replaced": replaced, "run_id": run_id})
        self.report.versions_new += 1

    def _write_images(self, article_id: int, images: list[dict[str, Any]]) -> None:
        self.dst.executemany(
            "INSERT INTO images(article_id, position, url, caption, alt) VALUES (?, ?, ?, ?, ?)",
            [(article_id, i["position"], i["url"], i["caption"], i["alt"]) for i in images])


def _after_warc(rel: str) -> str:
    """``warc/<portal>/<file>`` → ``<portal>/<file>`` (other paths unchanged)."""
    parts = Path(rel).parts
    return str(Path(*parts[1:])) if len(parts) > 1 and parts[0] == "warc" else rel

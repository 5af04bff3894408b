"""Merging shard archives (archive/store/merge.py): versions across shards in
either order, WARC references rewritten, idempotence, a merge that dies midway."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive.store import Archive, Capture
from archive.store import merge as merge_module
from archive.store.merge import merge_shards
from scraper.extract.article import VIETNAM_TZ, Article, Image
from scraper.portals import Portal

TABLES = ("portals", "crawl_runs", "articles", "article_versions", "captures", "images",
          "image_files")


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


PORTAL = Portal("ts", "Triệu Sơn", "Thanh Hóa", "https://ts.example.vn/", "thanhhoa")


def article(n: int, text: str = "a") -> Article:
    url = f"https://ts.example.vn/tin/bai-{n}.htm"
    return Article(
        url=url, canonical_url=url, title=f"Bài {n} ({text})",
        body=f"Nội dung bài {n}: nông thôn mới, phiên bản {text}.",
        published=datetime(2023, 1, 1, 8, 0, tzinfo=VIETNAM_TZ) + timedelta(days=n),
        published_raw="", author="Văn Hùng", authors=["Văn Hùng"],
        images=[Image(f"https://ts.example.vn/img/{n}.jpg", "Ảnh", "", 0)],
        category="Tin tức", extractor="thanhhoa", extractor_version="1")


def make_shard(folder: Path, articles: list[Article], when: datetime) -> Path:
    db = folder / "archive.db"
    with Archive(db) as a:
        a.ensure_portal(PORTAL)
        run = a.start_run(PORTAL.id, now=when)
        warc = folder / "warc" / "ts" / f"run{run:06d}-00001.warc.gz"
        warc.parent.mkdir(parents=True, exist_ok=True)
        warc.write_bytes(b"x" * 100 * len(articles))
        caps: list[Capture | None] = [
            Capture(url=x.url, fetched=when.isoformat(), http_status=200,
                    warc_file=f"warc/ts/{warc.name}", warc_offset=i * 100, warc_length=100,
                    warc_record_id=f"<urn:uuid:{folder.name}-{i}>")
            for i, x in enumerate(articles)]
        a.save_articles(articles, portal_id=PORTAL.id, run_id=run, now=when, captures=caps)
        a.finish_run(run, {"downloader/response_count": len(articles)}, now=when)
    return db


def test_merge_keeps_the_newer_text_current_and_the_other_as_a_version(tmp_path: Path) -> None:
    t1 = datetime(2024, 1, 1, tzinfo=UTC)
    old = make_shard(tmp_path / "w1", [article(1), article(2)], t1)
    new = make_shard(tmp_path / "w2", [article(2, "b"), article(3)], t1 + timedelta(days=3))
    for order, name in (((old, new), "a.db"), ((new, old), "b.db")):
        target = tmp_path / "t" / name
        report = merge_shards(order, target)
        assert report.articles_new == 3 and report.runs_new == 2
        with Archive.open(target) as a:
            stored = a.get_stored("https://ts.example.vn/tin/bai-2.htm")
            assert stored is not None and "(b)" in stored.article.title
            versions = a.versions(stored.id)
            assert [v["title"] for v in versions] == ["Bài 2 (a)"]
            assert stored.first_seen < stored.last_seen
            caps = a.captures(stored.id)
            assert {c["warc_file"].split("/")[2] for c in caps} == {"w1", "w2"}
        assert counts(target)["articles"] == 3
        assert merge_shards(order, target).added == 0


def test_a_merge_that_dies_midway_is_completed_by_the_next(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    shard = make_shard(tmp_path / "w1", [article(n) for n in range(1, 8)], when)
    clean = tmp_path / "clean" / "archive.db"
    merge_shards([shard], clean)

    monkeypatch.setattr(merge_module, "BATCH", 3)
    real = merge_module._ShardMerge._article_batch
    calls = {"n": 0}

    def dying(self: Any, rows: Any, captures: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            real(self, rows[:1], captures)  # written, then the process "dies"
            raise KeyboardInterrupt
        real(self, rows, captures)

    monkeypatch.setattr(merge_module._ShardMerge, "_article_batch", dying)
    target = tmp_path / "target" / "archive.db"
    with pytest.raises(KeyboardInterrupt):
        merge_shards([shard], target)
    assert counts(target)["articles"] == 3, "the first batch only: the second rolled back"
    monkeypatch.setattr(merge_module._ShardMerge, "_article_batch", real)
    merge_shards([shard], target)
    assert counts(target) == counts(clean)

"""archive.store: schema, migrations, upsert, FTS sync, reads, stats."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from archive import store
from archive.errors import ArchiveError
from archive.filters import ArticleFilter, count_articles
from archive.search import prefix_terms
from archive.store import MIGRATIONS, Archive, migrations
from scraper.extract.article import VIETNAM_TZ, Article, Image
from scraper.portals import Portal

PORTAL = Portal("trieuson", "Cổng thông tin điện tử huyện Triệu Sơn", "Thanh Hóa",
                "https://trieuson.thanhhoa.gov.vn/", "thanhhoa")
OTHER = Portal("hoanghoa", "Cổng thông tin điện tử huyện Hoằng Hóa", "Thanh Hóa",
               "https://hoanghoa.thanhhoa.gov.vn/", "thanhhoa")
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def make_article(n: int, **kw: object) -> Article:
    base = f"https://trieuson.thanhhoa.gov.vn/tin-tuc/bai-{n}.htm"
    fields: dict[str, object] = dict(
        url=base + "?utm_source=x",
        canonical_url=base,
        title=f"UBND huyện làm việc giao nhiệm vụ số {n}",
        body=f"Sáng ngày 15/01, UBND huyện Triệu Sơn họp bàn xây dựng nông thôn mới (bài {n}).",
        published=datetime(2022, 1, 15, 16, 48, 18, tzinfo=VIETNAM_TZ) + timedelta(days=n),
        published_raw="Ngày 15/01/2022 16:48:18",
        author="Văn Hùng",
        authors=["Văn Hùng"],
        images=[Image(f"https://trieuson.thanhhoa.gov.vn/img/z{n}_1.jpg", "Các đại biểu dự hội nghị.", "z1.jpg", 0),
                Image(f"https://trieuson.thanhhoa.gov.vn/img/z{n}_2.jpg", "Các đại biểu dự hội nghị.", "z2.jpg", 1)],
        category="Tin tức - Sự kiện",
        extractor="thanhhoa",
        extractor_version="1",
        warnings=[],
    )
    fields.update(kw)
    return Article(**fields)  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive(tmp_path / "data" / "archive.db")
    a.ensure_portal(PORTAL)
    a.ensure_portal(OTHER)
    yield a
    a.close()


def fts_ids(a: Archive, expr: str) -> list[int]:
    return [r[0] for r in a.conn.execute(
        "SELECT a.id FROM articles a WHERE a.search_key IN "
        "(SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) ORDER BY a.id", [expr])]


# ------------------------------------------------------------------ schema
def test_new_archive_has_schema_wal_and_foreign_keys(tmp_path: Path) -> None:
    with Archive(tmp_path / "sub" / "a.db") as a:
        assert a.journal_mode == "wal"
        assert a.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        tables = set(a.db.table_names())
        assert {"portals", "articles", "images", "crawl_runs", "articles_fts",
                "schema_migrations"} <= tables
        assert a.schema_version == len(MIGRATIONS)
        triggers = {t.name for t in a.db.triggers}
        assert {"articles_fts_insert", "articles_fts_update", "articles_fts_delete"} <= triggers


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as a:
        assert a.applied_migrations == [name for name, _ in MIGRATIONS]
    with Archive(path) as a:
        assert a.applied_migrations == []
        rows = a.conn.execute("SELECT name FROM schema_migrations ORDER BY id").fetchall()
        assert [r[0] for r in rows] == [name for name, _ in MIGRATIONS]


def test_a_later_migration_applies_to_an_existing_archive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.db"
    Archive(path).close()
    calls: list[str] = []

    def add_table(db: sqlite_utils.Database) -> None:
        calls.append("ran")
        db.execute("CREATE TABLE test_later_table (id INTEGER PRIMARY KEY, article_id INTEGER)")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, ("9999_test_later", add_table)])
    with Archive(path) as a:
        assert a.applied_migrations == ["9999_test_later"]
        assert "test_later_table" in a.db.table_names()
        assert a.schema_version == len(MIGRATIONS) + 1
    Archive(path).close()
    assert calls == ["ran"]


def test_a_failing_migration_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.db"
    Archive(path).close()

    def broken(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, ("9999_broken", broken)])
    with pytest.raises(RuntimeError):
        Archive(path)
    monkeypatch.setattr(migrations, "MIGRATIONS", list(MIGRATIONS))
    with Archive(path) as a:
        assert "half_done" not in a.db.table_names()
        assert a.schema_version == len(MIGRATIONS)


def test_opening_a_missing_archive_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data" / "x.db"
    with pytest.raises(ArchiveError, match=r"no archive at .*x\.db — run `portal-archive crawl"):
        Archive.open(path)
    assert not path.exists()


@pytest.mark.parametrize("content", [b"", b"this is not sqlite at all" * 100])
def test_opening_an_empty_or_foreign_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(ArchiveError) as info:
        Archive.open(path)
    assert "\n" not in str(info.value)


def test_an_archive_without_articles_says_so(archive: Archive) -> None:
    with pytest.raises(ArchiveError, match="holds no articles yet"):
        archive.require_articles()


# ------------------------------------------------------------------ upsert
def test_save_is_idempotent(archive: Archive) -> None:
    run1 = archive.start_run(PORTAL.id, {"depth": 2})
    articles = [make_article(i) for i in range(3)]
    first = archive.save_articles(articles, portal_id=PORTAL.id, run_id=run1, now=T0)
    assert (first.new, first.changed, first.unchanged) == (3, 0, 0)
    archive.finish_run(run1, {"pages_dropped": 5, "errors": 1},
                       columns={"pages_dropped": 5, "errors": 1})

    run2 = archive.start_run(PORTAL.id, {})
    later = T0 + timedelta(days=1)
    again = archive.save_articles(articles, portal_id=PORTAL.id, run_id=run2, now=later)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    assert count_articles(archive) == 3
    assert archive.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 6

    stored = archive.get_stored(articles[0].canonical_url)
    assert stored is not None
    assert stored.first_seen == "2024-05-01T08:00:00Z"
    assert stored.last_seen == "2024-05-02T08:00:00Z"
    assert (stored.first_run_id, stored.last_run_id) == (run1, run2)

    r1, r2 = archive.get_run(run1), archive.finish_run(run2)
    assert r1 is not None
    assert (r1["articles_new"], r1["pages_dropped"], r1["errors"], r1["status"]) == (3, 5, 1, "finished")
    assert r1["settings"] == {"depth": 2} and r1["stats"] == {"pages_dropped": 5, "errors": 1}
    assert (r2["articles_new"], r2["articles_unchanged"]) == (0, 3)
    archive.check_fts()


def test_changed_article_updates_row_hash_images_and_index(archive: Archive) -> None:
    original = make_article(1)
    archive.save_articles([original], portal_id=PORTAL.id, now=T0)
    before = archive.get_stored(original.canonical_url)
    assert before is not None

    edited = make_article(1, title="Hội nghị tổng kết công tác khuyến nông",
                          images=[Image("https://trieuson.thanhhoa.gov.vn/img/new.jpg", "Mới")])
    result = archive.save_articles([edited], portal_id=PORTAL.id, now=T0 + timedelta(hours=1))
    assert (result.new, result.changed, result.unchanged) == (0, 1, 0)

    after = archive.get_stored(original.canonical_url)
    assert after is not None
    assert after.id == before.id
    assert after.content_hash == edited.content_hash() != before.content_hash
    assert after.first_seen == before.first_seen and after.last_seen != before.last_seen
    assert after.article.title == edited.title
    assert [i.url for i in after.article.images] == ["https://trieuson.thanhhoa.gov.vn/img/new.jpg"]
    assert fts_ids(archive, '{title_folded}: "khuyen nong"') == [after.id]
    assert fts_ids(archive, '{title}: "nhiệm vụ"') == []
    archive.check_fts()


def test_index_follows_updates_and_deletes(archive: Archive) -> None:
    archive.save_articles([make_article(1), make_article(2)], portal_id=PORTAL.id)
    first, second = (archive.get_stored(make_article(n).canonical_url) for n in (1, 2))
    assert first and second
    assert fts_ids(archive, '"giao"') == [first.id, second.id]

    # last_seen-only updates do not touch the index; text updates do.
    archive.save_articles([make_article(1)], portal_id=PORTAL.id)
    archive.save_articles([make_article(2, body="Đồng Tiến về đích nông thôn mới.")],
                          portal_id=PORTAL.id)
    assert fts_ids(archive, '{body_folded}: "dong tien"') == [second.id]
    assert fts_ids(archive, '{body}: "họp"') == [first.id]

    assert archive.delete_article(first.id)
    assert not archive.delete_article(first.id)
    assert fts_ids(archive, '"giao"') == [second.id]
    assert archive.conn.execute(
        "SELECT count(*) FROM images WHERE article_id = ?", [first.id]).fetchone()[0] == 0
    archive.check_fts()


def test_a_failing_batch_saves_nothing(archive: Archive) -> None:
    bad = make_article(2, title=None)  # violates NOT NULL
    with pytest.raises((sqlite3.IntegrityError, TypeError)):
        archive.save_articles([make_article(1), bad], portal_id=PORTAL.id)
    assert count_articles(archive) == 0
    archive.check_fts()


def test_unknown_portal_is_refused(archive: Archive) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        archive.save_articles([make_article(1)], portal_id="nowhere")


def test_text_is_stored_nfc_and_folded(archive: Archive) -> None:
    nfd = make_article(1, title=unicodedata.normalize("NFD", "Đồng Tiến về đích nông thôn mới"),
                       author=unicodedata.normalize("NFD", "Thùy Dung"))
    archive.save_articles([nfd], portal_id=PORTAL.id)
    row = archive.conn.execute(
        "SELECT title, title_folded, author, author_folded FROM articles").fetchone()
    assert row == ("Đồng Tiến về đích nông thôn mới", "dong tien ve dich nong thon moi",
                   "Thùy Dung", "thuy dung")
    # The same article in NFC is the same content.
    nfc = make_article(1, title="Đồng Tiến về đích nông thôn mới", author="Thùy Dung")
    assert archive.save_articles([nfc], portal_id=PORTAL.id).unchanged == 1


def test_get_article_round_trips(archive: Archive) -> None:
    original = make_article(7)
    archive.save_articles([original], portal_id=PORTAL.id)
    by_url = archive.get_article(original.canonical_url)
    stored = archive.get_stored(original.canonical_url)
    assert stored is not None and by_url == original
    assert archive.get_article(stored.id) == original
    assert archive.get_article(str(stored.id)) == original
    assert archive.get_article("https://nowhere/") is None
    assert archive.get_article(999) is None


def test_publication_times(archive: Archive) -> None:
    naive = make_article(1, published=datetime(2022, 1, 1, 0, 30))  # Vietnam local time
    undated = make_article(2, published=None, published_raw=None)
    archive.save_articles([naive, undated], portal_id=PORTAL.id)
    rows = archive.conn.execute(
        "SELECT published, published_utc FROM articles ORDER BY id").fetchall()
    assert rows == [("2022-01-01T00:30:00+07:00", "2021-12-31T17:30:00Z"), (None, None)]
    assert count_articles(archive, ArticleFilter(since="2022", until="2022")) == 1
    assert count_articles(archive, ArticleFilter(until="2021")) == 0


def test_filters_and_iteration(archive: Archive) -> None:
    archive.save_articles([make_article(i) for i in range(4)], portal_id=PORTAL.id)
    archive.save_articles(
        [make_article(10, canonical_url="https://hoanghoa.thanhhoa.gov.vn/a.htm",
                      author="Thùy Dung", category="Kinh tế",
                      published=datetime(2023, 3, 1, 9, 0, tzinfo=VIETNAM_TZ))],
        portal_id=OTHER.id)
    assert count_articles(archive) == 5
    assert count_articles(archive, ArticleFilter(portal="hoanghoa")) == 1
    assert count_articles(archive, ArticleFilter(author="thuy dung")) == 1
    assert count_articles(archive, ArticleFilter(author="HÙNG")) == 4
    assert count_articles(archive, ArticleFilter(category="su kien")) == 4
    assert count_articles(archive, ArticleFilter(since="2023-03")) == 1
    assert count_articles(archive, ArticleFilter(until="2022-01-16")) == 2
    assert count_articles(archive, ArticleFilter(query="nong thon")) == 5

    rows = archive.iter_articles(ArticleFilter(portal="trieuson"))
    assert iter(rows) is rows  # a stream, not a list
    listed = list(rows)
    assert [r["published"] for r in listed] == sorted(r["published"] for r in listed)
    assert listed[0]["images"][0] == {"position": 0, "url": "https://trieuson.thanhhoa.gov.vn/img/z0_1.jpg",
                                      "caption": "Các đại biểu dự hội nghị.", "alt": "z1.jpg"}
    assert listed[0]["authors"] == ["Văn Hùng"]
    assert tuple(listed[0]) == store.EXPORT_COLUMNS


def test_duplicate_image_positions_are_renumbered(archive: Archive) -> None:
    art = make_article(1, images=[Image("https://x/1.jpg"), Image("https://x/2.jpg")])
    archive.save_articles([art], portal_id=PORTAL.id)
    got = archive.get_article(art.canonical_url)
    assert got is not None
    assert [(i.position, i.url) for i in got.images] == [(0, "https://x/1.jpg"), (1, "https://x/2.jpg")]


def test_finish_run_records_only_provenance_columns(archive: Archive) -> None:
    run = archive.start_run(PORTAL.id)
    with pytest.raises(ValueError, match="status_code"):
        archive.finish_run(run, columns={"pages_dropped": 1, "status_code": 200})
    assert archive.get_run(run)["pages_dropped"] == 0  # type: ignore[index]
    archive.finish_run(run, {"x": 1}, columns={"pages_dropped": 2, "errors": None})
    row = archive.finish_run(run, status="interrupted")
    assert (row["pages_dropped"], row["errors"], row["status"], row["stats"]) == (
        2, 0, "interrupted", {})


def test_stats(archive: Archive) -> None:
    run = archive.start_run(PORTAL.id)
    archive.save_articles([make_article(i) for i in range(3)], portal_id=PORTAL.id, run_id=run)
    archive.finish_run(run, {"pages_dropped": 2}, columns={"pages_dropped": 2})
    s = archive.stats()
    assert (s["portals"], s["articles"], s["images"], s["runs"]) == (2, 3, 6, 1)
    assert s["first_published"] == "2022-01-15T16:48:18+07:00"
    assert s["last_published"] == "2022-01-17T16:48:18+07:00"
    assert s["size_bytes"] > 0
    per = {p["portal_id"]: p for p in s["per_portal"]}
    assert per["trieuson"]["articles"] == 3 and per["hoanghoa"]["articles"] == 0
    assert s["last_run"]["pages_dropped"] == 2 and s["last_run"]["articles_new"] == 3


def test_readers_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as writer:
        writer.ensure_portal(PORTAL)
        writer.save_articles([make_article(1)], portal_id=PORTAL.id)
        with writer.db.atomic():  # a crawl's transaction, still open
            writer.save_articles([make_article(2)], portal_id=PORTAL.id)
            with Archive.open(path) as reader:
                assert count_articles(reader) == 1
        with Archive.open(path) as reader:
            assert count_articles(reader) == 2


# ------------------------------------------------------- issue 4: filter indexes, bulk load
def _undo_0009(a: Archive) -> None:
    """Take migration 0009 back: no search key, no full-text index (0009 rebuilds it)."""
    for sql in ("DROP TRIGGER articles_fts_insert", "DROP TRIGGER articles_fts_delete",
                "DROP TRIGGER articles_fts_update", "DROP TABLE articles_fts",
                "DROP TRIGGER articles_vocab_insert", "DROP TRIGGER articles_vocab_update",
                "DROP TABLE search_vocab", "DROP TABLE search_vocab_pending",
                "DROP INDEX articles_search_key",
                "ALTER TABLE articles DROP COLUMN search_key",
                "DELETE FROM schema_migrations WHERE name = '0009_search_order'"):
        a.conn.execute(sql)


def test_migration_0009_indexes_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    dates = {1: datetime(2020, 5, 1, 10, tzinfo=VIETNAM_TZ), 2: datetime(2023, 1, 2, 8, tzinfo=VIETNAM_TZ),
             3: None, 4: datetime(2021, 7, 7, 7, 7, tzinfo=VIETNAM_TZ)}
    with Archive(path) as a:
        a.ensure_portal(PORTAL)
        a.save_articles([make_article(n, published=d) for n, d in dates.items()],
                        portal_id=PORTAL.id)
        _undo_0009(a)
        a.conn.commit()
    with Archive.open(path) as a:
        assert "0009_search_order" in a.applied_migrations
        a.check_fts()
        order = [r[0] for r in a.conn.execute(
            "SELECT a.id FROM articles_fts f JOIN articles a ON a.search_key = f.rowid "
            "WHERE articles_fts MATCH 'ubnd' ORDER BY f.rowid")]
        ids = {a.conn.execute("SELECT id FROM articles WHERE canonical_url LIKE ?",
                              [f"%/bai-{n}.htm"]).fetchone()[0]: n for n in dates}
        assert [ids[i] for i in order] == [2, 4, 1, 3]  # newest first, undated last
        # a changed date moves the article in the index
        a.conn.execute("UPDATE articles SET published_utc = '2024-01-01T00:00:00Z' "
                       "WHERE id = ?", [next(i for i, n in ids.items() if n == 1)])
        a.check_fts()
        first = a.conn.execute("SELECT a.id FROM articles_fts f JOIN articles a ON "
                               "a.search_key = f.rowid WHERE articles_fts MATCH 'ubnd' "
                               "ORDER BY f.rowid LIMIT 1").fetchone()[0]
        assert ids[first] == 1
        # the migration filled the vocabulary, exact and folded words alike
        assert prefix_terms(a, "huy", 10) == ["huyen", "huyện"]
        assert prefix_terms(a, "nhi", 10) == ["nhiem", "nhiệm"]


def test_vocabulary_follows_writes_and_says_when_it_cannot(archive: Archive) -> None:
    archive.save_articles([make_article(1)], portal_id=PORTAL.id)
    assert prefix_terms(archive, "nhi", 10) == ["nhiem", "nhiệm"]
    assert prefix_terms(archive, "zz", 10) == []
    assert prefix_terms(archive, "", 3) is None  # more words than asked for
    # a writer that is not this library: its words are queued by the triggers,
    # and until the library reads them the vocabulary does not answer
    archive.conn.execute("UPDATE articles SET title = 'Khánh thành cầu Quyết Thắng', "
                         "title_folded = 'khanh thanh cau quyet thang' WHERE id = 1")
    assert prefix_terms(archive, "quy", 10) is None
    archive.save_articles([make_article(2)], portal_id=PORTAL.id)
    assert prefix_terms(archive, "quy", 10) == ["quyet", "quyết"]


def test_migration_0006_backfills_folded_category(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Archive(path) as a:
        a.ensure_portal(PORTAL)
        a.save_articles([make_article(1, category="Nông thôn mới")], portal_id=PORTAL.id)
        # turn it back into an archive from before 0006 (and 0009, which indexes
        # the folded category, and 0008, whose triggers read it)
        _undo_0009(a)
        for sql in ("DROP TRIGGER facet_counts_insert", "DROP TRIGGER facet_counts_delete",
                    "DROP TRIGGER facet_counts_update", "DROP TABLE facet_counts",
                    "DROP INDEX articles_id_facets",
                    "DELETE FROM schema_migrations WHERE name = '0008_facet_counts'",
                    "DROP INDEX articles_facets",
                    "ALTER TABLE articles DROP COLUMN category_folded",
                    "DELETE FROM schema_migrations WHERE name = '0006_folded_filter_indexes'"):
            a.conn.execute(sql)
        a.conn.commit()
    with Archive.open(path) as a:
        assert "0006_folded_filter_indexes" in a.applied_migrations
        assert "0008_facet_counts" in a.applied_migrations
        assert a.conn.execute("SELECT sum(n) FROM facet_counts WHERE level = 2 "
                              "AND category_folded = 'nong thon moi'").fetchone()[0] == 1
        assert a.conn.execute("SELECT category_folded FROM articles").fetchone()[0] == \
            "nong thon moi"
        assert count_articles(a, ArticleFilter(category="NÔNG THÔN")) == 1
        plan = " ".join(r[3] for r in a.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM articles WHERE category_folded LIKE '%x%'"))
        assert "COVERING INDEX articles_facets" in plan


def test_bulk_load_indexes_once_and_restores_triggers(archive: Archive) -> None:
    triggers = sorted(r[0] for r in archive.conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger'"))
    with archive.bulk_load():
        archive.save_articles([make_article(n) for n in range(1, 6)], portal_id=PORTAL.id)
        # The full-text triggers are off; the image-file triggers stay.
        assert archive.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'articles_fts_%'").fetchone()[0] == 0
    assert sorted(r[0] for r in archive.conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger'")) == triggers
    archive.check_fts()
    assert len(fts_ids(archive, '"ubnd"')) == 5
    # and the triggers work again afterwards
    archive.delete_article(3)
    archive.check_fts()
    assert len(fts_ids(archive, '"ubnd"')) == 4


def test_vocabulary_read_by_the_library_equals_fts5s_own(tmp_path: Path) -> None:
    """Words queued and read by the library (each save) and words read from the
    index by fts5vocab (after a bulk load) are the same set."""
    texts = ["Đồng Tiến: 19/19 tiêu_chí (NTM) — “xã” đạt chuẩn…", "Ông Lê Văn Hùng, 45 tuổi",
             "北京 and São Paulo; e-mail: ubnd@trieuson.vn", "Nông thôn mới\u00a0nâng cao"]
    arts = [make_article(n, title=t, body=texts[-n] + " " + t, author=texts[n % 4][:12])
            for n, t in enumerate(texts, 1)]
    words = []
    for bulk in (False, True):
        with Archive(tmp_path / f"{bulk}.db") as a:
            a.ensure_portal(PORTAL)
            if bulk:
                with a.bulk_load():
                    a.save_articles(arts, portal_id=PORTAL.id)
            else:
                a.save_articles(arts, portal_id=PORTAL.id)
            words.append({r[0] for r in a.conn.execute("SELECT term FROM search_vocab")})
    assert words[0] == words[1]
    assert {"tiêu", "chí", "tieu", "北京", "são", "sao", "19"} <= words[0]

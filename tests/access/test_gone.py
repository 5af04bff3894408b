"""When an article went gone (migration 0007): ``gone_at`` set, cleared, backfilled,
shown by ``history`` and exported; the revisit order of incremental crawls."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import make_article, run_cli

from archive.export import export, export_columns
from archive.store import MIGRATIONS, Archive, migrations
from scraper.extract.article import VIETNAM_TZ, Article
from scraper.portals import Portal

PORTAL = Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.thanhhoa.gov.vn/",
                "thanhhoa")
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def article(n: int, body: str = "") -> Article:
    return make_article(f"https://trieuson.thanhhoa.gov.vn/tin-tuc/bai-{n}.htm",
                        f"Bài số {n} về nông thôn mới",
                        body=body or f"Nội dung bài {n}: xã đạt chuẩn nông thôn mới.",
                        published=datetime(2022, 1, 15, 16, 48, tzinfo=VIETNAM_TZ),
                        extractor="thanhhoa", extractor_version="1")


def url(n: int) -> str:
    return article(n).canonical_url


def _row(a: Archive, n: int) -> tuple[str, str | None, int | None]:
    return a.conn.execute("SELECT status, gone_at, last_run_id FROM articles "
                          "WHERE canonical_url = ?", [url(n)]).fetchone()


def test_gone_at_set_when_marked_and_cleared_when_it_comes_back(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        first = a.start_run(PORTAL.id, now=T0)
        a.save_articles([article(1), article(2)], portal_id=PORTAL.id, run_id=first, now=T0)
        assert _row(a, 1) == ("live", None, first)

        second = a.start_run(PORTAL.id, now=T0 + timedelta(days=1))
        gone_time = T0 + timedelta(days=1, minutes=5)
        assert a.mark_gone([url(1)], run_id=second, now=gone_time) == 1
        assert _row(a, 1) == ("gone", "2024-05-02T08:05:00Z", second)
        assert _row(a, 2) == ("live", None, first)
        assert a.get_run(second)["articles_gone"] == 1  # type: ignore[index]
        # Found gone again later: it went gone when it was first found gone.
        third = a.start_run(PORTAL.id, now=T0 + timedelta(days=2))
        assert a.mark_gone([url(1)], run_id=third, now=T0 + timedelta(days=2)) == 0
        assert _row(a, 1) == ("gone", "2024-05-02T08:05:00Z", second)
        assert a.get_run(third)["articles_gone"] == 0  # type: ignore[index]
        stored = a.get_stored(url(1))
        assert stored is not None and stored.gone_at == "2024-05-02T08:05:00Z"

        # It comes back unchanged: live again, gone_at cleared.
        back = a.save_articles([article(1)], portal_id=PORTAL.id, run_id=third,
                               now=T0 + timedelta(days=3))
        assert back.unchanged == 1
        assert _row(a, 1) == ("live", None, third)
        # Gone again, then back with another text: a revision, live, gone_at cleared.
        a.mark_gone([url(1)], run_id=third, now=T0 + timedelta(days=4))
        assert _row(a, 1)[1] == "2024-05-05T08:00:00Z"
        changed = a.save_articles([article(1, body="Bài đã được sửa lại.")],
                                  portal_id=PORTAL.id, now=T0 + timedelta(days=5))
        assert changed.changed == 1
        assert _row(a, 1)[:2] == ("live", None)
        assert len(a.versions(url(1))) == 1


def test_least_recently_seen_rotates_through_the_live_articles(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        for n in range(1, 6):  # seen on days 5, 4, 3, 2, 1
            a.save_articles([article(n)], portal_id=PORTAL.id, now=T0 - timedelta(days=n))
        a.mark_gone([url(5)])  # the oldest, but gone: not revisited
        assert a.count_live(PORTAL.id) == 4
        assert a.least_recently_seen(PORTAL.id, 2) == [url(4), url(3)]
        assert a.least_recently_seen(PORTAL.id, 0) == []
        # Verified now: they go to the back of the line.
        a.save_articles([article(4), article(3)], portal_id=PORTAL.id, now=T0)
        assert a.least_recently_seen(PORTAL.id, 3) == [url(2), url(1), url(3)]
        assert sorted(a.archived_urls(PORTAL.id)) == sorted(url(n) for n in range(1, 6))
        plan = " ".join(r[3] for r in a.conn.execute(
            "EXPLAIN QUERY PLAN SELECT canonical_url FROM articles WHERE portal_id = 'x' "
            "AND status = 'live' ORDER BY last_seen, id LIMIT 5"))
        assert "INDEX articles_verify" in plan and "TEMP B-TREE" not in plan


def test_migration_0007_backfills_gone_at_from_the_run_that_marked_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    before = [m for m in MIGRATIONS if m[0] < "0007"]
    monkeypatch.setattr(migrations, "MIGRATIONS", before)
    with Archive(path) as a:
        assert "gone_at" not in a.db["articles"].columns_dict
        a.ensure_portal(PORTAL)
        run1 = a.start_run(PORTAL.id, now=T0)
        a.save_articles([article(n) for n in (1, 2, 3)], portal_id=PORTAL.id, run_id=run1,
                        now=T0)
        finish = "UPDATE crawl_runs SET status = 'finished', finished = ? WHERE id = ?"
        a.conn.execute(finish, ["2024-05-01T08:10:00Z", run1])
        run2 = a.start_run(PORTAL.id, now=T0 + timedelta(days=7))
        # (raw SQL: this library writes the columns of the current schema)
        a.conn.execute("UPDATE articles SET last_seen = ?, last_run_id = ? "
                       "WHERE canonical_url = ?", ["2024-05-08T08:01:00Z", run2, url(3)])
        a.conn.execute(finish, ["2024-05-08T08:30:00Z", run2])
        # The old mark_gone: article 1 by run 2 (which did not see it), article 2
        # without a run id (last_run_id stays run 1, which served it: unknown).
        a.conn.execute("UPDATE articles SET status = 'gone', last_run_id = ? "
                       "WHERE canonical_url = ?", [run2, url(1)])
        a.conn.execute("UPDATE articles SET status = 'gone' WHERE canonical_url = ?", [url(2)])
        a.conn.commit()
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    with Archive(path) as a:
        assert a.applied_migrations[0] == "0007_gone_at"
        assert _row(a, 1) == ("gone", "2024-05-08T08:30:00Z", run2)
        assert _row(a, 2) == ("gone", None, run1)
        assert _row(a, 3) == ("live", None, run2)
        runs = {r["id"]: r for r in a.list_runs()}
        assert (runs[run1]["articles_gone"], runs[run2]["articles_gone"]) == (0, 1)
        assert (runs[run1]["articles_revisited"], runs[run2]["articles_revisited"]) == (0, 0)


@pytest.fixture
def gone_db(tmp_path: Path) -> Path:
    db = tmp_path / "archive.db"
    with Archive(db) as a:
        a.ensure_portal(PORTAL)
        run = a.start_run(PORTAL.id, now=T0)
        a.save_articles([article(1), article(2)], portal_id=PORTAL.id, run_id=run, now=T0)
        a.mark_gone([url(2)], run_id=run, now=T0 + timedelta(hours=2))
    return db


def test_export_has_gone_at(gone_db: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert "gone_at" in export_columns()
    with Archive(gone_db) as a:
        export(a, "csv", tmp_path / "out" / "x.csv")
        export(a, "parquet", tmp_path / "out" / "x.parquet")
    with (tmp_path / "out" / "x.csv").open(encoding="utf-8") as f:
        rows = {r["canonical_url"]: r for r in csv.DictReader(f)}
    assert (rows[url(1)]["status"], rows[url(1)]["gone_at"]) == ("live", "")
    assert (rows[url(2)]["status"], rows[url(2)]["gone_at"]) == ("gone", "2024-05-01T10:00:00Z")
    table = pq.read_table(tmp_path / "out" / "x.parquet")
    assert table.schema.field("gone_at").type == pa.timestamp("us", tz="UTC")
    by_url = {r["canonical_url"]: r["gone_at"] for r in table.to_pylist()}
    assert by_url[url(1)] is None and by_url[url(2)] == T0 + timedelta(hours=2)
    package = json.loads((tmp_path / "out" / "x.datapackage.json").read_text("utf-8"))
    field = next(f for f in package["resources"][0]["schema"]["fields"]
                 if f["name"] == "gone_at")
    assert field["type"] == "datetime" and "gone from the portal" in field["description"]


def test_history_and_show_tell_when_it_went_gone(gone_db: Path) -> None:
    result = run_cli("history", url(2), "--db", str(gone_db))
    assert result.exit_code == 0, result.output
    assert ("Status: gone from the portal since 2024-05-01T10:00:00Z; "
            "last served 2024-05-01T08:00:00Z") in result.output
    result = run_cli("history", url(1), "--db", str(gone_db))
    assert "Status: live; last served 2024-05-01T08:00:00Z" in result.output
    data = json.loads(run_cli("history", url(2), "--json",
                              "--db", str(gone_db)).output)
    assert (data["status"], data["gone_at"]) == ("gone", "2024-05-01T10:00:00Z")
    data = json.loads(run_cli("show", url(2), "--json",
                              "--db", str(gone_db)).output)
    assert data["gone_at"] == "2024-05-01T10:00:00Z"


def test_web_article_page_says_since_when_it_is_gone(gone_db: Path) -> None:
    import asyncio

    from archive.web.server import make_datasette

    ds = make_datasette(gone_db)
    with Archive(gone_db) as a:
        gone_id, live_id = (a.get_stored(url(n)).id for n in (2, 1))  # type: ignore[union-attr]
    page = asyncio.run(ds.client.get(f"/article/{gone_id}")).text
    # 10:00 UTC is 17:00 in Vietnam
    assert "đã bị gỡ khỏi cổng (bị gỡ từ 01/05/2024 17:00)" in page
    assert "bị gỡ từ" not in asyncio.run(ds.client.get(f"/article/{live_id}")).text

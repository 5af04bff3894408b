"""Facets at archive scale (archive.facets, migration 0008_facet_counts) and a serve that never writes.

The facets and chart are checked against a reference computed in Python
from the articles a filter selects (the old one-pass loop of the web UI),
on an archive whose dates sit on the edges of Vietnam-time months.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows
from factories import free_port, make_article, run_cli

from archive.errors import FilterError
from archive.facets import FacetCounts, facet_counts
from archive.filters import ArticleFilter, count_articles
from archive.store import Archive, migrations, pending_migrations
from archive.web.server import PendingMigrations, make_datasette
from scraper.extract.article import VIETNAM_TZ, Article
from scraper.portals import Portal

PORTALS = ("trieuson", "thoxuan", "nongcong")
AUTHORS = ("Văn Hùng", "Thùy Dung", "Hải Yến", "Văn Hùng - Trung tâm VH-TT", None)
CATEGORIES = ("Nông thôn mới", "Tin tức", "Kinh tế", None)
WORDS = ("nông", "thôn", "mới", "đồng", "tiến", "hội", "nghị", "xã", "huyện", "dân")
#: Big enough for every value to be listed: facets compared in full.
ALL = 10_000


def _when(rng: random.Random) -> datetime | None:
    """A time, often right at the edge of a Vietnam-time month (16:59/17:00 UTC)."""
    kind = rng.random()
    if kind < 0.08:
        return None
    year, month = rng.choice((2020, 2021, 2022)), rng.randint(1, 12)
    first = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)  # next month, UTC
    if kind < 0.5:  # the last/first second of a Vietnam month
        edge = first - timedelta(hours=7)
        return (edge + timedelta(seconds=rng.choice((-1, 0, 1)))).astimezone(VIETNAM_TZ)
    return (first - timedelta(days=rng.randint(1, 27), minutes=rng.randint(0, 1439))
            ).astimezone(VIETNAM_TZ)


def _article(rng: random.Random, n: int) -> tuple[str, Article]:
    author = rng.choice(AUTHORS)
    title = " ".join(rng.sample(WORDS, 3))
    return rng.choice(PORTALS), make_article(
        f"https://portal.example/tin/{n}.htm", title, body=f"Bài {n}: {title}.",
        published=_when(rng), author=author, category=rng.choice(CATEGORIES))


def _fill(a: Archive, n: int = 400, seed: int = 5) -> None:
    rng = random.Random(seed)
    for p in PORTALS:
        a.ensure_portal(Portal(p, p.title(), "Thanh Hóa", f"https://{p}.example/"))
    by_portal: dict[str, list[Article]] = {}
    for k in range(n):
        portal, art = _article(rng, k)
        by_portal.setdefault(portal, []).append(art)
    for portal, arts in by_portal.items():
        a.save_articles(arts, portal_id=portal)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("facets") / "archive.db"
    with Archive(path) as a:
        _fill(a)
    return path


def _month(published_utc: str) -> str:
    moment = datetime.fromisoformat(published_utc.replace("Z", "+00:00"))
    return moment.astimezone(VIETNAM_TZ).strftime("%Y-%m")


def reference(a: Archive, filters: ArticleFilter, ids: list[int] | None = None) -> FacetCounts:
    """The facets by a Python loop over every selected article (or over ``ids``)."""
    where, params = filters.where("a")
    rows = a.conn.execute(f"SELECT a.id, a.portal_id, a.published_utc, a.author, a.category "
                          f"FROM articles a WHERE {where}", params).fetchall()
    if ids is not None:
        rows = [r for r in rows if r[0] in set(ids)]
    portal: Counter[str] = Counter()
    year: Counter[str] = Counter()
    author: Counter[str] = Counter()
    category: Counter[str] = Counter()
    months: Counter[tuple[str, str]] = Counter()
    for _, p, utc, au, cat in rows:
        portal[p] += 1
        if utc:
            months[(p, _month(utc))] += 1
            year[_month(utc)[:4]] += 1
        if au:
            author[au] += 1
        if cat:
            category[cat] += 1

    def top(c: Counter[str]) -> list[tuple[str, int]]:
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))

    return FacetCounts(total=len(rows), portal=top(portal), year=sorted(year.items(), reverse=True),
                       author=top(author), category=top(category),
                       chart=sorted(((p, m, n) for (p, m), n in months.items()),
                                    key=lambda r: (r[1], r[0])))


def _same(got: FacetCounts, want: FacetCounts) -> None:
    assert (got.total, got.portal, got.year, got.author, got.category, got.chart) == (
        want.total, want.portal, want.year, want.author, want.category, want.chart)


FILTERS = [
    ArticleFilter(),
    ArticleFilter(portal="thoxuan"),
    ArticleFilter(since="2021"),
    ArticleFilter(until="2021"),
    ArticleFilter(since="2020-03", until="2021-11"),
    ArticleFilter(since="2021-02-01", until="2021-02-28"),  # a whole month, typed as days
    ArticleFilter(since="2020-03-15", until="2021-11-02"),  # cut months at both ends
    ArticleFilter(since="2021-05-10", until="2021-05-20"),  # inside one month
    ArticleFilter(since="2021-05-31", until="2021-06-01"),  # two adjacent cut months
    ArticleFilter(since="2021-05-31"),
    ArticleFilter(until="2021-06-01"),
    ArticleFilter(since="2021-06-01T00:00:00+07:00", until="2021-06"),
    ArticleFilter(author="van hung"),
    ArticleFilter(author="Hải Yến", portal="nongcong"),
    ArticleFilter(category="nong thon"),
    ArticleFilter(category="tin", author="dung", since="2020-07-04", until="2022"),
    ArticleFilter(portal="trieuson", since="2022-01-31", until="2022-03-01"),
    ArticleFilter(author="nobody"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f)[14:-1])
def test_facets_without_query_are_exact(db: Path, filters: ArticleFilter) -> None:
    with Archive.open(db) as a:
        got = facet_counts(a, filters, size=ALL)
        assert got.complete and got.scanned is None
        _same(got, reference(a, filters))
        assert got.total == count_articles(a, filters)


@pytest.mark.parametrize("filters", [
    ArticleFilter(query="nong thon"),
    ArticleFilter(query='"hội nghị"', portal="thoxuan"),
    ArticleFilter(query="xa OR dan", since="2021-03-15", author="hung"),
    ArticleFilter(query="nong", since="2020-07-31"),
    ArticleFilter(query="nong OR dan", since="2021-05", until="2021-06-10"),
    ArticleFilter(query="zzzz"),
], ids=lambda f: repr(f)[14:-1])
def test_facets_of_a_query(db: Path, filters: ArticleFilter) -> None:
    with Archive.open(db) as a:
        exact = count_articles(a, filters)
        got = facet_counts(a, filters, size=ALL, cap=ALL)
        assert got.complete and got.scanned == exact
        _same(got, reference(a, filters))
        if exact < 3:
            return
        # Capped: the newest `cap` matches (by publication: the index's order)
        # only, and the result says so.
        cap = exact // 2
        capped = facet_counts(a, filters, size=ALL, cap=cap)
        assert not capped.complete and capped.total == capped.scanned == cap
        where, params = filters.where("a")
        newest = [r[0] for r in a.conn.execute(
            f"SELECT a.id FROM articles a WHERE {where} ORDER BY a.search_key LIMIT ?",
            [*params, cap])]
        _same(capped, reference(a, filters, newest))
        # exactly `cap` matches: complete
        assert facet_counts(a, filters, cap=exact).complete


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f)[14:-1])
def test_listing_pages_read_only_their_months(db: Path, filters: ArticleFilter) -> None:
    from archive.web.plugin import PAGE_SIZE, _listing

    with Archive.open(db) as a:
        counts = facet_counts(a, filters)
        where, params = filters.where("a")
        every = [r[0] for r in a.conn.execute(
            f"SELECT a.id FROM articles a WHERE {where} "
            f"ORDER BY a.published_utc DESC, a.id DESC", params)]
        assert len(every) == counts.total
        last = max(0, (len(every) - 1) // PAGE_SIZE)
        for page in sorted({0, 1, 2, last - 1, last, last + 1} - {-1}):
            for by_index in (False, True):
                got = [r[0] for r in _listing(a, counts, where, params, page * PAGE_SIZE,
                                              by_index=by_index, portal=bool(filters.portal))]
                assert got == every[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], (page, by_index)


def test_top_values_and_bad_filters(db: Path) -> None:
    with Archive.open(db) as a:
        got = facet_counts(a, ArticleFilter(), size=2)
        want = reference(a, ArticleFilter())
        assert got.author == want.author[:2] and got.portal == want.portal[:2]
        assert got.year == want.year  # every year
        with pytest.raises(FilterError, match="bad --since date"):
            facet_counts(a, ArticleFilter(since="2021-13"))
        with pytest.raises(FilterError, match="after --until"):
            facet_counts(a, ArticleFilter(since="2022", until="2021"))


def _summary(a: Archive) -> dict[int, Counter[tuple[str, str, str, str]]]:
    out: dict[int, Counter[tuple[str, str, str, str]]] = {}
    for level, p, m, au, cat, n in a.conn.execute(
            "SELECT level, portal_id, month, author, category, n FROM facet_counts"):
        out.setdefault(level, Counter())[(p, m, au, cat)] = n
    return out


def _expected_summary(a: Archive) -> dict[int, Counter[tuple[str, str, str, str]]]:
    out: dict[int, Counter[tuple[str, str, str, str]]] = {k: Counter() for k in range(4)}
    for p, utc, au, cat in a.conn.execute(
            "SELECT portal_id, published_utc, author, category FROM articles"):
        month = _month(utc) if utc else ""
        for level in range(4):
            out[level][(p, month, (au or "") if level & 1 else "",
                         (cat or "") if level & 2 else "")] += 1
    return {k: v for k, v in out.items() if v}


def test_triggers_keep_the_counts(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as a:
        _fill(a, n=120, seed=9)
        assert _summary(a) == _expected_summary(a)
        # changed articles: new author, category, date (and one undated)
        rows = a.conn.execute("SELECT canonical_url, portal_id FROM articles "
                              "ORDER BY id LIMIT 30").fetchall()
        stored = [(a.get_article(url), portal) for url, portal in rows]
        for k, (art, portal) in enumerate(stored):
            assert art is not None
            changed = replace(art, body=art.body + " (sửa)", author=AUTHORS[k % 5],
                              category=CATEGORIES[k % 4],
                              published=None if k % 7 == 0 else datetime(
                                  2019, 12, 31, 23, 59, 59, tzinfo=VIETNAM_TZ))
            result = a.save_articles([changed], portal_id=portal)
            assert result.changed == 1
        assert _summary(a) == _expected_summary(a)
        for url, _ in rows[:10]:
            assert a.delete_article(url)
        a.mark_gone([rows[12][0]])
        assert _summary(a) == _expected_summary(a)
        a.conn.execute("DELETE FROM articles")
        assert a.conn.execute("SELECT count(*) FROM facet_counts").fetchone()[0] == 0


# ---------------------------------------------------- migration 0008 and serve
def _old_archive(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An archive made by a version without migration 0008 (its articles already in)."""
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS",
                  [(n, f) for n, f in migrations.MIGRATIONS if n != "0008_facet_counts"])
        with Archive(path) as a:
            _fill(a, n=80, seed=2)
            assert "facet_counts" not in a.db.table_names()


def _digest(path: Path) -> str:
    """The database's bytes and its WAL's (SQLite may create an empty WAL to read)."""
    wal = Path(f"{path}-wal")
    return (hashlib.sha256(path.read_bytes()).hexdigest()
            + hashlib.sha256(wal.read_bytes() if wal.exists() else b"").hexdigest())


def test_migration_backfills_the_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    _old_archive(path, monkeypatch)
    assert pending_migrations(path) == ["0008_facet_counts"]
    with Archive.open(path) as a:
        assert a.applied_migrations == ["0008_facet_counts"]
        assert _summary(a) == _expected_summary(a)
        _same(facet_counts(a, ArticleFilter(since="2021-04-09"), size=ALL),
              reference(a, ArticleFilter(since="2021-04-09")))
    assert pending_migrations(path) == []


def test_serve_refuses_pending_migrations_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    _old_archive(path, monkeypatch)
    before = _digest(path)
    with pytest.raises(PendingMigrations, match="portal-archive migrate --db"):
        make_datasette(path)
    result = run_cli("serve", "--db", str(path), "--port", "0")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the archive")
    assert "0008_facet_counts" in lines[0] and "--migrate" in lines[0]
    assert "Traceback" not in result.output
    assert _digest(path) == before  # not a byte written
    # `migrate --dry-run` lists, `migrate` applies, then serve starts
    dry = run_cli("migrate", "--dry-run", "--db", str(path))
    assert dry.exit_code == 0 and "lacks 1 migration: 0008_facet_counts" in dry.output
    assert _digest(path) == before
    done = run_cli("migrate", "--db", str(path))
    assert done.exit_code == 0 and "Applied 1 migration" in done.output
    again = run_cli("migrate", "--db", str(path))
    assert again.exit_code == 0 and "up to date" in again.output
    assert make_datasette(path) is not None
    missing = run_cli("migrate", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 1 and missing.output.startswith("Error: no archive at")


def test_serve_migrate_flag_upgrades_then_serves(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    _old_archive(path, monkeypatch)
    port = free_port()
    exe = Path(sys.executable).parent / "portal-archive"
    proc = subprocess.Popen([str(exe), "serve", "--migrate", "--db", str(path), "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, page = time.monotonic() + 30, ""
        while time.monotonic() < deadline and not page:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?since=2021",
                                            timeout=2) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.2)
        assert 'id="count"' in page
    finally:
        proc.terminate()
        proc.wait(10)
    assert pending_migrations(path) == []
    assert rows(path, "SELECT count(*) FROM facet_counts")[0][0] > 0


def _page(ds: Any, path: str) -> str:
    import asyncio

    r = asyncio.run(ds.client.get(path, cookies={"pa_lang": "en"}))  # the English UI
    assert r.status_code == 200, r.text
    return str(r.text)


def test_search_page_says_when_counts_are_capped(db: Path) -> None:
    ds = make_datasette(db)
    with Archive.open(db) as a:
        n = count_articles(a, ArticleFilter(query="nong"))
        total = count_articles(a)
    html = _page(ds, "/?q=nong")
    assert f"<strong>{n:,}</strong> articles match" in html and "capped-note" not in html
    assert f"<strong>{total:,}</strong> articles." in _page(ds, "/")
    html = _page(make_datasette(db, match_cap=25), "/?q=nong")
    assert '<strong class="pa-capped">More than 25</strong> articles match' in html
    assert 'id="capped-note"' in html and "the 25 most recently published matches" in html
    pages = html.split('class="pa-pages"')[1].split("</p>")[0]
    assert "page 1" in pages and " of " not in pages and 'rel="next"' in pages

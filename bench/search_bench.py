"""Search and export benchmark: archives of 10 000 / 100 000 / 1 000 000 synthetic articles.

For each size N the benchmark

1. builds ``data/bench/search-N.db`` from the demo portal's generator
   (``DemoSite(size=N).iter_articles()`` → ``to_article`` →
   ``Archive.save_articles`` in batches, with the full-text index built once at
   the end by :meth:`Archive.bulk_load`), spread over three portals; an
   existing file with N articles is reused (``--rebuild`` forces a new one);
2. reports the build time and the database size per article;
3. runs a fixed set of 50 queries (folded, exact, phrase, prefix/boolean,
   filtered), each ``--repeat`` times after one warm-up, and reports the
   latency p50/p95 of :func:`archive.search.search` (20 results, relevance
   order, snippets included) with the number of matching articles;
4. exports every article to Parquet in a child process
   (``portal-archive export -f parquet``) and reports its time and the
   child's peak RSS.

Usage::

    python bench/search_bench.py                 # 10 000, 100 000 and 1 000 000 (long)
    python bench/search_bench.py --sizes 10000,100000
    BENCH_QUICK=1 python bench/search_bench.py   # quick mode: 10 000 (`make bench-quick`)
    python bench/search_bench.py --sizes 10000 --real-queries   # + MRR@10 of real titles

``--real-queries`` also measures how well real queries find their article:
the articles of the test fixtures (``tests/fixtures/*/page.html``) and the
shared seeds (``/work/shared/seeds/*.txt``, text dumps) are added to a copy
of each archive (``search-N-real.db``), and each article's title, typed
without diacritics, is searched; MRR@10 (the mean of 1/rank of the article
in the top 10, 0 when absent) is reported for the relevance order as
searched by default and for the exhaustive ranking.

The table goes to ``bench/results/search.md`` (quick mode:
``bench/results/search-quick.md``; ``--out`` to change). Archives are kept
in ``data/bench/`` and reused when they hold the asked number of articles.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.filters import count_articles  # noqa: E402
from archive.search import RANK_WINDOW, count_matches, search  # noqa: E402
from archive.store import Archive  # noqa: E402
from bench.benchreport import header, pct  # noqa: E402
from scraper.demo.site import DemoSite  # noqa: E402
from scraper.portals import Portal  # noqa: E402

PORTALS = (
    Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "http://trieuson.example/"),
    Portal("thoxuan", "Thọ Xuân", "Thanh Hóa", "http://thoxuan.example/"),
    Portal("nongcong", "Nông Cống", "Thanh Hóa", "http://nongcong.example/"),
)

#: (kind, query, filters). Fixed: the same 50 queries at every size.
QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    *[("folded", q, {}) for q in (
        "nong thon moi", "dong tien", "tho son", "dai hoi dang bo", "chu tich ubnd huyen",
        "hoi nong dan", "van hoa the thao", "quoc phong", "trung tam y te", "cong an huyen",
        "giao duc dao tao", "xuan thinh", "minh chau", "phu nu", "hop thanh",
    )],
    *[("exact", q, {}) for q in (
        "Nông thôn mới", "Đồng Tiến", "Thọ Sơn", "Đại hội", "Chủ tịch UBND huyện",
        "Hội Nông dân", "Văn hóa", "Quốc phòng", "Trung tâm Y tế", "Công an huyện",
    )],
    *[("phrase", q, {}) for q in (
        '"nông thôn mới"', '"dong tien"', '"hội nghị"', '"ban chỉ huy quân sự"',
        '"tho dan"', '"phòng giáo dục và đào tạo"', '"xã đồng thắng"', '"bí thư huyện ủy"',
    )],
    *[("boolean", q, {}) for q in (
        "nông*", "thọ* sơn", "dong OR minh", "hội nghị -tổng", "(tho OR dan) nong",
        "xuân NOT thọ", "huyen* uy", "an ninh OR quoc phong",
    )],
    ("filtered", "nong thon moi", {"portal": "thoxuan"}),
    ("filtered", "đại hội", {"since": "2018", "until": "2019"}),
    ("filtered", "hoi nghi", {"author": "van hung"}),
    ("filtered", "xa", {"category": "nong nghiep"}),
    ("filtered", "Đồng Tiến", {"portal": "trieuson", "since": "2020"}),
    ("filtered", "tho son", {"category": "quoc phong", "until": "2017"}),
    ("filtered", '"hội nông dân"', {"portal": "nongcong", "author": "thu huong"}),
    ("filtered", "ubnd", {"since": "2019-06", "until": "2019-06"}),
    ("filtered", "dan*", {"portal": "trieuson", "category": "van hoa"}),
]
assert len(QUERIES) == 50, len(QUERIES)


#: Below this mean BM25 (top 20, exhaustive) a query's words are all in over
#: half the archive: scores are ~0 and their ratio is not reported.
MEANINGFUL_SCORE = 0.5


@dataclass
class SizeResult:
    size: int
    build_s: float | None
    db_bytes: int
    images: int
    latency: dict[str, list[float]]  # kind → ms of every run
    cpu: dict[str, list[float]]  # kind → CPU ms of this process, every run
    matches: dict[str, list[int]]  # kind → matching articles per query
    slowest: list[tuple[float, str, int]]
    export_s: float
    export_rss_mb: float
    parquet_bytes: int
    #: queries matching more than RANK_WINDOW: (query, matches, overlap@20 with
    #: the exhaustive ranking, score ratio, exhaustive ms)
    window: list[tuple[str, int, float, float, float]]
    migrate_s: float | None
    #: 1-minute load average when the search measurement started.
    load: float


def build(path: Path, size: int, batch: int) -> float:
    """Build an archive of ``size`` demo articles at ``path``; return seconds."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    site = DemoSite(size=size, cache_size=16)
    start = time.perf_counter()
    with Archive(path) as archive:
        for portal in PORTALS:
            archive.ensure_portal(portal)
        run_ids = {p.id: archive.start_run(p.id, {"bench": size}) for p in PORTALS}
        with archive.bulk_load():
            pending: dict[str, list] = {p.id: [] for p in PORTALS}
            for demo in site.iter_articles():
                portal = PORTALS[demo.id % len(PORTALS)]
                pending[portal.id].append(demo.to_article(portal.base_url))
                if len(pending[portal.id]) >= batch:
                    archive.save_articles(pending[portal.id], portal_id=portal.id,
                                          run_id=run_ids[portal.id])
                    pending[portal.id] = []
            for pid, items in pending.items():
                if items:
                    archive.save_articles(items, portal_id=pid, run_id=run_ids[pid])
        for pid, run_id in run_ids.items():
            archive.finish_run(run_id, {"portal": pid})
        archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - start


def db_size(path: Path) -> int:
    return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{path}{s}").exists())


def measure(path: Path, repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]],
                                               dict[str, list[int]],
                                               list[tuple[float, str, int]],
                                               list[tuple[str, int, float, float, float]]]:
    latency: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    matches: dict[str, list[int]] = {}
    per_query: list[tuple[float, str, int]] = []
    window: list[tuple[str, int, float, float, float]] = []
    with Archive.open(path) as archive:
        for kind, query, filters in QUERIES:
            search(archive, query, limit=20, **filters)  # warm-up
            runs = []
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                hits = search(archive, query, limit=20, **filters)
                runs.append((time.perf_counter() - t0) * 1000)
                cpu.setdefault(kind, []).append((time.process_time() - c0) * 1000)
            n = count_matches(archive, query, **filters)
            latency.setdefault(kind, []).extend(runs)
            matches.setdefault(kind, []).append(n)
            label = query + "".join(f" --{k} {v}" for k, v in filters.items())
            per_query.append((statistics.median(runs), label, n))
            if n > RANK_WINDOW:  # how far is the windowed ranking from ranking every match?
                t0 = time.perf_counter()
                full = search(archive, query, limit=20, rank_window=None, **filters)
                full_ms = (time.perf_counter() - t0) * 1000
                overlap = len({h.id for h in hits} & {h.id for h in full}) / max(1, len(full))
                # the same BM25 scale (the library's agrees with FTS5's within 1 %);
                # NaN when every word is in over half the archive: BM25's IDF
                # floor then makes all scores ~0 and a ratio says nothing
                base = statistics.fmean(h.score for h in full) if full else 0.0
                ratio = (statistics.fmean(h.score for h in hits) / base
                         if base >= MEANINGFUL_SCORE else float("nan"))
                window.append((label, n, overlap, ratio, full_ms))
    per_query.sort(reverse=True)
    return latency, cpu, matches, per_query[:5], window


_CHILD = """
import resource, sys
from archive.cli import main
main(sys.argv[1:], standalone_mode=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def export_parquet(path: Path, out: Path) -> tuple[float, float, int]:
    """Export everything to Parquet in a child process: (seconds, peak RSS MB, bytes)."""
    cmd = [sys.executable, "-c", _CHILD, "export", "-f", "parquet", "-o", str(out),
           "--db", str(path)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"export failed: {proc.stderr}")
    rss_kb = int(proc.stdout.strip().splitlines()[-1])
    images = out.with_name(out.name.removesuffix(".parquet") + ".images.parquet")
    return elapsed, rss_kb / 1024, out.stat().st_size + images.stat().st_size


def run_size(size: int, args: argparse.Namespace) -> SizeResult:
    path = Path(args.data) / f"search-{size}.db"
    build_s: float | None = None
    existing = 0
    migrate_s: float | None = None
    if path.exists() and not args.rebuild:
        t0 = time.perf_counter()
        with Archive.open(path) as archive:  # applies pending migrations (timed)
            existing = count_articles(archive)
        migrate_s = time.perf_counter() - t0
    if existing != size:
        print(f"building {size} articles into {path} …", flush=True)
        build_s = build(path, size, args.batch)
        print(f"  built in {build_s:.1f} s", flush=True)
    else:
        print(f"reusing {path} ({size} articles)", flush=True)
    with Archive.open(path) as archive:
        images = int(archive.conn.execute("SELECT count(*) FROM images").fetchone()[0])
    if build_s is not None:
        migrate_s = None
    load = os.getloadavg()[0]
    latency, cpu, matches, slowest, window = measure(path, args.repeat)
    out = Path(args.data) / f"export-{size}.parquet"
    export_s, rss, pq_bytes = export_parquet(path, out)
    print(f"  search p95 {pct(sum(latency.values(), []), 0.95):.1f} ms; "
          f"export {export_s:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    return SizeResult(size, build_s, db_size(path), images, latency, cpu, matches, slowest,
                      export_s, rss, pq_bytes, window, migrate_s, load)


def report(results: list[SizeResult], args: argparse.Namespace) -> str:
    lines = [
        *header("Search and export benchmark",
                f".venv/bin/python bench/search_bench.py --sizes {args.sizes} "
                f"--repeat {args.repeat}"),
        "Archives are built from the demo portal's generator (three portals), the",
        "full-text index built once at the end (`Archive.bulk_load`). A build time of",
        "\"reused\" means the archive from an earlier run was measured again.",
        "",
        "## Build, size, export",
        "",
        "| articles | images | build | DB size | per article | Parquet export (all rows) "
        "| export peak RSS | Parquet size |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        build = f"{r.build_s:.0f} s" if r.build_s is not None else "reused"
        lines.append(
            f"| {r.size:,} | {r.images:,} | {build} | {r.db_bytes / 1e6:,.0f} MB "
            f"| {r.db_bytes / r.size / 1024:.1f} KiB | {r.export_s:.1f} s "
            f"| {r.export_rss_mb:.0f} MB | {r.parquet_bytes / 1e6:,.0f} MB |")
    lines += [
        "",
        "## Search latency (50 fixed queries, 20 results with snippets, "
        f"{args.repeat} runs each after a warm-up)",
        "",
        "Wall-clock latency, and the CPU time of the benchmark process for the same",
        "calls (SQLite runs in-process, so this is the search's own work; on a",
        "machine shared with other jobs the wall clock also holds the waiting).",
        "",
        "| articles | kind | queries | p50 | p95 | max | CPU p50 | CPU p95 | median matches "
        "| max matches |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        kinds = [*r.latency, "all"]
        for kind in kinds:
            lat = sum(r.latency.values(), []) if kind == "all" else r.latency[kind]
            cpu = sum(r.cpu.values(), []) if kind == "all" else r.cpu[kind]
            m = sum(r.matches.values(), []) if kind == "all" else r.matches[kind]
            name = f"**{kind}**" if kind == "all" else kind
            lines.append(
                f"| {r.size:,} | {name} | {len(m)} | {pct(lat, 0.5):.1f} ms "
                f"| {pct(lat, 0.95):.1f} ms | {max(lat):.1f} ms | {pct(cpu, 0.5):.1f} ms "
                f"| {pct(cpu, 0.95):.1f} ms | {statistics.median(m):,.0f} | {max(m):,} |")
    lines += ["", "Load average (1 min) when each size's search measurement began: " + "; ".join(
        f"{r.size:,}: {r.load:.1f}" for r in results) + "."]
    lines += [
        "",
        f"## Relevance over the newest {RANK_WINDOW:,} matches vs over every match",
        "",
        "For each query matching more than the rank window, its top 20 compared with",
        "the exhaustive ranking (`rank_window=None`): how many of the same articles,",
        "the mean BM25 score of the windowed top 20 relative to the exhaustive one,",
        "and what the exhaustive ranking costs. Score ratios leave out the queries",
        f"whose exhaustive top 20 scores under {MEANINGFUL_SCORE} on average (all their words",
        "in over half the archive: BM25's IDF floor makes every score ~0).",
        "",
        "| articles | queries over the window | mean overlap@20 | queries with a score ratio "
        "| mean score ratio | min score ratio | exhaustive p50 | exhaustive max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if not r.window:
            lines.append(f"| {r.size:,} | 0 | | | | | | |")
            continue
        ex = [w[4] for w in r.window]
        ratios = [w[3] for w in r.window if w[3] == w[3]]  # not NaN
        mean_r = f"{statistics.fmean(ratios):.0%}" if ratios else "–"
        min_r = f"{min(ratios):.0%}" if ratios else "–"
        lines.append(
            f"| {r.size:,} | {len(r.window)} | {statistics.fmean(w[2] for w in r.window):.0%} "
            f"| {len(ratios)} | {mean_r} | {min_r} | {pct(ex, 0.5):.0f} ms | {max(ex):.0f} ms |")
    migr = [r for r in results if r.migrate_s is not None]
    if migr:
        lines += ["", "Opening a reused archive applied pending migrations in: " + "; ".join(
            f"{r.size:,} articles {r.migrate_s:.1f} s" for r in migr) + "."]
    lines += ["", "## Slowest queries (median of runs)", ""]
    for r in results:
        lines.append(f"- {r.size:,} articles: " + "; ".join(
            f"`{q}` {ms:.1f} ms ({n:,} matches)" for ms, q, n in r.slowest))
    return "\n".join(lines) + "\n"


SEEDS = Path("/work/shared/seeds")


def real_articles() -> list[Any]:
    """The fixtures' and seeds' articles (each title once)."""
    import json

    from scraper.extract import extract_article, parse_text_dump
    from scraper.extract.article import NotAnArticle

    found: dict[str, Any] = {}
    for folder in sorted((ROOT / "tests" / "fixtures").iterdir()):
        page, expected = folder / "page.html", folder / "expected.json"
        if not (page.is_file() and expected.is_file()):
            continue
        url = json.loads(expected.read_text(encoding="utf-8")).get("url")
        try:
            art = extract_article(page.read_bytes(), url)
        except NotAnArticle:
            continue
        found.setdefault(art.title, art)
    for dump in sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []:
        try:
            art = parse_text_dump(dump.read_text(encoding="utf-8"))
        except (NotAnArticle, UnicodeDecodeError):
            continue
        found.setdefault(art.title, art)
    return list(found.values())


def real_query_mrr(path: Path) -> tuple[int, float, float, float]:
    """(queries, MRR@10 default relevance, MRR@10 exhaustive, p95 ms default) on a copy."""
    import sqlite3

    from archive.textfold import fold

    copy = path.with_name(path.stem + "-real.db")
    copy.unlink(missing_ok=True)
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    articles = real_articles()
    with Archive(copy) as archive:
        archive.ensure_portal(Portal("real", "Fixtures and seeds", "Thanh Hóa", "http://real/"))
        ids = archive.save_articles(articles, portal_id="real").ids
        rr: dict[str, list[float]] = {"default": [], "exhaustive": []}
        times = []
        for art, article_id in zip(articles, ids, strict=True):
            query = fold(art.title)
            for name, window in (("default", RANK_WINDOW), ("exhaustive", None)):
                t0 = time.perf_counter()
                hits = search(archive, query, limit=10, rank_window=window)
                if name == "default":
                    times.append((time.perf_counter() - t0) * 1000)
                ranks = [k for k, h in enumerate(hits, 1) if h.id == article_id]
                rr[name].append(1 / ranks[0] if ranks else 0.0)
    copy.unlink(missing_ok=True)
    return (len(articles), statistics.fmean(rr["default"]), statistics.fmean(rr["exhaustive"]),
            pct(times, 0.95))


def main() -> None:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000" if quick else "10000,100000,1000000",
                        help="comma-separated archive sizes (default 10000,100000,1000000; "
                             "BENCH_QUICK=1: 10000)")
    parser.add_argument("--repeat", type=int, default=3 if quick else 5)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--data", default=str(ROOT / "data" / "bench"))
    parser.add_argument("--rebuild", action="store_true", help="build even if the file exists")
    parser.add_argument("--real-queries", action="store_true",
                        help="also measure MRR@10 of the fixtures' and seeds' titles typed "
                             "without diacritics (on a copy of each archive)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / (
        "search-quick.md" if quick else "search.md")),
        help="where the table goes (quick mode: bench/results/search-quick.md, so a quick "
             "run never replaces the full results)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [run_size(size, args) for size in sizes]
    text = report(results, args)
    if args.real_queries:
        lines = ["", "## Real queries: titles typed without diacritics", "",
                 "| articles | queries | MRR@10 (relevance, default) | MRR@10 (exhaustive) "
                 "| p95 ms (default) |", "|---:|---:|---:|---:|---:|"]
        for size in sizes:
            n, default, full, p95 = real_query_mrr(Path(args.data) / f"search-{size}.db")
            lines.append(f"| {size:,} | {n} | {default:.3f} | {full:.3f} | {p95:.1f} |")
        text += "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

"""Web UI benchmark: the search page of ``portal-archive serve`` through real HTTP.

For each archive size N (the archives of ``bench/search_bench.py``,
``data/bench/search-N.db``, built by it when missing) the benchmark

1. applies pending schema migrations with ``portal-archive migrate`` and
   reports how long that took (``serve`` never migrates on its own);
2. starts ``portal-archive serve`` on a free local port (a real process,
   read-only over the file) and times full page loads of the search page —
   no query, filtered pages (portal, year, month, cut dates, author,
   category, a deep page), typical text queries — ``--repeat`` times after
   one warm-up, with what the page said (total, "More than …");
3. in-process, times the two parts of a page with a text query:
   :func:`archive.search.search` (the ranked results) and
   :func:`archive.facets.facet_counts` (total, facets, chart);
4. in-process, in the same run, times the **previous** implementation of the
   page's counts (``count_articles`` for the total plus a Python loop over
   every selected row for facets and chart) on a few of the same pages,
   as the baseline.

Usage::

    python bench/web_bench.py                        # 10 000, 100 000, 1 000 000
    python bench/web_bench.py --sizes 10000,100000 --repeat 5
    BENCH_QUICK=1 python bench/web_bench.py          # quick: 10 000, 3 runs

The table goes to ``bench/results/web.md`` (quick mode:
``bench/results/web-quick.md``).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from archive.facets import MATCH_CAP, facet_counts  # noqa: E402
from archive.filters import ArticleFilter, count_articles  # noqa: E402
from archive.search import search  # noqa: E402
from archive.store import Archive, pending_migrations  # noqa: E402
from bench.benchreport import header, pct  # noqa: E402

EXE = Path(sys.executable).parent / "portal-archive"

#: (kind, label, query-string parameters). The same pages at every size.
PAGES: list[tuple[str, str, dict[str, str]]] = [
    ("no query", "/", {}),
    ("filtered", "portal", {"portal": "thoxuan"}),
    ("filtered", "year", {"since": "2019", "until": "2019"}),
    ("filtered", "portal + month", {"portal": "trieuson", "since": "2020-06", "until": "2020-06"}),
    ("filtered", "days (cut months)", {"since": "2019-03-15", "until": "2020-06-02"}),
    ("filtered", "author", {"author": "van hung"}),
    ("filtered", "category", {"category": "nong nghiep"}),
    ("filtered", "author + category", {"author": "thu huong", "category": "quoc phong"}),
    ("filtered", "author (no match)", {"author": "nguyen van a"}),
    ("filtered", "author, page 100", {"author": "van hung", "page": "100"}),
    ("filtered", "page 50", {"page": "50"}),
    ("text", "nong thon moi", {"q": "nong thon moi"}),
    ("text", "Đồng Tiến", {"q": "Đồng Tiến"}),
    ("text", '"xã đồng thắng"', {"q": '"xã đồng thắng"'}),
    ("text", "hoi nghi", {"q": "hoi nghi"}),
    ("text", "tho son (newest first)", {"q": "tho son", "order": "date"}),
    ("text", "dong tien + portal", {"q": "dong tien", "portal": "trieuson"}),
    ("text", "ubnd + month", {"q": "ubnd", "since": "2019-06", "until": "2019-06"}),
]
#: Pages whose counts are also timed with the previous implementation.
BASELINE = ("/", "portal", "author", "nong thon moi")


@dataclass
class PageResult:
    kind: str
    label: str
    ms: list[float]
    said: str  # the page's count line
    search_ms: float | None = None
    facets_ms: float | None = None
    old_ms: float | None = None


@dataclass
class SizeResult:
    size: int
    migrate_s: float | None
    pages: list[PageResult] = field(default_factory=list)
    load: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    # The English UI: the count line is compared with earlier results.
    request = urllib.request.Request(url, headers={"Cookie": "pa_lang=en"})
    with urllib.request.urlopen(request, timeout=120) as r:
        return r.status, r.read().decode()


def _count_line(page: str) -> str:
    m = re.search(r'<p class="pa-count" id="count">(.*?)Download', page, re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", m.group(1))) if m else "?"
    return " ".join(text.split()).rstrip(".")


def _filter(params: dict[str, str]) -> ArticleFilter:
    return ArticleFilter(portal=params.get("portal"), since=params.get("since"),
                         until=params.get("until"), author=params.get("author"),
                         category=params.get("category"), query=params.get("q"))


# ---------------------------------------------- the previous implementation
def _old_local_month(utc_hour: str) -> str:
    if utc_hour[11:13] < "17":
        return utc_hour[:7]
    moment = datetime.fromisoformat(utc_hour[:10]) + timedelta(hours=int(utc_hour[11:13]) + 7)
    return moment.strftime("%Y-%m")


def old_counts(archive: Archive, filters: ArticleFilter) -> int:
    """The page's counts before migration 0008: exact count + one Python pass over the rows."""
    total = count_articles(archive, filters)
    where, params = filters.where("a")
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("portal", "year", "author",
                                                               "category")}
    months: Counter[tuple[str, str]] = Counter()
    cursor = archive.conn.execute(
        f"SELECT a.portal_id, substr(a.published_utc, 1, 13), a.author, a.category "
        f"FROM articles a WHERE {where}", params)
    while batch := cursor.fetchmany(5000):
        for portal, utc_hour, author, category in batch:
            counts["portal"][portal] += 1
            if utc_hour:
                month = _old_local_month(utc_hour)
                counts["year"][month[:4]] += 1
                months[(portal, month)] += 1
            if author:
                counts["author"][author] += 1
            if category:
                counts["category"][category] += 1
    return total


def _timed(fn: Any, repeat: int) -> float:
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


# ------------------------------------------------------------------ running
def ensure_archive(size: int, data: Path) -> tuple[Path, float | None]:
    path = data / f"search-{size}.db"
    if not path.exists():
        import search_bench

        print(f"building {size} articles into {path} …", flush=True)
        search_bench.build(path, size, 20_000)
    migrate_s = None
    if pending_migrations(path):
        print(f"  migrating {path}: {', '.join(pending_migrations(path))} …", flush=True)
        t0 = time.perf_counter()
        subprocess.run([str(EXE), "migrate", "--db", str(path)], check=True)
        migrate_s = time.perf_counter() - t0
    return path, migrate_s


def run_size(size: int, args: argparse.Namespace) -> SizeResult:
    path, migrate_s = ensure_archive(size, Path(args.data))
    result = SizeResult(size, migrate_s, load=os.getloadavg().__repr__())
    port = _free_port()
    proc = subprocess.Popen([str(EXE), "serve", "--db", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"serve failed: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                _get(base + "article/1")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        for kind, label, params in PAGES:
            url = base + ("?" + urllib.parse.urlencode(params) if params else "")
            status, page_html = _get(url)  # warm-up
            if status != 200:
                raise SystemExit(f"{url}: HTTP {status}")
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                _get(url)
                runs.append((time.perf_counter() - t0) * 1000)
            result.pages.append(PageResult(kind, label, runs, _count_line(page_html)))
            print(f"  {size:>9,} {label:<24} p50 {statistics.median(runs):7.1f} ms  "
                  f"{result.pages[-1].said}", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    # In-process: the parts of a page, and the previous implementation.
    with Archive.open(path) as archive:
        for page, (_, label, params) in zip(result.pages, PAGES, strict=True):
            f = _filter(params)
            page.facets_ms = _timed(lambda f=f: facet_counts(archive, f), args.repeat)
            if f.query is not None:
                page.search_ms = _timed(lambda f=f, params=params: search(
                    archive, f.query or "", portal=f.portal, since=f.since, until=f.until,
                    author=f.author, category=f.category, limit=20,
                    order=params.get("order", "relevance")), args.repeat)
            if label in BASELINE and not args.no_baseline:
                page.old_ms = _timed(lambda f=f: old_counts(archive, f), max(1, args.repeat // 2))
    return result


def report(results: list[SizeResult], args: argparse.Namespace, cmd: str) -> str:
    lines = [
        *header("Web UI benchmark: the search page at archive scale", cmd),
        "Archives: `bench/search_bench.py`'s (demo generator, three portals). Page times are",
        "full HTTP GETs of the search page from a running `portal-archive serve` (Datasette,",
        f"read-only), {args.repeat} runs after a warm-up. `search` and `facets` are the two",
        "parts of a page timed in-process (median): `archive.search.search` (the ranked 20",
        "results) and `archive.facets.facet_counts` (total, facets, chart). `before` is the",
        "previous implementation of the page's counts (`count_articles` + a Python loop over",
        "every selected row), timed in the same run. A text query's facets read at most",
        f"{MATCH_CAP:,} matches (`MATCH_CAP`); the page then says \"More than {MATCH_CAP:,}\".",
        "",
    ]
    for r in results:
        mig = f"{r.migrate_s:.1f} s" if r.migrate_s is not None else "none pending"
        lines += [
            f"## {r.size:,} articles",
            "",
            f"Migration with `portal-archive migrate` before serving: {mig}. "
            f"Load average at the start: {r.load}.",
            "",
            "| page | kind | p50 | p95 | max | search | facets | before (counts only) "
            "| the page said |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in r.pages:
            def ms(v: float | None) -> str:
                return f"{v:.1f} ms" if v is not None else "–"
            lines.append(
                f"| {p.label} | {p.kind} | {pct(p.ms, .5):.1f} ms | {pct(p.ms, .95):.1f} ms "
                f"| {max(p.ms):.1f} ms | {ms(p.search_ms)} | {ms(p.facets_ms)} "
                f"| {ms(p.old_ms)} | {p.said} |")
        for kind in ("no query", "filtered", "text"):
            ms_all = [v for p in r.pages if p.kind == kind for v in p.ms]
            lines.append(f"| **all {kind}** | | **{pct(ms_all, .5):.1f} ms** "
                         f"| **{pct(ms_all, .95):.1f} ms** | {max(ms_all):.1f} ms | | | | |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000" if quick else "10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3 if quick else 5)
    parser.add_argument("--data", default=str(ROOT / "data" / "bench"))
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip timing the previous implementation")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / (
        "web-quick.md" if quick else "web.md")))
    args = parser.parse_args()
    cmd = ("BENCH_QUICK=1 " if quick else "") + ".venv/bin/python bench/web_bench.py " + " ".join(
        a for a in sys.argv[1:])
    results = [run_size(int(s), args) for s in args.sizes.split(",")]
    text = report(results, args, cmd.strip())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

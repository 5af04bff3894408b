"""Crawl benchmark: the demo portal on loopback, real Scrapy processes.

Measures, and writes to bench/results/crawl.md:

1. end-to-end archive rate (fetch, extract, store; articles/s) against a bare
   spider that fetches the same pages and discards them, in the same run
   (target: archive ≥ 80% of the bare rate);
2. peak memory (max RSS of the crawl process, from wait4) of first crawls at
   two sizes (target: flat within 10%);
3. the incremental re-crawl of the unchanged portal: requests and time as a
   share of the first crawl (target: ≤ 5% of both), with the default revisit
   budget (archived articles verified again: deleted → gone, edited →
   revision) and, in the same run, with revisits off; then the same portal
   with K newer articles published: all K found, nothing stored twice;
4. WARC bytes per article (when the archive writes WARC files).

Usage::

    python bench/crawl_bench.py                      # 10 000 articles; memory at 10k and 100k
    python bench/crawl_bench.py --quick              # 1 000 articles; memory at 500 and 2 000
    CRAWL_BENCH_QUICK=1 python bench/crawl_bench.py  # same
    python bench/crawl_bench.py --size 10000 --memory-sizes 10000,100000 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.demo.server import DemoServer  # noqa: E402
from scraper.demo.site import DemoSite  # noqa: E402
from scraper.portals import Portal  # noqa: E402
from scraper.runner import crawl_settings, demo_portal, run_crawl  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "crawl.md"
#: The archiver process's peak RSS, in the crawl's stats.
ARCHIVER_RSS = "portal_archive/archiver/max_rss_kb"
#: Newer articles published between the first crawl and the re-crawl.
NEW_ARTICLES = 50


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def bare_crawl(portal: Portal, workdir: Path) -> dict[str, Any]:
    """The same spider and settings with no pipeline: fetch the pages, discard them."""
    settings = crawl_settings(portal, workdir / "none.db", 0, {
        "ITEM_PIPELINES": {}, "PORTAL_ARCHIVE_MODE": "full", "JOBDIR": str(workdir / "bare-job"),
        "PORTAL_ARCHIVE_WARC": False,
    })
    cmd = [sys.executable, "-m", "scrapy", "crawl", "portal",
           "-a", "portal=" + json.dumps(asdict(portal), ensure_ascii=False)]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={json.dumps(value) if isinstance(value, (list, dict)) else value}"]
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="scraper.settings", PYTHONPATH=str(ROOT))
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"bare crawl failed (exit {proc.returncode})")
    return {"seconds": time.monotonic() - started, "max_rss_kb": usage.ru_maxrss,
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def first_and_recrawl(size: int, workdir: Path, with_bare: bool,
                      settings: dict[str, Any] | None = None,
                      inline_too: bool = False) -> dict[str, Any]:
    """Bare crawl, archive crawl, unchanged re-crawl, re-crawl with new articles."""
    out: dict[str, Any] = {"size": size, "load": f"{os.getloadavg()[0]:.2f}"}
    db = workdir / f"archive-{size}.db"
    before = DemoSite(size=size + NEW_ARTICLES, seed=1, visible=size)
    with DemoServer(before) as server:
        portal = demo_portal(server.base_url)
        if with_bare:
            bare = bare_crawl(portal, workdir)
            out["bare_hits"] = dict(server.hits)
            out["bare"] = bare
            server.app.reset_counts()
        if inline_too:
            print(f"  archive crawl of {size} articles, all in the crawl process …",
                  flush=True)
            other = run_crawl(portal, workdir / "inline" / "inline.db", quiet=True,
                              settings={**(settings or {}), "PORTAL_ARCHIVE_ARCHIVER": "inline"})
            out["inline"] = {**other["process"], "articles": other["articles_new"],
                             "requests": sum(server.hits.values())}
            server.app.reset_counts()
        print(f"  first crawl of {size} articles …", flush=True)
        first = run_crawl(portal, db, quiet=True, settings=settings)
        out["load"] += f" → {os.getloadavg()[0]:.2f}"
        out["first"] = {**first["process"], "requests": sum(server.hits.values()),
                        "hits": dict(server.hits), "articles": first["articles_new"],
                        "worker_rss_kb": first["stats"].get(ARCHIVER_RSS)}
        out["warc_bytes"] = _warc_bytes(workdir)
        print(f"    bare: {out.get('bare')}\n    first: {out['first']}\n"
              f"    WARC bytes: {out['warc_bytes']}", flush=True)
        server.app.reset_counts()
        print("  re-crawl, unchanged …", flush=True)
        again = run_crawl(portal, db, quiet=True, settings=settings)
        out["again"] = {**again["process"], "requests": sum(server.hits.values()),
                        "hits": dict(server.hits), "new": again["articles_new"],
                        "revisited": again["articles_revisited"],
                        "budget": again["settings"].get("PORTAL_ARCHIVE_REVISIT_BUDGET")}
        server.app.reset_counts()
        print("  re-crawl, unchanged, revisits off …", flush=True)
        off = run_crawl(portal, db, quiet=True,
                        settings={**(settings or {}), "PORTAL_ARCHIVE_REVISIT": 0})
        out["again_off"] = {**off["process"], "requests": sum(server.hits.values()),
                            "hits": dict(server.hits), "new": off["articles_new"],
                            "revisited": off["articles_revisited"]}
        base = server.base_url
    after = DemoSite(size=size + NEW_ARTICLES, seed=1)
    port = int(base.rstrip("/").rsplit(":", 1)[1])
    with DemoServer(after, port=port) as server:
        print(f"  re-crawl, {NEW_ARTICLES} articles published since …", flush=True)
        newer = run_crawl(portal, db, quiet=True, settings=settings)
        out["newer"] = {**newer["process"], "requests": sum(server.hits.values()),
                        "new": newer["articles_new"], "hits": dict(server.hits),
                        "revisited": newer["articles_revisited"]}
    out["stored"] = _count(db, "SELECT count(*) FROM articles")
    out["distinct"] = _count(db, "SELECT count(DISTINCT canonical_url) FROM articles")
    return out


def memory_crawl(size: int, workdir: Path,
                 settings: dict[str, Any] | None = None) -> dict[str, Any]:
    db = workdir / f"memory-{size}.db"
    with DemoServer(DemoSite(size=size, seed=1)) as server:
        print(f"  first crawl of {size} articles (memory) …", flush=True)
        run = run_crawl(demo_portal(server.base_url), db, quiet=True, settings=settings)
    print(f"    {size}: {run['process']}", flush=True)
    return {"size": size, **run["process"], "articles": run["articles_new"],
            "memusage_max": run["stats"].get("memusage/max"),
            "worker_rss_kb": run["stats"].get(ARCHIVER_RSS)}


def _warc_bytes(workdir: Path) -> int | None:
    # The first archive crawl's files only (its data folder is workdir).
    files = [p for p in (workdir / "warc").rglob("*.warc.gz")]
    return sum(p.stat().st_size for p in files) if files else None


#: Where a crawl process's time goes: (label, file suffix, function name).
PROFILE_ROWS = (
    ("whole crawl process", "runpy>", "_run_code"),
    ("item pipelines (extraction + store, reactor thread)", "scrapy/pipelines/__init__.py",
     "process_item_async"),
    ("  extraction steps (scraper.extract.steps.run)", "scraper/extract/steps.py", "run"),
    ("  store batches (StorePipeline.flush; in its writer thread after the change)",
     "scraper/pipelines.py", "flush"),
    ("WARC (WarcMiddleware.process_response; writes in its thread after the change)",
     "scraper/middlewares.py", "process_response"),
    ("spider parse (links, item)", "spiders/portal.py", "parse"),
    ("  link extraction (LinkExtractor)", "scrapy/linkextractors/lxmlhtml.py", "extract_links"),
    ("scheduling requests (engine.crawl)", "scrapy/core/engine.py", "crawl"),
)


def profile_crawl(size: int, workdir: Path, settings: dict[str, Any] | None = None,
                  bare: bool = False) -> Path:
    """cProfile (reactor thread) of a real crawl process, archive or bare mode."""
    mode = "bare" if bare else "archive"
    with DemoServer(DemoSite(size=size, seed=1)) as server:
        portal = demo_portal(server.base_url)
        extra = {**(settings or {}), "PORTAL_ARCHIVE_MODE": "full",
                 "JOBDIR": str(workdir / f"profile-{mode}-job")}
        if bare:
            extra.update({"ITEM_PIPELINES": {}, "PORTAL_ARCHIVE_WARC": False})
        crawl = crawl_settings(portal, workdir / f"profile-{mode}.db", 0, extra)
        out = workdir / f"crawl-{mode}.prof"
        cmd = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "scrapy", "crawl",
               "portal", "-a", "portal=" + json.dumps(asdict(portal), ensure_ascii=False)]
        for key, value in crawl.items():
            cmd += ["-s", f"{key}={json.dumps(value) if isinstance(value, (list, dict)) else value}"]
        env = dict(os.environ, SCRAPY_SETTINGS_MODULE="scraper.settings", PYTHONPATH=str(ROOT))
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return out


def profile_table(archive: Path, bare: Path | None, size: int) -> str:
    """Cumulative ms per article of each part, archive and bare crawl side by side."""
    def parts(path: Path) -> list[float]:
        stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
        return [max((v[3] for (file, _, fn), v in stats.items()
                     if fn == name and file.endswith(suffix)), default=0.0)
                for _, suffix, name in PROFILE_ROWS]
    arch = parts(archive)
    base = parts(bare) if bare is not None else [0.0] * len(PROFILE_ROWS)
    rows = [f"cProfile of one crawl of {size} articles per mode (reactor thread only: work "
            "in the writer threads is not in it; profiler overhead included; cumulative, "
            "nested parts indented), ms per article:", "",
            "| part | archive | bare |", "|---|---:|---:|"]
    for (label, _, _), a, b in zip(PROFILE_ROWS, arch, base, strict=True):
        rows.append(f"| {label} | {1000 * a / size:.2f} | "
                    f"{f'{1000 * b / size:.2f}' if bare is not None else '–'} |")
    return "\n".join(rows)


def _both_kb(m: dict[str, Any]) -> int:
    return int(m["max_rss_kb"] + (m.get("worker_rss_kb") or 0))


def _cpu_ms(process: dict[str, Any], articles: int) -> str:
    cpu = process.get("cpu_seconds")
    return f"{1000 * cpu / articles:.2f}" if cpu is not None and articles else "–"


def _rate(articles: int, seconds: float) -> float:
    return articles / seconds if seconds else 0.0


def report(result: dict[str, Any], memory: list[dict[str, Any]], command: str,
           profile: str | None) -> str:
    first, again, newer = result["first"], result["again"], result["newer"]
    off = result["again_off"]
    lines = [
        "# Crawl benchmark",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores (shared with other work), Python {platform.python_version()}; "
        "demo portal on 127.0.0.1 (served from the benchmark process), real Scrapy processes.",
        "",
        f"Reproduce: `{command}`",
        "",
        "## End-to-end rate vs a bare spider (same run, same pages)",
        "",
        "| crawl | article pages | seconds | articles/s | max RSS (MiB) | CPU ms per article |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    arch_rate = _rate(first["articles"], first["seconds"])
    if "bare" in result:
        bare = result["bare"]
        pages = result["bare_hits"].get("article", 0)
        bare_rate = _rate(pages, bare["seconds"])
        lines.append(f"| bare spider (fetch + links, items discarded) | {pages} | "
                     f"{bare['seconds']:.1f} | {bare_rate:.0f} | {bare['max_rss_kb'] / 1024:.0f} | "
                     f"{_cpu_ms(bare, pages)} |")
    if first["hits"].get("image"):
        lines.append(f"| (the archive crawl also fetched {first['hits']['image']} images) "
                     "| | | | | |")
    if "inline" in result:
        other = result["inline"]
        lines.append(f"| archive, all in the crawl process (`PORTAL_ARCHIVE_ARCHIVER=inline`; "
                     f"{other['requests']} requests) | "
                     f"{other['articles']} | {other['seconds']:.1f} | "
                     f"{_rate(other['articles'], other['seconds']):.0f} | "
                     f"{other['max_rss_kb'] / 1024:.0f} | "
                     f"{_cpu_ms(other, other['articles'])} |")
    worker = first.get("worker_rss_kb")
    lines.append(f"| archive (fetch, extract, store){' in an archiver process' if worker else ''} | "
                 f"{first['articles']} | {first['seconds']:.1f} | {arch_rate:.0f} | "
                 f"{first['max_rss_kb'] / 1024:.0f}"
                 f"{f' + {worker / 1024:.0f}' if worker else ''} | "
                 f"{_cpu_ms(first, first['articles'])} |")
    if "bare" in result:
        share = arch_rate / bare_rate if bare_rate else 0
        lines += ["", f"Archive rate = **{share:.0%}** of the bare rate "
                      f"(target ≥ 80%: {'met' if share >= 0.8 else 'NOT met'})"
                      + (f"; all in the crawl process "
                         f"{_rate(result['inline']['articles'], result['inline']['seconds']) / bare_rate:.0%}"
                         if "inline" in result and bare_rate else "") + ". CPU ms per "
                      "article: user + system time of the crawl process (all its threads, and "
                      "its archiver process) over the article pages; the demo server's time "
                      "is not in it. Max RSS: the crawl process + its archiver process.",
                  "", f"Load average (1 min) before and after the run: {result['load']}."]
    lines += [
        "",
        "## Incremental re-crawl",
        "",
        "| crawl | requests | seconds | new articles | archived articles revisited |",
        "|---|---:|---:|---:|---:|",
        f"| first crawl | {first['requests']} | {first['seconds']:.1f} | {first['articles']} "
        f"| – |",
        f"| re-crawl, unchanged portal (default revisit budget: {again['budget']}) | "
        f"{again['requests']} | {again['seconds']:.1f} | {again['new']} | "
        f"{again['revisited']} |",
        f"| re-crawl, unchanged portal, revisits off (`PORTAL_ARCHIVE_REVISIT=0`) | "
        f"{off['requests']} | {off['seconds']:.1f} | {off['new']} | {off['revisited']} |",
        f"| re-crawl, {NEW_ARTICLES} newer articles published | {newer['requests']} | "
        f"{newer['seconds']:.1f} | {newer['new']} | {newer['revisited']} |",
        "",
        f"Unchanged re-crawl with the default revisits: "
        f"**{again['requests'] / first['requests']:.2%}** of the first "
        f"crawl's requests, **{again['seconds'] / first['seconds']:.2%}** of its time "
        f"(without revisits: {off['requests'] / first['requests']:.2%} and "
        f"{off['seconds'] / first['seconds']:.2%}; target ≤ 5% of both: "
        f"{'met' if again['requests'] <= 0.05 * first['requests'] and again['seconds'] <= 0.05 * first['seconds'] else 'NOT met'}). "
        f"New articles found: {newer['new']} of {NEW_ARTICLES}; archive holds "
        f"{result['stored']} rows for {result['distinct']} distinct URLs "
        f"({'nothing duplicated' if result['stored'] == result['distinct'] else 'DUPLICATES'}).",
        "",
        "## Peak memory of a first crawl",
        "",
        "| articles | seconds | articles/s | max RSS (MiB) | Scrapy memusage/max (MiB) "
        "| archiver process max RSS (MiB) | both (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in memory:
        mu = f"{m['memusage_max'] / 1048576:.0f}" if m.get("memusage_max") else "–"
        wk = f"{m['worker_rss_kb'] / 1024:.0f}" if m.get("worker_rss_kb") else "–"
        lines.append(f"| {m['size']} | {m['seconds']:.1f} | {_rate(m['articles'], m['seconds']):.0f} "
                     f"| {m['max_rss_kb'] / 1024:.0f} | {mu} | {wk} | "
                     f"{_both_kb(m) / 1024:.0f} |")
    if len(memory) >= 2:
        # The crawl's memory is both processes' (their peaks, added: an upper bound).
        lo, hi = _both_kb(memory[0]), _both_kb(memory[-1])
        growth = hi / lo - 1
        lines += ["", f"Growth from {memory[0]['size']} to {memory[-1]['size']} articles: "
                      f"**{growth:+.1%}** (target within 10%: "
                      f"{'met' if abs(growth) <= 0.10 else 'NOT met'})."]
    lines += ["", "## WARC bytes per article", ""]
    if result.get("warc_bytes"):
        lines.append(f"{result['warc_bytes'] / max(1, first['articles']):.0f} bytes per article "
                     f"(all gzip WARC files of the first crawl: article pages, listings, robots.txt"
                     f"{' and images' if first['hits'].get('image') else ''}; "
                     f"{result['warc_bytes'] / 1048576:.1f} MiB in all).")
    else:
        lines.append("No WARC files were written (PORTAL_ARCHIVE_WARC off, or a code base "
                     "without WARC output).")
    if profile:
        lines += ["", "## Where the crawl process spends its time", "", profile.strip()]
    return "\n".join(lines) + "\n"


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", default=bool(
        os.environ.get("CRAWL_BENCH_QUICK") or os.environ.get("BENCH_QUICK") == "1"),
        help="small sizes, written to crawl-quick.md (also CRAWL_BENCH_QUICK=1 or BENCH_QUICK=1)")
    parser.add_argument("--size", type=int, help="articles of the throughput/re-crawl portal")
    parser.add_argument("--memory-sizes", help="comma-separated sizes for the memory table")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare spider")
    parser.add_argument("--inline-too", action="store_true",
                        help="also an archive crawl all in the crawl process "
                             "(PORTAL_ARCHIVE_ARCHIVER=inline), in the same run")
    parser.add_argument("--profile", action="store_true",
                        help="profile an archive and a bare crawl process too (cProfile)")
    parser.add_argument("--profile-size", type=int, default=2000,
                        help="articles of the profiled crawls (default 2000)")
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE", help="a setting of the archive crawls, e.g. "
                        "-s PORTAL_ARCHIVE_IMAGES=false (repeatable)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.out is None:  # a quick run never overwrites the real results
        args.out = RESULTS.with_name("crawl-quick.md") if args.quick else RESULTS
    size = args.size or (1000 if args.quick else 10_000)
    memory_sizes = [int(s) for s in (args.memory_sizes or (
        "500,2000" if args.quick else "10000,100000")).split(",") if s]
    command = "python bench/crawl_bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="crawl-bench-"))
    try:
        print(f"crawl benchmark: {size} articles, memory at {memory_sizes}", flush=True)
        settings = {k: _value(v) for k, _, v in (pair.partition("=") for pair in args.settings)}
        result = first_and_recrawl(size, workdir, with_bare=not args.no_bare,
                                   settings=settings or None, inline_too=args.inline_too)
        memory = []
        for n in memory_sizes:
            if n == size:
                memory.append({"size": n, **result["first"]})
            else:
                memory.append(memory_crawl(n, workdir, settings or None))
        profile = None
        if args.profile:
            n = args.profile_size
            profile = profile_table(profile_crawl(n, workdir, settings or None),
                                    profile_crawl(n, workdir, settings or None, bare=True), n)
        text = report(result, memory, command.strip(), profile)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

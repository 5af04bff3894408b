"""What keeping raw pages (WARC) and images costs a crawl, and how fast
re-extraction from the WARC files runs.

Crawls the demo portal on loopback three times into fresh archives:

* ``bare``: no WARC, no image downloads (articles only);
* ``warc``: every response written to WARC, no image downloads;
* ``warc+images``: WARC and image downloads (the default);

then re-extracts the last crawl's WARC files into a fresh archive. A
warm-up crawl (not reported) runs first.
Writes ``bench/results/archival.md``.

    .venv/bin/python bench/archival_bench.py            # 2000 articles
    BENCH_QUICK=1 .venv/bin/python bench/archival_bench.py   # 200 articles
    BENCH_ARTICLES=10000 .venv/bin/python bench/archival_bench.py
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.reextract import reextract  # noqa: E402
from archive.store import Archive  # noqa: E402
from scraper.demo.server import DemoServer  # noqa: E402
from scraper.demo.site import DemoSite  # noqa: E402
from scraper.runner import demo_portal, run_crawl  # noqa: E402

CONFIGS = {
    "bare": {"PORTAL_ARCHIVE_WARC": False, "PORTAL_ARCHIVE_IMAGES": False},
    "warc": {"PORTAL_ARCHIVE_WARC": True, "PORTAL_ARCHIVE_IMAGES": False},
    "warc+images": {"PORTAL_ARCHIVE_WARC": True, "PORTAL_ARCHIVE_IMAGES": True},
}


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def main() -> None:
    quick = os.environ.get("BENCH_QUICK") == "1"
    size = int(os.environ.get("BENCH_ARTICLES", "200" if quick else "2000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "1" if quick else "2"))
    site = DemoSite(size=size, seed=1)
    work = Path(tempfile.mkdtemp(prefix="archival-bench-"))
    try:
        with DemoServer(site) as server:
            portal = demo_portal(server.base_url)
            # Warm-up (not reported): imports, page cache, the demo's LRU caches.
            run_crawl(portal, work / "warmup" / "archive.db", settings=dict(CONFIGS["bare"]),
                      quiet=True)
            best: dict[str, dict[str, float | int | str]] = {}
            for attempt in range(repeat):
                for name, settings in CONFIGS.items():
                    folder = work / f"{name.replace('+', '_')}-{attempt}"
                    t0 = time.perf_counter()
                    run = run_crawl(portal, folder / "archive.db", settings=dict(settings),
                                    quiet=True)
                    wall = time.perf_counter() - t0
                    articles = run["articles_new"]
                    crawl_s = run["duration_s"] or wall
                    row: dict[str, float | int | str] = {
                        "config": name, "articles": articles, "requests": run["requests"],
                        "crawl_s": crawl_s, "wall_s": wall, "rate": articles / crawl_s,
                        "cpu_s": run["process"].get("cpu_seconds", 0.0),
                        "rss_mb": run["process"].get("max_rss_kb", 0) / 1024,
                        "warc_bytes": run["warc_bytes"], "images_ok": run["images_ok"],
                        "image_bytes": folder_bytes(folder / "images"),
                        "folder": str(folder),
                    }
                    print(f"{name} #{attempt + 1}: {row}", flush=True)
                    if name not in best or float(row["cpu_s"]) < float(best[name]["cpu_s"]):
                        best[name] = row
            rows = [best[name] for name in CONFIGS]
        source = Path(str(best["warc+images"]["folder"]))
        t0 = time.perf_counter()
        with Archive(work / "rebuilt" / "archive.db") as archive:
            result = reextract(archive, source / "warc")
        re_s = time.perf_counter() - t0
        print(f"reextract: {result.pages} pages in {re_s:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    bare = rows[0]
    lines = [
        "# Archival crawl: cost of WARC and images, speed of re-extraction",
        "",
        f"Demo portal of {size} articles on loopback; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared with other work: wall times are noisy, CPU seconds "
        f"of the crawl process less so); best of {repeat} by CPU time. Reproduce: "
        f"`{'BENCH_QUICK=1 ' if quick else ''}"
        f"{'BENCH_ARTICLES=' + str(size) + ' ' if 'BENCH_ARTICLES' in os.environ else ''}"
        f".venv/bin/python bench/archival_bench.py`. Crawl s is the Scrapy run "
        "(`crawl_runs.duration_s`); wall s includes process start.",
        "",
        "| config | articles | requests | crawl s | wall s | articles/s | CPU s | "
        "CPU ms/request | CPU vs bare | peak RSS MB | WARC bytes/article | images | image bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        articles, requests = int(r["articles"]), int(r["requests"])
        cpu = float(r["cpu_s"])
        per = int(r["warc_bytes"]) / articles if articles else 0
        lines.append(
            f"| {r['config']} | {articles} | {requests} | {float(r['crawl_s']):.1f} "
            f"| {float(r['wall_s']):.1f} | {float(r['rate']):.0f} | {cpu:.1f} "
            f"| {cpu / requests * 1000:.1f} | {cpu / float(bare['cpu_s']):.0%} "
            f"| {float(r['rss_mb']):.0f} | {per:,.0f} | {r['images_ok']} "
            f"| {int(r['image_bytes']):,} |")
    lines += [
        "",
        f"Re-extraction from the WARC files of `warc+images` into a fresh archive: "
        f"{result.pages} article pages from {result.files} file(s) in {re_s:.1f} s "
        f"({result.pages / re_s:.0f} pages/s), {result.saved.new} articles.",
        "",
    ]
    # A quick run never overwrites the real results.
    out = ROOT / "bench" / "results" / ("archival-quick.md" if quick else "archival.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Fleet benchmark: Redis queue, worker processes, merge of their shards.

Measures, and writes to bench/results/fleet.md:

1. 1 worker against 2 workers on N demo portals (default 16), each portal on
   its own port with a server-side delay per page (a remote server) and
   polite settings (2 requests at a time per portal): wall time from enqueue
   to the last portal done, aggregate articles/s, CPU seconds and the peak
   RSS of the largest process (worker, work horse or crawl);
2. the merge of the 2-worker shards into a new archive (articles/s), and a
   second merge of the same shards, which must add nothing.

The single-process part of issue 13 (1/10/50/200 portals in one crawl) is
not measured here yet: the crawl of many portals in one process does not
exist yet.

Usage::

    python bench/fleet_bench.py                 # 16 portals of 30 articles, 0.2 s per page
    python bench/fleet_bench.py --quick         # 16 portals of 10 articles (or BENCH_QUICK=1)
    python bench/fleet_bench.py --portals 16 --size 30 --delay 0.2
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from benchreport import header  # noqa: E402
from fleet_servers import CLI, demo_portals, redis_server, start_worker, stop  # noqa: E402

from archive.store.merge import merge_shards  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "fleet.md"
POLITE = ("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "CONCURRENT_REQUESTS=2")


def _articles(shards: list[Path]) -> int:
    total = 0
    for db in shards:
        conn = sqlite3.connect(db)
        try:
            total += conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    return total


def run_fleet(workers: int, portals_file: Path, work: Path) -> dict[str, Any]:
    """Enqueue every portal, run ``workers`` burst workers to the end; measure."""
    data = work / f"shards-{workers}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with redis_server(work / f"redis-{workers}") as url:
        started = time.monotonic()
        subprocess.run([*CLI, "fleet", "enqueue", "--all", "--portals", str(portals_file),
                        "--redis", url], check=True, capture_output=True)
        procs = [start_worker(url, data, f"w{i}", visibility_timeout=30,
                              log=work / f"w{workers}-{i}.log", extra=("--burst", *POLITE))
                 for i in range(1, workers + 1)]
        try:
            for proc in procs:
                proc.wait(3600)
        finally:
            for proc in procs:
                stop(proc)
        seconds = time.monotonic() - started
        status = subprocess.run([*CLI, "fleet", "status", "--redis", url],
                                capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shards = sorted(data.glob("*/archive.db"))
    articles = _articles(shards)
    return {"workers": workers, "seconds": seconds, "articles": articles,
            "rate": articles / seconds, "shards": shards,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "peak_mib": after.ru_maxrss / 1024, "status": status.splitlines()[0]}


def synthetic_shard(folder: Path, count: int) -> Path:
    """A shard of ``count`` articles (two images and a capture each), written
    through the archive's own API; its WARC file is filler bytes."""
    from datetime import UTC, datetime, timedelta

    from archive.store import Archive, Capture
    from scraper.extract.article import VIETNAM_TZ, Article, Image
    from scraper.portals import Portal

    portal = Portal("synth", "Synthetic portal", "Thanh Hóa", "https://synth.example.vn/",
                    "thanhhoa")
    when = datetime(2024, 1, 1, tzinfo=UTC)
    db = folder / "archive.db"
    with Archive(db) as archive:
        archive.ensure_portal(portal)
        run = archive.start_run(portal.id, now=when)
        warc = f"warc/synth/run{run:06d}-00001.warc.gz"
        (folder / warc).parent.mkdir(parents=True, exist_ok=True)
        (folder / warc).write_bytes(b"\0" * 1000 * count)
        for start in range(0, count, 1000):
            batch, caps = [], []
            for n in range(start, min(count, start + 1000)):
                url = f"https://synth.example.vn/tin/bai-{n}.htm"
                batch.append(Article(
                    url=url, canonical_url=url, title=f"Bài số {n} về nông thôn mới",
                    body=f"Nội dung của bài {n}. " * 40,
                    published=datetime(2020, 1, 1, tzinfo=VIETNAM_TZ) + timedelta(hours=n),
                    published_raw="", author="Văn Hùng", authors=["Văn Hùng"],
                    images=[Image(f"https://synth.example.vn/img/{n}-{i}.jpg", "Ảnh", "", i)
                            for i in range(2)],
                    category="Tin tức", extractor="thanhhoa", extractor_version="1"))
                caps.append(Capture(url=url, fetched=when.isoformat(), http_status=200,
                                    warc_file=warc, warc_offset=n * 1000, warc_length=1000))
            archive.save_articles(batch, portal_id=portal.id, run_id=run, now=when,
                                  captures=caps)
        archive.finish_run(run, {"downloader/response_count": count}, now=when)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=16)
    parser.add_argument("--size", type=int, default=30, help="articles per portal")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per page")
    parser.add_argument("--synthetic", type=int, default=20_000,
                        help="articles of the synthetic shard the merge rate is measured on")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick or os.environ.get("BENCH_QUICK"):
        args.size = min(args.size, 10)
        args.synthetic = min(args.synthetic, 2000)
    cmd = (f"python bench/fleet_bench.py --portals {args.portals} --size {args.size} "
           f"--delay {args.delay} --synthetic {args.synthetic}"
           + (" --quick" if args.quick else ""))
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        with demo_portals(args.portals, work / "portals", size=args.size,
                          faults=frozenset({"slow"}), slow_delay=args.delay) as (pf, sites):
            expected = sum(s.article_count for s in sites.values())
            runs = [run_fleet(n, pf, work) for n in (1, 2)]
        target = work / "merged" / "archive.db"
        first = merge_shards(runs[1]["shards"], target)
        second = merge_shards(runs[1]["shards"], target)
        big = synthetic_shard(work / "synthetic" / "s1", args.synthetic)
        big_target = work / "merged-synthetic" / "archive.db"
        big_first = merge_shards([big], big_target)
        big_second = merge_shards([big], big_target)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = header("Fleet benchmark (`bench/fleet_bench.py`)", cmd)
    lines += [
        f"{args.portals} demo portals of {args.size} articles ({expected} in all), each on its "
        f"own loopback port, {args.delay} s per page on the server side; workers crawl "
        f"politely (2 requests at a time per portal) into their own shards. A real "
        f"redis-server; workers are `portal-archive worker --burst` processes. CPU: user + "
        f"system seconds of every process of the run; peak: RSS of the largest one. The "
        f"machine is shared with other engineers' work: absolute times vary between runs.",
        "",
        "## 1 worker against 2 workers",
        "",
        "| workers | seconds | articles | articles/s | CPU s | peak MiB | status |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        lines.append(f"| {r['workers']} | {r['seconds']:.1f} | {r['articles']} | "
                     f"{r['rate']:.1f} | {r['cpu']:.1f} | {r['peak_mib']:.0f} | {r['status']} |")
    speedup = runs[1]["rate"] / runs[0]["rate"]
    lines += [
        "",
        f"2 workers: **{speedup:.2f}×** the rate of 1 (every article archived in both runs: "
        f"{'yes' if all(r['articles'] == expected for r in runs) else 'NO'}).",
        "",
        "## Merge",
        "",
        "| merge | seconds | articles read | articles/s | articles new | rows + files added |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, rep in (("first (the 2 workers' shards)", first),
                      ("second, same shards", second),
                      (f"synthetic shard of {args.synthetic} articles", big_first),
                      ("second, same synthetic shard", big_second)):
        rate = rep.articles_seen / rep.seconds if rep.seconds else 0.0
        lines.append(f"| {name} | {rep.seconds:.2f} | {rep.articles_seen} | {rate:.0f} | "
                     f"{rep.articles_new} | {rep.added} |")
    lines += [
        "",
        f"The second merges added {'nothing' if second.added == big_second.added == 0 else 'SOMETHING'} "
        f"({second.added} and {big_second.added} rows and files). The workers' shards hold "
        f"images and WARC files to copy; the synthetic shard (two image rows and a capture "
        f"per article, one WARC file, no image files) measures the row merge itself.",
        "",
        "## Many portals in one crawl process (1, 10, 50, 200 portals)",
        "",
        "Not measured yet: it needs the crawl of many portals in one process "
        "(issue 13 §1), which is being built after the crawl runtime's restructuring. "
        "Targets: aggregate rate ≥ 90% of the lesser of N × the single-portal polite rate "
        "and a bare spider's rate in the same run; peak memory at 200 portals under 1.5 GiB.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

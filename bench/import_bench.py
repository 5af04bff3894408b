"""What the crawl process's imports cost in memory (RSS) and time, before it fetches anything.

Each configuration is imported in a fresh Python process (same interpreter,
same run); the RSS is read from /proc/self/status after the imports, the time
is the wall time of the imports (medians of N runs). Configurations:

* Python alone; Scrapy alone;
* the crawl process's modules (what ``scraper.settings`` loads: the spider,
  pipelines, middlewares, extensions, dupefilter);
* the same plus ``archive.export``: what the crawl process loaded before
  ``archive/__init__.py`` imported its names lazily (pyarrow and Parquet);
* the heavy libraries one by one, for reference.

Writes ``bench/results/imports.md``.

    .venv/bin/python bench/import_bench.py            # median of 5
    BENCH_QUICK=1 .venv/bin/python bench/import_bench.py   # 1 run
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "imports.md"

CRAWL = ("scraper.settings", "spiders.portal", "scraper.pipelines", "scraper.middlewares",
         "scraper.extensions", "scraper.dupefilter")
CONFIGS: list[tuple[str, tuple[str, ...]]] = [
    ("Python alone", ()),
    ("scrapy", ("scrapy",)),
    ("the crawl process's modules (now)", CRAWL),
    ("the crawl process's modules + archive.export (as before: pyarrow via archive/__init__)",
     (*CRAWL, "archive.export")),
    ("pyarrow + pyarrow.parquet alone", ("pyarrow", "pyarrow.parquet")),
    ("archive.store alone", ("archive.store",)),
    ("PIL.Image alone", ("PIL.Image",)),
    ("warcio alone", ("warcio",)),
]
PROBE = """
import importlib, json, sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
started = time.perf_counter()
for name in sys.argv[1:]:
    importlib.import_module(name)
took = time.perf_counter() - started
print(json.dumps({"rss_kb": rss(), "seconds": took,
                  "pyarrow": "pyarrow" in sys.modules, "modules": len(sys.modules)}))
"""


def measure(modules: tuple[str, ...], repeat: int) -> dict[str, float]:
    runs = []
    env = dict(os.environ, PYTHONPATH=str(ROOT), SCRAPY_SETTINGS_MODULE="scraper.settings")
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    return {"rss_mib": statistics.median(r["rss_kb"] for r in runs) / 1024,
            "seconds": statistics.median(r["seconds"] for r in runs),
            "pyarrow": runs[0]["pyarrow"], "modules": runs[0]["modules"]}


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1" or "--quick" in sys.argv[1:]
    repeat = 1 if quick else 5
    load = os.getloadavg()[0]
    rows = []
    for label, modules in CONFIGS:
        m = measure(modules, repeat)
        rows.append(f"| {label} | {m['rss_mib']:.1f} | {m['seconds'] * 1000:.0f} | "
                    f"{m['modules']:.0f} | {'yes' if m['pyarrow'] else 'no'} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# Imports of the crawl process (`bench/import_bench.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores (shared; load average {load:.1f} at the start), Python "
        f"{platform.python_version()}; each configuration in a fresh process, median of "
        f"{repeat} runs (import times depend on the machine's load; the RSS does not much).",
        "",
        "Reproduce: `.venv/bin/python bench/import_bench.py`",
        "",
        "| imports | RSS after (MiB) | import time (ms) | modules loaded | pyarrow loaded |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
    ])
    out = RESULTS.with_name("imports-quick.md") if quick else RESULTS
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

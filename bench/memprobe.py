"""Where does a crawl's memory grow? tracemalloc inside a real crawl process.

Runs one first crawl of the demo portal (``run_crawl``, a real Scrapy
process) with :class:`MemoryProbe` added as a Scrapy extension: it starts
tracemalloc when the spider opens, takes a snapshot after ``--first``
responses and another after ``--last`` responses (before anything is freed
at close), and writes the allocation sites that grew between the two,
per source line and per call chain, to ``--out``.

Usage::

    python bench/memprobe.py --size 4000 --first 1000 --last 3800 --out /tmp/memprobe.txt
    python bench/memprobe.py --size 4000 -s PORTAL_ARCHIVE_IMAGES=false
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class MemoryProbe:
    """Scrapy extension: tracemalloc snapshots at two response counts, diff to a file."""

    def __init__(self, crawler: Any) -> None:
        from scrapy import signals

        self.crawler = crawler
        settings = crawler.settings
        self.first = settings.getint("MEMPROBE_FIRST", 1000)
        self.last = settings.getint("MEMPROBE_LAST", 3000)
        self.out = Path(settings.get("MEMPROBE_OUT", "memprobe.txt"))
        self.frames = settings.getint("MEMPROBE_FRAMES", 8)
        self.responses = 0
        self.snapshots: list[tracemalloc.Snapshot] = []
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> MemoryProbe:
        return cls(crawler)

    def spider_opened(self, spider: Any = None) -> None:
        tracemalloc.start(self.frames)

    def response_received(self, *args: Any, **kwargs: Any) -> None:
        self.responses += 1
        if self.responses in (self.first, self.last):
            self.snapshots.append(tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]))

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        lines = [f"responses: {self.responses}; snapshots at {self.first} and {self.last}"]
        if len(self.snapshots) == 2:
            old, new = self.snapshots
            for snap, name in ((old, "first"), (new, "last")):
                total = sum(s.size for s in snap.statistics("filename"))
                lines.append(f"traced at {name}: {total / 1024 / 1024:.1f} MiB")
            lines.append("\n== growth per source line (top 30)")
            for stat in new.compare_to(old, "lineno")[:30]:
                lines.append(str(stat))
            lines.append("\n== growth per call chain (top 12)")
            for stat in new.compare_to(old, "traceback")[:12]:
                lines.append(f"\n{stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+d} blocks")
                lines.extend("    " + line for line in stat.traceback.format())
        self.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    from scraper import settings as defaults
    from scraper.demo.server import DemoServer
    from scraper.demo.site import DemoSite
    from scraper.runner import demo_portal, run_crawl

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--first", type=int, default=1000, help="responses at snapshot 1")
    parser.add_argument("--last", type=int, default=3800, help="responses at snapshot 2")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=Path("memprobe.txt"))
    args = parser.parse_args(argv)
    settings: dict[str, Any] = {
        "EXTENSIONS": {**defaults.EXTENSIONS, "bench.memprobe.MemoryProbe": 900},
        "MEMPROBE_FIRST": args.first, "MEMPROBE_LAST": args.last,
        "MEMPROBE_OUT": str(args.out.resolve()), "MEMPROBE_FRAMES": args.frames,
    }
    for key, _, value in (pair.partition("=") for pair in args.settings):
        try:
            settings[key] = json.loads(value)
        except ValueError:
            settings[key] = value
    with tempfile.TemporaryDirectory(prefix="memprobe-") as tmp, \
            DemoServer(DemoSite(size=args.size, seed=1)) as server:
        run = run_crawl(demo_portal(server.base_url), Path(tmp) / "archive.db",
                        quiet=True, settings=settings)
    print(f"articles: {run['articles_new']}; process: {run['process']}")
    print(args.out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

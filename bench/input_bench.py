"""What robustness costs: encodings, legacy fonts, page shape, text dumps, huge pages.

Measures CPU time per call (one core, ``time.process_time``) of:

* ``extract_article`` on demo article pages (UTF-8, the common case), and the
  share of it spent on the legacy-font pass and the page-shape pass;
* pages that need the encoding work: Windows-1258 (scored decoding), a
  mislabelled charset, TCVN3 and VNI (detection + conversion);
* ``parse_text_dump`` on the two seed dumps;
* 20 MB pages (an inline base64 image before the article; a 20 MB listing).

Writes ``bench/results/input.md``. ``BENCH_QUICK=1`` (or ``--quick``): fewer
repetitions and no 20 MB pages.

    .venv/bin/python bench/input_bench.py            # full
    BENCH_QUICK=1 .venv/bin/python bench/input_bench.py
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.demo.app import DemoApp  # noqa: E402
from scraper.demo.site import DemoSite  # noqa: E402
from scraper.extract import (  # noqa: E402
    NotAnArticle,
    extract_article,
    legacy,
    parse_text_dump,
    shape,
)

QUICK = os.environ.get("BENCH_QUICK") == "1" or "--quick" in sys.argv
FIXTURES = ROOT / "tests" / "fixtures"
# A quick run never overwrites the real results.
OUT = ROOT / "bench" / "results" / ("input-quick.md" if QUICK else "input.md")


def cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU milliseconds of ``fn`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append((time.process_time() - t) * 1000)
    return statistics.median(times)


def extract_or_not(data: bytes, url: str = "https://x.gov.vn/a.aspx") -> None:
    with contextlib.suppress(NotAnArticle):
        extract_article(data, url)


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    n_pages = 20 if QUICK else 100
    repeat = 3 if QUICK else 10
    site = DemoSite(size=max(n_pages, 10), seed=1)
    app = DemoApp(site, "http://127.0.0.1:9/")
    pages = [(a.url("http://127.0.0.1:9/"), app.handle("GET", a.path).body)
             for a in site.iter_articles()][:n_pages]

    def all_pages() -> None:
        for url, body in pages:
            extract_article(body, url)

    per_page = cpu_ms(all_pages, repeat) / len(pages)
    rows.append(("extract_article, demo article page (UTF-8)", f"{per_page:.2f} ms/page",
                 f"{len(pages)} pages × {repeat}"))
    docs = [(lxml_html.document_fromstring(body.decode()), body.decode()) for _, body in pages]

    def legacy_pass() -> None:
        for doc, text in docs:
            legacy.convert_document(doc, text)

    def shape_pass() -> None:
        for doc, _ in docs:
            shape.looks_like_listing(doc)

    def shape_full() -> None:
        for doc, _ in docs:
            shape.analyse(doc)

    legacy_ms = cpu_ms(legacy_pass, repeat) / len(docs)
    shape_ms = cpu_ms(shape_pass, repeat) / len(docs)
    rows.append(("  of which: legacy-font pass (nothing to convert)", f"{legacy_ms:.2f} ms/page",
                 f"{100 * legacy_ms / per_page:.0f} % of the page"))
    full_ms = cpu_ms(shape_full, repeat) / len(docs)
    rows.append(("  page-shape check (generic path only)", f"{shape_ms:.2f} ms/page",
                 f"{100 * shape_ms / per_page:.0f} % of the page"))
    rows.append(("  full page-shape analysis (when the shortcuts cannot decide)",
                 f"{full_ms:.2f} ms/page", ""))

    for case in ("enc_windows_1258", "enc_declared_utf8_served_1258", "enc_tcvn3", "enc_vni",
                 "enc_nfd_utf8"):
        data = (FIXTURES / case / "page.html").read_bytes()
        ms = cpu_ms(lambda data=data: extract_article(data, "https://x.gov.vn/a.aspx"),
                    repeat * 5)
        rows.append((f"extract_article, fixture {case}", f"{ms:.2f} ms/page",
                     f"{len(data) // 1024} KiB"))

    for seed in ("seed_000", "seed_003"):
        text = (FIXTURES / "textdumps" / f"{seed}.txt").read_text("utf-8")
        ms = cpu_ms(lambda text=text: parse_text_dump(text), repeat * 5)
        rows.append((f"parse_text_dump, {seed}", f"{ms:.2f} ms/dump", f"{len(text)} chars"))

    if not QUICK:
        image = "data:image/jpeg;base64," + "QUJD" * (5 * 1024 * 1024)
        big = ('<html><head><meta charset="utf-8"><title>T</title></head><body>'
               '<div class="news-detail"><h1 class="news-title">Hội nghị tổng kết năm 2021</h1>'
               '<div class="news-date">Ngày 15/01/2022 16:48:18</div><div class="news-content">'
               f'<p><img src="{image}" /></p><p>{"Nội dung bài viết. " * 40}</p>'
               "</div></div></body></html>").encode()
        ms = cpu_ms(lambda: extract_article(big, "https://x.gov.vn/a.aspx"), 3)
        rows.append(("extract_article, 20 MiB page (inline image + article)", f"{ms:.0f} ms",
                     f"{len(big) // 2**20} MiB → article"))
        links = "".join(f'<li><a href="/tin/{i}.html">Tin tức số {i} về hội nghị tổng kết '
                        f"công tác năm</a></li>" for i in range(200_000))
        listing = f"<html><body><ul>{links}</ul></body></html>".encode()
        ms = cpu_ms(lambda: extract_or_not(listing), 3)
        rows.append(("extract_article, 20 MiB listing", f"{ms:.0f} ms",
                     f"{len(listing) // 2**20} MiB → NotAnArticle"))

    lines = ["# Input robustness: cost per call (CPU, one core)", "",
             f"Mode: {'quick' if QUICK else 'full'}. Command: "
             f"`{'BENCH_QUICK=1 ' if QUICK else ''}.venv/bin/python bench/input_bench.py`", "",
             "| what | CPU time | notes |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

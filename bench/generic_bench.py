"""The generic path on pages nobody profiled: every fixture page the demo
portal did not render (real Thanh Hóa seeds and their re-encodings, the real
platforms' pages, the hand-written pages of other CMSs), extracted with every
profile switched off, plus the pages that are not articles.

    .venv/bin/python bench/generic_bench.py            # 3 timed passes
    BENCH_QUICK=1 .venv/bin/python bench/generic_bench.py

Scores (rules of bench/extract_bench.py, same functions): title; date-time
(the publication instant to the second); author; body token F1; widget leak
(a page where one of its "absent" strings shows in title, body or author);
duplicated body; and non-articles stored as articles (home, listing and
standing pages of the demo's every family, tests/platform_listings, that
extraction returns as an article). Speed: pages/s of CPU time, best pass, one
core, portal-archive (profiles off) against trafilatura on the same article
pages, when trafilatura is installed (``pip install -e '.[bench]'``).

Writes its section into bench/results/extract.md (between the
``generic-bench`` markers; ``extract_bench.py`` keeps it when it rewrites
the file).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import extract_bench as eb  # noqa: E402

QUICK = eb.QUICK
PASSES = eb.PASSES
RESULTS = ROOT / "bench" / "results" / "extract.md"
START, END = "<!-- generic-bench -->", "<!-- /generic-bench -->"
TARGETS = {"title": 0.99, "time": 0.99, "author": 0.95, "body_f1": 0.97}


def demo_made(name: str) -> bool:
    """Whether tests/make_demo_fixtures.py wrote the case (the demo's own rendering)."""
    import make_demo_fixtures as mdf

    family, _, rest = name.partition("_")
    if family not in mdf.HOSTS:
        return False
    rest = rest.removesuffix("_generic")
    return rest in mdf.PICKS or (family != "thanhhoa" and rest in mdf.SEEDS)


def article_cases() -> list[eb.Case]:
    """Non-demo article pages, one per page (a ``*_generic`` copy is the same page)."""
    seen: set[str] = set()
    cases = []
    for case in eb.load_cases():
        base = case.name.removesuffix("_generic")
        if demo_made(case.name) or base in seen:
            continue
        seen.add(base)
        cases.append(eb.Case(base, case.url, case.html, case.expected, case.absent, "generic"))
    return cases


def non_articles() -> list[tuple[str, str, bytes | str]]:
    """(name, url, page) of pages that are not articles."""
    from jinja2 import FileSystemLoader

    from scraper.demo.layouts import TEMPLATES_DIR
    from scraper.demo.render import Renderer
    from scraper.demo.site import DemoSite

    base = "http://127.0.0.1:8000"
    pages: list[tuple[str, str, bytes | str]] = []
    folder = ROOT / "tests" / "platform_listings"
    for case in sorted(p for p in folder.iterdir() if p.is_dir()):
        spec = json.loads((case / "expected.json").read_text("utf-8"))
        pages.append((case.name, spec["url"], (case / "page.html").read_bytes()))
    site = DemoSite(size=60, seed=5)
    text = ("Xã nằm ở phía Tây Bắc của huyện, diện tích tự nhiên 2.350 ha, dân số hơn 9.000 "
            "người, gồm 12 thôn; phía Bắc giáp xã Hải Lộc, phía Nam giáp thị trấn.")
    for family in sorted(p.name for p in TEMPLATES_DIR.iterdir() if (p / "home.html").exists()):
        r = Renderer(site)
        r.env.loader = FileSystemLoader(TEMPLATES_DIR / family)
        pages.append((f"{family}/home", base + "/", r.home("/", 0)))
        for cat in site.categories[:2]:
            path = site.listing_path(cat.slug)
            for n in (1, 2):
                pages.append((f"{family}/listing/{cat.slug}/{n}", urljoin(base, path),
                              r.listing(cat.slug, n, path, 0)))
        if (TEMPLATES_DIR / family / "page.html").exists():
            template = r.env.get_template("page.html")
            for title, path in (("Giới thiệu chung", "/gioi-thieu"),
                                ("Chức năng nhiệm vụ", "/chuc-nang-nhiem-vu"),
                                ("Sơ đồ cổng thông tin", "/so-do-cong"), ("Liên hệ", "/lien-he")):
                html = template.render(portal=site.portal, categories=r.categories, poll=r.poll,
                                       counter=[("Hôm nay:", 1)], weather=r.weather,
                                       request_path=path,
                                       page={"title": title, "paragraphs": [text] * 3})
                pages.append((f"{family}/static{path}", urljoin(base, path), html))
    return pages


def timed(tool: Callable[[eb.Case], eb.Output], cases: list[eb.Case]
          ) -> tuple[float, dict[str, eb.Output], list[str]]:
    """Best CPU time over PASSES passes, the outputs, the pages that raised."""
    best = float("inf")
    outputs: dict[str, eb.Output] = {}
    failed: list[str] = []
    for _ in range(PASSES):
        elapsed = 0.0
        failed = []
        for case in cases:
            start = time.process_time()
            try:
                outputs[case.name] = tool(case)
            except Exception as exc:  # noqa: BLE001 - a failure is a result
                outputs[case.name] = eb.Output()
                failed.append(f"{case.name}: {type(exc).__name__}")
            elapsed += time.process_time() - start
        best = min(best, elapsed)
    return best, outputs, failed


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from scraper.extract import NotAnArticle, extract_article

    cases = article_cases()
    eb.run_ours(cases[0])  # warm-up
    ours_time, outputs, failed = timed(eb.run_ours, cases)
    rows = {c.name: eb.score(c, outputs[c.name]) for c in cases}

    def mean(metric: str) -> float:
        values = [v for r in rows.values() if (v := r.get(metric)) is not None]
        return sum(values) / len(values) if values else float("nan")

    result: dict[str, Any] = {m: mean(m) for m in ("title", "date", "time", "author",
                                                    "body_f1", "leak", "duplicated")}
    wrong = {m: [c for c, r in rows.items() if r.get(m) not in (None, 1.0)]
             for m in ("title", "time", "author")}
    wrong |= {m: [c for c, r in rows.items() if r.get(m)] for m in ("leak", "duplicated")}
    low_f1 = {c: r["body_f1"] for c, r in rows.items()
              if r.get("body_f1") is not None and (r["body_f1"] or 0) < 0.97}
    stored: list[str] = []
    others = non_articles()
    for name, url, page in others:
        try:
            extract_article(page, url, profile="generic")
            stored.append(name)
        except NotAnArticle:
            pass
    traf: float | None = None
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        pass
    else:
        eb.run_trafilatura(cases[0])
        traf_time, traf_out, _ = timed(eb.run_trafilatura, cases)
        traf = len(cases) / traf_time
        traf_rows = [eb.score(c, traf_out[c.name]) for c in cases]
        result["trafilatura_body_f1"] = sum(r["body_f1"] or 0 for r in traf_rows) / len(cases)
    ours = len(cases) / ours_time
    print(f"{len(cases)} pages: " + " ".join(f"{k}={v:.3f}" for k, v in result.items())
          + f" non-articles stored={len(stored)}/{len(others)} pages/s={ours:.0f}"
          + (f" trafilatura={traf:.0f} ({ours / traf:.1f}x)" if traf else ""))
    write(cases, result, wrong, low_f1, stored, len(others), ours, traf, failed)
    return 0


def write(cases: list[eb.Case], result: dict[str, Any], wrong: dict[str, list[str]],
          low_f1: dict[str, float], stored: list[str], n_others: int, ours: float,
          traf: float | None, failed: list[str]) -> None:
    def mark(metric: str, value: float) -> str:
        want = TARGETS.get(metric)
        return "" if want is None else (" ✓" if value >= want else f" ✗ (target {want})")

    lines = [
        START,
        "## The generic path on pages nobody profiled",
        "",
        f"`.venv/bin/python bench/generic_bench.py` ({'quick, ' if QUICK else ''}best of"
        f" {PASSES} pass(es), one core): {len(cases)} non-demo article pages (real seeds and"
        " their re-encodings, real-platform pages, hand-written pages of other CMSs; every"
        " `*_generic` copy counted once), every profile off; and"
        f" {n_others} pages that are not articles (the demo's home, listing and standing"
        " pages of every family, tests/platform_listings).",
        "",
        "| metric | result | target |",
        "|---|---|---|",
        f"| title | {100 * result['title']:.1f}%{mark('title', result['title'])} | ≥ 99% |",
        f"| date-time (to the second) | {100 * result['time']:.1f}%"
        f"{mark('time', result['time'])} | ≥ 99% |",
        f"| author | {100 * result['author']:.1f}%{mark('author', result['author'])} | ≥ 95% |",
        f"| body token F1 | {result['body_f1']:.3f}{mark('body_f1', result['body_f1'])} |"
        " ≥ 0.97 |",
        f"| widget leak | {100 * result['leak']:.1f}% | ≤ 1% |",
        f"| duplicated bodies | {round(result['duplicated'] * len(cases))} | 0 |",
        f"| non-articles stored as articles | {len(stored)} of {n_others} | 0 |",
        f"| pages/s (CPU) | {ours:.0f} | |",
    ]
    if traf:
        lines += [f"| trafilatura pages/s, same pages | {traf:.0f} (body F1"
                  f" {result['trafilatura_body_f1']:.3f}) | |",
                  f"| ratio | {ours / traf:.1f}× | ≥ 10× |"]
    else:
        lines.append("| trafilatura | not installed (`pip install -e '.[bench]'`) | |")
    lines.append("")
    misses = {m: v for m, v in wrong.items() if v}
    if misses or low_f1 or stored or failed:
        lines.append("Pages below the mark:")
        lines.append("")
        for metric, names in misses.items():
            lines.append(f"- {metric}: {', '.join(names)}")
        if low_f1:
            lines.append("- body F1 < 0.97: " + ", ".join(f"{k} ({v:.3f})" for k, v in low_f1.items()))
        if stored:
            lines.append("- stored as articles: " + ", ".join(stored))
        if failed:
            lines.append("- raised: " + ", ".join(failed))
        lines.append("")
    lines.append(END)
    section = "\n".join(lines)
    out = RESULTS.with_name("extract-quick.md") if QUICK else RESULTS
    old = out.read_text("utf-8") if out.exists() else "# Extraction benchmark\n"
    if START in old and END in old:
        new = old[:old.index(START)] + section + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(new, "utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

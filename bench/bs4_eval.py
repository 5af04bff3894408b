"""Is Beautiful Soup the better tool anywhere in extraction? Measured, not assumed.

    .venv/bin/python bench/bs4_eval.py

Beautiful Soup could take two jobs of the extractor:

* **parsing**: ``lxml.html.soupparser`` builds the same lxml tree the steps
  read, from Beautiful Soup's lenient ``html.parser`` builder instead of
  libxml2. Measured on every fixture page as served, and on the same pages
  with their markup broken (every closing ``</p>``, ``</div>``, ``</td>``/``</tr>``
  dropped; attribute quotes left open; the page cut in half), scored against
  the fixture's ``expected.json`` (title exact, body token F1), plus parse time;
  and on the hypothesis bad-input fragments of ``tests/core/test_bad_input.py``
  (exceptions other than ``NotAnArticle`` that escape).
* **charset detection**: ``bs4.UnicodeDammit`` against :func:`decode_html`
  on every fixture page re-encoded the ways portals serve them (Windows-1258
  declared, undeclared or declared wrongly as ISO-8859-1 / UTF-8; UTF-8
  declared as Windows-1252), scored as the exact NFC text recovered.

Prints a table; writes nothing. Pinned to one core like the other benches.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

from bs4 import UnicodeDammit  # noqa: E402
from lxml import etree  # noqa: E402
from lxml.html import soupparser  # noqa: E402

from scraper.extract import NotAnArticle, legacy  # noqa: E402
from scraper.extract.decode import decode_html  # noqa: E402
from scraper.extract.page import Page  # noqa: E402
from scraper.extract.parse import parse  # noqa: E402
from scraper.extract.steps import STEPS, Step, run  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


def soup_parse(page: Page) -> Page:
    """The ``parse`` step with Beautiful Soup (``html.parser``) building the tree."""
    text = page.html.replace("\x00", "")
    if "<" not in text:
        raise NotAnArticle("not-html", "no markup in the page")
    doc = soupparser.fromstring(text, features="html.parser")
    etree.strip_elements(doc, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    if doc.find("body") is None:
        # html.parser builds no implied <body> (libxml2 does): give it one, to be fair.
        body = doc.makeelement("body", {})
        body.text, doc.text = doc.text, None
        for child in [c for c in doc if c.tag != "head"]:
            body.append(child)
        doc.append(body)
    if page.legacy_possible:
        page.legacy_encoding = legacy.convert_document(doc, text, checked=True).encoding
    page.doc = doc
    return page


SOUP_STEPS: tuple[Step, ...] = tuple(soup_parse if s is parse else s for s in STEPS)


def tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", unicodedata.normalize("NFC", text).lower()))


def f1(got: str, want: str) -> float:
    g, w = tokens(got), tokens(want)
    common = sum((g & w).values())
    if not common:
        return 0.0 if g or w else 1.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return 2 * p * r / (p + r)


def break_closers(html: str) -> str:
    return re.sub(r"</(?:p|div|td|tr|li|span)\s*>", "", html, flags=re.I)


def open_quotes(html: str) -> str:
    # every tenth class attribute loses its closing quote
    n = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal n
        n += 1
        return m.group(1) if n % 10 == 0 else m.group(0)

    return re.sub(r'(class="[^"]*)"', sub, html)


VARIANTS: dict[str, Callable[[str], str]] = {
    "as served": lambda h: h,
    "closing tags dropped": break_closers,
    "attribute quotes open": open_quotes,
    "cut in half": lambda h: h[: len(h) // 2],
}


def score(steps: tuple[Step, ...], html: str, spec: dict) -> tuple[bool, float, str]:
    try:
        page = run(Page(url=spec["url"], raw=html.encode("utf-8"), forced_profile=spec.get("profile")),
                    steps)
    except NotAnArticle as exc:
        return False, 0.0, exc.reason
    except Exception as exc:  # noqa: BLE001 - counted, the point of the measure
        return False, 0.0, f"ERROR {type(exc).__name__}"
    a = page.article
    assert a is not None
    expected = spec["expected"]
    want = "\n".join(expected.get("body_paragraphs") or [])
    return a.title == expected["title"], f1(a.body, want) if want else 1.0, ""


def parsers() -> None:
    cases = []
    for folder in sorted(FIXTURES.iterdir()):
        if not (folder / "expected.json").exists():
            continue
        spec = json.loads((folder / "expected.json").read_text("utf-8"))
        if "not_an_article" in spec or "title" not in spec.get("expected", {}):
            continue
        cases.append((decode_html((folder / "page.html").read_bytes()), spec))
    print(f"Parsing: {len(cases)} article fixtures; title right / mean body F1 / failures")
    for variant, mangle in VARIANTS.items():
        row = [f"  {variant:22}"]
        for name, steps in (("lxml", STEPS), ("bs4", SOUP_STEPS)):
            res = [score(steps, mangle(html), spec) for html, spec in cases]
            titles = sum(r[0] for r in res)
            body = sum(r[1] for r in res) / len(res)
            fails = Counter(r[2] for r in res if r[2])
            row.append(f"{name}: {titles}/{len(res)} {body:.3f} {dict(fails) or ''}")
        print("  ".join(row))
    for name, fn in (("lxml", lambda t: parse(Page(url="", raw="", html=t))),
                     ("bs4", lambda t: soup_parse(Page(url="", raw="", html=t)))):
        start = time.process_time()
        for html, _ in cases:
            fn(html)
        spent = time.process_time() - start
        print(f"  parse step, {name}: {1000 * spent / len(cases):.2f} ms/page")


def fragments() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from hypothesis import HealthCheck, given, settings
    from test_bad_input import html_fragments

    outcomes: dict[str, Counter[str]] = {"lxml": Counter(), "bs4": Counter()}

    @settings(max_examples=400, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(html_fragments())
    def check(fragment: str) -> None:
        for name, steps in (("lxml", STEPS), ("bs4", SOUP_STEPS)):
            try:
                run(Page(url="https://x.gov.vn/tin/1.html", raw=fragment.encode()), steps)
                outcomes[name]["article"] += 1
            except NotAnArticle:
                outcomes[name]["not an article"] += 1
            except Exception as exc:  # noqa: BLE001 - counted
                outcomes[name][f"ERROR {type(exc).__name__}"] += 1

    check()
    print("Hypothesis bad-input fragments (400, derandomized):")
    for name, counts in outcomes.items():
        print(f"  {name}: {dict(counts)}")
    # A stray "<" before a tag: html.parser reads "b<br" as a tag name, which
    # the conversion to an lxml tree refuses (random fragments find this too).
    stray = "<p>a <b<br> c</p>"
    for name, steps in (("lxml", STEPS), ("bs4", SOUP_STEPS)):
        try:
            run(Page(url="https://x.gov.vn/tin/1.html", raw=stray.encode()), steps)
            result = "article"
        except NotAnArticle as exc:
            result = f"NotAnArticle({exc.reason})"
        except Exception as exc:  # noqa: BLE001 - the point of the check
            result = f"{type(exc).__name__}: {exc}"
        print(f"  {stray!r}, {name}: {result}")


def charsets() -> None:
    texts = [unicodedata.normalize("NFC", decode_html((f / "page.html").read_bytes()))
             for f in sorted(FIXTURES.iterdir()) if (f / "page.html").exists()]
    meta = re.compile(r"<meta[^>]*charset[^>]*>", re.I)

    def served(text: str, declared: str | None, encoding: str) -> bytes:
        head = f'<meta charset="{declared}">' if declared else ""
        return (head + meta.sub("", text)).encode(encoding, "xmlcharrefreplace")

    kinds = {
        "cp1258 declared": ("windows-1258", "cp1258"),
        "cp1258 undeclared": (None, "cp1258"),
        "cp1258 declared iso-8859-1": ("iso-8859-1", "cp1258"),
        "cp1258 declared utf-8": ("utf-8", "cp1258"),
        "utf-8 declared windows-1252": ("windows-1252", "utf-8"),
    }
    print(f"Charsets: {len(texts)} fixture pages; exact NFC text recovered")
    for kind, (declared, encoding) in kinds.items():
        ok = {"decode_html": 0, "UnicodeDammit": 0}
        for text in texts:
            data = served(text, declared, encoding)
            want = unicodedata.normalize("NFC", data.decode(encoding))
            ok["decode_html"] += decode_html(data) == want
            dammit = UnicodeDammit(data, is_html=True).unicode_markup or ""
            ok["UnicodeDammit"] += unicodedata.normalize("NFC", dammit) == want
        print(f"  {kind:28} " + "  ".join(f"{k}: {v}/{len(texts)}" for k, v in ok.items()))
    samples = [served(t, None, "cp1258") for t in texts]
    for name, fn in (("decode_html", decode_html),
                     ("UnicodeDammit", lambda d: UnicodeDammit(d, is_html=True).unicode_markup)):
        start = time.process_time()
        for data in samples:
            fn(data)
        spent = time.process_time() - start
        print(f"  {name}, undeclared cp1258: {1000 * spent / len(samples):.2f} ms/page")


if __name__ == "__main__":
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    parsers()
    charsets()
    fragments()

"""Dependencies point one way, and extraction stays a pure function.

- scraper/extract, scraper/portals.py, scraper/demo and archive/ never import Scrapy;
- extraction imports nothing from the crawl, the archive or the network, and
  never reads the clock or a random source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_SCRAPY = ["scraper/extract", "scraper/portals.py", "scraper/demo", "archive",
             "scraper/extractpool.py"]
EXTRACT = ROOT / "scraper" / "extract"
FORBIDDEN_IN_EXTRACT = ("scrapy", "archive", "spiders", "scraper.pipelines", "scraper.items",
                        "scraper.demo", "socket", "urllib.request", "http", "requests", "random",
                        "time")
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "perf_counter", "urlopen"}


def _py_files(rel: str) -> list[Path]:
    path = ROOT / rel
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("rel", NO_SCRAPY)
def test_no_scrapy_import(rel: str) -> None:
    files = _py_files(rel)
    assert files, f"{rel} has no Python files"
    offenders = [f"{f.relative_to(ROOT)}: {n}" for f in files for n in _imports(f)
                 if _matches(n, "scrapy") or _matches(n, "twisted")]
    assert not offenders, offenders


def test_extraction_is_self_contained() -> None:
    offenders = [
        f"{f.relative_to(ROOT)}: {n}"
        for f in _py_files("scraper/extract")
        for n in _imports(f)
        for bad in FORBIDDEN_IN_EXTRACT
        if _matches(n, bad)
    ]
    assert not offenders, offenders


def test_extraction_reads_no_clock() -> None:
    offenders = []
    for f in _py_files("scraper/extract"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in FORBIDDEN_CALLS:
                offenders.append(f"{f.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()")
    assert not offenders, offenders


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The import scan is not vacuous: it does find a Scrapy import."""
    bad = tmp_path / "bad.py"
    bad.write_text("import scrapy.http\nfrom twisted.internet import reactor\n")
    assert {"scrapy.http", "twisted.internet"} <= _imports(bad)

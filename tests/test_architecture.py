"""Dependencies point one way, and extraction stays a pure function.

- scraper/extract, scraper/portals.py, scraper/demo and archive/ never import Scrapy;
- archive/ and scraper/ never import the spiders (spiders/ is thin glue on top of
  them: link rules, discovery and crawl state the archive needs live under scraper/);
- extraction imports nothing from the crawl, the archive or the network, and
  never reads the clock or a random source.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_SCRAPY = ["scraper/extract", "scraper/portals.py", "scraper/demo", "archive",
             "scraper/archiver.py"]
EXTRACT = ROOT / "scraper" / "extract"
FORBIDDEN_IN_EXTRACT = ("scrapy", "archive", "spiders", "scraper.pipelines", "scraper.items",
                        "scraper.demo", "socket", "urllib.request", "http", "requests", "random",
                        "time")
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "perf_counter", "urlopen"}


def _py_files(rel: str) -> list[Path]:
    path = ROOT / rel
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports: at module level, inside functions, and by
    ``importlib.import_module("…")`` / ``__import__("…")`` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                names.add(node.args[0].value)
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


#: Packages that must not import the spiders (they depend on archive/ and scraper/).
NO_SPIDERS = ["archive", "scraper"]


def _spider_imports(rel: str) -> list[str]:
    return [f"{f.relative_to(ROOT)}: {n}" for f in _py_files(rel) for n in _imports(f)
            if _matches(n, "spiders")]


@pytest.mark.parametrize("rel", NO_SPIDERS)
def test_no_spiders_import(rel: str) -> None:
    offenders = _spider_imports(rel)
    assert not offenders, offenders


def test_the_spider_check_catches_an_import_put_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    """The check is not vacuous: an archive module importing the link rules from
    ``spiders`` (as archive/reextract.py once did), at any depth, is caught."""
    pkg = tmp_path / "archive"
    pkg.mkdir()
    (pkg / "ok.py").write_text("from scraper.linkrules import rules_for\n")
    (pkg / "bad.py").write_text(
        "def reextract():\n"
        "    from spiders.linkrules import rules_for\n"
        "    import importlib\n"
        "    return importlib.import_module('spiders.portal')\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert sorted(_spider_imports("archive")) == [
        "archive/bad.py: spiders.linkrules", "archive/bad.py: spiders.portal"]


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


#: What the crawl process loads (settings.py names them) …
CRAWL_MODULES = ("scraper.settings", "spiders.portal", "scraper.pipelines",
                 "scraper.middlewares", "scraper.extensions", "scraper.dupefilter")
#: … and heavy libraries it never uses: the exports' Arrow/Parquet (~70 MiB of
#: memory), the web UI, the CLI's other commands.
NOT_IN_CRAWL = ("pyarrow", "datasette", "archive.export", "archive.search", "archive.web",
                "archive.cli", "pandas")


def test_the_crawl_process_loads_no_export_or_web_libraries() -> None:
    import subprocess

    code = ("import importlib, sys\n"
            f"for m in {CRAWL_MODULES!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_IN_CRAWL!r} "
            f"or m in {NOT_IN_CRAWL!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120).stdout.strip()
    assert out == "[]", f"the crawl process imports {out}"


#: The storage layer (archive/store/, with the text folding and the errors it
#: uses) sits under the access layer and the crawl: it imports only the core.
STORAGE = ["archive/store", "archive/textfold.py", "archive/errors.py"]
STORAGE_MAY_IMPORT = ("archive.store", "archive.textfold", "archive.errors",
                      "scraper.extract", "scraper.portals")


def _storage_offenders(root: Path) -> list[str]:
    return [f"{f.relative_to(root)}: {n}" for rel in STORAGE for f in _py_files(rel)
            for n in _imports(f)
            if n.split(".")[0] in ("archive", "scraper", "spiders")
            and not any(_matches(n, ok) for ok in STORAGE_MAY_IMPORT)]


def test_storage_imports_no_layer_above_it() -> None:
    assert not _storage_offenders(ROOT), _storage_offenders(ROOT)


def test_the_storage_check_catches_an_upward_import(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "archive" / "store"
    store.mkdir(parents=True)
    (store / "ok.py").write_text("from archive.store.records import utc_iso\n")
    (store / "bad.py").write_text("from archive.filters import ArticleFilter\n"
                                  "from scraper.runstats import run_columns\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert sorted(_storage_offenders(tmp_path)) == [
        "archive/store/bad.py: archive.filters", "archive/store/bad.py: scraper.runstats"]

"""Dependencies point one way, and extraction stays a pure function.

The code is five layers (:data:`LAYERS`), lowest first:

core      the ``Article`` model, extraction, layout families, portals
          (scraper/extract, scraper/families, scraper/portals.py)
storage   the SQLite archive and the article sink (archive/store, archive/sink.py)
access    search, export, re-extraction, WACZ, the web UI; the demo portal
          (archive/*, archive/web, scraper/demo)
runtime   the crawl: Scrapy glue, the archiver process, the runner, rescue
          clients (scraper/*, spiders/)
cli       the ``portal-archive`` command (archive/cli.py, archive/fleet_cli.py)

A module imports from its own layer and the layers below, never from one
above; only the runtime imports Scrapy, and even there the archiver process
and its storage do not. Extraction imports nothing from the network and
never reads the clock or a random source.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Plain-Python parts of the crawl runtime that run where Scrapy must not be
#: loaded: the archiver child process and the storage it drives.
NO_SCRAPY = ["scraper/archiver.py", "scraper/storage.py", "scraper/rescue"]
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


# ---------------------------------------------------------------- the layers
#: The layers, lowest first. A module belongs to the layer of the longest
#: prefix below that names it; it may import from its own layer and the ones
#: before it, never from a later one. Only the crawl runtime imports Scrapy.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("scraper.extract", "scraper.families", "scraper.portals")),
    ("storage", ("archive.store", "archive.sink", "archive.textfold", "archive.errors")),
    ("access", ("archive", "archive.query", "archive.rank", "archive.filters",
                "archive.search", "archive.facets", "archive.export", "archive.reextract",
                "archive.wacz", "archive.web", "scraper.demo")),
    ("runtime", ("scraper", "spiders")),
    ("cli", ("archive.cli", "archive.fleet_cli")),
)
LAYER_NAMES = tuple(name for name, _ in LAYERS)
OURS = ("archive", "scraper", "spiders")


def layer_of(module: str) -> str:
    best, layer = -1, ""
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if _matches(module, prefix) and len(prefix) > best:
                best, layer = len(prefix), name
    assert layer, f"{module} is in no layer: add its package to LAYERS"
    return layer


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_offenders(root: Path) -> list[str]:
    out = []
    for top in OURS:
        for path in sorted((root / top).rglob("*.py")):
            if "templates" in path.parts:
                continue
            module = _module_name(root, path)
            own = LAYER_NAMES.index(layer_of(module))
            for name in sorted(_imports(path)):
                if name.split(".")[0] in OURS:
                    other = layer_of(name)
                    if LAYER_NAMES.index(other) > own:
                        out.append(f"{module} ({layer_of(module)}) imports {name} ({other})")
                elif (_matches(name, "scrapy") or _matches(name, "twisted")) \
                        and layer_of(module) != "runtime":
                    out.append(f"{module} ({layer_of(module)}) imports {name}")
    return out


def test_every_module_imports_only_its_own_layer_and_below() -> None:
    offenders = _layer_offenders(ROOT)
    assert not offenders, "\n".join(offenders)


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    for rel, text in {
        "scraper/extract/ok.py": "from scraper.families import link_rules\n",
        "scraper/extract/bad.py": "from archive.store import Archive\n",
        "archive/store/bad.py": "def f():\n    from archive.search import search\n",
        "archive/search.py": "import scrapy\n",
        "archive/export.py": "from archive.store import Archive\nimport spiders.portal\n",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert _layer_offenders(tmp_path) == [
        "archive.export (access) imports spiders.portal (runtime)",
        "archive.search (access) imports scrapy",
        "archive.store.bad (storage) imports archive.search (access)",
        "scraper.extract.bad (core) imports archive.store (storage)",
    ]


def test_every_package_has_a_layer() -> None:
    for top in OURS:
        for path in (ROOT / top).rglob("*.py"):
            if "templates" not in path.parts:
                layer_of(_module_name(ROOT, path))

"""The documentation is kept true by tests.

1. docs/cli.md is what ``tests/cli_docs.py`` generates from the click commands
   today (regenerate it when a command or option changes).
2. Every command and every option of every command appears in docs/cli.md,
   and every command in README.md's command table.
3. Every ``portal-archive …`` example in a fenced block of README.md and
   docs/*.md (the ``--help`` examples in docs/cli.md included) runs:

   - Examples of ``crawl`` are parsed only (click's ``make_context``: the
     command exists, its options and arguments are valid), never run: they
     reach real portals over the network, or a demo portal at a fixed port.
   - Examples of ``serve`` are parsed only too: a server runs until stopped;
     and those of ``demo``: a crawl of 200 articles (test_cli_crawl.py runs it).
   - Every other example runs in-process (CliRunner) in a working folder of
     its own holding small archives: the demo portal (50 articles) crawled
     as portal ``demo`` into ``data/demo.db`` (and ``/tmp/demo.db``) and as
     portal ``trieuson`` into ``data/archive.db``, their WARC files,
     ``data/old.db`` (an archive one schema migration behind), a saved
     article page ``page.html`` and text dumps ``page.txt``, ``dumps/*.txt``.
     Paths under ``/tmp/`` are taken inside that folder; ``| head``,
     redirections and ``# comments`` end the command, as in a shell.
     It must exit 0.
   - An example shows an error on purpose when the doc's next line in the
     block is its output starting ``Error:``. It runs whatever its command
     (it stops before any network or serving), must exit non-zero and print
     that line.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from cli_docs import PAGE, PROG, render, walk
from factories import crawl_demo, make_archive, make_article, run_cli

from archive.cli import main
from archive.store import migrations
from scraper.portals import resolve_portal

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: Commands whose examples are parsed, never run (see the module's docstring).
PARSE_ONLY = {
    "crawl": "reaches a portal over the network (or a demo portal at a fixed port)",
    "serve": "a web server that runs until it is stopped",
    "detect": "fetches a real portal over the network (tests/core/test_detect.py runs it"
              " against the demo portal's families)",
    "rescue": "asks public web archives over the network: tests/cli/test_rescue_cli.py runs"
              " it against pywb on loopback",
    "demo": "starts the demo portal and crawls it, 200 articles by default (about a minute"
            " of a shared machine): tests/cli/test_cli_crawl.py runs the command, and the"
            " archives the examples here run against come from the same crawl",
    "fleet": "needs the fleet's Redis server: tests/runtime/test_fleet.py runs enqueue and"
             " status against a real one",
    "worker": "runs until stopped, against the fleet's Redis server: tests/runtime/"
              "test_fleet.py runs workers as processes",
    "merge": "needs shards written by fleet workers: tests/runtime/test_fleet.py and"
             " tests/storage/test_merge.py merge real ones",
}
#: What ends a command in a shell line.
SHELL_ENDS = {"|", ">", ">>", "2>&1", "&&", ";"}
COMMAND = re.compile(rf"^(?:\$ )?(?:ExecStart=)?(?:[\w./-]*/)?{PROG}\s+(?P<args>\S.*)$")
COMMANDS = list(walk(main))


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    text: str
    args: tuple[str, ...]
    error: str | None  # the ``Error: …`` line the doc shows after it

    @property
    def command(self) -> str:
        return self.args[0] if self.args else ""


def examples(path: Path) -> list[Example]:
    """The ``portal-archive`` command lines of the fenced blocks of a Markdown file."""
    found: list[Example] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced = False
    for n, raw in enumerate(lines):
        if raw.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            continue
        for segment in raw.split("&&"):
            match = COMMAND.match(segment.strip())
            if not match:
                continue
            args: list[str] = []
            for token in shlex.split(match["args"], comments=True):
                if token in SHELL_ENDS:
                    break
                args.append(token)
            after = lines[n + 1].strip() if n + 1 < len(lines) else ""
            found.append(Example(path.relative_to(ROOT).as_posix(), n + 1, segment.strip(),
                                 tuple(args), after if after.startswith("Error:") else None))
    return found


EXAMPLES = [e for doc in DOCS for e in examples(doc)]


# ------------------------------------------------------------- the reference
def test_cli_reference_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is out of date: run `.venv/bin/python tests/cli_docs.py > docs/cli.md`")


def _sections() -> dict[str, str]:
    """docs/cli.md's sections by command path (``portal-archive search``)."""
    parts = re.split(r"^## (.+)$", PAGE.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize(("name", "option"), [
    (" ".join(path), opt)
    for path, command, ctx in COMMANDS
    for param in command.get_params(ctx) if isinstance(param, click.Option)
    for opt in (*param.opts, *param.secondary_opts)
])
def test_every_option_is_documented(name: str, option: str) -> None:
    section = _sections().get(name)
    assert section is not None, f"{name} has no section in docs/cli.md"
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section), (
        f"{name} {option} is not in docs/cli.md")


@pytest.mark.parametrize("name", [" ".join(path[1:]) for path, _, _ in COMMANDS[1:]])
def test_every_command_is_in_the_readme_table(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    assert any(re.search(rf"`{re.escape(name)}(?=[ `])", row) for row in rows), (
        f"`{name}` is not in README.md's command table")
    assert "(docs/cli.md)" in readme


def test_every_command_has_an_example_in_the_docs() -> None:
    # A group's subcommand (``fleet enqueue``) is shown by its two words.
    shown = {e.command for e in EXAMPLES} | {" ".join(e.args[:2]) for e in EXAMPLES}
    assert {" ".join(path[1:]) for path, _, _ in COMMANDS[1:]} <= shown


# ----------------------------------------------------------------- examples
@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder every example starts from (copied for each)."""
    top = tmp_path_factory.mktemp("docs-examples")
    data = top / "data"
    data.mkdir()
    # The demo portal crawled as `make demo` does, and as the declared portal trieuson
    # (so that `--portal trieuson` finds articles); their WARC files both in data/warc.
    crawl_demo(data / "demo.db", size=50, seed=1)
    crawl_demo(data / "archive.db", size=50, seed=1, portal=resolve_portal("trieuson"))
    (top / "tmp").mkdir()
    shutil.copy(data / "demo.db", top / "tmp" / "demo.db")  # `demo --db /tmp/demo.db`'s
    with pytest.MonkeyPatch.context() as m:  # an archive made before migration 0008
        m.setattr(migrations, "MIGRATIONS",
                  [(n, f) for n, f in migrations.MIGRATIONS if n != "0008_facet_counts"])
        portal = resolve_portal("trieuson")
        make_archive(data / "old.db", {portal: [
            make_article(f"{portal.base_url}tin/{n}.htm", f"Bài {n}", body=f"Nội dung {n}.")
            for n in range(3)]}).close()
    shutil.copy(FIXTURES / "thanhhoa_seed_000" / "page.html", top / "page.html")
    shutil.copy(FIXTURES / "textdumps" / "seed_000.txt", top / "page.txt")
    (top / "dumps").mkdir()
    for name in ("seed_000.txt", "date_above_title.txt"):
        shutil.copy(FIXTURES / "textdumps" / name, top / "dumps" / name)
    return top


def _local(args: tuple[str, ...], cwd: Path) -> list[str]:
    """The example's arguments as a shell in ``cwd`` would pass them: ``/tmp/`` inside
    ``cwd``, globs expanded."""
    out: list[str] = []
    for arg in args:
        if arg.startswith("/tmp/"):
            arg = "tmp/" + arg.removeprefix("/tmp/")
        matches = sorted(glob.glob(arg, root_dir=cwd)) if glob.has_magic(arg) else []
        out.extend(matches or [arg])
    return out


def test_examples_were_found() -> None:
    # The collector itself: a change of the docs' format must not silence the test below.
    assert len(EXAMPLES) >= 60
    assert {e.doc for e in EXAMPLES} >= {"README.md", "docs/cli.md", "docs/search-export-web.md"}
    assert any(e.error for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.doc}:{e.line}")
def test_example_runs(example: Example, workdir: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = tmp_path / "cwd"
    shutil.copytree(workdir, cwd)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("PORTAL_ARCHIVE_DB", raising=False)
    args = _local(example.args, cwd)
    where = f"{example.doc}:{example.line}: {example.text}"

    if example.command in PARSE_ONLY and example.error is None:
        with main.make_context(PROG, list(args)) as ctx:
            command = main.get_command(ctx, example.command)
            assert command is not None, where
            if isinstance(command, click.Group):  # the subcommand's options are parsed
                command = command.get_command(ctx, args[1]) if len(args) > 1 else None
                assert command is not None, where
                args = args[1:]
            command.make_context(args[0], args[1:], parent=ctx)
        return

    result = run_cli(*args, catch_exceptions=True)
    assert "Traceback" not in result.output, where
    if example.error is None:
        assert result.exit_code == 0, f"{where}\n{result.output}"
    else:
        assert result.exit_code != 0, where
        assert result.stderr.strip() == example.error, where

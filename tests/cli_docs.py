"""Write docs/cli.md, the command reference, from the click command tree.

    .venv/bin/python tests/cli_docs.py > docs/cli.md

Every command and subcommand gets a section with its ``--help`` as click
prints it (usage, description, examples, options). ``tests/cli/test_docs.py``
regenerates the page and fails when the file differs, so the reference
cannot fall behind the code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from archive.cli import main  # noqa: E402

PROG = "portal-archive"
#: Help is wrapped at this width whatever the terminal, so the page is reproducible.
WIDTH = 80
PAGE = ROOT / "docs" / "cli.md"


def walk(command: click.Command, path: tuple[str, ...] = (PROG,),
         parent: click.Context | None = None) -> Iterator[tuple[tuple[str, ...], click.Command,
                                                                click.Context]]:
    """Every command of the tree, depth first, with its full name and context."""
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, (*path, name), ctx)


def anchor(path: tuple[str, ...]) -> str:
    """The GitHub anchor of a section titled ``path``."""
    return "-".join(path).lower()


def render() -> str:
    """The whole page as Markdown."""
    commands = list(walk(main))
    out = [
        f"# `{PROG}` command reference",
        "",
        "<!-- Generated from the click commands by `.venv/bin/python tests/cli_docs.py >"
        " docs/cli.md`; tests/cli/test_docs.py fails when this page is out of date."
        " Do not edit by hand. -->",
        "",
        "Every command and option, with its `--help` text and examples. Every command"
        " takes `--db PATH` (default `data/archive.db`, or `$PORTAL_ARCHIVE_DB`).",
        "",
        "The `portal-archive` examples here, in README.md and in docs/ are run by"
        " tests/cli/test_docs.py against a small archive (those of `crawl`, `demo` and"
        " `serve` are only parsed); an example that fails on purpose is followed,"
        " in its block, by the `Error: …` line it prints.",
        "",
    ]
    for path, command, _ in commands[1:]:
        summary = command.get_short_help_str(limit=WIDTH)
        out.append(f"- [`{' '.join(path[1:])}`](#{anchor(path)}): {summary}")
    for path, command, ctx in commands:
        out += ["", f"## {' '.join(path)}", "", "```text",
                command.get_help(ctx).rstrip(), "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())

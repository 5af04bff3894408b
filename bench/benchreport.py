"""What the benchmark reports share: the machine header and percentiles."""

from __future__ import annotations

import os
import platform
import sqlite3
import time


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def header(title: str, cmd: str) -> list[str]:
    """A report's first lines: title, machine, when, and the command that made it."""
    return [
        f"# {title}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}.",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with:",
        "",
        "```sh",
        cmd,
        "```",
        "",
    ]

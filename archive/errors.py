"""Errors a user of the archive can cause.

Every message is one line, written for the person at the terminal: the CLI
prints ``Error: <message>`` and exits non-zero, never a traceback.
"""

from __future__ import annotations

#: What to tell someone whose archive is missing or empty.
HOW_TO_FILL = "run `portal-archive crawl PORTAL` or `make demo` first"


class ArchiveError(Exception):
    """A problem with the archive the user can fix (missing or empty database …)."""


class FilterError(ArchiveError):
    """A filter value the archive cannot understand (a bad date, a bad order …)."""


class SearchError(ArchiveError):
    """A search query that cannot be turned into a safe full-text query."""

"""Export archived articles as CSV or JSON Lines, streaming.

::

    from archive.export import export
    n = export(archive, "csv", "out/trieuson-2022.csv", portal="trieuson", since="2022")

Rows come from :meth:`Archive.iter_articles` (a cursor) and go straight to
the output: memory use does not grow with the archive. Timestamps are ISO
8601 (``published`` with its +07:00 offset, ``published_utc``/``first_seen``/
``last_seen`` in UTC); lists (``authors``, ``warnings``, ``images``) are JSON
values in JSONL and JSON text in CSV.

Formats are a registry (:data:`FORMATS`, :func:`register_format`): a later
Parquet writer, an images file or a ``datapackage.json`` next to the data
plug in without touching the callers.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archive.errors import ArchiveError, FilterError
from archive.filters import ArticleFilter
from archive.search import check_portal
from archive.store import EXPORT_COLUMNS, Archive

Row = dict[str, Any]


@dataclass(frozen=True)
class Format:
    """An output format: how to write a stream of rows to an open file."""

    name: str
    #: File name extension, without the dot.
    extension: str
    #: True when ``write`` wants a binary stream (Parquet), False for text.
    binary: bool
    #: ``write(rows, columns, stream) -> rows written``.
    write: Callable[[Iterable[Row], tuple[str, ...], IO[Any]], int]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(rows: Iterable[Row], columns: tuple[str, ...], stream: IO[Any]) -> int:
    """CSV, UTF-8, a header row; JSON text for list columns; empty cell for None."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([_csv_value(row[c]) for c in columns])
        n += 1
    return n


def write_jsonl(rows: Iterable[Row], columns: tuple[str, ...], stream: IO[Any]) -> int:
    """One JSON object per line, UTF-8 (not ASCII-escaped)."""
    n = 0
    for row in rows:
        stream.write(json.dumps({c: row[c] for c in columns}, ensure_ascii=False) + "\n")
        n += 1
    return n


#: Known output formats by name.
FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    """Make ``fmt`` available to :func:`export` (and the CLI's ``--format``)."""
    FORMATS[fmt.name] = fmt
    return fmt


register_format(Format("csv", "csv", False, write_csv))
register_format(Format("jsonl", "jsonl", False, write_jsonl))


def export_columns(*, include_html: bool = False) -> tuple[str, ...]:
    """The columns an export writes, in order."""
    return tuple(c for c in EXPORT_COLUMNS if include_html or c != "body_html")


def _open_file(path: Path, binary: bool) -> IO[Any]:
    """Open ``path`` for writing; the caller closes it."""
    if binary:
        return open(path, "wb")  # noqa: SIM115
    return open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115


@contextmanager
def _open_output(out: str | Path | IO[Any], binary: bool) -> Iterator[IO[Any]]:
    """A stream for ``out``; a path is written to a temporary file renamed at the end,
    so a failed export never leaves half a file behind."""
    if not isinstance(out, (str, Path)):
        yield out
        return
    target = Path(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create folder {target.parent}: {exc.strerror}") from exc
    tmp = target.with_name(f".{target.name}.partial")
    try:
        stream = _open_file(tmp, binary)
    except OSError as exc:
        raise ArchiveError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with stream:
            yield stream
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def export(
    archive: Archive,
    fmt: str,
    out: str | Path | IO[Any],
    *,
    query: str | None = None,
    portal: str | None = None,
    since: str | None = None,
    until: str | None = None,
    author: str | None = None,
    category: str | None = None,
    include_html: bool = False,
) -> int:
    """Write the articles matching the filters to ``out``; return how many.

    ``out`` is a path (written atomically) or an open file (text for CSV
    and JSONL). Articles come oldest first; undated ones last.
    """
    if fmt not in FORMATS:
        raise FilterError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    writer = FORMATS[fmt]
    filters = ArticleFilter(portal=portal, since=since, until=until, author=author,
                            category=category, query=query)
    filters.where()  # validate dates and query before creating any file
    archive.require_articles()
    check_portal(archive, portal)
    columns = export_columns(include_html=include_html)
    with _open_output(out, writer.binary) as stream:
        return writer.write(archive.iter_articles(filters), columns, stream)

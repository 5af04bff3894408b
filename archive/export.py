"""Export archived articles as CSV, JSON Lines or Parquet, streaming, with a data package.

::

    from archive.export import export
    n = export(archive, "parquet", "out/trieuson.parquet", portal="trieuson", since="2022")

An export to a file ``out/x.<ext>`` writes four files:

* ``x.<ext>``: one row per article (:data:`~archive.store.EXPORT_COLUMNS`);
* ``x.images.<ext>``: one row per image (:data:`IMAGE_EXPORT_COLUMNS`: the
  article, position, URL, caption, alt, and the stored file: ``status``,
  ``sha256``, ``path`` inside the archive's folder, ``size``, ``mime``,
  width and height), the articles' images as a table of their own: an
  analyst joins a row to its file with ``<archive folder>/<path>``;
* ``x.documents.<ext>``: one row per attached document, the same shape
  (:data:`DOCUMENT_EXPORT_COLUMNS`: the article, position, URL, name, type,
  ``status`` ok/failed/too_large/pending, size, sha256, MIME type, ``path``,
  ``text_status`` ok/scanned/none/failed, pages, tries, last error);
* ``x.datapackage.json``: a `Frictionless Data Package
  <https://specs.frictionlessdata.io/data-package/>`_ describing the
  three resources (path, format, encoding, Table Schema with field types, primary
  and foreign keys).

An export to a folder (``--out out/`` or an existing directory) writes
``articles.<ext>``, ``images.<ext>``, ``documents.<ext>`` and ``datapackage.json`` in it. To
standard output (``-``) or an open stream only the articles are written.

Rows come from :meth:`Archive.iter_articles` / :func:`iter_image_files`
(cursors) and go straight to the output: memory use does not grow with the
archive. Parquet is written one row group of :data:`PARQUET_ROW_GROUP` rows
at a time.

Types:

* CSV: UTF-8 (``excel=True`` adds the byte-order mark Excel needs to read
  UTF-8), timestamps ISO 8601 (``published`` with its +07:00 offset,
  ``published_utc``/``first_seen``/``last_seen``/``gone_at`` in UTC with ``Z``), lists as
  JSON text, ``None`` as an empty cell.
* JSONL: the same values, lists as JSON arrays, ``None`` as ``null``.
* Parquet: real types. Integers are ``int64``; ``published`` is
  ``timestamp[us, tz=Asia/Ho_Chi_Minh]`` (the portals' local time, +07:00,
  so pandas and R show the time the portal printed) and ``published_utc``,
  ``first_seen``, ``last_seen``, ``gone_at`` are ``timestamp[us, tz=UTC]`` (both hold the
  same instant; the zone only changes how it is shown); ``authors`` and
  ``warnings`` are ``list<string>``. The images are the images file only
  (no nested ``images`` column).

Articles carry their portal's name and province (``portal_name``,
``portal_province``) next to ``portal_id``.

Formats are a registry (:data:`FORMATS`, :func:`register_format`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from archive.errors import ArchiveError, FilterError
from archive.filters import ArticleFilter
from archive.search import check_portal
from archive.store import EXPORT_COLUMNS, Archive

Row = dict[str, Any]

#: Rows per Parquet row group (and per Arrow batch held in memory).
PARQUET_ROW_GROUP = 10_000
#: The zone of ``published`` in Parquet (Vietnam has been UTC+07:00 since 1975).
LOCAL_TZ = "Asia/Ho_Chi_Minh"


# ----------------------------------------------------------------- columns
@dataclass(frozen=True)
class Column:
    """A column: its Frictionless Table Schema type and its Arrow (Parquet) type."""

    name: str
    #: Table Schema type: string, integer, datetime, array.
    type: str
    arrow: pa.DataType
    description: str
    required: bool = False


_STR = pa.string()
_IMAGE_STRUCT = pa.struct([("position", pa.int32()), ("url", _STR), ("caption", _STR),
                           ("alt", _STR)])

#: Every column an export can hold, article and image columns alike.
COLUMNS: dict[str, Column] = {c.name: c for c in (
    Column("id", "integer", pa.int64(), "Article id in the archive", True),
    Column("portal_id", "string", _STR, "Portal id (portals.toml)", True),
    Column("portal_name", "string", _STR, "Portal name (the district, as in portals.toml)"),
    Column("portal_province", "string", _STR, "Province of the portal"),
    Column("canonical_url", "string", _STR, "Canonical URL of the article (unique)", True),
    Column("url", "string", _STR, "URL the article was fetched from", True),
    Column("title", "string", _STR, "Title, Unicode NFC", True),
    Column("published", "datetime", pa.timestamp("us", tz=LOCAL_TZ),
           "Publication time as the portal gave it (Vietnam time, +07:00)"),
    Column("published_utc", "datetime", pa.timestamp("us", tz="UTC"),
           "Publication time in UTC"),
    Column("published_raw", "string", _STR, "Publication date text as printed on the page"),
    Column("author", "string", _STR, "Author (pen name or signature)"),
    Column("authors", "array", pa.list_(_STR), "All authors named"),
    Column("category", "string", _STR, "Category on the portal"),
    Column("language", "string", _STR, "Language code"),
    Column("body", "string", _STR, "Body text, paragraphs separated by blank lines", True),
    Column("body_html", "string", _STR, "Cleaned body HTML as archived (not sanitised)"),
    Column("images", "array", pa.list_(_IMAGE_STRUCT),
           "The article's images (position, url, caption, alt)"),
    Column("extractor", "string", _STR, "Extraction profile that produced the record"),
    Column("extractor_version", "string", _STR, "Version of that profile"),
    Column("warnings", "array", pa.list_(_STR), "Extraction warnings"),
    Column("content_hash", "string", _STR, "Hash of the article's content", True),
    Column("first_seen", "datetime", pa.timestamp("us", tz="UTC"),
           "When the archive first saved it (UTC)", True),
    Column("last_seen", "datetime", pa.timestamp("us", tz="UTC"),
           "When a crawl last saw it (UTC)", True),
    Column("first_run_id", "integer", pa.int64(), "Crawl run that first archived it"),
    Column("last_run_id", "integer", pa.int64(), "Crawl run that last saw it"),
    Column("status", "string", _STR, "live, or gone from the portal", True),
    Column("gone_at", "datetime", pa.timestamp("us", tz="UTC"),
           "When the archive found the article gone from the portal (UTC); empty while "
           "live, cleared when it comes back; empty too for articles marked gone before "
           "this was recorded (see docs/archival.md)"),
    Column("article_id", "integer", pa.int64(), "The article (articles.id)", True),
    Column("position", "integer", pa.int64(), "Reading order within the article", True),
    Column("caption", "string", _STR, "Caption printed under the image"),
    Column("alt", "string", _STR, "Alternative text or file name"),
    Column("sha256", "string", _STR, "SHA-256 of the stored image file (its name too)"),
    Column("path", "string", _STR,
           "Stored file, relative to the archive's folder (images/ab/abcd….jpg)"),
    Column("size", "integer", pa.int64(), "Size of the stored file in bytes"),
    Column("mime", "string", _STR, "MIME type of the stored file"),
    Column("width", "integer", pa.int64(), "Width in pixels"),
    Column("height", "integer", pa.int64(), "Height in pixels"),
    Column("name", "string", _STR, "The document's name as the article links it"),
    Column("kind", "string", _STR, "Document type: pdf, doc, docx, xls, xlsx or odt"),
    Column("text_status", "string", _STR,
           "Text extraction: ok; scanned (a PDF with no text layer); none (no text); failed"),
    Column("pages", "integer", pa.int64(), "Pages of a PDF"),
    Column("tries", "integer", pa.int64(), "Download attempts so far"),
    Column("error", "string", _STR, "Last download or extraction error"),
)}

#: Columns of the images file of an export.
IMAGE_EXPORT_COLUMNS = ("article_id", "position", "url", "caption", "alt", "status", "sha256",
                        "path", "size", "mime", "width", "height")
#: ``status`` of an image in an export.
IMAGE_STATUSES = {
    "ok": "stored: the file is at path",
    "file_missing": "recorded as stored, but the file is not in the archive's folder",
    "failed": "every download failed",
    "pending": "not downloaded yet",
}


#: Columns of the documents file of an export (documents attached to the articles).
DOCUMENT_EXPORT_COLUMNS = ("article_id", "position", "url", "name", "kind", "status", "size",
                           "sha256", "mime", "path", "text_status", "pages", "tries", "error")
#: ``status`` of a document in an export.
DOCUMENT_STATUSES = {
    "ok": "stored: the file is at path (documents/ab/abcd….pdf)",
    "file_missing": "recorded as stored, but the file is not in the archive's folder",
    "failed": "the downloads so far failed (retried by the next crawls)",
    "too_large": "larger than the crawl's cap on a document's size: not kept",
    "pending": "not downloaded yet",
}


def _image_url_column() -> Column:
    return Column("url", "string", _STR, "Absolute URL of the image", True)


def _image_status_column() -> Column:
    return Column("status", "string", _STR, "; ".join(f"{k}: {v}" for k, v in
                                                     IMAGE_STATUSES.items()), True)


def column(name: str, table: str = "articles") -> Column:
    """The :class:`Column` ``name`` of ``table`` (``articles``, ``images`` or ``documents``)."""
    if table == "images" and name == "url":
        return _image_url_column()
    if table == "images" and name == "status":
        return _image_status_column()
    if table == "documents" and name == "url":
        return Column("url", "string", _STR, "Absolute URL of the document", True)
    if table == "documents" and name == "status":
        return Column("status", "string", _STR, "; ".join(f"{k}: {v}" for k, v in
                                                         DOCUMENT_STATUSES.items()), True)
    if table == "documents" and name == "sha256":
        return Column("sha256", "string", _STR, "SHA-256 of the stored document (its name too)")
    if table == "documents" and name == "path":
        return Column("path", "string", _STR,
                      "Stored file, relative to the archive's folder (documents/ab/abcd….pdf)")
    return COLUMNS[name]


# -------------------------------------------------------------------- rows
def portal_names(archive: Archive) -> dict[str, tuple[str, str]]:
    """Portal id → (name, province)."""
    return {r[0]: (r[1], r[2]) for r in archive.conn.execute(
        "SELECT id, name, province FROM portals")}


def iter_export_articles(archive: Archive, filters: ArticleFilter, *,
                         images: bool = True) -> Iterator[Row]:
    """:meth:`Archive.iter_articles` rows with the portal's name and province."""
    names = portal_names(archive)
    for row in archive.iter_articles(filters, images=images):
        name, province = names.get(row["portal_id"], (None, None))
        row["portal_name"], row["portal_province"] = name, province or None
        yield row


def iter_image_files(archive: Archive, filters: ArticleFilter) -> Iterator[Row]:
    """The images of the selected articles with their stored files (:data:`IMAGE_EXPORT_COLUMNS`).

    By article id then position, from a cursor. ``status`` says whether the
    file is there (:data:`IMAGE_STATUSES`): a recorded file is looked for in
    the archive's folder.
    """
    where, params = filters.where("a")
    folder = archive.folder
    cursor = archive.conn.execute(
        f"""SELECT i.article_id, i.position, i.url, i.caption, i.alt, i.status, i.sha256,
                   i.path, i.size, i.mime, i.width, i.height
            FROM images i JOIN articles a ON a.id = i.article_id
            WHERE {where} ORDER BY i.article_id, i.position""", params)
    for values in cursor:
        row = dict(zip(IMAGE_EXPORT_COLUMNS, values, strict=True))
        if row["status"] == "ok":
            if not row["path"] or not (folder / row["path"]).is_file():
                row["status"] = "file_missing"
        elif row["status"] != "failed":
            row["status"] = "pending"
        yield row


def iter_document_files(archive: Archive, filters: ArticleFilter) -> Iterator[Row]:
    """The documents of the selected articles with their stored files
    (:data:`DOCUMENT_EXPORT_COLUMNS`), by article id then position; ``status``
    as :data:`DOCUMENT_STATUSES` (a stored file is looked for in the archive's folder)."""
    folder = archive.folder
    for row in archive.iter_documents(filters):
        if row["status"] == "ok" and (not row["path"] or not (folder / row["path"]).is_file()):
            row["status"] = "file_missing"
        yield {c: row[c] for c in DOCUMENT_EXPORT_COLUMNS}


# ----------------------------------------------------------------- formats
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
    #: Frictionless ``format`` and ``mediatype`` of a resource in this format.
    mediatype: str = "text/plain"


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


def _arrow_batch(rows: list[Row], schema: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for f in schema:
        values = [row[f.name] for row in rows]
        if pa.types.is_timestamp(f.type):
            # ISO 8601 text (with Z or +07:00) → Arrow parses it, keeping the instant.
            arrays.append(pa.array(values, type=pa.string()).cast(f.type))
        else:
            arrays.append(pa.array(values, type=f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def arrow_schema(columns: tuple[str, ...], table: str = "articles") -> pa.Schema:
    """The Arrow schema of an export with ``columns``."""
    return pa.schema([pa.field(c, column(c, table).arrow, nullable=not column(c, table).required)
                      for c in columns])


def write_parquet(rows: Iterable[Row], columns: tuple[str, ...], stream: IO[Any], *,
                  table: str = "articles") -> int:
    """Parquet (zstd), typed columns, one row group per :data:`PARQUET_ROW_GROUP` rows."""
    schema = arrow_schema(columns, table)
    n = 0
    with pq.ParquetWriter(stream, schema, compression="zstd") as writer:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= PARQUET_ROW_GROUP:
                writer.write_batch(_arrow_batch(batch, schema), row_group_size=len(batch))
                n += len(batch)
                batch = []
        if batch or n == 0:
            writer.write_batch(_arrow_batch(batch, schema), row_group_size=max(1, len(batch)))
            n += len(batch)
    return n


def write_parquet_images(rows: Iterable[Row], columns: tuple[str, ...],
                          stream: IO[Any]) -> int:
    return write_parquet(rows, columns, stream, table="images")


def write_parquet_documents(rows: Iterable[Row], columns: tuple[str, ...],
                            stream: IO[Any]) -> int:
    return write_parquet(rows, columns, stream, table="documents")


#: Known output formats by name.
FORMATS: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    """Make ``fmt`` available to :func:`export` (and the CLI's ``--format``)."""
    FORMATS[fmt.name] = fmt
    return fmt


register_format(Format("csv", "csv", False, write_csv, "text/csv"))
register_format(Format("jsonl", "jsonl", False, write_jsonl, "application/jsonl"))
register_format(Format("parquet", "parquet", True, write_parquet,
                       "application/vnd.apache.parquet"))


def export_columns(*, include_html: bool = False, fmt: str = "csv") -> tuple[str, ...]:
    """The columns an export in format ``fmt`` writes, in order.

    Parquet has no nested ``images`` column: its images are the images file
    (one typed row per image), which also spares a JSON round trip per article.
    """
    out: list[str] = []
    for c in EXPORT_COLUMNS:
        if (include_html or c != "body_html") and (fmt != "parquet" or c != "images"):
            out.append(c)
        if c == "portal_id":
            out += ["portal_name", "portal_province"]
    return tuple(out)


# ------------------------------------------------------------------ output
def _open_file(path: Path, binary: bool, bom: bool = False) -> IO[Any]:
    """Open ``path`` for writing; the caller closes it."""
    if binary:
        return open(path, "wb")  # noqa: SIM115
    return open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="")  # noqa: SIM115


@contextmanager
def _open_output(out: str | Path | IO[Any], binary: bool,
                 bom: bool = False) -> Iterator[IO[Any]]:
    """A stream for ``out``; a path is written to a temporary file renamed at the end,
    so a failed export never leaves half a file behind."""
    if not isinstance(out, (str, Path)):
        if bom:
            out.write("\ufeff")
        yield out
        return
    target = Path(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create folder {target.parent}: {exc.strerror}") from exc
    tmp = target.with_name(f".{target.name}.partial")
    try:
        stream = _open_file(tmp, binary, bom)
    except OSError as exc:
        raise ArchiveError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with stream:
            yield stream
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@dataclass(frozen=True)
class ExportPaths:
    """Where an export to a path writes its four files."""

    articles: Path
    images: Path
    datapackage: Path
    documents: Path

    @classmethod
    def for_target(cls, out: str | Path, extension: str) -> ExportPaths:
        """``out/`` (or an existing folder) → ``articles.ext``, ``images.ext``,
        ``documents.ext``, ``datapackage.json`` inside; ``x.ext`` → ``x.ext``,
        ``x.images.ext``, ``x.documents.ext``, ``x.datapackage.json`` beside it."""
        text = str(out)
        path = Path(out)
        if text.endswith(("/", os.sep)) or path.is_dir():
            return cls(path / f"articles.{extension}", path / f"images.{extension}",
                       path / "datapackage.json", path / f"documents.{extension}")
        stem = path.name.removesuffix(f".{extension}")
        return cls(path, path.with_name(f"{stem}.images.{extension}"),
                   path.with_name(f"{stem}.datapackage.json"),
                   path.with_name(f"{stem}.documents.{extension}"))


def _resource(name: str, path: Path, base: Path, fmt: Format, columns: tuple[str, ...],
              table: str, rows: int, bom: bool) -> dict[str, Any]:
    fields = []
    for c in columns:
        col = column(c, table)
        spec: dict[str, Any] = {"name": c, "type": col.type, "description": col.description}
        if col.required:
            spec["constraints"] = {"required": True}
        if col.type == "datetime" and fmt.name != "parquet":
            spec["format"] = "any"
        fields.append(spec)
    schema: dict[str, Any] = {"fields": fields}
    if table == "articles":
        schema["primaryKey"] = ["id"]
    else:
        schema["primaryKey"] = ["article_id", "position"]
        schema["foreignKeys"] = [{"fields": ["article_id"],
                                  "reference": {"resource": "articles", "fields": ["id"]}}]
    res: dict[str, Any] = {
        "name": name,
        "path": os.path.relpath(path, base),
        "profile": "tabular-data-resource",
        "format": fmt.extension,
        "mediatype": fmt.mediatype,
        "schema": schema,
        "rows": rows,
        "bytes": path.stat().st_size,
    }
    if not fmt.binary:
        res["encoding"] = "utf-8-sig" if bom else "utf-8"
    if fmt.name == "csv":
        res["dialect"] = {"delimiter": ",", "lineTerminator": "\n", "header": True}
    return res


def datapackage(paths: ExportPaths, fmt: Format, columns: tuple[str, ...],
                counts: tuple[int, int, int], filters: ArticleFilter, *, bom: bool = False,
                archive_path: str = "") -> dict[str, Any]:
    """The Frictionless Data Package descriptor of an export."""
    base = paths.datapackage.parent
    used = {k: v for k, v in vars(filters).items() if v is not None}
    return {
        "profile": "tabular-data-package",
        "name": "portal-archive-export",
        "title": "Articles archived from Vietnamese district government portals",
        "description": ("Exported by portal-archive from " + (archive_path or "an archive")
                        + (f" with filters {json.dumps(used, ensure_ascii=False)}" if used
                           else "") + "."),
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "resources": [
            _resource("articles", paths.articles, base, fmt, columns, "articles", counts[0], bom),
            _resource("images", paths.images, base, fmt, IMAGE_EXPORT_COLUMNS, "images",
                      counts[1], bom),
            _resource("documents", paths.documents, base, fmt, DOCUMENT_EXPORT_COLUMNS,
                      "documents", counts[2], bom),
        ],
    }


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
    excel: bool = False,
) -> int:
    """Write the articles matching the filters to ``out``; return how many.

    ``out`` is a path (articles, images and ``datapackage.json`` written,
    each atomically; see the module docstring) or an open stream (articles
    only: text for CSV and JSONL, binary for Parquet). Articles come oldest
    first; undated ones last. ``excel`` adds the UTF-8 byte-order mark to
    CSV files (Excel needs it to read UTF-8).
    """
    if fmt not in FORMATS:
        raise FilterError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    writer = FORMATS[fmt]
    if excel and fmt != "csv":
        raise FilterError("--excel applies to CSV only")
    filters = ArticleFilter(portal=portal, since=since, until=until, author=author,
                            category=category, query=query)
    filters.where()  # validate dates and query before creating any file
    archive.require_articles()
    check_portal(archive, portal)
    columns = export_columns(include_html=include_html, fmt=fmt)
    with_images = "images" in columns
    if not isinstance(out, (str, Path)):
        with _open_output(out, writer.binary, excel) as stream:
            return writer.write(iter_export_articles(archive, filters, images=with_images),
                                columns, stream)

    paths = ExportPaths.for_target(out, writer.extension)
    write_images = write_parquet_images if fmt == "parquet" else writer.write
    with ExitStack() as stack:
        stream = stack.enter_context(_open_output(paths.articles, writer.binary, excel))
        n = writer.write(iter_export_articles(archive, filters, images=with_images), columns,
                         stream)
        stream = stack.enter_context(_open_output(paths.images, writer.binary, excel))
        n_images = write_images(iter_image_files(archive, filters), IMAGE_EXPORT_COLUMNS, stream)
        write_documents = write_parquet_documents if fmt == "parquet" else writer.write
        stream = stack.enter_context(_open_output(paths.documents, writer.binary, excel))
        n_documents = write_documents(iter_document_files(archive, filters),
                                      DOCUMENT_EXPORT_COLUMNS, stream)
    descriptor = datapackage(paths, writer, columns, (n, n_images, n_documents), filters, bom=excel,
                             archive_path=archive.path)
    with _open_output(paths.datapackage, False) as stream:
        json.dump(descriptor, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    return n


# ------------------------------------------------------------------ WACZ
def export_wacz(archive: Archive, out: str | Path, *, query: str | None = None,
                portal: str | None = None, since: str | None = None, until: str | None = None,
                author: str | None = None, category: str | None = None) -> int:
    """Package the WARC files holding the selected articles' captures as a WACZ
    (:func:`archive.wacz.write_wacz`), with a page per article: its URL, the time
    of its newest capture, its title and our extracted text. Returns the pages."""
    from archive.wacz import PageRecord, write_wacz

    filters = ArticleFilter(portal=portal, since=since, until=until, author=author,
                            category=category, query=query)
    filters.where()
    archive.require_articles()
    check_portal(archive, portal)
    warcs: dict[str, Path] = {}
    pages: list[PageRecord] = []
    for row in iter_export_articles(archive, filters, images=False):
        captures = [c for c in archive.captures(int(row["id"])) if c.get("warc_file")]
        if not captures:
            continue
        for capture in captures:
            path = archive.warc_path(str(capture["warc_file"]))
            if path.exists():
                warcs.setdefault(str(path), path)
        newest = max(captures, key=lambda c: str(c.get("captured_at") or c.get("fetched") or ""))
        when = str(newest.get("fetched") or newest.get("captured_at") or row["first_seen"])
        pages.append(PageRecord(url=str(newest["url"]), captured=_aware(when),
                                title=row.get("title"), text=row.get("body"),
                                id=str(row["id"])))
    if not pages or not warcs:
        raise ArchiveError("no selected article has a WARC capture to package "
                           "(crawls keep their pages in WARC files under warc/)")
    by_name: dict[str, Path] = {}
    for path in warcs.values():
        if path.name in by_name:
            raise ArchiveError(f"two WARC files named {path.name}: {by_name[path.name]} "
                               f"and {path}")
        by_name[path.name] = path
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    write_wacz(tmp, sorted(by_name.values(), key=lambda p: p.name), pages,
               title=f"portal-archive: {portal or 'all portals'}",
               description=f"Articles and the pages they came from, from {archive.path}")
    os.replace(tmp, target)
    return len(pages)


def _aware(iso: str) -> datetime:
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return when if when.tzinfo else when.astimezone()

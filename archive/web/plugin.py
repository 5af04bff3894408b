"""The Datasette plugin behind ``portal-archive serve``: search, facets, articles, chart, exports.

Datasette serves the archive read-only (its connections open the file with
``mode=ro``) and keeps all its own pages (tables, rows, SQL, ``.json`` and
``.csv`` for each). This plugin adds, through Datasette's hooks:

* ``/`` — the staff search page: :func:`archive.search.search` (Vietnamese
  folding, exact-diacritics first, phrases, prefixes, AND/OR/NOT) with the
  filters portal / since / until / author / category, relevance or date
  order, highlighted snippets, facets (portal, year, author, category) over
  the matching articles, and a chart of articles per month per portal
  (:mod:`archive.facets`: exact from the ``facet_counts`` summary without a
  text query; with one, over at most ``MATCH_CAP`` matches, and the page
  then says "more than …");
* ``/article/<id>`` — one article: title, time, author, category, the
  **sanitised** body (:mod:`archive.web.sanitize`), images with captions,
  the source link, and when and by which crawl run it was archived;
* ``/search.json`` — the same search as JSON;
* ``/export.csv`` and ``/export.jsonl`` — every matching article, streamed
  by :mod:`archive.export` (memory stays flat);
* ``pa_fold`` on every Datasette connection, so SQL typed in Datasette can
  fold Vietnamese too (``where pa_fold(title) like '%nong thon%'``).

Every response (Datasette's own pages too) passes :mod:`archive.web.guard`:
Host check (DNS rebinding), a Content-Security-Policy that forbids inline
scripts and foreign images, the UI language. Nothing shows the database
file's absolute path: the archive is named by its Datasette name.
"""

from __future__ import annotations

import asyncio
import html
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import AsgiStream, Response
from markupsafe import Markup

from archive.errors import ArchiveError
from archive.export import (
    DOCUMENT_EXPORT_COLUMNS,
    FORMATS,
    IMAGE_EXPORT_COLUMNS,
    export_columns,
    iter_document_files,
    iter_export_articles,
    iter_image_files,
    write_parquet_documents,
    write_parquet_images,
)
from archive.facets import FACET_SIZE, MATCH_CAP, FacetCounts, facet_counts, page_window
from archive.filters import ArticleFilter, count_articles
from archive.search import ORDERS, check_portal, search
from archive.store import Archive
from archive.textfold import fold_opt
from archive.web import i18n
from archive.web.article import (
    DOCUMENT_ROUTE,
    IMAGE_ROUTE,
    article_page,
    document_file,
    image_file,
    portal_names,
)
from archive.web.chart import monthly_chart
from archive.web.guard import CSP, HostPolicy, guard
from archive.web.replay import CAPTURE_ROUTE, SANDBOX_CSP, recorded_page

PAGE_SIZE = 20
FILTER_PARAMS = ("portal", "since", "until", "author", "category")
#: Markers search puts around matches; replaced by <mark> after HTML-escaping.
_MARKS = ("\x02", "\x03")


# ------------------------------------------------------------------ helpers
def _marked(text: str) -> Markup:
    """Search output with match markers → escaped HTML with <mark> elements."""
    escaped = html.escape(text, quote=False)
    return Markup(escaped.replace(_MARKS[0], "<mark>").replace(_MARKS[1], "</mark>"))


def _database(datasette: Any) -> Any:
    return datasette.get_database()


async def _with_archive(datasette: Any, fn: Callable[[Archive], Any]) -> Any:
    db = _database(datasette)

    def run(conn: sqlite3.Connection) -> Any:
        # Named by its Datasette name: error messages never show the file's path.
        return fn(Archive.over_connection(conn, db.name))

    return await db.execute_fn(run)


def _args(request: Any) -> dict[str, str]:
    """The search parameters of a request (empty ones dropped)."""
    out: dict[str, str] = {}
    for key in ("q", *FILTER_PARAMS, "order"):
        value = (request.args.get(key) or "").strip()
        if value:
            out[key] = value
    return out


def _url(path: str, params: dict[str, str], **changes: str | None) -> str:
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v})
    return path + ("?" + query if query else "")


def _filter(params: dict[str, str]) -> ArticleFilter:
    return ArticleFilter(portal=params.get("portal"), since=params.get("since"),
                         until=params.get("until"), author=params.get("author"),
                         category=params.get("category"), query=params.get("q"))


async def _html(datasette: Any, request: Any, template: str, context: dict[str, Any],
                status: int = 200) -> Response:
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status, headers={"Content-Security-Policy": CSP})


# ------------------------------------------------------------------- search
def _match_cap(datasette: Any) -> int:
    """``match_cap`` from the plugin's configuration (``serve --match-cap``), else MATCH_CAP."""
    value = (datasette.plugin_config("portal_archive") or {}).get("match_cap")
    return int(value) if value else MATCH_CAP


def _search_page(archive: Archive, params: dict[str, str], page: int,
                 match_cap: int | None = None) -> dict[str, Any]:
    """Everything the search page shows (runs in a Datasette worker thread)."""
    archive.require_articles()
    filters = _filter(params)
    where, where_params = filters.where("a", words_by="function")
    check_portal(archive, filters.portal)
    order = params.get("order", "relevance" if params.get("q") else "date")
    hits: list[Any] = []
    # Total, facets and chart in SQL with a bounded cost (archive.facets):
    # exact without a text query; over at most MATCH_CAP matches with one.
    counts = facet_counts(archive, filters, size=FACET_SIZE, cap=match_cap or MATCH_CAP)
    if params.get("q"):
        if order not in ORDERS:
            order = "relevance"
        hits = search(archive, params["q"], portal=filters.portal, since=filters.since,
                      until=filters.until, author=filters.author, category=filters.category,
                      limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, order=order,
                      markers=_MARKS)
        results = [{
            "id": h.id, "title": _marked(h.title_highlighted), "snippet": _marked(h.snippet),
            "published": h.published, "portal_id": h.portal_id, "author": h.author,
            "category": h.category, "exact": h.exact, "url": h.canonical_url,
        } for h in hits]
    else:
        rows = _listing(archive, counts, where, where_params, (page - 1) * PAGE_SIZE,
                        by_index=bool(filters.author or filters.category),
                        portal=bool(filters.portal))
        results = [{
            "id": r[0], "title": r[1], "snippet": r[2] + ("…" if len(r[2]) >= 240 else ""),
            "published": r[3], "portal_id": r[4], "author": r[5], "category": r[6],
            "exact": False, "url": r[7],
        } for r in rows]
    return {
        "results": results,
        "total": counts.total,
        "complete": counts.complete,
        "facets": counts.facets(),
        "chart": Markup(monthly_chart(counts.chart)),
        "order": order,
        "portals": portal_names(archive),
    }


def _listing(archive: Archive, counts: FacetCounts, where: str, params: list[Any],
             offset: int, *, by_index: bool, portal: bool) -> list[Any]:
    """A page of the newest-first listing without a text query.

    The counts say which months hold the page (:func:`page_window`): only
    those months are read, and with ``by_index`` (filters no index can seek:
    author, category) the page's ids come from the ``articles_facets``
    covering index, never from walking the article rows.
    """
    columns = ("a.id, a.title, substr(a.body, 1, 240), a.published, a.portal_id, a.author, "
               "a.category, a.canonical_url")
    if counts.complete and offset >= counts.total:
        return []
    window = page_window(counts, offset, PAGE_SIZE)
    if window is None and not by_index:
        return archive.conn.execute(
            f"SELECT {columns} FROM articles a WHERE {where} "
            f"ORDER BY a.published_utc DESC, a.id DESC LIMIT ? OFFSET ?",
            [*params, PAGE_SIZE, offset]).fetchall()
    # None: the page reaches the undated articles (listed last): every month.
    start, end, skip = window or (None, None, offset)
    bounds = "".join((" AND a.published_utc >= ?" if start else "",
                      " AND a.published_utc < ?" if end else ""))
    bound_params = [v for v in (start, end) if v]
    if by_index:
        # Without a portal filter: the covering index portal by portal (IN on its first column).
        portals = "" if portal else " AND a.portal_id IN (SELECT id FROM portals)"
        ids = [r[0] for r in archive.conn.execute(
            f"SELECT a.id FROM articles a INDEXED BY articles_facets WHERE {where}{bounds}"
            f"{portals} ORDER BY a.published_utc DESC, a.id DESC LIMIT ? OFFSET ?",
            [*params, *bound_params, PAGE_SIZE, skip])]
        return archive.conn.execute(
            f"SELECT {columns} FROM articles a WHERE a.id IN (SELECT value FROM json_each(?)) "
            f"ORDER BY a.published_utc DESC, a.id DESC", [json.dumps(ids)]).fetchall()
    return archive.conn.execute(
        f"SELECT {columns} FROM articles a WHERE {where}{bounds} "
        f"ORDER BY a.published_utc DESC, a.id DESC LIMIT ? OFFSET ?",
        [*params, *bound_params, PAGE_SIZE, skip]).fetchall()


async def search_view(datasette: Any, request: Any) -> Response:
    params = _args(request)
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    context: dict[str, Any] = {"params": params, "page": page, "error": None,
                               "database": _database(datasette).name}
    try:
        cap = _match_cap(datasette)
        context.update(await _with_archive(datasette,
                                           lambda a: _search_page(a, params, page, cap)))
    except ArchiveError as exc:
        context.update(error=str(exc).splitlines()[0], results=[], total=0, complete=True,
                       facets={}, chart="", order="relevance", portals={})
    # A capped total (more than MATCH_CAP matches) gives no last page: only "next".
    context["pages"] = (max(1, -(-context["total"] // PAGE_SIZE)) if context["complete"]
                        else None)
    context["has_next"] = (page < context["pages"] if context["pages"] is not None
                           else len(context["results"]) == PAGE_SIZE)
    context["url"] = lambda **changes: _url("/", params, page=None, **changes)
    context["page_url"] = lambda n: _url("/", params, page=str(n) if n > 1 else None)
    context["csv_url"] = _url("/export.csv", params, order=None)
    context["jsonl_url"] = _url("/export.jsonl", params, order=None)
    context["parquet_url"] = _url("/export.parquet", params, order=None)
    context["images_url"] = _url("/export.images.csv", params, order=None)
    context["json_url"] = _url("/search.json", params, page=str(page) if page > 1 else None)
    context["facet_url"] = _facet_url(params)
    context["ranges"] = [(label, _url("/", params, since=since, until=until, page=None))
                         for label, since, until in i18n.relative_ranges()]
    context["portal_label"] = _portal_label(context["portals"])
    return await _html(datasette, request, "pa_search.html", context,
                       status=400 if context["error"] else 200)


def _portal_label(names: dict[str, tuple[str, str]]) -> Callable[[str], str]:
    """``Triệu Sơn (Thanh Hóa)`` for a portal id; the id when the portal is unknown."""
    def label(portal_id: str) -> str:
        name, province = names.get(portal_id, (portal_id, ""))
        return f"{name} ({province})" if province else name

    return label


def _facet_url(params: dict[str, str]) -> Callable[[str, str], str]:
    def url(name: str, value: str) -> str:
        if name == "year":
            return _url("/", params, since=value, until=value, page=None)
        return _url("/", params, **{name: value}, page=None)

    return url


async def search_json(datasette: Any, request: Any) -> Response:
    params = _args(request)
    if not params.get("q"):
        return Response.json({"ok": False, "error": "missing q (the search query)"}, status=400)
    try:
        page = max(1, int(request.args.get("page") or 1))
        limit = min(1000, max(1, int(request.args.get("limit") or PAGE_SIZE)))
    except ValueError:
        return Response.json({"ok": False, "error": "page and limit must be numbers"},
                             status=400)

    def run(archive: Archive) -> dict[str, Any]:
        f = _filter(params)
        hits = search(archive, params["q"], portal=f.portal, since=f.since, until=f.until,
                      author=f.author, category=f.category, limit=limit,
                      offset=(page - 1) * limit,
                      order=params.get("order", "relevance"))
        return {"ok": True, "query": params["q"], "total": count_articles(archive, f),
                "page": page, "results": [h.to_dict() for h in hits]}

    try:
        return Response.json(await _with_archive(datasette, run))
    except ArchiveError as exc:
        return Response.json({"ok": False, "error": str(exc).splitlines()[0]}, status=400)


# ------------------------------------------------------------------ article
def _folder(datasette: Any) -> Path:
    """The archive's folder (where the database file and its images live)."""
    return Path(_database(datasette).path).resolve().parent


async def article_view(datasette: Any, request: Any) -> Response:
    article_id = int(request.url_vars["id"])
    folder = _folder(datasette)
    art = await _with_archive(datasette, lambda a: article_page(a, folder, article_id))
    db = _database(datasette).name
    if art is None:
        return await _html(datasette, request, "pa_article.html",
                           {"article": None, "database": db}, status=404)
    return await _html(datasette, request, "pa_article.html", {
        "article": art, "database": db,
        "json_url": datasette.urls.row(db, "articles", str(article_id), format="json"),
        "row_url": datasette.urls.row(db, "articles", str(article_id)),
        "run_url": lambda run_id: datasette.urls.row(db, "crawl_runs", str(run_id)),
    })


async def image_view(datasette: Any, request: Any) -> Response:
    """An archived image file, by sha256: only files the archive recorded, inside its folder."""
    sha = request.url_vars["sha"]
    folder = _folder(datasette)
    found = await _with_archive(datasette, lambda a: image_file(a, folder, sha))
    if found is None:
        return Response.text(i18n.gettext("This image is not in the archive.") + "\n",
                             status=404)
    path, mime = found
    return Response(path.read_bytes(), content_type=mime, headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Security-Policy": CSP})


async def document_view(datasette: Any, request: Any) -> Response:
    """An archived document file, by sha256: only files the archive recorded, inside its folder."""
    sha = request.url_vars["sha"]
    folder = _folder(datasette)
    found = await _with_archive(datasette, lambda a: document_file(a, folder, sha))
    if found is None:
        return Response.text(i18n.gettext("This document is not in the archive.") + "\n",
                             status=404)
    path, mime = found
    return Response(path.read_bytes(), content_type=mime, headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Security-Policy": CSP,
        "Content-Disposition": f'attachment; filename="{sha}{path.suffix}"'})


async def capture_view(datasette: Any, request: Any) -> Response:
    """The page as the portal served it, from our WARC file, in a sandbox (archive.web.replay)."""
    capture_id = int(request.url_vars["id"])
    folder = _folder(datasette)
    page = await _with_archive(datasette, lambda a: recorded_page(a, folder, capture_id))
    if page is None:
        return Response.text(i18n.gettext("This capture is not in the archive.") + "\n",
                             status=404)
    headers = {k: v for k, v in page.headers if k.lower() != "content-type"}
    ctype = next((v for k, v in page.headers if k.lower() == "content-type"),
                 "application/octet-stream")
    return Response(page.body, status=200, content_type=ctype, headers={
        **headers, "Content-Security-Policy": SANDBOX_CSP,
        "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})


# ------------------------------------------------------------------- export
class _QueueWriter:
    """A file whose writes go, in 64 KiB chunks of bytes, to an asyncio queue (with backpressure).

    Text is encoded as UTF-8; bytes (Parquet) pass as they are.
    """

    def __init__(self, queue: asyncio.Queue[bytes | None], loop: asyncio.AbstractEventLoop,
                 cancelled: threading.Event) -> None:
        self.queue, self.loop, self.cancelled = queue, loop, cancelled
        self.parts: list[bytes] = []
        self.size = 0
        self.position = 0
        self.closed = False

    def write(self, data: str | bytes) -> int:
        chunk = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.parts.append(chunk)
        self.size += len(chunk)
        self.position += len(chunk)
        if self.size >= 65536:
            self.flush()
        return len(data)

    def tell(self) -> int:
        return self.position

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        if self.cancelled.is_set():
            raise ConnectionAbortedError("client went away")
        if self.parts:
            chunk = b"".join(self.parts)
            self.parts, self.size = [], 0
            asyncio.run_coroutine_threadsafe(self.queue.put(chunk), self.loop).result()

    def close(self) -> None:
        self.flush()
        self.closed = True


async def export_view(datasette: Any, request: Any) -> Response | AsgiStream:
    """A download of every matching article (or their images, or their documents): CSV
    with the BOM Excel needs, JSON Lines or Parquet, streamed (memory stays flat)."""
    fmt = request.url_vars["fmt"]
    table = (request.url_vars.get("table") or ".articles")[1:]
    images = table == "images"
    params = _args(request)
    filters = _filter(params)
    db = _database(datasette)

    def check(archive: Archive) -> None:
        filters.where()
        archive.require_articles()
        check_portal(archive, filters.portal)

    try:
        await _with_archive(datasette, check)
    except ArchiveError as exc:
        return Response.text(f"{i18n.gettext('Error:')} {str(exc).splitlines()[0]}\n",
                             status=400)

    writer = FORMATS[fmt]
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    cancelled = threading.Event()

    def produce() -> None:
        conn = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            archive = Archive.over_connection(conn, db.path)
            out = _QueueWriter(queue, loop, cancelled)
            stream = cast(IO[Any], out)
            if fmt == "csv":
                out.write("\ufeff")  # Excel reads UTF-8 only after a byte-order mark
            if images:
                write = write_parquet_images if fmt == "parquet" else writer.write
                write(iter_image_files(archive, filters), IMAGE_EXPORT_COLUMNS, stream)
            elif table == "documents":
                write = write_parquet_documents if fmt == "parquet" else writer.write
                write(iter_document_files(archive, filters), DOCUMENT_EXPORT_COLUMNS, stream)
            else:
                writer.write(iter_export_articles(archive, filters, images=fmt != "parquet"),
                             export_columns(fmt=fmt), stream)
            out.flush()
        except ConnectionAbortedError:
            pass
        finally:
            conn.close()
            asyncio.run_coroutine_threadsafe(queue.put(None), loop)

    async def stream(response: Any) -> None:
        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        try:
            while (chunk := await queue.get()) is not None:
                # Bytes as they are (Datasette's writer would encode text).
                await response.send({"type": "http.response.body", "body": chunk,
                                     "more_body": True})
        finally:
            cancelled.set()
            while not queue.empty():
                queue.get_nowait()

    name = table + (
        "-" + fold_opt(params["q"]).replace(" ", "-")[:40]  # type: ignore[union-attr]
        if params.get("q") else "")
    safe_name = "".join(c for c in name if c.isalnum() or c in "-_") or "articles"
    content_type = writer.mediatype + ("" if writer.binary else "; charset=utf-8")
    return AsgiStream(stream, content_type=content_type, headers={
        "content-disposition": f'attachment; filename="{safe_name}.{writer.extension}"'})


# -------------------------------------------------------------------- hooks
def _host_policy(datasette: Any) -> HostPolicy:
    config = datasette.plugin_config("portal_archive") or {}
    if not config.get("hosts"):
        return HostPolicy()
    return HostPolicy(frozenset(config["hosts"]), config.get("port"))


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Any], Any]:
    return lambda app: guard(app, lambda: _host_policy(datasette))


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("pa_fold", 1, fold_opt, deterministic=True)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/$", search_view),
        (r"^/search\.json$", search_json),
        (r"^/article/(?P<id>\d{1,18})$", article_view),
        (r"^" + IMAGE_ROUTE + r"(?P<sha>[0-9a-f]{64})$", image_view),
        (r"^" + DOCUMENT_ROUTE + r"(?P<sha>[0-9a-f]{64})$", document_view),
        (r"^" + CAPTURE_ROUTE + r"(?P<id>\d{1,18})$", capture_view),
        (r"^/export(?P<table>\.images|\.documents)?\.(?P<fmt>csv|jsonl|parquet)$", export_view),
    ]


@hookimpl
def startup(datasette: Any) -> None:
    """Translations (``{% trans %}``, ``_()``) and local dates in every template."""
    env = datasette.jinja_env
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
        env.install_gettext_callables(
            lambda message: i18n.translations(i18n.current_language()).gettext(message),
            lambda singular, plural, n: i18n.translations(
                i18n.current_language()).ngettext(singular, plural, n),
            newstyle=True)
    env.filters["local_datetime"] = i18n.local_datetime
    env.filters["local_date"] = i18n.local_date
    env.filters["number"] = i18n.number


@hookimpl
def extra_template_vars(request: Any) -> dict[str, Any]:
    lang = i18n.current_language()
    other = "en" if lang == "vi" else "vi"
    switch = None
    if request is not None:
        pairs = [(k, v) for k in request.args if k != "lang"
                 for v in request.args.getlist(k)]
        switch = request.path + "?" + urlencode([*pairs, ("lang", other)])
    return {"lang": lang, "other_lang": other, "lang_switch_url": switch}


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [datasette.urls.static_plugins("archive.web", "archive.css")]


@hookimpl
def menu_links(datasette: Any) -> list[dict[str, str]]:
    db = datasette.get_database().name
    return [{"href": "/", "label": i18n.gettext("Search the archive")},
            {"href": datasette.urls.table(db, "articles"), "label": i18n.gettext("Articles table")},
            {"href": datasette.urls.table(db, "crawl_runs"), "label": i18n.gettext("Crawl runs")}]

"""The demo portal's request handling, independent of sockets.

:class:`DemoApp` maps ``(method, request target)`` to a :class:`Response`
and counts what it served. :class:`scraper.demo.server.DemoServer` puts it
on a real socket; tests may also call :meth:`DemoApp.handle` directly.

Fault modes (:data:`FAULT_MODES`, switched on with ``DemoServer(site,
faults=frozenset({...}))`` or ``python -m scraper.demo serve --fault X``)
make the portal misbehave the way real district portals do. Requests pass
through :meth:`DemoApp._before_routing` (URL spellings the portal accepts)
and every response through :meth:`DemoApp._apply_faults`:

``error_burst``         the first ``burst`` requests of every page answer 503 / 500
``timeout``             the first request of every 10th article (ids ending in 1)
                        stalls ``timeout_delay`` seconds (longer than the crawl waits)
``slow``                every page takes ``slow_delay`` seconds
``truncated``           the first response of every 10th article (ids ending in 2)
                        declares a longer Content-Length than it sends, then hangs up
``endless_pagination``  listings link a "next page" for ever; past the last page
                        the last page is served again
``calendar``            every page links a calendar whose days link the next and
                        previous day, without end (a crawler trap)
``redirect_loop``       every page links a page that redirects to itself (via a
                        query variant) for ever
``session_path``        every link carries an ASP.NET cookieless session id,
                        ``/(S(xxxx))/…``, new on every page view
``session_query``       every link carries ``?sid=…``, new on every page view
``duplicate_urls``      articles are linked under several URLs: with query strings
                        (``?ref=…``) and under their category's path
``deleted``             articles in ``deleted_ids`` (default: every 20th) answer 404
                        (``deleted_as``: ``"404"``, ``"410"``, ``"home"``: a 302
                        redirect to the home page, as some portals do, or
                        ``"soft404"``: status 200, the portal's template around
                        "Bài viết không tồn tại hoặc đã bị xóa", also for any
                        article URL that never existed)
``wrong_charset``       pages declare windows-1258 (header) and iso-8859-1 (meta)
                        but are UTF-8

Bounds, waiting and resources (:data:`BOUNDS_FAULTS`, handled in
:meth:`DemoApp._bounds_fault`):

``relative_loop``       every page links ``thu-muc/``, whose page links ``con/``
                        relatively: ``thu-muc/con/con/…`` without end
``redirect_chain``      every page links a page that redirects to a new URL, which
                        redirects again, for ever
``retry_after``         the first ``burst`` requests of every page answer 429 with
                        ``Retry-After: retry_after`` seconds
``unavailable``         the first request of every page answers 503 without
                        ``Retry-After``
``robots_5xx``          robots.txt answers 503
``crawl_delay``         robots.txt asks ``Crawl-delay: crawl_delay``
``sitemap_bomb``        /sitemap.xml is a 2 MB gzip file that inflates to 2 GiB
``encoding_bomb``       every page links a page sent with ``Content-Encoding: gzip``
                        whose 2 MB inflate to 2 GiB
``start_404``           the home page answers 404
``lost_articles``       every 4th article (ids divisible by 4) answers 500, always
"""

from __future__ import annotations

import html
import itertools
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from scraper.demo.documents import DOCUMENTS_PATH, document_bytes
from scraper.demo.images import BANNER_SIZE, jpeg_bytes
from scraper.demo.layouts import Route
from scraper.demo.render import Renderer
from scraper.demo.site import DemoSite, NotFound

HTML = "text/html; charset=utf-8"
#: Discovery aids (see ``DemoApp.feeds``): sitemap index, sitemap pages, RSS feed.
SITEMAP_INDEX = "/sitemap.xml"
_SITEMAP_PAGE = re.compile(r"^/sitemap-(\d{1,7})\.xml$")
SITEMAP_SIZE = 1000
FEED_SIZE = 20
#: Fault modes (see the module docstring).
#: The notice of the ``soft404`` deletion mode (served with status 200).
SOFT_404_NOTICE = "Bài viết không tồn tại hoặc đã bị xóa"
FAULT_MODES: frozenset[str] = frozenset({
    "error_burst", "timeout", "slow", "truncated", "endless_pagination", "calendar",
    "redirect_loop", "session_path", "session_query", "duplicate_urls", "deleted",
    "wrong_charset",
})
#: The fault modes of bounded crawls and resources (see the module docstring).
BOUNDS_FAULTS: frozenset[str] = frozenset({
    "relative_loop", "redirect_chain", "retry_after", "unavailable", "robots_5xx",
    "crawl_delay", "sitemap_bomb", "encoding_bomb", "start_404", "lost_articles",
})
FAULT_MODES = FAULT_MODES | BOUNDS_FAULTS
RELATIVE_LOOP_PATH = "/portal/Pages/thu-muc/"
CHAIN_PATH = "/portal/Pages/chuyen/"
BOMB_PATH = "/portal/Pages/tai-lieu-nen.aspx"
#: A gzip bomb: BOMB_MEMBERS gzip members of BOMB_MEMBER_BYTES zeros each.
BOMB_MEMBER_BYTES = 64 * 1024 * 1024
BOMB_MEMBERS = 32
_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """About 2 MB of gzip that inflates to 2 GiB of zeros (made once, in 0.3 s)."""
    if not _BOMB:
        import zlib

        deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = bytes(1024 * 1024)
        member = b"".join(deflate.compress(block) for _ in range(BOMB_MEMBER_BYTES // len(block)))
        member += deflate.flush()
        _BOMB.append(member * BOMB_MEMBERS)
    return _BOMB[0]
CALENDAR_PATH = "/portal/Pages/Lich-cong-tac.aspx"
LOOP_PATH = "/portal/Pages/Chuyen-trang.aspx"
_SESSION_PATH = re.compile(r"^/\(S\([a-z0-9]+\)\)(?=/)", re.I)
_CATEGORY_ARTICLE = re.compile(r"^(/portal/Pages/)[A-Za-z0-9-]+/(\d{4}-\d{1,2}-\d{1,2}/[^/]+\.aspx)$")
_LOCAL_HREF = re.compile(r'href="(/[^"]*)"')

STYLESHEET = b"""body{font-family:Arial,sans-serif;font-size:13px;margin:0}
.news-title{color:#a50000;font-size:18px}.news-date{color:#777;font-style:italic}
.webpart-title{background:#0a5ca8;color:#fff;font-weight:bold;padding:4px}
.paging .current{font-weight:bold}
@media print{.print-only{display:block}#s4-workspace{display:none}}
"""
#: Stylesheets of the other families, by the file name their scheme routes.
STYLESHEETS: dict[str, bytes] = {
    "skin.css": b""".LeftPane,.RightPane{width:22%;float:left}.ContentPane{width:56%;float:left}
.c_title{background:#064f8c;color:#fff;font-size:13px}.tacgia{text-align:right;font-weight:bold}
""",
    "site.css": b""".site-body{display:grid;grid-template-columns:3fr 1fr;gap:24px}
figure{margin:1em 0;text-align:center}figcaption{font-style:italic}
""",
    # Bootstrap-like display utilities: each copy of the article is shown at its own width.
    "app.css": b""".d-none{display:none!important}.d-block{display:block!important}
@media (min-width:768px){.d-md-block{display:block!important}.d-md-none{display:none!important}}
.text-center{text-align:center}.text-muted{color:#6c757d}
""",
}


@dataclass
class Response:
    """An HTTP response: status, content type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    #: Send only half the body (Content-Length still says all), then close.
    truncate: bool = False
    #: Seconds to wait before answering.
    delay: float = 0.0


class DemoApp:
    """Serves one :class:`DemoSite` through its layout's URL scheme and templates.

    ``hits`` counts requests per route kind (``home``, ``listing``,
    ``article``, ``print``, ``page``, ``feed``, ``image``, ``robots``,
    ``search``, ``static``, ``other``; see :data:`ROUTE_KINDS`),
    ``statuses`` per HTTP status, ``recent`` keeps the last 1000
    ``(method, target, status)``. All three are safe to read while serving.
    """

    def __init__(self, site: DemoSite, base_url: str = "http://127.0.0.1/",
                 faults: frozenset[str] = frozenset(), feeds: bool = True) -> None:
        unknown = set(faults) - FAULT_MODES
        if unknown:
            raise ValueError(f"fault modes not implemented: {', '.join(sorted(unknown))}")
        self.site = site
        self.base_url = base_url
        self.faults = faults
        #: Serve discovery aids (robots.txt ``Sitemap:``, sitemaps, an RSS feed
        #: announced in every page's head); False: a portal that has none.
        self.feeds = feeds
        self.renderer = Renderer(site)
        self.scheme = site.layout.scheme
        self._categories = {c.slug: c.name for c in site.categories}
        self._visits = itertools.count(1)
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.recent: deque[tuple[str, str, int]] = deque(maxlen=1000)
        # Fault mode parameters (tests may change them).
        #: error_burst: failures before a page is served.
        self.burst = 2
        #: timeout: how long a stalled response waits.
        self.timeout_delay = 3.0
        #: slow: delay of every page.
        self.slow_delay = 0.05
        #: deleted: article ids that answer 404.
        self.deleted_ids: frozenset[int] | None = None
        #: deleted: how a deleted article answers: "404", "410", "home" (302 to /)
        #: or "soft404" (200, a notice in the portal's template).
        self.deleted_as = "404"
        #: retry_after: the Retry-After of a 429 (seconds).
        self.retry_after = 1
        #: crawl_delay: the robots.txt Crawl-delay (seconds).
        self.crawl_delay = 0.5
        #: Requests seen per path (error_burst, timeout, truncated).
        self._path_hits: Counter[str] = Counter()

    def handle(self, method: str, target: str) -> Response:
        """Answer one request; ``target`` is the request line's path and query."""
        target = self._before_routing(target)
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        route = Route("robots") if path == "/robots.txt" else self._feed_route(path) \
            or self._document_route(path) or self.scheme.match(path, query, self._categories)
        kind = route.kind if route else "other"
        try:
            response = self._respond(route, path, target) if route else self.not_found(path)
        except NotFound:
            response = self.not_found(path)
        response = self._apply_faults(route, target, response)
        if self.faults & BOUNDS_FAULTS:
            response = self._bounds_fault(route, target, response)
        with self._lock:
            self.hits[kind] += 1
            self.statuses[response.status] += 1
            self.recent.append((method, target, response.status))
        return response

    def reset_counts(self) -> None:
        with self._lock:
            self.hits.clear()
            self.statuses.clear()
            self.recent.clear()
            self._path_hits.clear()

    # --------------------------------------------------------------- routing
    def _respond(self, route: Route, path: str, target: str) -> Response:
        r = self.renderer
        if route.kind == "home":
            return self._page(r.home(target, self._visit()))
        if route.kind == "listing":
            assert route.category is not None
            return self._page(r.listing(route.category, route.page, target, self._visit()))
        if route.kind == "article":
            assert route.article_id is not None
            article = self.site.article(route.article_id)
            if article.path != path:
                raise NotFound(path)
            return self._page(r.article(article, self.base_url, target, self._visit()))
        if route.kind == "print":
            # The family's print / savefile copy of an article: no site frame.
            assert route.article_id is not None
            article = self.site.article(route.article_id)
            if path.replace(f"/{route.file}/", "/", 1) != article.path:
                raise NotFound(path)
            return _html(r.article(article, self.base_url, target, self._visit(),
                                   template="print.html"))
        if route.kind == "page":
            return self._page(r.page(route.file or "", target, self._visit()))
        if route.kind == "image":
            if route.file is None:
                return Response(200, "image/jpeg", jpeg_bytes("banner", BANNER_SIZE))
            if not self.site.has_image(path, route.file):
                raise NotFound(path)
            return Response(200, "image/jpeg", jpeg_bytes(route.file))
        if route.kind == "document":
            assert route.file is not None
            if not self.site.has_document(route.file):
                raise NotFound(path)
            if route.file in self.site.failing_documents:
                return Response(500, "text/plain; charset=utf-8", b"Internal Server Error")
            found = document_bytes(route.file)
            if found is None:
                raise NotFound(path)
            return Response(200, found[0], found[1])
        if route.kind == "robots":
            lines = ["User-agent: *", *(f"Disallow: {p}" for p in self.scheme.disallow), ""]
            if self.feeds:
                lines[-1:] = [f"Sitemap: {self.base_url}sitemap.xml", ""]
            return Response(200, "text/plain; charset=utf-8", "\n".join(lines).encode())
        if route.kind in ("sitemap", "feed"):
            if route.kind == "feed" and not self.feeds:
                raise NotFound(path)
            return self._feed(route)
        if route.kind == "search":
            return _html(_small_page("Tìm kiếm", "<p>Không tìm thấy kết quả nào.</p>"))
        if route.kind == "static":
            css = STYLESHEETS.get(route.file or "", STYLESHEET)
            return Response(200, "text/css; charset=utf-8", css)
        raise NotFound(path)

    # ------------------------------------------------- sitemaps and the feed
    def _document_route(self, path: str) -> Route | None:
        if path.startswith(DOCUMENTS_PATH) and "/" not in path[len(DOCUMENTS_PATH):]:
            return Route("document", file=path[len(DOCUMENTS_PATH):])
        return None

    def _feed_route(self, path: str) -> Route | None:
        if not self.feeds:
            return None
        if path == SITEMAP_INDEX:
            return Route("sitemap", file="index")
        if path == self.scheme.feed_path:
            return Route("feed")
        m = _SITEMAP_PAGE.match(path)
        if m and not m.group(1).startswith("0"):
            return Route("sitemap", page=int(m.group(1)), file="page")
        return None

    def _feed(self, route: Route) -> Response:
        """``/sitemap.xml`` (an index), ``/sitemap-N.xml`` (home, listings' first
        pages and SITEMAP_SIZE articles each) and the layout's feed (the latest articles)."""
        base = self.base_url
        xml = "application/xml; charset=utf-8"
        if route.kind == "feed":
            # The latest articles, or a category's (``route.category``).
            newest = (self.site.latest(route.category, FEED_SIZE) if route.category else
                      [self.site.headline(n) for n in
                       range(self.site.size, max(0, self.site.size - FEED_SIZE), -1)])
            items = "".join(
                f"<item><title>{html.escape(h.title)}</title><link>{html.escape(h.url(base))}</link>"
                f"<pubDate>{h.published.strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate></item>"
                for h in newest
            )
            body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    f"<title>{html.escape(self.site.portal.name)}</title><link>{base}</link>"
                    f"{items}</channel></rss>")
            return Response(200, "application/rss+xml; charset=utf-8", body.encode("utf-8"))
        pages = -(-self.site.size // SITEMAP_SIZE)
        if route.file == "index":
            locs = "".join(f"<sitemap><loc>{base}sitemap-{n}.xml</loc></sitemap>"
                           for n in range(1, pages + 1))
            body = ('<?xml version="1.0" encoding="utf-8"?><sitemapindex '
                    f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>')
            return Response(200, xml, body.encode("utf-8"))
        if route.page > pages:
            raise NotFound(f"sitemap-{route.page}.xml")
        urls = [base] if route.page == 1 else []
        if route.page == 1:
            urls += [base + self.site.listing_path(c.slug).lstrip("/")
                     for c in self.site.categories]
        first = (route.page - 1) * SITEMAP_SIZE + 1
        for n in range(first, min(self.site.size, first + SITEMAP_SIZE - 1) + 1):
            urls.append(self.site.headline(n).url(base))
        locs = "".join(f"<url><loc>{html.escape(u)}</loc></url>" for u in urls)
        body = ('<?xml version="1.0" encoding="utf-8"?><urlset '
                f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>')
        return Response(200, xml, body.encode("utf-8"))

    def _page(self, text: str) -> Response:
        """An HTML page with the platform's headers; with feeds on, its head
        announces the RSS feed."""
        if self.feeds:
            link = (f'<link rel="alternate" type="application/rss+xml" title="RSS" '
                    f'href="{self.scheme.feed_path}" />')
            text = text.replace("</head>", link + "\n</head>", 1)
        response = _html(text)
        response.headers.update(self.scheme.headers)
        return response

    # ---------------------------------------------------------------- faults
    def _before_routing(self, target: str) -> str:
        """The spellings of a URL the portal accepts besides its own."""
        if "session_path" in self.faults:
            target = _SESSION_PATH.sub("", target)
        if "duplicate_urls" in self.faults:
            parts = urlsplit(target)
            m = _CATEGORY_ARTICLE.match(unquote(parts.path))
            if m:
                target = m.group(1) + m.group(2) + ("?" + parts.query if parts.query else "")
        return target

    def _nth_hit(self, path: str) -> int:
        with self._lock:
            self._path_hits[path] += 1
            return self._path_hits[path]

    def _apply_faults(self, route: Route | None, target: str, response: Response) -> Response:
        """The one seam where fault modes alter responses (see the module docstring)."""
        if not self.faults:
            return response
        f = self.faults
        parts = urlsplit(target)
        path = unquote(parts.path)
        kind = route.kind if route else "other"
        page_kinds = ("home", "listing", "article")
        article_id = route.article_id if route and route.kind == "article" else None

        # Pages that exist only in a fault mode.
        if "calendar" in f and path == CALENDAR_PATH:
            response = self._calendar(parse_qs(parts.query).get("ngay", [""])[0])
        elif "redirect_loop" in f and path == LOOP_PATH:
            loc = LOOP_PATH if parts.query else LOOP_PATH + "?lan=2"
            return Response(302, HTML, b"", {"Location": loc})
        elif "endless_pagination" in f and route and route.kind == "listing" \
                and response.status == 404 and route.category and route.page > 1:
            last = self.site.page_count(route.category)
            response = _html(self.renderer.listing(route.category, last, target, self._visit()))
        if "deleted" in f and self.deleted_as == "soft404" and kind == "article" and (
                response.status == 404 or article_id in self._deleted()):
            return self._page(self.renderer.notice(SOFT_404_NOTICE, target, self._visit()))
        if "deleted" in f and article_id is not None and article_id in self._deleted():
            if self.deleted_as == "home":
                return Response(302, HTML, b"", {"Location": "/"})
            gone = self.not_found(path)
            if self.deleted_as == "410":
                gone.status = 410
            return gone

        # Failures before the page is served.
        if kind in page_kinds and ({"error_burst", "timeout", "truncated"} & f):
            n = self._nth_hit(path)
            if "error_burst" in f and n <= self.burst:
                status = 503 if n % 2 else 500
                return Response(status, HTML, _small_page(
                    "Service Unavailable", f"<p>HTTP {status}</p>").encode())
            first_ok = n == 1 + (self.burst if "error_burst" in f else 0)
            if "timeout" in f and first_ok and article_id is not None and article_id % 10 == 1:
                response = Response(response.status, response.content_type, response.body,
                                    response.headers, delay=self.timeout_delay)
            if "truncated" in f and first_ok and article_id is not None and article_id % 10 == 2:
                response = Response(response.status, response.content_type, response.body,
                                    response.headers, truncate=True)

        if response.status == 200 and response.content_type == HTML:
            response = self._alter_page(response, route, target)
        if "slow" in f and kind in page_kinds and not response.delay:
            response.delay = self.slow_delay
        return response

    # ------------------------------------------ faults: bounds and resources
    def _bounds_fault(self, route: Route | None, target: str, response: Response) -> Response:
        f = self.faults
        parts = urlsplit(target)
        path = unquote(parts.path)
        kind = route.kind if route else "other"
        if "start_404" in f and kind == "home":
            return self.not_found(path)
        if kind == "robots" and "robots_5xx" in f:
            return Response(503, HTML, _small_page("Service Unavailable", "<p>503</p>").encode())
        if kind == "robots" and "crawl_delay" in f:
            text = response.body.decode("utf-8").replace(
                "User-agent: *\n", f"User-agent: *\nCrawl-delay: {self.crawl_delay}\n", 1)
            return Response(200, response.content_type, text.encode("utf-8"))
        if "sitemap_bomb" in f and path == SITEMAP_INDEX:
            return Response(200, "application/x-gzip", gzip_bomb())
        if "encoding_bomb" in f and path == BOMB_PATH:
            return Response(200, HTML, gzip_bomb(), {"Content-Encoding": "gzip"})
        if "relative_loop" in f and path.startswith(RELATIVE_LOOP_PATH):
            return _html(_small_page("Thư mục", '<p><a href="con/">Thư mục con</a></p>'))
        if "redirect_chain" in f and path.startswith(CHAIN_PATH):
            step = path[len(CHAIN_PATH):].strip("/")
            nxt = int(step) + 1 if step.isdigit() else 1
            return Response(302, HTML, b"", {"Location": f"{CHAIN_PATH}{nxt}"})
        page = kind in ("home", "listing", "article")
        if "lost_articles" in f and route and route.kind == "article" \
                and route.article_id is not None and route.article_id % 4 == 0:
            return Response(500, HTML, _small_page("Lỗi máy chủ", "<p>500</p>").encode())
        if page and "retry_after" in f and self._nth_hit("429:" + path) <= self.burst:
            return Response(429, HTML, _small_page("Too Many Requests", "<p>429</p>").encode(),
                            {"Retry-After": str(self.retry_after)})
        if page and "unavailable" in f and self._nth_hit("503:" + path) == 1:
            return Response(503, HTML, _small_page("Service Unavailable", "<p>503</p>").encode())
        if response.status == 200 and response.content_type == HTML and page:
            links = []
            if "relative_loop" in f:
                links.append(f'<a href="{RELATIVE_LOOP_PATH}">Thư mục</a>')
            if "redirect_chain" in f:
                links.append(f'<a href="{CHAIN_PATH}">Chuyển trang</a>')
            if "encoding_bomb" in f:
                links.append(f'<a href="{BOMB_PATH}">Tài liệu</a>')
            if links:
                text = response.body.decode("utf-8").replace(
                    "</body>", '<div class="bounds-links">' + " | ".join(links) + "</div></body>",
                    1)
                return Response(response.status, response.content_type, text.encode("utf-8"),
                                response.headers, truncate=response.truncate,
                                delay=response.delay)
        return response

    def _deleted(self) -> frozenset[int]:
        if self.deleted_ids is None:
            return frozenset(range(20, self.site.size + 1, 20))
        return self.deleted_ids

    def _alter_page(self, response: Response, route: Route | None, target: str) -> Response:
        f = self.faults
        text = response.body.decode("utf-8")
        extra: list[str] = []
        if "calendar" in f:
            extra.append(f'<a href="{CALENDAR_PATH}?ngay=2025-06-30">Lịch công tác</a>')
        if "redirect_loop" in f:
            extra.append(f'<a href="{LOOP_PATH}">Trang chuyển tiếp</a>')
        if "endless_pagination" in f and route and route.kind == "listing" and route.category:
            nxt = self.site.listing_path(route.category, max(route.page, 1) + 1)
            text = text.replace('<div class="paging">',
                                f'<div class="paging"><a href="{nxt}">Trang sau</a> ', 1)
        if extra:
            text = text.replace("</body>", "<div class=\"footer-links\">" + " | ".join(extra)
                                + "</div></body>", 1)
        if "duplicate_urls" in f:
            text = self._duplicate_links(text)
        if "session_path" in f or "session_query" in f:
            token = f"{(self._visit() * 2654435761) % (36 ** 12):012x}"[-12:]
            text = _LOCAL_HREF.sub(lambda m: f'href="{_with_session(m.group(1), token, f)}"',
                                   text)
        content_type = response.content_type
        body = text.encode("utf-8")
        if "wrong_charset" in f:
            content_type = "text/html; charset=windows-1258"
            body = body.replace(b"charset=utf-8", b"charset=iso-8859-1", 1)
        return Response(response.status, content_type, body, response.headers,
                        truncate=response.truncate, delay=response.delay)

    def _duplicate_links(self, text: str) -> str:
        """Article links with a query string, or under their category's path, in turn."""
        count = itertools.count()

        def variant(m: re.Match[str]) -> str:
            href = m.group(1)
            if not re.match(r"^/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/", href):
                return m.group(0)
            i = next(count)
            if i % 3 == 1:
                return f'href="{href}?ref=tin-lien-quan"'
            if i % 3 == 2:
                return f'href="/portal/Pages/Tin-tuc-Su-kien/{href[len("/portal/Pages/"):]}"'
            return m.group(0)

        return _LOCAL_HREF.sub(variant, text)

    def _calendar(self, day: str) -> Response:
        from datetime import date, timedelta

        try:
            current = date.fromisoformat(day)
        except ValueError:
            current = date(2025, 6, 30)
        prev, nxt = current - timedelta(days=1), current + timedelta(days=1)
        body = (f"<p>Lịch công tác ngày {current:%d/%m/%Y}: không có lịch.</p>"
                f'<p><a href="{CALENDAR_PATH}?ngay={prev.isoformat()}">Ngày trước</a> | '
                f'<a href="{CALENDAR_PATH}?ngay={nxt.isoformat()}">Ngày sau</a></p>')
        return _html(_small_page("Lịch công tác", body))

    def not_found(self, path: str) -> Response:
        body = _small_page("404 - Không tìm thấy trang",
                           f"<p>Trang <code>{html.escape(path)}</code> không tồn tại.</p>"
                           '<p><a href="/">Về trang chủ</a></p>')
        return Response(404, HTML, body.encode("utf-8"))

    def _visit(self) -> int:
        with self._lock:
            return next(self._visits)


def _with_session(href: str, token: str, faults: frozenset[str]) -> str:
    if "session_path" in faults:
        href = f"/(S({token}))" + href
    if "session_query" in faults:
        href += ("&" if "?" in href else "?") + f"sid={token}"
    return href


def _html(text: str) -> Response:
    return Response(200, HTML, text.encode("utf-8"))


def _small_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8" />'
            f"<title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n")

"""The demo portal's request handling, independent of sockets.

:class:`DemoApp` maps ``(method, request target)`` to a :class:`Response`
and counts what it served. :class:`scraper.demo.server.DemoServer` puts it
on a real socket; tests may also call :meth:`DemoApp.handle` directly.

Fault modes (500 bursts, slow or truncated responses, endless pagination,
redirect loops, session ids, duplicate URLs, deleted articles, wrong
charset …) will hook in at :meth:`DemoApp._apply_faults`, the one place
every response passes through. None is implemented yet: ``faults`` must be
empty or name only modes in :data:`FAULT_MODES`.
"""

from __future__ import annotations

import html
import itertools
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from scraper.demo.images import BANNER_SIZE, jpeg_bytes
from scraper.demo.layouts import Route
from scraper.demo.render import Renderer
from scraper.demo.site import DemoSite, NotFound

HTML = "text/html; charset=utf-8"
#: Discovery aids (see ``DemoApp.feeds``): sitemap index, sitemap pages, RSS feed.
SITEMAP_INDEX = "/sitemap.xml"
_SITEMAP_PAGE = re.compile(r"^/sitemap-(\d{1,7})\.xml$")
SITEMAP_SIZE = 1000
FEED_PATH = "/rss.xml"
FEED_SIZE = 20
#: Fault modes implemented so far (see the module docstring).
FAULT_MODES: frozenset[str] = frozenset()

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


class DemoApp:
    """Serves one :class:`DemoSite` through its layout's URL scheme and templates.

    ``hits`` counts requests per route kind (``home``, ``listing``,
    ``article``, ``image``, ``robots``, ``search``, ``static``, ``other``),
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

    def handle(self, method: str, target: str) -> Response:
        """Answer one request; ``target`` is the request line's path and query."""
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        route = Route("robots") if path == "/robots.txt" else self._feed_route(path) \
            or self.scheme.match(path, query, self._categories)
        kind = route.kind if route else "other"
        try:
            response = self._respond(route, path, target) if route else self.not_found(path)
        except NotFound:
            response = self.not_found(path)
        response = self._apply_faults(route, target, response)
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
        if route.kind == "image":
            if route.file is None:
                return Response(200, "image/jpeg", jpeg_bytes("banner", BANNER_SIZE))
            if not self.site.has_image(path, route.file):
                raise NotFound(path)
            return Response(200, "image/jpeg", jpeg_bytes(route.file))
        if route.kind == "robots":
            lines = ["User-agent: *", *(f"Disallow: {p}" for p in self.scheme.disallow), ""]
            if self.feeds:
                lines[-1:] = [f"Sitemap: {self.base_url}sitemap.xml", ""]
            return Response(200, "text/plain; charset=utf-8", "\n".join(lines).encode())
        if route.kind in ("sitemap", "feed"):
            return self._feed(route)
        if route.kind == "search":
            return _html(_small_page("Tìm kiếm", "<p>Không tìm thấy kết quả nào.</p>"))
        if route.kind == "static":
            css = STYLESHEETS.get(route.file or "", STYLESHEET)
            return Response(200, "text/css; charset=utf-8", css)
        raise NotFound(path)

    # ------------------------------------------------- sitemaps and the feed
    def _feed_route(self, path: str) -> Route | None:
        if not self.feeds:
            return None
        if path == SITEMAP_INDEX:
            return Route("sitemap", file="index")
        if path == FEED_PATH:
            return Route("feed")
        m = _SITEMAP_PAGE.match(path)
        if m and not m.group(1).startswith("0"):
            return Route("sitemap", page=int(m.group(1)), file="page")
        return None

    def _feed(self, route: Route) -> Response:
        """``/sitemap.xml`` (an index), ``/sitemap-N.xml`` (home, listings' first
        pages and SITEMAP_SIZE articles each) and ``/rss.xml`` (the latest articles)."""
        base = self.base_url
        xml = "application/xml; charset=utf-8"
        if route.kind == "feed":
            items = "".join(
                f"<item><title>{html.escape(h.title)}</title><link>{html.escape(h.url(base))}</link>"
                f"<pubDate>{h.published.strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate></item>"
                for h in (self.site.headline(n)
                          for n in range(self.site.size, max(0, self.site.size - FEED_SIZE), -1))
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
        """An HTML page; with feeds on, its head announces the RSS feed."""
        if self.feeds:
            link = (f'<link rel="alternate" type="application/rss+xml" title="RSS" '
                    f'href="{FEED_PATH}" />')
            text = text.replace("</head>", link + "\n</head>", 1)
        return _html(text)

    def _apply_faults(self, route: Route | None, target: str, response: Response) -> Response:
        """The one seam where fault modes will alter responses (none yet)."""
        return response

    def not_found(self, path: str) -> Response:
        body = _small_page("404 - Không tìm thấy trang",
                           f"<p>Trang <code>{html.escape(path)}</code> không tồn tại.</p>"
                           '<p><a href="/">Về trang chủ</a></p>')
        return Response(404, HTML, body.encode("utf-8"))

    def _visit(self) -> int:
        with self._lock:
            return next(self._visits)


def _html(text: str) -> Response:
    return Response(200, HTML, text.encode("utf-8"))


def _small_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8" />'
            f"<title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n")

"""The demo portal as a real HTTP server on a local port.

    with DemoServer(DemoSite(size=200)) as server:
        urllib.request.urlopen(server.base_url)   # "http://127.0.0.1:PORT/"
        server.hits["article"]                    # requests served, per route kind

Built on :class:`http.server.ThreadingHTTPServer` (one daemon thread per
connection, HTTP/1.1 keep-alive) running in a background thread.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from scraper.demo.app import DemoApp, Response
from scraper.demo.site import DemoSite


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    app: DemoApp
    quiet: bool = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up (a crawler's timeout) is not a server error.
        if not self.quiet:
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/8.5"
    #: Idle keep-alive connections are dropped after this many seconds.
    timeout = 30
    #: Headers and body are two writes: without TCP_NODELAY, Nagle's algorithm
    #: and delayed ACKs add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._send(self.server.app.handle("GET", self.path), with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(self.server.app.handle("HEAD", self.path), with_body=False)

    def _send(self, response: Response, with_body: bool) -> None:
        if response.delay:
            time.sleep(response.delay)  # fault modes: slow pages, stalled responses
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not with_body:
            return
        if response.truncate:
            # Fault mode: half the promised body, then hang up.
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if not self.server.quiet:
            super().log_message(format, *args)


class DemoServer:
    """Serves a :class:`DemoSite` on ``host:port`` (port 0: a free one) until stopped.

    ``faults`` names fault modes of :class:`DemoApp` (:data:`scraper.demo.app.FAULT_MODES`).
    ``hits`` / ``statuses`` count what was served (see :class:`DemoApp`).
    """

    def __init__(self, site: DemoSite, host: str = "127.0.0.1", port: int = 0,
                 faults: frozenset[str] = frozenset(), quiet: bool = True,
                 feeds: bool = True) -> None:
        self.site = site
        self.host = host
        self.port = port
        self.quiet = quiet
        self.app = DemoApp(site, faults=faults, feeds=feeds)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/`` (the real port once started)."""
        return f"http://{self.host}:{self.port}/"

    @property
    def hits(self) -> Counter[str]:
        return self.app.hits

    @property
    def statuses(self) -> Counter[int]:
        return self.app.statuses

    def url(self, path: str) -> str:
        """Absolute URL of a root-relative ``path`` on this server."""
        return self.base_url + path.lstrip("/")

    def start(self) -> DemoServer:
        """Bind and serve in a background thread; returns self. ``OSError`` if the port is taken."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.app = self.app
        httpd.quiet = self.quiet
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.app.base_url = self.base_url
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"demo-portal:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""Builders the tests share: articles, small archives, the demo portal crawled,
local servers on free ports, the CLI run in-process.

Real parts only: a real SQLite file, a real HTTP server on 127.0.0.1, the real
crawl. Each helper builds exactly what its callers used to build by hand, so
moving a test onto it changes none of its data.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner, Result

from archive.store import Archive
from scraper.extract.article import Article
from scraper.portals import Portal

if TYPE_CHECKING:
    from scraper.demo.server import _HTTPServer
    from scraper.demo.site import DemoSite


def make_article(url: str, title: str = "T", **fields: Any) -> Article:
    """An Article whose canonical URL is its URL; ``authors`` defaults to ``[author]``
    (none without an author), as the extractor fills it."""
    author = fields.get("author")
    fields.setdefault("authors", [author] if author else [])
    return Article(url=url, canonical_url=url, title=title, **fields)


def make_archive(path: str | Path, articles: Mapping[Portal, Sequence[Article]] | None = None,
                 *, portals: Sequence[Portal] = ()) -> Archive:
    """An open archive at ``path`` holding ``articles`` per portal (and ``portals`` declared
    with no article). The caller closes it (or uses it in a ``with``)."""
    archive = Archive(path)
    for portal in portals:
        archive.ensure_portal(portal)
    for portal, saved in (articles or {}).items():
        archive.ensure_portal(portal)
        if saved:
            archive.save_articles(list(saved), portal_id=portal.id)
    return archive


def crawl_demo(db: str | Path, *, size: int, seed: int, portal: Portal | None = None,
               **crawl: Any) -> dict[str, Any]:
    """Serve a demo site of ``size`` articles and crawl it into ``db`` (as ``portal`` at the
    demo's address, the demo portal by default); the run's record."""
    from scraper.demo.server import DemoServer
    from scraper.demo.site import DemoSite
    from scraper.runner import demo_portal, run_crawl

    with DemoServer(DemoSite(size=size, seed=seed)) as server:
        target = (portal.with_base_url(server.base_url) if portal
                  else demo_portal(server.base_url))
        crawl.setdefault("quiet", True)
        run: dict[str, Any] = run_crawl(target, db, **crawl)
    return run


def free_port() -> int:
    """A TCP port nothing listens on at this moment (the OS's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_variant(site: DemoSite, handler: type[BaseHTTPRequestHandler],
                 server: type[_HTTPServer] | None = None) -> Iterator[str]:
    """Serve ``site`` through a variant of the demo server (``handler`` a subclass of its
    handler, ``server`` of its server) on a thread of its own; its base URL, until the
    block ends."""
    from scraper.demo.app import DemoApp
    from scraper.demo.server import _HTTPServer

    httpd = (server or _HTTPServer)(("127.0.0.1", 0), handler)
    httpd.app = DemoApp(site)
    httpd.quiet = True
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.app.base_url = base
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield base
    finally:
        httpd.shutdown()
        httpd.server_close()


def run_cli(*args: str, env: Mapping[str, str | None] | None = None, **invoke: Any) -> Result:
    """``portal-archive ARGS`` in-process; an unexpected exception is raised, not hidden."""
    from archive.cli import main

    invoke.setdefault("catch_exceptions", False)
    return CliRunner().invoke(main, list(args), env=env, **invoke)

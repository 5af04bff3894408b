"""Image downloads that fail — a 500, a timeout — are recorded as failed with
their error, are kept in the WARC when there was a response, and never drop
or hold up their article.

The demo portal is served by a variant of its server in which one image
answers 500 and another never answers within the crawl's timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows
from factories import demo_variant
from warcio.archiveiterator import ArchiveIterator

from scraper.demo.server import _Handler, _HTTPServer
from scraper.demo.site import DemoSite
from scraper.runner import demo_portal, run_crawl

BROKEN: dict[str, str] = {}  # image path → "500" | "slow"


class _FaultyImages(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        fault = BROKEN.get(self.path)
        if fault == "500":
            body = b"<h1>500 Internal Server Error</h1>"
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if fault == "slow":
            time.sleep(6)  # past the crawl's DOWNLOAD_TIMEOUT
        super().do_GET()


class _QuietServer(_HTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """The crawler hangs up on the slow image: expected, not worth a traceback."""


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    site = DemoSite(size=10, seed=5)
    paths = [img.path for a in site.iter_articles() for img, _ in a.images]
    assert len(paths) >= 2
    BROKEN.clear()
    BROKEN.update({paths[0]: "500", paths[1]: "slow"})
    db = tmp_path_factory.mktemp("imgfail") / "archive.db"
    with demo_variant(site, _FaultyImages, _QuietServer) as base:
        run = run_crawl(demo_portal(base), db, quiet=True,
                        settings={"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1})
    yield {"run": run, "db": db, "base": base, "paths": paths, "site": site}


def _state(db: Path, url: str) -> tuple[Any, ...]:
    return rows(db, "SELECT status, attempts, last_error, http_status, sha256 "
                    "FROM image_files WHERE url = ?", (url,))[0]


def test_server_error_recorded(crawled: dict[str, Any]) -> None:
    url = crawled["base"].rstrip("/") + crawled["paths"][0]
    assert _state(crawled["db"], url) == ("failed", 1, "HTTP 500", 500, None)


def test_timeout_recorded(crawled: dict[str, Any]) -> None:
    url = crawled["base"].rstrip("/") + crawled["paths"][1]
    status, attempts, error, http_status, sha = _state(crawled["db"], url)
    assert (status, attempts, http_status, sha) == ("failed", 1, None, None)
    assert "TimeoutError" in error, error


def test_articles_all_kept_and_other_images_stored(crawled: dict[str, Any]) -> None:
    run = crawled["run"]
    assert run["articles_new"] == 10
    assert run["images_failed"] == 2
    assert run["images_ok"] == len(crawled["paths"]) - 2
    # The 500 was retried once (RETRY_TIMES=1) and both answers are in the WARC.
    assert run["responses_by_status"].get("500") == 2
    url = crawled["base"].rstrip("/") + crawled["paths"][0]
    statuses = []
    for path in (crawled["db"].parent / "warc").rglob("*.warc.gz"):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response" and \
                        record.rec_headers.get_header("WARC-Target-URI") == url:
                    statuses.append(record.http_headers.get_statuscode())
    assert statuses == ["500", "500"]

"""WARC records keep what the server sent: compressed bodies stay compressed,
chunked transfer is recorded honestly, and re-extraction still reads them.

The demo portal is served by a variant of its own server that gzips article
pages (``Content-Encoding: gzip``) and sends the home page and listings in
chunks (``Transfer-Encoding: chunked``); a real Scrapy crawl fetches it.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows
from factories import demo_variant
from warcio.archiveiterator import ArchiveIterator

from archive.reextract import iter_html_pages, reextract
from archive.store import Archive
from scraper.demo.app import DemoApp, Response
from scraper.demo.server import _Handler
from scraper.demo.site import DemoSite
from scraper.runner import demo_portal, run_crawl


class _EncodingHandler(_Handler):
    def _send(self, response: Response, with_body: bool) -> None:
        html = response.content_type.startswith("text/html")
        accepts_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if html and accepts_gzip and "/Pages/20" in self.path:
            body = gzip.compress(response.body, mtime=0)
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)
        elif html and with_body:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = response.body
            for i in range(0, len(data), 4096):
                chunk = data[i:i + 4096]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            super()._send(response, with_body)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    site = DemoSite(size=10, seed=3)
    folder = tmp_path_factory.mktemp("encodings")
    with demo_variant(site, _EncodingHandler) as base:
        run = run_crawl(demo_portal(base), folder / "archive.db", quiet=True)
    yield {"site": site, "base": base, "folder": folder, "run": run}


def _responses(folder: Path) -> list[tuple[str, dict[str, str], bytes, bytes]]:
    out = []
    for path in sorted((folder / "warc").rglob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                headers = dict(record.http_headers.headers)
                raw = record.raw_stream.read()  # the payload as recorded
                out.append((record.rec_headers.get_header("WARC-Target-URI"), headers, raw, b""))
    return out


def test_gzip_bodies_recorded_as_served(crawled: dict[str, Any]) -> None:
    responses = _responses(crawled["folder"])
    gzipped = [r for r in responses if r[1].get("Content-Encoding") == "gzip"]
    assert len(gzipped) == 10, "every article page was served gzip-compressed"
    for url, headers, raw, _ in gzipped:
        assert raw[:2] == b"\x1f\x8b", url  # compressed bytes, as sent
        assert int(headers["Content-Length"]) == len(raw)
        assert b"<html" in gzip.decompress(raw).lower()


def test_chunked_responses_recorded_dechunked(crawled: dict[str, Any]) -> None:
    # The HTTP client undoes the chunked coding and drops the header; the
    # record keeps the body as served, without inventing a Content-Length.
    site: DemoSite = crawled["site"]
    responses = {r[0]: r for r in _responses(crawled["folder"])}
    _, headers, raw, _ = responses[crawled["base"]]
    assert "Transfer-Encoding" not in headers and "Content-Length" not in headers
    assert raw.lstrip().lower().startswith((b"<!doctype", b"<html")) and raw.rstrip().endswith(
        b"</html>")
    # Same page as the portal renders it (only the visitor counter differs per visit).
    served = DemoApp(site, base_url=crawled["base"]).handle("GET", "/").body
    assert abs(len(served) - len(raw)) < 16


def test_transfer_encoding_header_renamed(tmp_path: Path) -> None:
    from scraper.warc import WarcWriter

    writer = WarcWriter(tmp_path, "warc/x", "run000001")
    writer.write_exchange(url="http://h/p", method="GET", request_headers=[], request_body=b"",
                          status=200, response_headers=[("Transfer-Encoding", "chunked"),
                                                        ("Content-Type", "text/html")],
                          body=b"<html></html>")
    writer.close()
    with (tmp_path / writer.files[0]).open("rb") as fh:
        seen = []
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                assert record.http_headers.get_header("Transfer-Encoding") is None
                assert record.http_headers.get_header(
                    "X-Archive-Orig-Transfer-Encoding") == "chunked"
                seen.append(record.content_stream().read())
        assert seen == [b"<html></html>"]


def test_warcio_checker_accepts_them(crawled: dict[str, Any]) -> None:
    files = [str(p) for p in (crawled["folder"] / "warc").rglob("*.warc.gz")]
    proc = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *files],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_reextract_reads_compressed_records(crawled: dict[str, Any], tmp_path: Path) -> None:
    pages = [p for f in sorted((crawled["folder"] / "warc").rglob("*.warc.gz"))
             for p in iter_html_pages(f)]
    assert all(b"<html" in p.body.lower() for p in pages)
    with Archive(tmp_path / "rebuilt.db") as archive:
        result = reextract(archive, crawled["folder"] / "warc")
    assert result.saved.new == 10
    q = "SELECT canonical_url, content_hash FROM articles ORDER BY 1"
    assert rows(crawled["folder"] / "archive.db", q) == rows(tmp_path / "rebuilt.db", q)
    assert len(rows(crawled["folder"] / "archive.db", q)) == 10


def test_truncated_body_marked(tmp_path: Path) -> None:
    from scraper.warc import WarcWriter

    writer = WarcWriter(tmp_path, "warc/x", "run000001")
    writer.write_exchange(url="http://h/p", method="GET", request_headers=[], request_body=b"",
                          status=200, response_headers=[("Content-Type", "text/html"),
                                                        ("Content-Length", "100")],
                          body=b"<html><p>cut", truncated="disconnect")
    writer.close()
    proc = subprocess.run([sys.executable, "-m", "warcio.cli", "check",
                           str(tmp_path / writer.files[0])],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    with (tmp_path / writer.files[0]).open("rb") as fh:
        marks = [r.rec_headers.get_header("WARC-Truncated") for r in ArchiveIterator(fh)
                 if r.rec_type == "response"]
    assert marks == ["disconnect"]

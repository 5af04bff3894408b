"""Web archives on loopback for the rescue tests: real pywb, and a Common Crawl index.

- :func:`capture_demo_portal` serves the demo portal and records it, at several
  dates, into WARC files (warcio) the way an archive's crawler would have: an
  article edited between captures, articles published after the first capture
  (so only the later ones hold them), images, captures cut short, an error page.
  The portal is switched off afterwards: only the archives hold it.
- :class:`Pywb` builds a pywb collection from those WARC files (``wb-manager``)
  and runs ``wayback`` on a free loopback port.
- :class:`CommonCrawlServer` answers like Common Crawl's index server (crawls in
  ``collinfo.json``, JSON-lines CDX pages, ``showNumPages``) and serves the WARC
  files by byte range; it logs when every request came.

pywb and the ``wacz`` tool are GPL/AGPL-licensed test tools kept out of the
project's own environment: ``make archive-tools`` installs them into
``.venv-archive-tools`` (``$PORTAL_ARCHIVE_TOOLS`` points elsewhere).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.wacz import index_warc, surt_key
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite

ROOT = Path(__file__).resolve().parent.parent


def archive_tool(name: str) -> Path:
    """The path of a command of the archive tools' environment (pywb, wacz)."""
    bindir = Path(os.environ.get("PORTAL_ARCHIVE_TOOLS", ROOT / ".venv-archive-tools" / "bin"))
    tool = bindir / name
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run `make archive-tools` (pywb and wacz, test tools)")
    return tool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ captures
@dataclass
class Snapshot:
    """One visit of an archive's crawler to the demo portal."""

    name: str
    when: datetime
    #: Articles published by then (ids 1..visible).
    visible: int
    #: Article ids captured, with the state of their edits.
    articles: list[int]
    revisions: dict[int, int] = field(default_factory=dict)
    #: Article ids whose capture was cut short (half the body, WARC-Truncated).
    truncated: set[int] = field(default_factory=set)
    #: Article ids captured while the portal answered 503.
    errors: set[int] = field(default_factory=set)
    #: Article ids whose images were captured too.
    with_images: set[int] = field(default_factory=set)


@dataclass
class CapturedPortal:
    base_url: str
    warcs: list[Path]
    snapshots: list[Snapshot]
    #: article id → its URL
    urls: dict[int, str]
    #: (snapshot name, URL) → the body recorded (for comparison)
    bodies: dict[tuple[str, str], bytes]
    image_urls: dict[int, list[str]]

    def timestamp(self, snapshot: str) -> str:
        snap = next(s for s in self.snapshots if s.name == snapshot)
        return snap.when.strftime("%Y%m%d%H%M%S")


#: The default story: 30 articles, three visits of the archive's crawler.
SNAPSHOTS = [
    Snapshot("s1", datetime(2024, 3, 1, 8, 0, tzinfo=UTC), visible=20,
             articles=list(range(1, 21)), with_images={1, 2, 3, 4, 5}),
    Snapshot("s2", datetime(2024, 9, 2, 9, 30, tzinfo=UTC), visible=25,
             articles=list(range(1, 26)), revisions={3: 1}, truncated={12}),
    Snapshot("s3", datetime(2025, 5, 2, 10, 15, tzinfo=UTC), visible=30,
             articles=[3, *range(21, 31)], revisions={3: 2}, truncated={22, 29}, errors={28}),
]


def expected_best(snapshots: list[Snapshot]) -> dict[int, str]:
    """article id → the snapshot holding its newest whole capture (ids without one left out)."""
    best: dict[int, str] = {}
    for snap in sorted(snapshots, key=lambda s: s.when):
        for n in snap.articles:
            if n not in snap.truncated and n not in snap.errors:
                best[n] = snap.name
    return best


def capture_demo_portal(tmp: Path, snapshots: list[Snapshot] = SNAPSHOTS,
                        size: int = 30) -> CapturedPortal:
    """Serve a demo portal, record each snapshot into ``tmp/<name>.warc.gz``, stop it."""
    site = DemoSite(size=size, seed=1)
    warcs: list[Path] = []
    bodies: dict[tuple[str, str], bytes] = {}
    urls: dict[int, str] = {}
    image_urls: dict[int, list[str]] = {}
    with DemoServer(site) as server:
        base = server.base_url
        for snap in snapshots:
            site.visible = snap.visible
            site.revisions = dict(snap.revisions)
            path = tmp / f"{snap.name}.warc.gz"
            with path.open("wb") as fh:
                writer = WARCWriter(fh, gzip=True)
                _record(writer, base, snap.when, *_get(base))
                for n in snap.articles:
                    article = site.article(n)
                    url = server.url(article.path)
                    urls[n] = url
                    status, headers, body = _get(url)
                    if n in snap.errors:
                        status, body = 503, b"<html><body>Service Unavailable</body></html>"
                        headers = [("Content-Type", "text/html")]
                    cut = n in snap.truncated
                    if cut:
                        body = body[: len(body) // 2]
                    _record(writer, url, snap.when, status, headers, body, truncated=cut)
                    bodies[(snap.name, url)] = body
                    if n in snap.with_images:
                        image_urls[n] = []
                        for img, _caption in article.images:
                            img_url = server.url(img.path)
                            image_urls[n].append(img_url)
                            st, hd, data = _get(img_url)
                            _record(writer, img_url, snap.when, st, hd, data)
                            bodies[(snap.name, img_url)] = data
            warcs.append(path)
    return CapturedPortal(base, warcs, list(snapshots), urls, bodies, image_urls)


def _get(url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    with urlopen(url, timeout=10) as resp:
        return resp.status, list(resp.headers.items()), resp.read()


def _record(writer: WARCWriter, url: str, when: datetime, status: int,
            headers: list[tuple[str, str]], body: bytes, truncated: bool = False) -> None:
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection")]
    kept.append(("Content-Length", str(len(body))))
    reason = {200: "OK", 503: "Service Unavailable"}.get(status, "Status")
    http = StatusAndHeaders(f"{status} {reason}", kept, protocol="HTTP/1.1")
    warc_headers = {"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if truncated:
        warc_headers["WARC-Truncated"] = "length"
    record = writer.create_warc_record(url, "response", payload=BytesIO(body),
                                       http_headers=http, warc_headers_dict=warc_headers)
    writer.write_record(record)


# ------------------------------------------------------------------ pywb
class Pywb:
    """``wayback`` (pywb) serving a collection ``demo`` of WARC or WACZ files on loopback."""

    def __init__(self, workdir: Path, files: list[Path], collection: str = "demo") -> None:
        self.workdir = workdir
        self.collection = collection
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self._manage("init", collection)
        # pywb adds a WACZ only by unpacking it: its WARC files, indexed anew.
        unpack = ["--unpack-wacz"] if any(f.suffix == ".wacz" for f in files) else []
        self._manage("add", *unpack, collection, *map(str, files))

    def _manage(self, *args: str) -> None:
        result = subprocess.run([str(archive_tool("wb-manager")), *args], cwd=self.workdir,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"wb-manager {' '.join(args)}: {result.stdout}{result.stderr}")

    def add_indexed(self, collection: str, warcs: list[Path], cdxj: bytes) -> None:
        """A collection of ``warcs`` looked up through our own CDXJ index (not pywb's)."""
        self._manage("init", collection)
        coll = self.workdir / "collections" / collection
        for warc in warcs:
            shutil.copy(warc, coll / "archive" / warc.name)
        (coll / "indexes" / "index.cdxj").write_bytes(cdxj)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.collection}"

    @property
    def cdx(self) -> str:
        return f"{self.root}/cdx"

    def start(self) -> Pywb:
        log = (self.workdir / "wayback.log").open("wb")
        self.proc = subprocess.Popen(
            [str(archive_tool("wayback")), "-b", "127.0.0.1", "-p", str(self.port), "-t", "4"],
            cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("wayback exited: "
                                   + (self.workdir / "wayback.log").read_text(errors="replace"))
            try:
                with urlopen(f"{self.cdx}?url=example.invalid", timeout=5):
                    return self
            except URLError:
                time.sleep(0.2)
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("wayback did not answer within 60 s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> Pywb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------ Common Crawl
@dataclass
class CcCrawl:
    id: str
    start: datetime
    end: datetime
    warcs: list[Path]


class CommonCrawlServer:
    """Common Crawl's index server and data bucket, in miniature, on loopback."""

    def __init__(self, crawls: list[CcCrawl], page_size: int = 5,
                 truncated_urls: dict[str, set[str]] | None = None) -> None:
        self.crawls = crawls
        self.page_size = page_size
        self.files: dict[str, Path] = {}
        self.rows: dict[str, list[dict[str, str]]] = {}
        self.log: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        truncated_urls = truncated_urls or {}
        for crawl in crawls:
            rows = []
            for warc in crawl.warcs:
                name = f"crawl-data/{crawl.id}/segments/1700000000.0/warc/{crawl.id}-{warc.name}"
                self.files[name] = warc
                for line in index_warc(warc, name):
                    row = {"urlkey": line.key, "timestamp": line.timestamp, **line.fields}
                    row["mime-detected"] = row.get("mime", "")
                    if row["url"] in truncated_urls.get(crawl.id, set()):
                        row["truncated"] = "length"
                    rows.append(row)
            rows.sort(key=lambda r: (r["urlkey"], r["timestamp"]))
            self.rows[crawl.id] = rows
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def collinfo(self) -> list[dict[str, str]]:
        return [{"id": c.id, "name": f"{c.id} Index", "timegate": f"{self.root}/{c.id}/",
                 "cdx-api": f"{self.root}/{c.id}-index",
                 "from": c.start.strftime("%Y-%m-%dT%H:%M:%S"),
                 "to": c.end.strftime("%Y-%m-%dT%H:%M:%S")}
                for c in sorted(self.crawls, key=lambda c: c.start, reverse=True)]

    def _matches(self, row: dict[str, str], url: str, match_type: str) -> bool:
        key = surt_key(url)
        if match_type == "exact":
            return row["urlkey"] == key
        if match_type == "host":
            return row["urlkey"].split(")", 1)[0] == key.split(")", 1)[0]
        return row["urlkey"].startswith(key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                with server._lock:
                    server.log.append((time.monotonic(), self.path))
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/collinfo.json":
                    self._send(200, json.dumps(server.collinfo()).encode())
                    return
                if parts.path.endswith("-index"):
                    self._index(parts.path[1:-len("-index")], query)
                    return
                warc = server.files.get(parts.path.lstrip("/"))
                if warc is None:
                    self._send(404, b"not found", "text/plain")
                    return
                data = warc.read_bytes()
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes="):
                    first, _, last = rng[6:].partition("-")
                    start, end = int(first), min(int(last), len(data) - 1)
                    self._send(206, data[start:end + 1], "application/octet-stream",
                               {"Content-Range": f"bytes {start}-{end}/{len(data)}"})
                    return
                self._send(200, data, "application/octet-stream")

            def _index(self, crawl_id: str, query: dict[str, str]) -> None:
                rows = server.rows.get(crawl_id)
                url = query.get("url", "")
                if rows is None or not url:
                    self._send(404, b'{"error": "unknown crawl or no url"}')
                    return
                hits = [r for r in rows if server._matches(r, url, query.get("matchType", "exact"))]
                if not hits:
                    self._send(404, json.dumps({"error": f"No Captures found for: {url}"}).encode())
                    return
                pages = -(-len(hits) // server.page_size)
                if query.get("showNumPages") == "true":
                    self._send(200, json.dumps({"pages": pages, "pageSize": server.page_size,
                                                "blocks": pages}).encode())
                    return
                page = int(query.get("page", "0"))
                chunk = hits[page * server.page_size:(page + 1) * server.page_size]
                if not chunk:
                    self._send(400, b'{"error": "page out of range"}')
                    return
                self._send(200, "".join(json.dumps(r) + "\n" for r in chunk).encode(),
                           "text/x-ndjson")

        return Handler

    def start(self) -> CommonCrawlServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CommonCrawlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def max_rate(times: list[float], window: float = 1.0) -> int:
    """The most requests seen in any ``window`` seconds (counting both ends)."""
    times = sorted(times)
    best = 0
    j = 0
    for i, t in enumerate(times):
        while times[j] < t - window + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


# ------------------------------------------------------------------ Wayback Machine's shape
class WaybackShapeServer:
    """A CDX server answering like the Wayback Machine: ``output=json`` is one
    array with a header row, ``limit`` + ``showResumeKey`` page with resume keys,
    ``filter=field:regex`` and ``collapse=digest`` are honoured."""

    FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]

    def __init__(self, warcs: list[Path]) -> None:
        rows = []
        for warc in warcs:
            for line in index_warc(warc):
                f = line.fields
                rows.append([line.key, line.timestamp, f["url"], f.get("mime", ""),
                             f.get("status", ""), f.get("digest", ""), f.get("length", "")])
        self.rows = sorted(rows)
        self.log: list[tuple[float, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.log.append((time.monotonic(), self.path))
                body = json.dumps(server.answer(parse_qs(urlsplit(self.path).query))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])

    @property
    def cdx(self) -> str:
        return f"http://127.0.0.1:{self.port}/cdx/search/cdx"

    def answer(self, query: dict[str, list[str]]) -> list[list[str]]:
        prefix = surt_key(query["url"][0])
        rows = [r for r in self.rows if r[0].startswith(prefix)]
        for spec in query.get("filter", []):
            name, _, pattern = spec.partition(":")
            col = self.FIELDS.index(name)
            rows = [r for r in rows if re.fullmatch(pattern, r[col])]
        if "digest" in query.get("collapse", []):
            rows = [r for i, r in enumerate(rows)
                    if i == 0 or (r[0], r[5]) != (rows[i - 1][0], rows[i - 1][5])]
        start = int(query.get("resumeKey", ["0"])[0])
        limit = int(query.get("limit", [str(len(rows))])[0])
        page = rows[start:start + limit]
        out: list[list[str]] = [self.FIELDS, *page]
        if query.get("showResumeKey") == ["true"] and start + limit < len(rows):
            out += [[], [str(start + limit)]]
        return out

    def __enter__(self) -> WaybackShapeServer:
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class ScriptedServer:
    """Answers GETs with a script of ``(status, headers)`` in turn (then 200s), logging times."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.log: list[float] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.log.append(time.monotonic())
                status, headers = server.script.pop(0) if server.script else (200, {})
                body = b"<html><body>ok</body></html>" if status == 200 else b"busy"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/page"

    def __enter__(self) -> ScriptedServer:
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

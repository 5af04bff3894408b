"""A polite HTTP client for public archives, and what a rescue already fetched.

Archives ask for restraint (the Wayback Machine answers 429 and blocks a
client that keeps going), so every request, redirects and retries included,
goes through one rate limit: at most one request a second by default. A 429
or 503 waits ``Retry-After`` seconds (an HTTP date is understood too), or a
doubling delay when the server gives none, never longer than ``max_backoff``.

Built on the standard library's ``urllib``: a rescue is a slow, sequential
walk over one archive, so neither a connection pool nor an event loop would
change its speed, and the runtime gains no dependency (Scrapy's downloader is
asynchronous and lives in the crawl process only).
"""

from __future__ import annotations

import json
import os
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin
from urllib.request import HTTPRedirectHandler, Request, build_opener

DEFAULT_USER_AGENT = ("portal-archive-rescue/0.1 (recovering district portal news from "
                      "web archives; one request a second)")
RETRY_STATUSES = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class FetchError(OSError):
    """A request that failed without an HTTP answer (DNS, refused, timeout, cut off),
    or kept answering 429/503 after every retry."""


@dataclass
class Response:
    url: str
    status: int
    headers: Message
    body: bytes


class _NoRedirect(HTTPRedirectHandler):
    """Redirects are followed by :class:`PoliteFetcher` itself, through the rate limit."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


@dataclass
class PoliteFetcher:
    """Sequential GETs at most ``1 / min_interval`` a second (thread-safe).

    ``requests`` counts every request sent; ``sent_at`` keeps their monotonic
    times (for measuring the rate actually held).
    """

    min_interval: float = 1.0
    max_retries: int = 4
    #: The longest single wait after a 429/503, whatever Retry-After says.
    max_backoff: float = 120.0
    timeout: float = 60.0
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    sent_at: list[float] = field(default_factory=list)
    #: Seconds spent waiting after 429/503 answers.
    backoff_total: float = 0.0

    def __post_init__(self) -> None:
        if self.min_interval < 0 or self.max_backoff < 0 or self.max_retries < 0:
            raise ValueError("min_interval, max_backoff and max_retries must be >= 0")
        self._opener = build_opener(_NoRedirect())
        self._lock = threading.Lock()
        self._next_at = 0.0

    def get(self, url: str, headers: Mapping[str, str] | None = None,
            follow_redirects: bool = True) -> Response:
        """GET ``url``; HTTP errors are returned as responses, 429/503 retried with
        back-off, redirects followed (each one a rate-limited request)."""
        for _ in range(self.max_redirects + 1):
            response = self._get_with_retries(url, headers or {})
            location = response.headers.get("Location")
            if not (follow_redirects and response.status in REDIRECT_STATUSES and location):
                return response
            url = urljoin(url, location)
        raise FetchError(f"more than {self.max_redirects} redirects from {url}")

    def _get_with_retries(self, url: str, headers: Mapping[str, str]) -> Response:
        delay = 1.0
        for attempt in range(self.max_retries + 1):
            response = self._send(url, headers)
            if response.status not in RETRY_STATUSES:
                return response
            if attempt == self.max_retries:
                break
            wait = retry_after(response.headers.get("Retry-After"), self._wall_clock())
            wait = min(self.max_backoff, delay if wait is None else wait)
            delay = min(self.max_backoff, delay * 2)
            self.backoff_total += wait
            self.sleep(wait)
        raise FetchError(f"{url}: still {response.status} after {self.max_retries} retries")

    def _send(self, url: str, headers: Mapping[str, str]) -> Response:
        with self._lock:
            now = self.clock()
            if now < self._next_at:
                self.sleep(self._next_at - now)
                now = self.clock()
            self._next_at = now + self.min_interval
            self.requests += 1
            self.sent_at.append(now)
        request = Request(url, headers={"User-Agent": self.user_agent, **headers})
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                body = decode_body(resp.read(), resp.headers.get("Content-Encoding"))
                return Response(resp.geturl(), resp.status, resp.headers, body)
        except HTTPError as err:
            try:
                body = err.read()
            except (OSError, HTTPException):
                body = b""
            return Response(url, err.code, err.headers, body)
        except (URLError, HTTPException, OSError) as err:
            reason = getattr(err, "reason", err)
            raise FetchError(f"{url}: {reason}") from err

    @staticmethod
    def _wall_clock() -> float:
        return time.time()

    def rate(self) -> float:
        """Requests per second over the whole run (0 before two requests)."""
        if len(self.sent_at) < 2:
            return 0.0
        span = self.sent_at[-1] - self.sent_at[0]
        return (len(self.sent_at) - 1) / span if span > 0 else float("inf")


def decode_body(body: bytes, encoding: str | None) -> bytes:
    """``body`` without its Content-Encoding (gzip, deflate, br); undecodable bytes
    are returned as they are, for the page checks to refuse."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    try:
        for coding in reversed(codings):
            if coding in ("gzip", "x-gzip"):
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif coding == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
            elif coding == "br":
                body = _unbrotli(body)
    except (zlib.error, OSError, ValueError):
        return body
    return body


def _unbrotli(body: bytes) -> bytes:
    try:
        import brotli  # installed with Scrapy, for the same decoding

        return bytes(brotli.decompress(body))
    except Exception as err:  # brotli.error derives from Exception only
        raise ValueError(f"undecodable brotli body: {err}") from err


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class ResumeState:
    """What a rescue has fetched, kept in a JSON-lines file so that an interrupted
    or repeated rescue fetches only what it lacks.

    One line per finished capture: ``{"key": ..., **info}``; a line cut short by
    an interruption is ignored on reading.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._done: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    self._done[entry["key"]] = entry

    @staticmethod
    def key(source: str, url: str, timestamp: str) -> str:
        return f"{source} {timestamp} {url}"

    def __contains__(self, key: object) -> bool:
        return key in self._done

    def __len__(self) -> int:
        return len(self._done)

    def get(self, key: str) -> dict[str, object] | None:
        return self._done.get(key)

    def record(self, key: str, **info: object) -> None:
        """Mark ``key`` fetched (durably: the line is flushed and synced)."""
        entry = {"key": key, **info}
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._done[key] = entry

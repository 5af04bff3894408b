"""Fetches the few pages platform detection reads: a site's home page, its
robots.txt and at most :data:`MAX_ARTICLES` article-looking pages it links.

Polite: one request at a time with :data:`DELAY` seconds between them, the
crawler's User-Agent, robots.txt obeyed for everything but robots.txt
itself. The weighing is :func:`scraper.families.detect.detect` (pure).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.message import Message
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import Request, urlopen
from urllib.robotparser import RobotFileParser

from scraper.families import families
from scraper.families.detect import Detection, FetchedPage, detect

#: Identifies the archive to the portal, as its crawls do.
USER_AGENT = ("portal-archive/0.1 (archival crawler preserving Vietnamese district news "
              "portals; polite: obeys robots.txt, 1-2 requests at a time)")
MAX_ARTICLES = 2
DELAY = 1.0
TIMEOUT = 20.0
#: Bytes read of a page at most.
MAX_BYTES = 2_000_000

_HREF = re.compile(r"""\bhref\s*=\s*["']([^"'#]+)""", re.I)
#: A link that looks like a news article when no family's rules know it:
#: a long slug, with an id or a page extension.
_ARTICLE_SHAPE = re.compile(r"/[^/?#]*-[^/?#]*-[^/?#]*-[^/?#]+(?:\.(?:html?|aspx|php)|-\d+)?/?$", re.I)


class Unreachable(Exception):
    """The home page could not be fetched (one-line message)."""


def fetch(url: str, timeout: float = TIMEOUT) -> FetchedPage:
    """``(final url, status, headers, body)``; an HTTP error status is a page too."""
    request = Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*"})
    try:
        with urlopen(request, timeout=timeout) as resp:
            return resp.geturl(), resp.status, _headers(resp.headers), resp.read(MAX_BYTES)
    except HTTPError as err:
        body = err.read(MAX_BYTES) if err.fp is not None else b""
        return url, err.code, _headers(err.headers), body


def _headers(message: Message | None) -> list[tuple[str, str]]:
    return list(message.items()) if message is not None else []


def article_links(page: FetchedPage, limit: int = MAX_ARTICLES) -> list[str]:
    """Up to ``limit`` same-site links of ``page`` that look like articles: those
    a family's link rules call articles first, then those shaped like one."""
    url, _, _, body = page
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    host = urlsplit(url).hostname
    links: list[str] = []
    for m in _HREF.finditer(text):
        link = urljoin(url, m.group(1).strip().replace("&amp;", "&"))
        parts = urlsplit(link)
        if parts.scheme in ("http", "https") and parts.hostname == host and link not in links:
            links.append(link)
    rules = [f.links for f in families().values() if f.links.article is not None]
    known = [u for u in links if any(r.classify(u) == "article" for r in rules)]
    shaped = [u for u in links if u not in known and _ARTICLE_SHAPE.search(urlsplit(u).path)
              and not any(r.classify(u) == "skip" for r in rules)]
    return (known + shaped)[:limit]


def probe(url: str, *, delay: float = DELAY, timeout: float = TIMEOUT,
          sleep: Callable[[float], None] = time.sleep) -> tuple[Detection, list[str]]:
    """Detect the family of the site at ``url``: the detection and the URLs read."""
    try:
        home = fetch(url, timeout)
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise Unreachable(f"cannot reach {url}: {reason}") from None
    if home[1] >= 400:
        raise Unreachable(f"cannot read {url}: HTTP {home[1]}")
    pages = [home]
    robots_url = urljoin(home[0], "/robots.txt")
    robots = RobotFileParser(robots_url)
    try:
        sleep(delay)
        got = fetch(robots_url, timeout)
        pages.append(got)
        body = got[3].decode("utf-8", "replace") if isinstance(got[3], bytes) else got[3]
        robots.parse(body.splitlines() if got[1] == 200 else [])
    except (URLError, OSError, ValueError):
        robots.parse([])
    for link in article_links(home):
        if not robots.can_fetch(USER_AGENT, link):
            continue
        sleep(delay)
        try:
            pages.append(fetch(link, timeout))
        except (URLError, OSError, ValueError):
            continue
    # robots.txt counts for its headers and cookies, not as a page.
    weighed = [(u, status, headers, b"" if u == robots_url else body)
               for u, status, headers, body in pages]
    return detect(weighed), [p[0] for p in pages]

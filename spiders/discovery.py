"""Discovery for portals no layout's link rules know.

A portal nobody has profiled is still crawled whole:

* **sitemaps**: ``Sitemap:`` lines of robots.txt and ``/sitemap.xml``
  (sitemap indexes followed, gzip accepted);
* **feeds**: RSS/Atom feeds a page announces with ``<link rel="alternate">``;
* **links**: every on-host link of every page (the spider's own loop),
  pagination included, article-looking URLs first;
* **page shape** (:mod:`scraper.extract.shape`): a page shaped like a list
  of headlines is followed but not archived; it is counted in the crawl's
  stats as ``portal_archive/dropped/listing``.

The parsing functions are pure (bytes/str in, URLs out); :class:`Discovery`
is the Scrapy glue the portal spider calls.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from scrapy import Request
from scrapy.http import Response, TextResponse

from scraper.extract.shape import looks_like_listing
from scraper.extract.urls import canonicalize_url
from scraper.runcontext import RunStats

#: Where sitemaps live when robots.txt names none.
DEFAULT_SITEMAPS = ("/sitemap.xml",)
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
#: At most this many sitemap files are read (a sitemap index may list thousands).
MAX_SITEMAPS = 2000

#: URL shapes of article pages on many platforms: a date in the path, an id
#: before .html/.aspx/.htm, or a long slug.
ARTICLE_URL = re.compile(
    r"/\d{4}[-/]\d{1,2}[-/]\d{1,2}/|[-_/](?:a|id|n|tin|bai)?-?\d{3,}\.(?:html?|aspx|php)$|"
    r"/[a-z0-9]+(?:-[a-z0-9]+){4,}(?:\.html?|\.aspx|/)?$|[?&](?:id|newsid|articleid|itemid)=\d+",
    re.I,
)
#: URL shapes of listing pages: page numbers, categories.
LISTING_URL = re.compile(
    r"[?&](?:page|p|trang|pageindex|pagenum)=\d+|/(?:page|trang)[/-]?\d+/?$|"
    r"/(?:category|categories|chuyen-muc|danh-muc|tag|tags)/",
    re.I,
)


def url_kind(url: str) -> str:
    """``listing``, ``article`` or ``page`` (unknown) from the URL alone."""
    if LISTING_URL.search(url):
        return "listing"
    if ARTICLE_URL.search(url):
        return "article"
    return "page"


def sitemaps_in_robots(text: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt (absolute)."""
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "sitemap" and value.strip():
            out.append(urljoin(base_url, value.strip()))
    return out


#: A gzip sitemap or feed inflates to at most this many bytes (setting
#: PORTAL_ARCHIVE_MAX_INFLATE): a 2 MB bomb that would inflate to gigabytes
#: is read no further.
MAX_INFLATE = 32 * 1024 * 1024


class InflateLimit(ValueError):
    """A compressed body inflates past its cap."""


def gunzip_capped(body: bytes, limit: int = MAX_INFLATE) -> bytes:
    """``body`` inflated (gzip, one or more members), streaming; InflateLimit past ``limit``."""
    out = bytearray()
    data = body
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = data
        while chunk:
            out += inflater.decompress(chunk, 64 * 1024)
            if len(out) > limit:
                raise InflateLimit(f"inflates past {limit} bytes")
            chunk = inflater.unconsumed_tail
        if not inflater.eof:
            raise OSError("truncated gzip data")
        data = inflater.unused_data
        if data[:2] != b"\x1f\x8b":
            break
    return bytes(out)


def _xml_root(body: bytes, limit: int = MAX_INFLATE) -> Any:
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip_capped(body, limit)
        except (OSError, EOFError, zlib.error):
            return None
    try:
        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                                 huge_tree=False)
        return etree.fromstring(body.lstrip(), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_sitemap(body: bytes) -> tuple[list[str], list[str]]:
    """``(page URLs, sitemap URLs)`` of a sitemap or sitemap index."""
    root = _xml_root(body)
    if root is None:
        return [], []
    pages: list[str] = []
    sitemaps: list[str] = []
    kind = _local(root.tag)
    for el in root.iter():
        if _local(el.tag) == "loc" and el.text and el.text.strip():
            parent = el.getparent()
            target = sitemaps if kind == "sitemapindex" or (
                parent is not None and _local(parent.tag) == "sitemap") else pages
            target.append(el.text.strip())
    return pages, sitemaps


def parse_feed(body: bytes, base_url: str) -> list[str]:
    """Item links of an RSS or Atom feed."""
    root = _xml_root(body)
    if root is None:
        return []
    out = []
    for el in root.iter():
        name = _local(el.tag)
        if name == "link":
            parent = el.getparent()
            parent_name = _local(parent.tag) if parent is not None else ""
            if parent_name not in ("item", "entry"):
                continue
            href = el.get("href") or (el.text or "").strip()
            if href and el.get("rel", "alternate") == "alternate":
                out.append(urljoin(base_url, href))
    return out


def feeds_in_page(html: str, base_url: str) -> list[str]:
    """Feeds a page announces in its head (``<link rel="alternate" type="…rss+xml">``)."""
    found = []
    for m in re.finditer(r"<link\b[^>]*>", html[:200_000], re.I):
        tag = m.group(0)
        if not re.search(r"rel\s*=\s*[\"']?alternate", tag, re.I):
            continue
        if not any(t in tag.lower() for t in FEED_TYPES):
            continue
        href = re.search(r"href\s*=\s*[\"']([^\"']+)", tag, re.I)
        if href:
            found.append(urljoin(base_url, href.group(1).strip()))
    return found


class Discovery:
    """The spider's discovery helper (used when the layout's rules know no URLs)."""

    def __init__(self, spider: Any) -> None:
        self.spider = spider
        self.sitemaps_seen: set[str] = set()
        self.feeds_seen: set[str] = set()

    def _inc(self, key: str) -> None:
        crawler = getattr(self.spider, "crawler", None)
        RunStats(getattr(crawler, "stats", None)).inc(key)

    def _page_request(self, url: str) -> Request | None:
        url = canonicalize_url(url)
        if not self.spider._on_portal(url) or not self.spider.wants(url):
            return None
        kind = url_kind(url)
        return Request(url, callback=self.spider.parse, priority=10 if kind == "article" else 0,
                       errback=self.spider._failed,
                       meta={"portal_archive_article": True} if kind == "article" else {})

    # ------------------------------------------------------------ requests
    def start_requests(self) -> Iterator[Request]:
        base = self.spider.portal.base_url
        yield Request(urljoin(base, "/robots.txt"), callback=self.parse_robots,
                      dont_filter=True, priority=20, errback=self._ignore)
        for path in DEFAULT_SITEMAPS:
            yield from self._sitemap_request(urljoin(base, path))

    def _sitemap_request(self, url: str) -> Iterator[Request]:
        if url in self.sitemaps_seen or len(self.sitemaps_seen) >= MAX_SITEMAPS:
            return
        self.sitemaps_seen.add(url)
        yield Request(url, callback=self.parse_sitemap, priority=15, errback=self._ignore)

    def _inflated(self, body: bytes) -> bytes | None:
        """A gzip body inflated within its cap (None and counted past it)."""
        if body[:2] != b"\x1f\x8b":
            return body
        crawler = getattr(self.spider, "crawler", None)
        settings = getattr(crawler, "settings", None)
        limit = settings.getint("PORTAL_ARCHIVE_MAX_INFLATE", MAX_INFLATE) if settings \
            else MAX_INFLATE
        try:
            return gunzip_capped(body, limit)
        except InflateLimit:
            self._inc("bombs/sitemap")
            return None
        except (OSError, EOFError, zlib.error):
            self._inc("discovery/bad_gzip")
            return None

    def _ignore(self, failure: Any) -> None:
        """A portal without robots.txt or sitemap is normal."""

    def parse_robots(self, response: Response) -> Iterator[Request]:
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        for url in sitemaps_in_robots(response.text, response.url):
            yield from self._sitemap_request(url)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if response.status != 200:
            return
        body = self._inflated(response.body)
        if body is None:
            return
        pages, sitemaps = parse_sitemap(body)
        if pages or sitemaps:
            self._inc("discovery/sitemaps")
        for url in sitemaps:
            yield from self._sitemap_request(url)
        for url in pages:
            request = self._page_request(url)
            if request is not None:
                self._inc("discovery/sitemap_urls")
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if response.status != 200:
            return
        body = self._inflated(response.body)
        if body is None:
            return
        for url in parse_feed(body, response.url):
            request = self._page_request(url)
            if request is not None:
                self._inc("discovery/feed_urls")
                yield request

    def from_page(self, response: TextResponse) -> Iterator[Request]:
        """Feeds announced by a page."""
        for url in feeds_in_page(response.text, response.url):
            if url not in self.feeds_seen and self.spider._on_portal(canonicalize_url(url)):
                self.feeds_seen.add(url)
                self._inc("discovery/feeds")
                yield Request(url, callback=self.parse_feed, priority=15, errback=self._ignore)

    # ------------------------------------------------------------- shape
    def is_listing(self, response: TextResponse) -> bool:
        """A page shaped like a list of headlines: followed, not archived (counted)."""
        try:
            doc = lxml_html.document_fromstring(response.text)
        except (etree.ParserError, ValueError):
            return False
        if looks_like_listing(doc, response.url):
            self._inc("dropped/listing")
            self._inc("dropped")
            return True
        return False

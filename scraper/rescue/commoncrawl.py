"""Common Crawl: its crawls, its CDX index, and records read by byte range.

- ``{index}/collinfo.json`` lists the crawls (``CC-MAIN-2024-10``...) with
  their ``cdx-api`` endpoint and the period they cover (``from``/``to``);
- each crawl's index answers ``output=json`` with one JSON object per line
  (``url timestamp mime status digest length offset filename``, and
  ``truncated`` when the crawler cut the record short); ``showNumPages=true``
  tells how many pages a query has; "no captures" is a 404;
- a record is the ``length`` bytes at ``offset`` of the WARC file
  ``{data}/{filename}``, one gzip member read with warcio.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from scraper.rescue.capture import Capture, CdxFormatError, parse_cdx
from scraper.rescue.fetcher import PoliteFetcher
from scraper.rescue.wayback import MATCH_TYPES, ArchiveError, RawCapture

CC_INDEX = "https://index.commoncrawl.org"
CC_DATA = "https://data.commoncrawl.org"


@dataclass(frozen=True)
class Crawl:
    id: str
    cdx_api: str
    start: datetime | None
    end: datetime | None


def parse_collinfo(text: str) -> list[Crawl]:
    """The crawls listed by ``collinfo.json``, newest first as listed."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as err:
        raise ArchiveError(f"collinfo.json is not JSON: {err}") from err
    if not isinstance(items, list):
        raise ArchiveError("collinfo.json is not a list of crawls")
    crawls = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item or "cdx-api" not in item:
            raise ArchiveError(f"a crawl without id or cdx-api in collinfo.json: {item!r}")
        crawls.append(Crawl(str(item["id"]), str(item["cdx-api"]),
                            _iso(item.get("from")), _iso(item.get("to"))))
    return crawls


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def choose_crawls(crawls: list[Crawl], since: datetime | None = None,
                  until: datetime | None = None) -> list[Crawl]:
    """The crawls whose period overlaps ``[since, until]`` (a crawl without dates is kept)."""
    chosen = []
    for crawl in crawls:
        if since and crawl.end and crawl.end < since:
            continue
        if until and crawl.start and crawl.start > until:
            continue
        chosen.append(crawl)
    return chosen


@dataclass
class CommonCrawlClient:
    fetcher: PoliteFetcher
    index: str = CC_INDEX
    data: str = CC_DATA
    index_requests: int = 0

    def crawls(self) -> list[Crawl]:
        response = self.fetcher.get(f"{self.index.rstrip('/')}/collinfo.json")
        if response.status != 200:
            raise ArchiveError(f"collinfo.json: HTTP {response.status}")
        return parse_collinfo(response.body.decode("utf-8", "replace"))

    def _get_index(self, crawl: Crawl, params: list[tuple[str, str]]) -> str | None:
        self.index_requests += 1
        response = self.fetcher.get(f"{crawl.cdx_api}?{urlencode(params)}")
        if response.status == 404:
            return None
        if response.status != 200:
            raise ArchiveError(f"{crawl.id} index answered {response.status}")
        return response.body.decode("utf-8", "replace")

    def captures(self, url: str, crawl: Crawl, match_type: str = "prefix") -> Iterator[Capture]:
        """Every row of ``crawl``'s index for ``url``, each (URL, timestamp, digest) once."""
        if match_type not in MATCH_TYPES:
            raise ValueError(f"matchType must be one of {', '.join(MATCH_TYPES)}")
        base = [("url", url), ("matchType", match_type), ("output", "json")]
        text = self._get_index(crawl, [*base, ("showNumPages", "true")])
        if text is None:
            return
        try:
            pages = int(json.loads(text).get("pages", 1))
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError) as err:
            raise ArchiveError(f"{crawl.id}: unreadable page count {text[:80]!r}") from err
        seen: set[tuple[str, str, str]] = set()
        for page in range(pages):
            text = self._get_index(crawl, [*base, ("page", str(page))])
            if text is None:
                break
            try:
                rows = parse_cdx(text, source="commoncrawl").rows
            except CdxFormatError as err:
                raise ArchiveError(f"{crawl.id}: {err}") from err
            fresh = 0
            for row in rows:
                ident = (row.key, row.timestamp, row.digest)
                if ident not in seen:
                    seen.add(ident)
                    fresh += 1
                    yield row
            if not fresh:
                break

    def fetch(self, capture: Capture) -> RawCapture:
        """The capture's HTTP response, read from its WARC record by byte range."""
        if capture.filename is None or capture.offset is None or not capture.length:
            raise ArchiveError(f"{capture.url}: the index row gives no WARC location")
        where = f"{self.data.rstrip('/')}/{capture.filename}"
        last = capture.offset + capture.length - 1
        response = self.fetcher.get(where, headers={"Range": f"bytes={capture.offset}-{last}"})
        if response.status != 206 or len(response.body) != capture.length:
            raise ArchiveError(f"{where}: range {capture.offset}-{last} answered "
                               f"{response.status} with {len(response.body)} bytes")
        try:
            for record in ArchiveIterator(io.BytesIO(response.body)):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                status = int(record.http_headers.get_statuscode() or 0)
                ctype = record.http_headers.get_header("Content-Type") or ""
                body = record.content_stream().read()
                return RawCapture(capture, status, ctype, body,
                                  f"{where}#{capture.offset}+{capture.length}",
                                  list(record.http_headers.headers))
        except (ArchiveLoadFailed, OSError, ValueError, EOFError) as err:
            raise ArchiveError(f"{where}@{capture.offset}: unreadable WARC record: {err}") from err
        raise ArchiveError(f"{where}@{capture.offset}: no response record")

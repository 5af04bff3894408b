"""A Wayback-compatible archive: its CDX index and its ``id_`` replay.

Works with the Wayback Machine and with pywb (or any server speaking the CDX
protocol), relying on neither's extras:

- the query asks for ``filter`` status 200 / HTML and ``collapse=digest``,
  but every row is filtered and deduplicated again on our side
  (:func:`scraper.rescue.capture.group_captures`): pywb ignores ``collapse``
  and reads ``filter=field:value`` as a substring match;
- paging uses resume keys (``showResumeKey=true`` + ``limit``). A server that
  gives no key while filling the page (it honours ``limit`` but not resume
  keys) is asked again page by page (``page=N``, no limit), and that stops
  as soon as a page adds no new row: pywb returns every row for every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from scraper.rescue.capture import Capture, CdxFormatError, CdxPage, parse_cdx
from scraper.rescue.fetcher import FetchError, PoliteFetcher

WAYBACK_CDX = "https://web.archive.org/cdx/search/cdx"
WAYBACK_REPLAY = "https://web.archive.org/web"
MATCH_TYPES = ("exact", "prefix", "host", "domain")


class ArchiveError(RuntimeError):
    """An archive answered something other than an index or a capture."""


def cdx_query(url: str, match_type: str = "prefix", *, limit: int | None = None,
              resume_key: str | None = None, page: int | None = None,
              since: str | None = None, until: str | None = None,
              html_only: bool = True) -> list[tuple[str, str]]:
    """The CDX query parameters for ``url`` (``since``/``until``: CDX timestamps)."""
    if match_type not in MATCH_TYPES:
        raise ValueError(f"matchType must be one of {', '.join(MATCH_TYPES)}, not {match_type!r}")
    params = [("url", url), ("matchType", match_type), ("output", "json")]
    if html_only:
        params += [("filter", "statuscode:200"), ("filter", "mimetype:text/html")]
    params.append(("collapse", "digest"))
    if since:
        params.append(("from", since))
    if until:
        params.append(("to", until))
    if page is not None:
        params.append(("page", str(page)))
    if limit is not None:
        params += [("limit", str(limit)), ("showResumeKey", "true")]
    if resume_key:
        params.append(("resumeKey", resume_key))
    return params


def replay_url(replay: str, timestamp: str, url: str) -> str:
    """The raw bytes of a capture as served: ``{replay}/{timestamp}id_/{url}``."""
    return f"{replay.rstrip('/')}/{timestamp}id_/{url}"


@dataclass
class RawCapture:
    """A capture's HTTP answer as the portal served it."""

    capture: Capture
    status: int
    content_type: str
    body: bytes
    #: Where the bytes came from (replay URL, or WARC file and range).
    location: str
    #: The portal's own response headers, as far as the archive kept them.
    headers: list[tuple[str, str]] = field(default_factory=list)


#: Replays name the portal's own headers with this prefix (the Wayback Machine, pywb).
ORIGINAL_HEADER = "x-archive-orig-"


def original_headers(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The portal's headers from a replay's (``X-Archive-Orig-*``, and Content-Type)."""
    kept = [(k[len(ORIGINAL_HEADER):], v) for k, v in items
            if k.lower().startswith(ORIGINAL_HEADER)]
    names = {k.lower() for k, _ in kept}
    kept += [(k, v) for k, v in items if k.lower() == "content-type" and "content-type" not in names]
    return kept


@dataclass
class WaybackClient:
    fetcher: PoliteFetcher
    cdx_endpoint: str = WAYBACK_CDX
    replay: str = WAYBACK_REPLAY
    page_size: int = 5000
    #: A safety stop for servers whose pages never run dry.
    max_pages: int = 1000
    #: Index requests made (for the rescue's report).
    index_requests: int = 0

    def _index(self, params: list[tuple[str, str]]) -> CdxPage:
        self.index_requests += 1
        response = self.fetcher.get(f"{self.cdx_endpoint}?{urlencode(params)}")
        if response.status == 404:
            return CdxPage([])  # some servers answer "no captures" with 404
        if response.status != 200:
            raise ArchiveError(f"CDX server answered {response.status} for {response.url}")
        try:
            return parse_cdx(response.body.decode("utf-8", "replace"))
        except CdxFormatError as err:
            raise ArchiveError(f"CDX server's answer unreadable: {err}") from err

    def captures(self, url: str, match_type: str = "prefix", since: str | None = None,
                 until: str | None = None) -> Iterator[Capture]:
        """Every row the index holds for ``url``, each (URL, timestamp, digest) once."""
        seen: set[tuple[str, str, str]] = set()

        def new(rows: list[Capture]) -> list[Capture]:
            fresh = []
            for row in rows:
                ident = (row.key, row.timestamp, row.digest)
                if ident not in seen:
                    seen.add(ident)
                    fresh.append(row)
            return fresh

        page = self._index(cdx_query(url, match_type, limit=self.page_size,
                                     since=since, until=until))
        yield from new(page.rows)
        pages = 1
        while page.resume_key and pages < self.max_pages:
            page = self._index(cdx_query(url, match_type, limit=self.page_size, since=since,
                                         until=until, resume_key=page.resume_key))
            pages += 1
            fresh = new(page.rows)
            if not fresh:
                return
            yield from fresh
        if page.resume_key or len(page.rows) < self.page_size:
            return
        # A full page and no resume key: the server ignores resume keys. Page by
        # page without a limit, until a page brings nothing new.
        for number in range(self.max_pages):
            fresh = new(self._index(cdx_query(url, match_type, page=number, since=since,
                                              until=until)).rows)
            if not fresh:
                return
            yield from fresh

    def fetch(self, capture: Capture) -> RawCapture:
        """The capture's bytes as served (``id_`` replay: no rewriting, no banner)."""
        where = replay_url(self.replay, capture.timestamp, capture.url)
        response = self.fetcher.get(where)
        ctype = response.headers.get("Content-Type", "") or ""
        return RawCapture(capture, response.status, ctype, response.body, where,
                          original_headers(list(response.headers.items())))

    def fetch_url(self, url: str, timestamp: str) -> RawCapture:
        """The capture of ``url`` closest to ``timestamp`` (images and documents of an
        article: the archive picks the nearest capture it holds)."""
        return self.fetch(Capture(url=url, timestamp=timestamp, status=None, mime="", digest=""))


__all__ = ["ArchiveError", "FetchError", "RawCapture", "WaybackClient", "cdx_query",
           "original_headers", "replay_url"]

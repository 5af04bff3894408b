"""Captures as archive indexes describe them, and the best one per URL.

Pure functions: no network, no clock. Three answer shapes are read:

- the Wayback Machine's ``output=json``: one JSON array whose first row names
  the fields (``urlkey timestamp original mimetype statuscode digest length``),
  then, when ``showResumeKey=true`` and more rows remain, an empty row and a
  one-element row holding the resume key;
- plain text: space-separated fields in that same order (a blank line then the
  resume key), or pywb's CDXJ lines ``urlkey timestamp {json}``;
- JSON lines (pywb's and Common Crawl's ``output=json``): one object per line
  with the fields ``urlkey timestamp url mime status digest length offset
  filename`` (Common Crawl adds ``mime-detected``, ``truncated`` and more).

A capture's 14-digit timestamp is when the archive saw the page, never when
the page was published.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: The Wayback Machine's default field order (plain text, and json without a header).
WAYBACK_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")

#: Field names of every shape → our names.
_ALIASES = {
    "original": "url", "url": "url",
    "mimetype": "mime", "mime": "mime",
    "statuscode": "status", "status": "status",
    "urlkey": "urlkey", "timestamp": "timestamp", "digest": "digest",
    "length": "length", "offset": "offset", "filename": "filename",
    "truncated": "truncated", "mime-detected": "mime_detected",
}

HTML_MIMES = frozenset({"text/html", "application/xhtml+xml"})


class CdxFormatError(ValueError):
    """An index answer in none of the shapes we read."""


@dataclass(frozen=True)
class Capture:
    """One row of an archive's index: a response the archive recorded."""

    url: str
    #: ``YYYYMMDDhhmmss`` (UTC): when the archive fetched the page.
    timestamp: str
    #: HTTP status, None for revisits and records without one (``-``).
    status: int | None
    mime: str
    digest: str
    urlkey: str = ""
    length: int | None = None
    #: Where the record lies in a WARC file (pywb, Common Crawl).
    filename: str | None = None
    offset: int | None = None
    #: Common Crawl's reason when it cut the record short (``length``, ``time``...).
    truncated: str | None = None
    #: The archive it came from: ``wayback`` or ``commoncrawl``.
    source: str = "wayback"

    @property
    def captured_at(self) -> datetime:
        """The capture time as an aware UTC datetime."""
        return parse_timestamp(self.timestamp)

    @property
    def key(self) -> str:
        """What identifies the URL across captures (the archive's SURT key when given)."""
        return self.urlkey or self.url

    @property
    def is_candidate(self) -> bool:
        """Could be a whole article page: status 200, HTML, not cut short by the archive."""
        return self.status == 200 and self.mime in HTML_MIMES and not self.truncated


def parse_timestamp(ts: str) -> datetime:
    """A 4-14 digit CDX timestamp as UTC; missing parts are the earliest value."""
    if not (4 <= len(ts) <= 14 and ts.isdigit()):
        raise ValueError(f"not a CDX timestamp: {ts!r}")
    ts = ts + "0101000000"[len(ts) - 4:] if len(ts) < 14 else ts
    return datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def format_timestamp(when: datetime) -> str:
    """``when`` as a 14-digit CDX timestamp (UTC)."""
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


@dataclass
class CdxPage:
    """One answer of an index: its rows and, if the server gave one, the key to resume."""

    rows: list[Capture]
    resume_key: str | None = None


def capture_from_fields(fields: Mapping[str, object], source: str = "wayback") -> Capture:
    """A :class:`Capture` from one row's fields under any of the known names."""
    norm: dict[str, str] = {}
    for name, value in fields.items():
        ours = _ALIASES.get(name)
        if ours is not None and value is not None:
            norm[ours] = str(value)
    missing = [f for f in ("url", "timestamp") if not norm.get(f)]
    if missing:
        raise CdxFormatError(f"index row without {', '.join(missing)}: {dict(fields)!r}")
    status = norm.get("status", "")
    mime = norm.get("mime", "").split(";")[0].strip().lower()
    if mime in ("", "unk") and norm.get("mime_detected"):
        mime = norm["mime_detected"].lower()
    return Capture(
        url=norm["url"], timestamp=norm["timestamp"],
        status=int(status) if status.isdigit() else None,
        mime=mime, digest=norm.get("digest", ""), urlkey=norm.get("urlkey", ""),
        length=_int(norm.get("length")), filename=norm.get("filename") or None,
        offset=_int(norm.get("offset")), truncated=norm.get("truncated") or None,
        source=source)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_cdx(text: str, source: str = "wayback") -> CdxPage:
    """Parse any CDX answer shape (see the module docstring) into rows and a resume key."""
    body = text.strip()
    if not body:
        return CdxPage([])
    if body.startswith("["):
        return _parse_json_array(body, source)
    if body.startswith("{"):
        rows = []
        for line in body.splitlines():
            if line.strip():
                rows.append(capture_from_fields(_json_object(line), source))
        return CdxPage(rows)
    return _parse_text(body, source)


def _json_object(line: str) -> dict[str, object]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        raise CdxFormatError(f"not a JSON line: {line[:80]!r}") from err
    if not isinstance(value, dict):
        raise CdxFormatError(f"not a JSON object: {line[:80]!r}")
    return value


def _parse_json_array(body: str, source: str) -> CdxPage:
    try:
        table = json.loads(body)
    except json.JSONDecodeError as err:
        raise CdxFormatError(f"not a JSON array: {body[:80]!r}") from err
    if not isinstance(table, list) or not all(isinstance(r, list) for r in table):
        raise CdxFormatError("a JSON CDX answer must be an array of arrays")
    if not table:
        return CdxPage([])
    header = [str(h) for h in table[0]]
    if "timestamp" not in header:
        raise CdxFormatError(f"the first row does not name the fields: {header!r}")
    rows: list[Capture] = []
    resume: str | None = None
    data = table[1:]
    for i, row in enumerate(data):
        if not row:
            # An empty row ends the data; the next one holds the resume key.
            if i + 1 < len(data) and data[i + 1]:
                resume = str(data[i + 1][0])
            break
        rows.append(capture_from_fields(dict(zip(header, row, strict=False)), source))
    return CdxPage(rows, resume)


def _parse_text(body: str, source: str) -> CdxPage:
    rows: list[Capture] = []
    lines = body.splitlines()
    resume: str | None = None
    for i, line in enumerate(lines):
        if not line.strip():
            rest = [x.strip() for x in lines[i + 1:] if x.strip()]
            resume = rest[0] if rest else None
            break
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[2].startswith("{"):
            fields = _json_object(parts[2])
            fields.setdefault("urlkey", parts[0])
            fields.setdefault("timestamp", parts[1])
            rows.append(capture_from_fields(fields, source))
            continue
        parts = line.split()
        if len(parts) < len(WAYBACK_FIELDS):
            raise CdxFormatError(f"a CDX line with {len(parts)} fields: {line[:80]!r}")
        rows.append(capture_from_fields(dict(zip(WAYBACK_FIELDS, parts, strict=False)), source))
    return CdxPage(rows, resume)


# ------------------------------------------------------------------ best capture
@dataclass
class UrlCaptures:
    """Every distinct capture of one URL, newest first, one per digest."""

    key: str
    url: str
    #: Candidates (status 200, HTML, not truncated), newest first, one per digest.
    candidates: list[Capture] = field(default_factory=list)
    #: Rows that can never be the article: other statuses, other types, truncated.
    rejected: list[Capture] = field(default_factory=list)


@dataclass
class Choice:
    """The capture to keep for one URL, and the older different ones (versions)."""

    url: str
    best: Capture | None
    versions: list[Capture]
    #: Captures refused as broken once fetched, with the reason.
    broken: list[tuple[Capture, str]]


def group_captures(rows: Iterable[Capture]) -> dict[str, UrlCaptures]:
    """Captures by URL key, deduplicated on (URL, digest), candidates newest first.

    Does the work a server's ``collapse=digest`` and ``filter=`` would do, so a
    server that ignores them (pywb) gives the same result.
    """
    groups: dict[str, UrlCaptures] = {}
    newest: dict[tuple[str, str], Capture] = {}
    for row in rows:
        group = groups.setdefault(row.key, UrlCaptures(row.key, row.url))
        if not row.is_candidate:
            group.rejected.append(row)
            continue
        ident = (row.key, row.digest or row.timestamp)
        seen = newest.get(ident)
        if seen is None or row.timestamp > seen.timestamp:
            newest[ident] = row
    for (key, _), row in newest.items():
        groups[key].candidates.append(row)
    for group in groups.values():
        group.candidates.sort(key=lambda c: c.timestamp, reverse=True)
        group.rejected.sort(key=lambda c: c.timestamp, reverse=True)
    return groups


def choose(group: UrlCaptures, check: Callable[[Capture], str | None]) -> Choice:
    """Walk ``group``'s candidates newest first; the first that ``check`` accepts
    (returns None for) is the best, the older candidates are its versions.

    ``check`` fetches and inspects a capture and returns why it is broken (a
    truncated page, an error page...), or None when it is whole. It is called
    for as few captures as needed.
    """
    broken: list[tuple[Capture, str]] = []
    for i, capture in enumerate(group.candidates):
        reason = check(capture)
        if reason is None:
            return Choice(group.url, capture, group.candidates[i + 1:], broken)
        broken.append((capture, reason))
    return Choice(group.url, None, [], broken)


def body_problem(body: bytes, declared_length: int | None = None) -> str | None:
    """Why an HTML capture's body is not a whole page, or None when it looks whole.

    A body shorter than its declared length, empty, or without the closing
    ``</body>``/``</html>`` of an HTML page was cut short in transfer or in
    the archive.
    """
    if not body.strip():
        return "empty"
    if declared_length is not None and len(body) < declared_length:
        return "truncated"
    tail = body[-4096:].lower()
    if b"</html" not in tail and b"</body" not in tail:
        return "truncated"
    return None

"""WACZ packages (Web Archive Collection Zipped, spec 1.1.1).

One ZIP file that ReplayWeb.page and pywb open as a collection::

    archive/*.warc.gz          the WARC files, stored as they are (not recompressed)
    indexes/index.cdx          a CDXJ index of their responses: ``SURT timestamp {json}``
    pages/pages.jsonl          one line per article: URL, capture time, title, our text
    datapackage.json           every file above with its size and SHA-256
    datapackage-digest.json    the SHA-256 of datapackage.json

:func:`write_wacz` builds it from WARC files and page records; the index is
computed here from the WARC files (warcio reads them).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from warcio.archiveiterator import ArchiveIterator

WACZ_VERSION = "1.1.1"
SOFTWARE = "portal-archive"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def surt_key(url: str) -> str:
    """The SURT form of ``url`` that CDX indexes sort and look up by.

    ``http://www.Example.gov.vn:8080/Path?b=2&a=1`` → ``vn,gov,example:8080)/path?a=1&b=2``:
    scheme and a leading ``www.`` dropped, host labels reversed (an IP address's
    reversed too, as the ``surt`` package does), default port dropped, lower case,
    query arguments sorted.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().strip(".")
    if host.startswith("www.") and host.count(".") > 1:
        host = host[4:]
    key = ",".join(reversed(host.split(".")))
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        key += f":{parts.port}"
    path = parts.path or "/"
    key += ")" + path.lower()
    if parts.query:
        key += "?" + urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True))).lower()
    return key


@dataclass(frozen=True)
class PageRecord:
    """One entry of ``pages/pages.jsonl``."""

    url: str
    #: When the page was captured (not when it was published).
    captured: datetime
    title: str | None = None
    text: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class CdxjLine:
    key: str
    timestamp: str
    fields: dict[str, str]

    def render(self) -> str:
        return f"{self.key} {self.timestamp} {json.dumps(self.fields, ensure_ascii=False)}"


def index_warc(path: Path, name: str | None = None) -> list[CdxjLine]:
    """CDXJ lines of the response and revisit records of one WARC file."""
    lines: list[CdxjLine] = []
    filename = name or path.name
    with path.open("rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type not in ("response", "revisit"):
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date")
            if not url or not date:
                continue
            fields = {"url": url}
            if record.http_headers is not None:
                ctype = record.http_headers.get_header("Content-Type") or ""
                mime = ctype.split(";")[0].strip().lower()
                fields["mime"] = "warc/revisit" if record.rec_type == "revisit" else mime
                fields["status"] = str(record.http_headers.get_statuscode() or "")
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            if digest:
                fields["digest"] = digest
            offset = records.get_record_offset()
            length = records.get_record_length()
            fields.update(length=str(length), offset=str(offset), filename=filename)
            lines.append(CdxjLine(surt_key(url), _timestamp(date), fields))
    return lines


def _timestamp(warc_date: str) -> str:
    when = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pages_jsonl(pages: Iterable[PageRecord]) -> bytes:
    """``pages/pages.jsonl``: a header line, then one line per page."""
    out = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages",
                       "hasText": True})]
    for n, page in enumerate(pages, 1):
        entry: dict[str, str] = {"id": page.id or f"page-{n}", "url": page.url,
                                 "ts": _iso(page.captured)}
        if page.title:
            entry["title"] = page.title
        if page.text:
            entry["text"] = page.text
        out.append(json.dumps(entry, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def write_wacz(out: Path, warcs: Sequence[Path], pages: Iterable[PageRecord], *,
               title: str = "portal-archive", description: str | None = None,
               created: datetime | None = None) -> Path:
    """Write the WACZ package ``out`` from ``warcs`` and ``pages``; returns ``out``.

    WARC file names must be unique (they become ``archive/<name>``). ``created``
    defaults to now.
    """
    names = [w.name for w in warcs]
    if len(set(names)) != len(names):
        raise ValueError("two WARC files with the same name")
    if not warcs:
        raise ValueError("a WACZ package needs at least one WARC file")
    index: list[CdxjLine] = []
    for warc in warcs:
        index.extend(index_warc(warc))
    index.sort(key=lambda line: (line.key, line.timestamp, line.fields.get("filename", ""),
                                 int(line.fields.get("offset", "0"))))
    index_bytes = "".join(line.render() + "\n" for line in index).encode("utf-8")
    resources: list[dict[str, object]] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        for warc in warcs:
            digest = hashlib.sha256()
            with warc.open("rb") as src, zf.open(zipfile.ZipInfo(f"archive/{warc.name}",
                                                                 _zip_time(created)),
                                                 "w", force_zip64=True) as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
            resources.append(_resource(f"archive/{warc.name}", digest.hexdigest(),
                                       warc.stat().st_size))
        for path, data in (("indexes/index.cdx", index_bytes),
                           ("pages/pages.jsonl", pages_jsonl(pages))):
            zf.writestr(zipfile.ZipInfo(path, _zip_time(created)), data,
                        compress_type=zipfile.ZIP_DEFLATED)
            resources.append(_resource(path, hashlib.sha256(data).hexdigest(), len(data)))
        package: dict[str, object] = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title,
            "created": _iso(created or datetime.now(UTC)),
            "software": SOFTWARE,
            "resources": resources,
        }
        if description:
            package["description"] = description
        package_bytes = json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
        zf.writestr(zipfile.ZipInfo("datapackage.json", _zip_time(created)), package_bytes,
                    compress_type=zipfile.ZIP_DEFLATED)
        digest_doc = {"path": "datapackage.json",
                      "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        zf.writestr(zipfile.ZipInfo("datapackage-digest.json", _zip_time(created)),
                    json.dumps(digest_doc, indent=2), compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(out)
    return out


def _resource(path: str, sha256: str, size: int) -> dict[str, object]:
    return {"name": path.rsplit("/", 1)[-1].lower(), "path": path,
            "hash": f"sha256:{sha256}", "bytes": size}


def _zip_time(created: datetime | None) -> tuple[int, int, int, int, int, int]:
    when = (created or datetime.now(UTC)).astimezone(UTC)
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


def read_wacz_pages(path: Path) -> list[dict[str, object]]:
    """The page lines of a WACZ package (its header line left out)."""
    with zipfile.ZipFile(path) as zf:
        text = io.TextIOWrapper(zf.open("pages/pages.jsonl"), encoding="utf-8").read()
    return [json.loads(line) for line in text.splitlines()[1:] if line.strip()]

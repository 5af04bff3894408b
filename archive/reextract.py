"""Rebuild articles from the WARC files alone, with the current extractor.

No network: every HTML response record (status 200) of the crawl's WARC
files is run through :func:`scraper.extract.extract_article` and saved with
:meth:`Archive.save_articles` — the code path of the crawl — with its
capture (WARC file, offset, length). Only pages the portal's layout calls
articles are extracted, as the spider does; the portal itself (id, name,
layout) is read from each file's ``warcinfo`` record.

Files are read in name order (``run<id>-<n>``), so a later capture of an
article wins over an earlier one, and a changed text keeps the old one as a
version, exactly as re-crawling would. A page older than the newest capture
the archive already holds of it is skipped: re-extracting into the archive
the crawl wrote re-reads each article's latest page only, so the history of
versions is not replayed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive.errors import ArchiveError
from archive.store import Archive, Capture, SaveResult
from scraper.extract import extract_article
from scraper.extract.article import Article, NotAnArticle
from scraper.portals import Portal

BATCH = 100
#: A WARC record's body is read up to this size (as the crawl's DOWNLOAD_MAXSIZE):
#: a compressed bomb kept in a WARC file is skipped and counted, not inflated.
MAX_RECORD_BYTES = 32 * 1024 * 1024


@dataclass
class ReextractResult:
    """What a re-extraction did, per portal and in total."""

    files: int = 0
    records: int = 0
    pages: int = 0
    saved: SaveResult = field(default_factory=SaveResult)
    dropped: Counter[str] = field(default_factory=Counter)
    runs: dict[str, int] = field(default_factory=dict)
    #: Pages skipped because the archive holds a later capture of them.
    older: int = 0
    #: Records whose body inflates past MAX_RECORD_BYTES (skipped).
    bombs: int = 0


@dataclass(frozen=True)
class WarcPage:
    """One HTML response read back from a WARC file."""

    url: str
    body: bytes
    fetched: str
    status: int
    file: Path
    offset: int
    length: int
    record_id: str


def warc_files(folder: Path) -> list[Path]:
    """The WARC files under ``folder``, in name order (oldest run first)."""
    if not folder.is_dir():
        raise ArchiveError(f"no WARC folder at {folder}")
    files = [p for p in folder.rglob("*") if p.is_file()
             and (p.name.endswith(".warc.gz") or p.name.endswith(".warc"))]
    return sorted(files, key=lambda p: (str(p.parent), p.name))


def read_warcinfo(path: Path) -> dict[str, str]:
    """The fields of a file's ``warcinfo`` record (empty when it has none)."""
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "warcinfo":
                return {}
            text = record.content_stream().read().decode("utf-8", "replace")
            info: dict[str, str] = {}
            for line in text.splitlines():
                key, sep, value = line.partition(":")
                if sep:
                    info[key.strip()] = value.strip()
            return info
    return {}


def portal_of(info: dict[str, str], path: Path) -> Portal | None:
    """The portal a WARC file was written for, from its warcinfo record."""
    raw = info.get("portal-archive-portal-json")
    if raw:
        try:
            data = json.loads(raw)
            return Portal(id=data["id"], name=data.get("name", data["id"]),
                          province=data.get("province", ""), base_url=data["base_url"],
                          layout=data.get("layout", "generic"))
        except (ValueError, KeyError, TypeError):
            pass
    return None


def iter_html_pages(path: Path, max_bytes: int = MAX_RECORD_BYTES,
                    on_bomb: Callable[[], None] | None = None) -> Iterator[WarcPage]:
    """The HTML responses (status 200) of one WARC file, with their locations.

    A body that inflates past ``max_bytes`` is skipped (``on_bomb`` is told)."""
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            if record.rec_type != "response" or record.http_headers is None:
                continue
            status = int(record.http_headers.get_statuscode() or 0)
            ctype = (record.http_headers.get_header("Content-Type") or "").lower()
            if status != 200 or "html" not in ctype:
                continue
            body = _read_capped(record.content_stream(), max_bytes)
            if body is None:
                if on_bomb is not None:
                    on_bomb()
                continue
            # (warcio knows the offset and length once the record is read.)
            offset = it.get_record_offset()
            yield WarcPage(
                url=record.rec_headers.get_header("WARC-Target-URI") or "",
                body=body,
                fetched=record.rec_headers.get_header("WARC-Date") or "",
                status=status,
                file=path,
                offset=offset,
                length=it.get_record_length(),
                record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
            )


def _read_capped(stream: Any, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` of a record's (decompressed) body, read in chunks;
    None when there is more."""
    out = bytearray()
    while True:
        chunk = stream.read(min(1 << 20, max_bytes + 1 - len(out)))
        if not chunk:
            return bytes(out)
        out += chunk
        if len(out) > max_bytes:
            return None


def _relative(path: Path, archive: Archive) -> str:
    """The file's name relative to the archive's folder (as the crawl records it)."""
    pairs = ((Path(os.path.abspath(archive.path)).parent, Path(os.path.abspath(path))),
             (archive.folder, path.resolve()))
    for base, file in pairs:
        try:
            return str(file.relative_to(base))
        except ValueError:
            continue
    return str(path.resolve())


def reextract(archive: Archive, warc_dir: str | Path | None = None, *,
              portal: str | None = None) -> ReextractResult:
    """Re-extract every article page of the WARC files into ``archive``.

    ``warc_dir`` defaults to the archive's ``warc/`` folder; ``portal`` keeps
    only that portal's files. One crawl run is recorded per portal, marked
    ``{"reextract": true}`` in its settings.
    """
    from scraper.families import link_rules  # core data: URL patterns, no Scrapy

    folder = Path(warc_dir) if warc_dir else archive.folder / "warc"
    result = ReextractResult()
    pending: dict[str, tuple[list[Article], list[Capture | None]]] = {}
    dropped: dict[str, Counter[str]] = {}
    pages: Counter[str] = Counter()

    def flush(pid: str) -> None:
        articles, captures = pending.get(pid, ([], []))
        if articles:
            result.saved = result.saved + archive.save_articles(
                articles, portal_id=pid, run_id=result.runs[pid], captures=captures)
        pending[pid] = ([], [])

    for path in warc_files(folder):
        info = read_warcinfo(path)
        target = portal_of(info, path)
        if target is None:
            continue
        if portal and target.id != portal:
            continue
        result.files += 1
        if target.id not in result.runs:
            archive.ensure_portal(target)
            result.runs[target.id] = archive.start_run(
                target.id, {"reextract": True, "warc_dir": str(folder), "portal": target.id})
            pending[target.id] = ([], [])
            dropped[target.id] = Counter()
        rules = link_rules(target.layout)
        def bomb() -> None:
            result.bombs += 1

        for page in iter_html_pages(path, on_bomb=bomb):
            result.records += 1
            if rules.classify(page.url) not in ("article", "page"):
                continue
            pages[target.id] += 1
            newest = archive.last_capture_time(page.url)
            if newest is not None and newest > page.fetched:
                # The archive holds a later capture of this page: an older one
                # must not replace its text (re-extracting into the same archive).
                result.older += 1
                continue
            try:
                article = extract_article(page.body, page.url)
            except NotAnArticle as exc:
                dropped[target.id][exc.reason] += 1
                continue
            articles, captures = pending[target.id]
            articles.append(article)
            captures.append(Capture(url=page.url, fetched=page.fetched, http_status=page.status,
                                    warc_file=_relative(page.file, archive),
                                    warc_offset=page.offset, warc_length=page.length,
                                    warc_record_id=page.record_id))
            if len(articles) >= BATCH:
                flush(target.id)
    for pid, run_id in result.runs.items():
        flush(pid)
        stats: dict[str, Any] = {
            "reextract": True,
            "portal_archive/pages": pages[pid],
            "portal_archive/bombs/warc_record": result.bombs,
            "portal_archive/dropped": sum(dropped[pid].values()),
            **{f"portal_archive/dropped/{k}": v for k, v in dropped[pid].items()},
        }
        result.dropped.update(dropped[pid])
        archive.finish_run(run_id, stats, columns={
            "pages_dropped": sum(dropped[pid].values()),
            "dropped_reasons": dict(sorted(dropped[pid].items())) or None})
    result.pages = sum(pages.values())
    if not result.files:
        raise ArchiveError(f"no portal-archive WARC files under {folder}"
                           + (f" for portal {portal!r}" if portal else ""))
    return result

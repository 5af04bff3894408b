"""A rescue run: a portal's pages recovered from web archives into the archive.

The same path as a crawl's pages from the moment the bytes are in hand: the
crawl's extraction (:func:`scraper.archiver.extract_page`), the one article
sink (:class:`archive.sink.ArticleSink`, a run of kind ``rescue``), our WARC
files. What differs is where the bytes come from and what their record
says of it: each capture is written as a response record dated with the
archive's capture time, naming the archive's copy (``WARC-Source-URI``) and the
portal's URL it stands for (``WARC-Refers-To-Target-URI``); each article and
capture in the store carries its ``source`` (``wayback``, ``commoncrawl``) and
``captured_at``.

Resumable twice over: a JSON-lines state next to the database records every
URL whose best capture was delivered (after its article is stored), and URLs
the store already holds as articles are not fetched again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.sink import ArticleSink
from archive.store import Capture
from scraper.archiver import extract_page
from scraper.imagefiles import inspect_image
from scraper.portals import Portal
from scraper.rescue.capture import Capture as ArchiveCapture
from scraper.rescue.capture import Choice, UrlCaptures, group_captures
from scraper.rescue.commoncrawl import CC_DATA, CC_INDEX, CommonCrawlClient, choose_crawls
from scraper.rescue.fetcher import FetchError, PoliteFetcher, ResumeState
from scraper.rescue.recover import RecoveryReport, check_raw, fetch_by_source, recover
from scraper.rescue.wayback import (
    WAYBACK_CDX,
    WAYBACK_REPLAY,
    ArchiveError,
    RawCapture,
    WaybackClient,
)
from scraper.warc import RecordLocation, WarcWriter

SOURCES = ("wayback", "commoncrawl")
#: Headers that describe the transfer, not the page: the body we keep is decoded.
_TRANSFER_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding",
                               "connection"})


@dataclass
class RescueOptions:
    cdx: str = WAYBACK_CDX
    replay: str = WAYBACK_REPLAY
    cc_index: str = CC_INDEX
    cc_data: str = CC_DATA
    sources: tuple[str, ...] = ("wayback",)
    since: datetime | None = None
    until: datetime | None = None
    #: Requests a second against the archives (all of them together).
    rate: float = 1.0
    #: Also fetch older captures whose text differs (kept as versions).
    versions: bool = False
    images: bool = True
    match_type: str = "prefix"
    profile: str | None = None


@dataclass
class RescueResult:
    run: dict[str, Any]
    stats: dict[str, Any]
    report: RecoveryReport
    #: Canonical URLs of the articles this run stored (new, changed or versions).
    articles: list[str] = field(default_factory=list)


def _cdx_time(when: datetime | None) -> str | None:
    return when.strftime("%Y%m%d%H%M%S") if when else None


def _kept_headers(raw: RawCapture, body: bytes) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in raw.headers if k.lower() not in _TRANSFER_HEADERS]
    if not any(k.lower() == "content-type" for k, _ in headers) and raw.content_type:
        headers.append(("Content-Type", raw.content_type))
    headers.append(("Content-Length", str(len(body))))
    return headers


class Rescue:
    """One rescue of ``portal`` into the archive at ``db_path``."""

    def __init__(self, portal: Portal, db_path: str | Path, options: RescueOptions,
                 *, say: Callable[[str], None] = lambda _line: None) -> None:
        unknown = set(options.sources) - set(SOURCES)
        if not options.sources or unknown:
            raise ValueError(f"sources must be among {', '.join(SOURCES)}")
        if options.rate <= 0:
            raise ValueError("the rate must be above 0 requests a second")
        self.portal = portal
        self.db_path = Path(db_path)
        self.options = options
        self.say = say
        self.fetcher = PoliteFetcher(min_interval=1.0 / options.rate)
        self.wayback = WaybackClient(self.fetcher, cdx_endpoint=options.cdx,
                                     replay=options.replay)
        self.cc = CommonCrawlClient(self.fetcher, index=options.cc_index, data=options.cc_data)
        self.failures: Counter[str] = Counter()
        self.found = 0
        #: URLs the archive holds as articles already (not fetched).
        self.held = 0
        self.images_ok = 0
        self.images_failed = 0
        self.stored: list[str] = []
        self._images_done: set[str] = set()
        self._versions_fetched = 0

    # ---------------------------------------------------------------- finding
    def find(self) -> list[ArchiveCapture]:
        """Every capture the chosen archives list for the portal."""
        url = self.portal.base_url
        rows: list[ArchiveCapture] = []
        opts = self.options
        if "wayback" in opts.sources:
            rows += self.wayback.captures(url, opts.match_type, since=_cdx_time(opts.since),
                                          until=_cdx_time(opts.until))
        if "commoncrawl" in opts.sources:
            for crawl in choose_crawls(self.cc.crawls(), opts.since, opts.until):
                rows += self.cc.captures(url, crawl, opts.match_type)
        return rows

    # ---------------------------------------------------------------- the run
    def run(self) -> RescueResult:
        started = time.monotonic()
        sink = ArticleSink.open(self.db_path, self.portal, run_kind="rescue", batch_size=1,
                                run_settings={"started_by": "portal-archive rescue",
                                              "sources": list(self.options.sources),
                                              "cdx": self.options.cdx,
                                              "replay": self.options.replay,
                                              "cc_index": self.options.cc_index,
                                              "rate": self.options.rate})
        archive = sink.archive
        writer = WarcWriter(archive.folder, f"warc/{self.portal.id}",
                            f"rescue{sink.run_id:06d}",
                            info={"portal-archive-run": str(sink.run_id),
                                  "portal-archive-portal": self.portal.id,
                                  "portal-archive-kind": "rescue"})
        state = ResumeState(archive.folder / "rescue" / f"{self.portal.id}.jsonl")
        held = set(archive.known_urls(self.portal.id))
        status = "finished"
        report = RecoveryReport()
        try:
            rows = self.find()
            self.found = len(rows)
            every = group_captures(rows)
            groups = held_groups(every.values(), held)
            self.held = len(every) - len(groups)
            self.say(f"{self.found} captures of {len(groups)} URLs not held yet")
            fetch = fetch_by_source({"wayback": self.wayback.fetch, "commoncrawl": self.cc.fetch})

            def deliver(choice: Choice, raw: RawCapture) -> None:
                self._deliver(choice, raw, fetch, sink, writer)

            recover(groups, fetch, deliver, state, report=report)
        except (ArchiveError, FetchError) as err:
            status = "failed"
            self.failures[f"archive: {str(err)[:80]}"] += 1
            self.say(f"stopped: {err}")
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            writer.close()
            stats = self._stats(report, sink, writer, time.monotonic() - started)
            try:
                sink.flush(wait=True)
                stats.update(sink.counts.as_stats(),
                             articles_versions=sink.counts.versions)
                sink.finish(stats, status, columns={
                    "requests": self.fetcher.requests,
                    "responses": report.fetched,
                    "dropped_reasons": dict(self.failures),
                    "images_ok": self.images_ok, "images_failed": self.images_failed,
                    "warc_files": list(writer.files), "warc_bytes": writer.bytes_written,
                    "duration_s": stats["duration_s"],
                    "errors": sum(self.failures.values())})
                run = sink.archive.get_run(sink.run_id) or {}
            finally:
                sink.close()
        return RescueResult(run, stats, report, list(self.stored))

    def _stats(self, report: RecoveryReport, sink: ArticleSink, writer: WarcWriter,
               duration: float) -> dict[str, Any]:
        failures = Counter(self.failures)
        for reason, n in report.broken.items():
            failures[f"broken: {reason}"] += n
        if report.no_whole:
            failures["no whole capture"] += report.no_whole
        return {
            "kind": "rescue",
            "sources": list(self.options.sources),
            "captures_found": self.found,
            "urls": report.urls + self.held,
            "urls_held": self.held,
            "urls_done_before": report.skipped,
            "captures_fetched": report.fetched,
            "recovered": report.recovered,
            "versions_fetched": self._versions_fetched,
            "failures": dict(failures),
            "requests": self.fetcher.requests,
            "requests_per_second": round(self.fetcher.rate(), 3),
            "backoff_s": self.fetcher.backoff_total,
            "images_ok": self.images_ok,
            "images_failed": self.images_failed,
            "warc_files": list(writer.files),
            "duration_s": round(duration, 3),
        }

    # ---------------------------------------------------------------- one URL
    def _deliver(self, choice: Choice, raw: RawCapture,
                 fetch: Callable[[ArchiveCapture], RawCapture], sink: ArticleSink,
                 writer: WarcWriter) -> None:
        self._keep(raw, sink, writer, images=self.options.images)
        if not self.options.versions:
            return
        for older in choice.versions:
            self._versions_fetched += 1
            try:
                version = fetch(older)
            except (FetchError, ArchiveError) as err:
                self.failures[f"version fetch failed: {type(err).__name__}"] += 1
                continue
            problem = check_raw(version)
            if problem is None:
                self._keep(version, sink, writer, images=False)
            else:
                self.failures[f"broken version: {problem.split(':')[0]}"] += 1

    def _keep(self, raw: RawCapture, sink: ArticleSink, writer: WarcWriter,
              *, images: bool) -> None:
        capture = raw.capture
        location = self._write(raw, writer)
        outcome = extract_page(capture.url, raw.body, self.options.profile)
        if outcome.article is None:
            self.failures[f"not an article: {outcome.reason}"] += 1
            return
        when = capture.captured_at.isoformat()
        sink.add(outcome.article, Capture(
            url=capture.url, fetched=location.date if location else when,
            http_status=raw.status, warc_file=location.file if location else None,
            warc_offset=location.offset if location else None,
            warc_length=location.length if location else None,
            warc_record_id=location.record_id if location else None,
            source=capture.source, captured_at=when))
        sink.flush(wait=True)
        self.stored.append(outcome.article.canonical_url)
        if images:
            for image in outcome.article.images:
                self._image(image.url, capture, sink, writer)

    def _write(self, raw: RawCapture, writer: WarcWriter) -> RecordLocation | None:
        capture = raw.capture
        try:
            return writer.write_response(
                url=capture.url, status=raw.status, headers=_kept_headers(raw, raw.body),
                body=raw.body, when=capture.captured_at,
                provenance={"WARC-Source-URI": raw.location,
                            "WARC-Refers-To-Target-URI": capture.url,
                            "WARC-Refers-To-Date": capture.captured_at.strftime(
                                "%Y-%m-%dT%H:%M:%SZ"),
                            "X-Portal-Archive-Source": capture.source})
        except OSError as err:
            self.failures[f"WARC not written: {type(err).__name__}"] += 1
            return None

    def _image(self, url: str, page: ArchiveCapture, sink: ArticleSink,
               writer: WarcWriter) -> None:
        """An article's image, through the Wayback-compatible archive (the capture
        nearest the page's), into WARC and the image files."""
        if url in self._images_done or "wayback" not in self.options.sources:
            return
        self._images_done.add(url)
        state = sink.archive.image_state(url)
        if state is not None and state.get("status") == "ok":
            return
        try:
            raw = self.wayback.fetch_url(url, page.timestamp)
        except (FetchError, ArchiveError) as err:
            self.images_failed += 1
            self.failures[f"image fetch failed: {type(err).__name__}"] += 1
            return
        download = inspect_image(url, raw.status, raw.body, sink.archive.folder)
        if download.ok:
            self.images_ok += 1
            self._write(raw, writer)
        else:
            self.images_failed += 1
            self.failures[f"image: {download.error}"] += 1
        sink.archive.record_image(download, run_id=sink.run_id)


def run_rescue(portal: Portal, db_path: str | Path, options: RescueOptions,
               say: Callable[[str], None] = lambda _line: None) -> RescueResult:
    """Rescue ``portal`` from the archives ``options`` names into ``db_path``."""
    return Rescue(portal, db_path, options, say=say).run()


def held_groups(groups: Iterable[UrlCaptures], held: set[str]) -> list[UrlCaptures]:
    """The URLs of ``groups`` the archive does not hold yet."""
    return [g for g in groups if g.url not in held]


__all__ = ["SOURCES", "RescueOptions", "RescueResult", "run_rescue"]

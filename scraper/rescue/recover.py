"""The recovery walk: per URL, fetch captures newest first until one is whole.

Independent of where the bytes go: ``deliver`` receives each URL's choice and
the raw bytes of its best capture (the caller extracts, stores, writes WARC).
A :class:`~scraper.rescue.fetcher.ResumeState` makes the walk resumable: a URL
whose best capture was already delivered is skipped, unless the archive has
since got a newer capture of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from scraper.rescue.capture import Capture, Choice, UrlCaptures, body_problem, choose
from scraper.rescue.fetcher import FetchError, ResumeState
from scraper.rescue.wayback import ArchiveError, RawCapture


@dataclass
class RecoveryReport:
    urls: int = 0
    #: Captures fetched from the archive (whole or broken).
    fetched: int = 0
    recovered: int = 0
    #: URLs already recovered by an earlier run (nothing fetched).
    skipped: int = 0
    #: URLs with candidates but no whole capture.
    no_whole: int = 0
    #: URLs without a single candidate (only errors, non-HTML...).
    no_candidate: int = 0
    #: Broken captures by reason.
    broken: Counter[str] = field(default_factory=Counter)


def fetch_by_source(fetchers: Mapping[str, Callable[[Capture], RawCapture]]
                    ) -> Callable[[Capture], RawCapture]:
    """One fetch function for captures of several archives, by ``Capture.source``
    (``{"wayback": wayback.fetch, "commoncrawl": cc.fetch}``)."""
    def fetch(capture: Capture) -> RawCapture:
        client = fetchers.get(capture.source)
        if client is None:
            raise ArchiveError(f"no client for captures of {capture.source!r}")
        return client(capture)
    return fetch


def check_raw(raw: RawCapture) -> str | None:
    """Why a fetched capture is not a whole article page, or None."""
    if raw.status != 200:
        return f"status {raw.status}"
    mime = raw.content_type.split(";")[0].strip().lower()
    if mime and mime not in ("text/html", "application/xhtml+xml"):
        return f"type {mime}"
    return body_problem(raw.body)


class ArchiveUnreachable(ArchiveError):
    """Too many fetches in a row failed: the archive is down or refuses us. What was
    recovered so far is delivered and recorded; a later run resumes."""


def recover(groups: Iterable[UrlCaptures], fetch: Callable[[Capture], RawCapture],
            deliver: Callable[[Choice, RawCapture], None],
            state: ResumeState | None = None, max_failures: int = 5,
            report: RecoveryReport | None = None) -> RecoveryReport:
    """Choose and fetch the best capture of every URL in ``groups``.

    Raises :class:`ArchiveUnreachable` after ``max_failures`` failed fetches in a
    row; ``report`` (counted into as the walk goes) then tells what was done.
    """
    report = report if report is not None else RecoveryReport()
    failures = 0
    for group in groups:
        report.urls += 1
        if not group.candidates:
            report.no_candidate += 1
            continue
        key = f"url {group.key}"
        done = state.get(key) if state is not None else None
        if done is not None and str(done.get("newest", "")) >= group.candidates[0].timestamp \
                and (done.get("best") is not None
                     or int(str(done.get("tried") or 0)) >= len(group.candidates)):
            # Delivered, or every candidate was found broken, and nothing newer since
            # (an archive added to the search may bring older captures to try).
            report.skipped += 1
            continue
        fetched: dict[str, RawCapture] = {}

        def check(capture: Capture, fetched: dict[str, RawCapture] = fetched) -> str | None:
            nonlocal failures
            report.fetched += 1
            try:
                raw = fetch(capture)
            except (FetchError, ArchiveError) as err:
                failures += 1
                if failures >= max_failures:
                    raise ArchiveUnreachable(f"{failures} fetches failed in a row; "
                                             f"the last: {err}") from err
                return f"fetch failed: {err}"
            failures = 0
            fetched[capture.timestamp] = raw
            return check_raw(raw)

        choice = choose(group, check)
        for _capture, reason in choice.broken:
            report.broken[reason.split(":")[0]] += 1
        if choice.best is None:
            report.no_whole += 1
        else:
            report.recovered += 1
            deliver(choice, fetched[choice.best.timestamp])
        if state is not None and not any(r.startswith("fetch failed") for _, r in choice.broken):
            # Remembered unless a failed fetch may have hidden a newer whole capture.
            state.record(key, newest=group.candidates[0].timestamp,
                         best=choice.best.timestamp if choice.best else None,
                         tried=len(group.candidates))
    return report

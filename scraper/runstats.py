"""A crawl's Scrapy stats, read as the provenance columns of its run record.

The crawl runtime hands :meth:`archive.store.Archive.finish_run` both the
stats (kept as they are) and :func:`run_columns` of them: requests, responses
by status, pages dropped and why, images, WARC files, bytes, duration,
errors, revisits. Plain Python over the stats dict (no Scrapy import), so the
re-extraction and the tests can build the same columns.
"""

from __future__ import annotations

import json
from typing import Any


def run_columns(stats: dict[str, Any]) -> dict[str, Any]:
    """The provenance columns of ``crawl_runs`` read from a crawl's Scrapy stats.

    ``None`` where the stats say nothing (the column keeps its value).
    ``errors`` counts what the crawl logged as errors (downloads that failed
    after their retries, exceptions in the spider or the pipelines).
    """
    def num(*keys: str) -> int | None:
        for key in keys:
            if key in stats:
                return _int_or_none(stats[key])
        return None

    by_status = _prefixed(stats, "downloader/response_status_count/")
    dropped = _prefixed(stats, "portal_archive/dropped/")
    warc_files = stats.get("portal_archive/warc/files")
    if isinstance(warc_files, str):
        try:
            warc_files = json.loads(warc_files)
        except ValueError:
            warc_files = [warc_files]
    duration = stats.get("elapsed_time_seconds")
    return {
        "requests": num("downloader/request_count"),
        "responses": num("downloader/response_count"),
        "responses_by_status": by_status or None,
        "pages_dropped": num("pages_dropped", "portal_archive/dropped"),
        "dropped_reasons": dropped or None,
        "images_ok": num("portal_archive/images/ok"),
        "images_failed": num("portal_archive/images/failed"),
        "warc_files": list(warc_files) if isinstance(warc_files, list) else None,
        "warc_bytes": num("portal_archive/warc/bytes"),
        "bytes_received": num("downloader/response_bytes"),
        "duration_s": float(duration) if isinstance(duration, (int, float)) else None,
        "errors": num("errors", "log_count/ERROR"),
        # articles_gone is counted by Archive.mark_gone itself.
        "articles_revisited": num("portal_archive/articles/revisited"),
    }


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    """``{rest: n}`` for the stats ``<prefix><rest>`` (one level: no ``/`` in rest)."""
    out: dict[str, int] = {}
    for key, value in stats.items():
        if key.startswith(prefix) and "/" not in key[len(prefix):]:
            n = _int_or_none(value)
            if n is not None:
                out[key[len(prefix):]] = n
    return dict(sorted(out.items()))


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

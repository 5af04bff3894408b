"""StorePipeline in the crawl process: batches stored by its writer thread, in order, none lost.

A real Scrapy crawler object (settings, stats, signals), a real archive file
and real demo pages; no crawl process.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dbrows import rows
from scrapy.utils.test import get_crawler

from archive.store import Archive
from scraper.demo.app import DemoApp
from scraper.demo.site import DemoSite
from scraper.extract.steps import STEPS
from scraper.pipelines import ExtractPipeline, StorePipeline
from scraper.runcontext import RunContext, run_context
from scraper.runner import demo_portal
from scraper.storage import InProcessStorage

BASE = "http://127.0.0.1:9/"


def _pages(count: int) -> list[tuple[str, bytes]]:
    site = DemoSite(size=max(count, 10), seed=3)
    app = DemoApp(site, base_url=BASE)
    return [(BASE.rstrip("/") + a.path, app.handle("GET", a.path).body)
            for a in list(site.iter_articles())[:count]]


def _pipeline(db: Path, batch: int, threaded: bool = True) -> StorePipeline:
    crawler = get_crawler(settings_dict={"PORTAL_ARCHIVE_DB": str(db),
                                         "PORTAL_ARCHIVE_BATCH": batch,
                                         "PORTAL_ARCHIVE_STORE_THREAD": threaded,
                                         "PORTAL_ARCHIVE_ARCHIVER": "in_process"})
    crawler.stats.open_spider()
    context = RunContext.from_settings(crawler.settings, demo_portal(BASE))
    crawler.spider = SimpleNamespace(run_context=context)  # type: ignore[assignment]
    pipeline = StorePipeline(crawler)
    pipeline.open_spider()
    return pipeline


def _store(pipeline: StorePipeline, url: str, html: bytes) -> None:
    storage = pipeline.storage
    assert isinstance(storage, InProcessStorage)
    asyncio.run(storage.page(url, html, 200, "2026-11-22T20:00:00+00:00", None))


def _count(db: Path, sql: str) -> int:
    return int(rows(db, sql)[0][0])


@pytest.mark.parametrize("threaded", [True, False], ids=["writer-thread", "reactor-thread"])
def test_every_article_stored_once_with_its_capture(tmp_path: Path, threaded: bool) -> None:
    db = tmp_path / "a.db"
    pipeline = _pipeline(db, batch=3, threaded=threaded)
    storage = pipeline.storage
    assert isinstance(storage, InProcessStorage)
    for url, html in _pages(10):
        _store(pipeline, url, html)
    pipeline.close_spider()
    pipeline.spider_closed(None, "finished")
    assert pipeline.counts == {"new": 10, "changed": 0, "unchanged": 0}
    assert _count(db, "SELECT count(DISTINCT canonical_url) FROM articles") == 10
    assert _count(db, "SELECT count(*) FROM captures") == 10
    with Archive.open(db) as archive:
        run = archive.list_runs()[0]
    assert run["articles_new"] == 10 and run["status"] == "finished"
    assert run_context(pipeline.crawler).run_id == run["id"]
    assert storage.sink.closed and pipeline.storage is None  # the writer thread is shut down


@pytest.mark.parametrize("threaded", [True, False], ids=["writer-thread", "reactor-thread"])
def test_a_failed_batch_is_kept_and_written_with_the_next(tmp_path: Path, threaded: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "a.db"
    pipeline = _pipeline(db, batch=2, threaded=threaded)
    real = Archive.save_articles
    calls = {"n": 0}

    def fail_once(self: Archive, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Archive, "save_articles", fail_once)
    raised = 0
    for url, html in _pages(6):
        try:
            _store(pipeline, url, html)
        except sqlite3.OperationalError:
            raised += 1
    pipeline.close_spider()
    pipeline.spider_closed(None, "finished")
    assert raised == 1  # the error reaches Scrapy (logged against an item), once
    assert _count(db, "SELECT count(DISTINCT canonical_url) FROM articles") == 6
    assert _count(db, "SELECT count(*) FROM articles") == 6


def test_extract_pipeline_runs_every_step_in_order() -> None:
    crawler = get_crawler(settings_dict={})
    assert ExtractPipeline(crawler).steps == STEPS

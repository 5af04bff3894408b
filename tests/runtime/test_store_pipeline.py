"""StorePipeline: batches written by its writer thread, in order, none lost.

A real Scrapy crawler object (settings, stats, signals), a real archive file
and articles extracted from a real demo page; no crawl process.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dbrows import rows
from scrapy.utils.test import get_crawler

from archive.crawl import demo_portal
from archive.store import Archive
from scraper.demo.app import DemoApp
from scraper.demo.site import DemoSite
from scraper.extract.page import Page
from scraper.extract.steps import STEPS, run
from scraper.items import PageItem
from scraper.pipelines import ExtractPipeline, StorePipeline

BASE = "http://127.0.0.1:9/"


def _items(count: int) -> list[PageItem]:
    site = DemoSite(size=max(count, 10), seed=3)
    app = DemoApp(site, base_url=BASE)
    items = []
    for article in list(site.iter_articles())[:count]:
        url = BASE.rstrip("/") + article.path
        item = PageItem(url=url, portal_id="demo", html=app.handle("GET", article.path).body,
                        fetched_at="2026-11-22T20:00:00+00:00")
        item.page = run(Page(url=url, raw=item.html), STEPS)
        items.append(item)
    return items


def _pipeline(db: Path, batch: int, threaded: bool = True) -> tuple[StorePipeline, Any]:
    crawler = get_crawler(settings_dict={"PORTAL_ARCHIVE_DB": str(db),
                                         "PORTAL_ARCHIVE_BATCH": batch,
                                         "PORTAL_ARCHIVE_STORE_THREAD": threaded,
                                         "PORTAL_ARCHIVE_ARCHIVER": "inline"})
    crawler.stats.open_spider()
    spider = SimpleNamespace(portal=demo_portal(BASE))
    pipeline = StorePipeline(crawler)
    pipeline.open_spider(spider)
    return pipeline, spider


def _count(db: Path, sql: str) -> int:
    return int(rows(db, sql)[0][0])


@pytest.mark.parametrize("threaded", [True, False], ids=["writer-thread", "reactor-thread"])
def test_every_article_stored_once_with_its_capture(tmp_path: Path, threaded: bool) -> None:
    db = tmp_path / "a.db"
    pipeline, spider = _pipeline(db, batch=3, threaded=threaded)
    items = _items(10)
    for item in items:
        pipeline.process_item(item, spider)
    pipeline.close_spider(spider)
    pipeline.spider_closed(spider, "finished")
    assert pipeline.counts == {"new": 10, "changed": 0, "unchanged": 0}
    assert _count(db, "SELECT count(DISTINCT canonical_url) FROM articles") == 10
    assert _count(db, "SELECT count(*) FROM captures") == 10
    with Archive.open(db) as archive:
        run = archive.list_runs()[0]
    assert run["articles_new"] == 10 and run["status"] == "finished"
    assert pipeline.writer is None  # the writer thread is shut down


@pytest.mark.parametrize("threaded", [True, False], ids=["writer-thread", "reactor-thread"])
def test_a_failed_batch_is_kept_and_written_with_the_next(tmp_path: Path, threaded: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "a.db"
    pipeline, spider = _pipeline(db, batch=2, threaded=threaded)
    real = Archive.save_articles
    calls = {"n": 0}

    def fail_once(self: Archive, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Archive, "save_articles", fail_once)
    items = _items(6)
    raised = 0
    for item in items:
        try:
            pipeline.process_item(item, spider)
        except sqlite3.OperationalError:
            raised += 1
    pipeline.close_spider(spider)
    pipeline.spider_closed(spider, "finished")
    assert raised == 1  # the error reaches Scrapy (logged against an item), once
    assert _count(db, "SELECT count(DISTINCT canonical_url) FROM articles") == 6
    assert _count(db, "SELECT count(*) FROM articles") == 6


def test_extract_pipeline_runs_every_step_in_order() -> None:
    crawler = get_crawler(settings_dict={})
    assert ExtractPipeline(crawler).steps == STEPS

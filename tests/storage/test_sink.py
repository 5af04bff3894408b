"""ArticleSink: one run's articles stored in batches, with their captures and counters.

A real archive file and articles extracted from real demo pages.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows

from archive.sink import ArticleSink, SameThreadExecutor, writer_executor
from archive.store import Archive, Capture
from scraper.demo.app import DemoApp
from scraper.demo.site import DemoSite
from scraper.extract import extract_article
from scraper.extract.article import Article
from scraper.runner import demo_portal

BASE = "http://127.0.0.1:9/"


def _articles(count: int) -> list[Article]:
    site = DemoSite(size=max(count, 10), seed=4)
    app = DemoApp(site, base_url=BASE)
    return [extract_article(app.handle("GET", a.path).body, BASE.rstrip("/") + a.path)
            for a in list(site.iter_articles())[:count]]


def test_batches_captures_counters_and_the_run(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    sink = ArticleSink.open(db, demo_portal(BASE), run_settings={"started_by": "test"},
                            batch_size=3)
    articles = _articles(7)
    stored = []
    for n, article in enumerate(articles):
        sink.add(article, Capture(url=article.url, http_status=200, warc_file=f"w{n}.warc.gz",
                                  warc_offset=n))
        if sink.batch_due:
            result = sink.flush(wait=True)
            assert result is not None
            stored.append(result.new)
    assert stored == [3, 3] and len(sink.buffer) == 1
    assert sink.flush(wait=True) is not None
    assert sink.counts.as_dict() == {"new": 7, "changed": 0, "unchanged": 0}
    assert sink.counts.as_stats()["articles_new"] == 7
    sink.finish({"pages_dropped": 2})
    sink.close()
    assert rows(db, "SELECT count(*), count(warc_file) FROM captures") == [(7, 7)]
    with Archive.open(db) as archive:
        run = archive.get_run(sink.run_id)
    assert run is not None and run["status"] == "finished" and run["articles_new"] == 7
    # The same articles again: unchanged, under a run given by its id.
    with Archive(db) as archive:
        given = archive.start_run("demo")
    again = ArticleSink.open(db, demo_portal(BASE), run_id=given, batch_size=100)
    for article in articles:
        again.add(article)
    again.flush(wait=True)
    again.close()
    assert again.run_id == given
    assert again.counts.as_dict() == {"new": 0, "changed": 0, "unchanged": 7}


def test_a_pending_capture_is_resolved_on_the_writer_thread(tmp_path: Path) -> None:
    sink = ArticleSink.open(tmp_path / "a.db", demo_portal(BASE),
                            executor=writer_executor(True, "test-writer"))
    seen: list[str] = []

    def where(url: str) -> Any:
        def resolve() -> Capture:
            seen.append(threading.current_thread().name)
            return Capture(url=url, warc_file="x.warc.gz", warc_offset=7)
        return resolve

    for article in _articles(2):
        sink.add(article, where(article.url))
    sink.flush(wait=True)
    sink.close()
    assert len(seen) == 2 and all(name.startswith("test-writer") for name in seen)
    assert rows(tmp_path / "a.db", "SELECT warc_offset FROM captures") == [(7,), (7,)]


@pytest.mark.parametrize("threaded", [True, False], ids=["writer-thread", "same-thread"])
def test_a_failed_batch_is_buffered_again_and_raised_once(
        tmp_path: Path, threaded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Archive.save_articles
    calls = {"n": 0}

    def fail_once(self: Archive, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Archive, "save_articles", fail_once)
    sink = ArticleSink.open(tmp_path / "a.db", demo_portal(BASE), batch_size=2,
                            executor=writer_executor(threaded, "w"))
    raised = 0
    for article in _articles(6):
        sink.add(article)
        if sink.batch_due:
            try:
                sink.flush()
            except sqlite3.OperationalError:
                raised += 1
    sink.flush(wait=True)
    sink.close()
    assert raised == 1
    assert sink.counts.new == 6
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM articles") == [(6,)]


def test_same_thread_executor_runs_now_and_keeps_errors() -> None:
    executor = SameThreadExecutor()
    assert executor.submit(lambda: threading.current_thread().name).result() == \
        threading.current_thread().name
    future = executor.submit(lambda: 1 // 0)
    assert isinstance(future.exception(), ZeroDivisionError)

"""The crawl runtime's plain units: run context, capture references, revisits,
soft-404 detection and the spider's archive connection. No crawl, no Scrapy engine."""

from __future__ import annotations

import ast
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from archive.store import Archive
from scraper.archiver import archiver_mode
from scraper.crawlstate import CrawlPlan
from scraper.demo.site import DemoSite
from scraper.runcontext import RunContext, RunStats, run_context, stat_key
from scraper.runner import demo_portal
from scraper.warc import CaptureRef, RecordLocation, capture_of
from spiders.archiveview import CrawlArchive
from spiders.revisits import RevisitLedger, RevisitPlan, full_sweep, url_key
from spiders.soft404 import PROBE_ID, Soft404Detector, probe_url

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8000/"
PLAIN = ["archive/sink.py", "scraper/runcontext.py", "scraper/storage.py", "scraper/warc.py",
         "scraper/archiver.py", "spiders/archiveview.py", "spiders/revisits.py",
         "spiders/soft404.py"]


@pytest.mark.parametrize("rel", PLAIN)
def test_plain_units_import_no_scrapy(rel: str) -> None:
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not [n for n in names if n == "scrapy" or n.startswith(("scrapy.", "twisted"))]


class _Settings(dict[str, object]):
    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        return super().get(name, default)

    def getint(self, name: str, default: int = 0) -> int:
        return int(self.get(name, default))  # type: ignore[call-overload]

    def getbool(self, name: str, default: bool = False) -> bool:
        return bool(self.get(name, default))


def test_run_context_from_settings(tmp_path: Path) -> None:
    settings = _Settings(PORTAL_ARCHIVE_DB=str(tmp_path / "a.db"), PORTAL_ARCHIVE_BATCH=7,
                         PORTAL_ARCHIVE_ARCHIVER="inline", PORTAL_ARCHIVE_RUN_ID=4,
                         PORTAL_ARCHIVE_PROFILE="generic")
    context = RunContext.from_settings(settings, demo_portal(BASE))
    assert (context.data_dir, context.storage, context.batch_size, context.run_id,
            context.forced_profile) == (tmp_path, "in_process", 7, 4, "generic")
    assert not context.archive_exists
    context.set_run_id(4)
    with pytest.raises(ValueError, match="run is 4"):
        context.set_run_id(5)
    other = RunContext.from_settings(_Settings(PORTAL_ARCHIVE_DATA_DIR=str(tmp_path / "d")),
                                     demo_portal(BASE))
    assert other.data_dir == tmp_path / "d" and other.db_path == "" and other.run_id == 0
    with pytest.raises(ValueError, match="auto, process or in_process"):
        RunContext.from_settings(_Settings(PORTAL_ARCHIVE_ARCHIVER="fast"), demo_portal(BASE))


def test_run_context_is_read_through_the_crawlers_spider() -> None:
    context = RunContext(portal=demo_portal(BASE), db_path="", data_dir=Path("."))
    crawler = SimpleNamespace(spider=SimpleNamespace(run_context=context))
    assert run_context(crawler) is context
    with pytest.raises(RuntimeError, match="run context"):
        run_context(SimpleNamespace(spider=None))


def test_archiver_mode_accepts_the_old_spelling() -> None:
    assert archiver_mode(None) == "auto"
    assert archiver_mode(" Process ") == "process"
    assert archiver_mode("inline") == archiver_mode("in_process") == "in_process"


def test_run_stats_share_one_prefix() -> None:
    class Collector:
        def __init__(self) -> None:
            self.values: dict[str, object] = {}

        def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
            self.values[key] = int(self.values.get(key, start)) + count  # type: ignore[call-overload]

        def set_value(self, key: str, value: object) -> None:
            self.values[key] = value

        def max_value(self, key: str, value: int) -> None:
            self.values[key] = max(value, int(self.values.get(key, value)))  # type: ignore[call-overload]

        def get_value(self, key: str, default: object = None) -> object:
            return self.values.get(key, default)

    collector = Collector()
    stats = RunStats(collector)
    stats.inc("articles")
    stats.inc("articles", 2)
    stats.max("slowest_response_ms", 5)
    stats.max("slowest_response_ms", 3)
    assert collector.values == {stat_key("articles"): 3, stat_key("slowest_response_ms"): 5}
    assert stat_key("articles") == "portal_archive/articles" and stats.get("articles") == 3
    RunStats(None).inc("articles")  # no collector: nothing to do


def test_capture_refs_become_captures() -> None:
    location = RecordLocation("warc/demo/run000001-00001.warc.gz", 120, 800, "<urn:uuid:x>",
                              "2026-12-01T10:00:00.000000Z")
    written: Future[RecordLocation | None] = Future()
    written.set_result(location)
    in_process = CaptureRef(status=200, written=written)
    assert in_process.location() == location
    assert CaptureRef(status=200, seq=3).location() is None  # the archiver looks it up
    capture = capture_of("http://x/a", "2026-12-01T10:00:01+00:00", 200, location)
    assert (capture.warc_file, capture.warc_offset, capture.warc_length, capture.warc_record_id,
            capture.fetched) == (location.file, 120, 800, "<urn:uuid:x>", location.date)
    bare = capture_of("http://x/a", "2026-12-01T10:00:01+00:00", 404, None)
    assert (bare.warc_file, bare.fetched, bare.http_status) == \
        (None, "2026-12-01T10:00:01+00:00", 404)


def test_probe_urls_cannot_exist_and_keep_the_shape() -> None:
    assert probe_url("http://h/portal/Pages/2022-1-15/bai-a21.aspx?x=1#f") == \
        f"http://h/portal/Pages/2022-1-15/bai-a{PROBE_ID}.aspx"
    assert probe_url("http://h/tin-tuc/bai-viet.html") == f"http://h/tin-tuc/bai-viet-{PROBE_ID}.html"
    assert probe_url("http://h/tin-tuc/bai-viet/") == f"http://h/tin-tuc/bai-viet/{PROBE_ID}"


def test_soft_404_by_probe_and_by_notice() -> None:
    from scraper.demo.app import DemoApp

    site = DemoSite(size=10, seed=1)
    app = DemoApp(site, base_url=BASE)
    first, second = list(site.iter_articles())[:2]
    page = app.handle("GET", first.path).body
    other = app.handle("GET", second.path).body
    detector = Soft404Detector()
    assert not detector.is_soft_404(page)
    detector.learn(404, b"<html><body>Not here</body></html>")  # an honest 404: nothing learnt
    assert detector.probe_page is None
    detector.learn(200, page)  # the portal answers the probe with this page
    assert detector.is_soft_404(page) and not detector.is_soft_404(other)
    notice = ('<html><head><meta charset="utf-8"><title>Cổng TTĐT</title></head><body>'
              "<h1>Bài viết không tồn tại hoặc đã bị xóa</h1></body></html>").encode()
    assert Soft404Detector().is_soft_404(notice)


def test_revisit_plan_ledger_and_one_archive_connection(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    view = CrawlArchive(str(db))
    assert view.get() is None and view.opened == 0  # no archive yet: nothing opened
    site = DemoSite(size=60, seed=2)
    portal = demo_portal(BASE)
    with Archive(db) as archive:
        archive.ensure_portal(portal)
        archive.save_articles([a.to_article(BASE) for a in site.iter_articles()],
                              portal_id="demo", now=datetime(2025, 1, 1, tzinfo=UTC))
        run = archive.start_run("demo")
    archive = view.get()
    assert archive is not None and view.get() is archive and view.opened == 1
    plan = RevisitPlan.read(archive, "demo", CrawlPlan("incremental", "test"), "auto",
                            run_id=run)
    assert len(plan.known) == 60 and plan.budget == 50 and len(plan.revisits) == 50
    assert url_key(plan.revisits[0]) in plan.known
    assert archive.get_run(run)["settings"]["PORTAL_ARCHIVE_REVISIT_BUDGET"] == 50  # type: ignore[index]
    full = RevisitPlan.read(archive, "demo", CrawlPlan("full", "asked for"), "auto")
    assert full.revisits == [] and len(list(full_sweep(archive, "demo"))) == 60
    assert list(full_sweep(None, "demo")) == []
    assert RevisitPlan.read(None, "demo", CrawlPlan("incremental", "x"), "auto").budget == 0

    ledger = RevisitLedger()
    assert not ledger
    ledger.gone.append(plan.revisits[0])
    ledger.moved.append(plan.revisits[1])
    ledger.record(archive, run_id=run)
    view.close()
    with Archive(db) as check:
        assert check.least_recently_seen("demo", 60)[-1] == plan.revisits[1]
        status = check.conn.execute("SELECT status FROM articles WHERE canonical_url = ?",
                                    (plan.revisits[0],)).fetchone()[0]
    assert status == "gone"

"""The rescue clients against real archive software on loopback.

A demo portal is recorded at three dates (tests/rescue_servers.py), switched
off, and its pages are recovered from pywb (the Webrecorder wayback machine),
from a server answering like the Wayback Machine (JSON arrays, resume keys)
and from one answering like Common Crawl (JSON-lines index, WARC byte ranges).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rescue_servers import (
    SNAPSHOTS,
    CapturedPortal,
    CcCrawl,
    CommonCrawlServer,
    Pywb,
    ScriptedServer,
    WaybackShapeServer,
    capture_demo_portal,
    expected_best,
    max_rate,
)

from scraper.rescue.capture import Capture, Choice, group_captures
from scraper.rescue.commoncrawl import CommonCrawlClient, choose_crawls
from scraper.rescue.fetcher import FetchError, PoliteFetcher, ResumeState
from scraper.rescue.recover import ArchiveUnreachable, fetch_by_source, recover
from scraper.rescue.wayback import RawCapture, WaybackClient

ARTICLES = 30


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> CapturedPortal:
    return capture_demo_portal(tmp_path_factory.mktemp("captures"))


@pytest.fixture(scope="module")
def pywb(portal: CapturedPortal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pywb]:
    with Pywb(tmp_path_factory.mktemp("pywb"), portal.warcs) as server:
        yield server


@pytest.fixture(scope="module")
def commoncrawl(portal: CapturedPortal) -> Iterator[CommonCrawlServer]:
    s1, s2, s3 = portal.warcs
    crawls = [CcCrawl("CC-MAIN-2024-10", datetime(2024, 2, 20), datetime(2024, 3, 5), [s1]),
              CcCrawl("CC-MAIN-2024-36", datetime(2024, 8, 28), datetime(2024, 9, 10), [s2]),
              CcCrawl("CC-MAIN-2025-18", datetime(2025, 4, 28), datetime(2025, 5, 10), [s3])]
    by_crawl = {"CC-MAIN-2024-36": SNAPSHOTS[1], "CC-MAIN-2025-18": SNAPSHOTS[2]}
    truncated = {crawl: {portal.urls[n] for n in snap.truncated}
                 for crawl, snap in by_crawl.items()}
    with CommonCrawlServer(crawls, page_size=5, truncated_urls=truncated) as server:
        yield server


def _index_rows(portal: CapturedPortal) -> set[tuple[str, str]]:
    """(URL, timestamp) of every whole-looking HTML response recorded (status 200)."""
    from archive.wacz import index_warc

    return {(line.fields["url"], line.timestamp) for w in portal.warcs for line in index_warc(w)
            if line.fields.get("status") == "200" and line.fields.get("mime") == "text/html"}


def _run(rows: list[Capture], fetch: object, state: ResumeState | None = None
         ) -> tuple[object, dict[str, tuple[Choice, RawCapture]]]:
    delivered: dict[str, tuple[Choice, RawCapture]] = {}

    def deliver(choice: Choice, raw: RawCapture) -> None:
        assert choice.url not in delivered, "a URL delivered twice"
        delivered[choice.url] = (choice, raw)

    report = recover(group_captures(rows).values(), fetch, deliver, state)  # type: ignore[arg-type]
    return report, delivered


def _check_recovered(portal: CapturedPortal, delivered: dict[str, tuple[Choice, RawCapture]],
                     expected: dict[int, str]) -> None:
    got = {n: delivered[url] for n, url in portal.urls.items() if url in delivered}
    assert sorted(got) == sorted(expected)
    for n, (choice, raw) in got.items():
        snap = expected[n]
        assert choice.best is not None and choice.best.timestamp == portal.timestamp(snap), n
        assert raw.body == portal.bodies[(snap, portal.urls[n])], n


# ------------------------------------------------------------------ pywb
def test_pywb_every_capture_found_once_and_the_best_one_recovered(
        portal: CapturedPortal, pywb: Pywb, tmp_path: Path) -> None:
    fetcher = PoliteFetcher(min_interval=0.1)
    client = WaybackClient(fetcher, cdx_endpoint=pywb.cdx, replay=pywb.root)
    rows = list(client.captures(portal.base_url, "prefix"))
    keys = [(r.url, r.timestamp, r.digest) for r in rows]
    assert len(keys) == len(set(keys)), "a capture listed twice"
    candidates = {(c.url, c.timestamp) for g in group_captures(rows).values() for c in g.candidates}
    assert candidates == _index_rows(portal)

    state = ResumeState(tmp_path / "state.jsonl")
    started = time.monotonic()
    report, delivered = _run(rows, client.fetch, state)
    elapsed = time.monotonic() - started
    expected = expected_best(SNAPSHOTS)
    _check_recovered(portal, delivered, expected)
    # 30 articles: 28 with a whole capture (28: only a 503; 29: only a truncated one).
    assert len(expected) == ARTICLES - 2
    recovered = sum(1 for url in portal.urls.values() if url in delivered)
    assert recovered / len(expected) == 1.0
    # Broken captures were fetched, refused, and an older whole one taken instead.
    assert report.broken["truncated"] == 3 and report.no_whole == 1   # type: ignore[attr-defined]
    choice3, raw3 = delivered[portal.urls[3]]
    assert ("Server", "Microsoft-IIS/8.5") in raw3.headers  # the portal's, not pywb's
    assert [v.timestamp for v in choice3.versions] == [portal.timestamp("s2"),
                                                       portal.timestamp("s1")]
    # Politeness: never two requests closer than the interval.
    gaps = [b - a for a, b in zip(fetcher.sent_at, fetcher.sent_at[1:], strict=False)]
    assert min(gaps) >= 0.1 - 1e-3
    per_article = fetcher.requests / recovered
    print(f"\npywb: {recovered}/{len(expected)} recovered, {fetcher.requests} requests "
          f"({client.index_requests} index), {per_article:.2f} requests/article, "
          f"{fetcher.rate():.2f} requests/s, fetch walk {elapsed:.1f} s")
    assert per_article < 1.3

    # A second run holds everything: only the index is asked again.
    again = PoliteFetcher(min_interval=0.0)
    client2 = WaybackClient(again, cdx_endpoint=pywb.cdx, replay=pywb.root)
    report2, delivered2 = _run(list(client2.captures(portal.base_url, "prefix")), client2.fetch,
                               ResumeState(tmp_path / "state.jsonl"))
    assert delivered2 == {} and report2.fetched == 0  # type: ignore[attr-defined]
    assert again.requests == client2.index_requests == 1


def test_pywb_paging_stops_although_every_page_repeats(portal: CapturedPortal,
                                                       pywb: Pywb) -> None:
    """pywb honours ``limit`` but gives no resume key, and answers every ``page=N``
    with every row: the client pages without a limit and stops on a page with
    nothing new."""
    full = WaybackClient(PoliteFetcher(min_interval=0), cdx_endpoint=pywb.cdx, replay=pywb.root)
    everything = {(r.url, r.timestamp) for r in full.captures(portal.base_url)}
    small = WaybackClient(PoliteFetcher(min_interval=0), cdx_endpoint=pywb.cdx,
                          replay=pywb.root, page_size=10)
    rows = list(small.captures(portal.base_url))
    assert {(r.url, r.timestamp) for r in rows} == everything
    assert len(rows) == len(everything) > 10
    assert small.index_requests == 3  # limited page, page 0 (all rows), page 1 (nothing new)


def test_pywb_images_through_the_archive(portal: CapturedPortal, pywb: Pywb) -> None:
    client = WaybackClient(PoliteFetcher(min_interval=0), cdx_endpoint=pywb.cdx, replay=pywb.root)
    ts = portal.timestamp("s1")
    urls = [u for n in sorted(portal.image_urls) for u in portal.image_urls[n]]
    assert urls
    for url in urls:
        # A later timestamp: the archive answers with the nearest capture it holds.
        raw = client.fetch_url(url, portal.timestamp("s3"))
        assert raw.status == 200 and raw.content_type == "image/jpeg"
        assert raw.body == portal.bodies[("s1", url)]
    assert ts < portal.timestamp("s3")


# ------------------------------------------------------------------ the Wayback Machine's shape
def test_wayback_shape_resume_keys(portal: CapturedPortal) -> None:
    with WaybackShapeServer(portal.warcs) as server:
        client = WaybackClient(PoliteFetcher(min_interval=0), cdx_endpoint=server.cdx,
                               replay="http://127.0.0.1:9/unused", page_size=7)
        rows = list(client.captures(portal.base_url))
    # The server filtered (200, HTML) and collapsed identical digests itself.
    assert {(r.url, r.timestamp) for r in rows} == _index_rows(portal)
    assert client.index_requests == -(-len(rows) // 7)
    assert all(log[1].count("resumeKey=") <= 1 for log in server.log)


# ------------------------------------------------------------------ Common Crawl
def test_common_crawl_crawls_by_date_and_records_by_byte_range(
        portal: CapturedPortal, commoncrawl: CommonCrawlServer) -> None:
    fetcher = PoliteFetcher(min_interval=0.2)
    client = CommonCrawlClient(fetcher, index=commoncrawl.root, data=commoncrawl.root)
    crawls = choose_crawls(client.crawls(), since=datetime(2024, 6, 1, tzinfo=UTC))
    assert [c.id for c in crawls] == ["CC-MAIN-2025-18", "CC-MAIN-2024-36"]
    rows = [row for crawl in crawls for row in client.captures(portal.base_url, crawl)]
    keys = [(r.url, r.timestamp) for r in rows]
    assert len(keys) == len(set(keys))
    assert all(r.source == "commoncrawl" and r.filename and r.offset is not None for r in rows)
    # showNumPages, then each page once per crawl.
    pages = sum(-(-len(commoncrawl.rows[c.id]) // commoncrawl.page_size) for c in crawls)
    assert client.index_requests == len(crawls) + pages

    report, delivered = _run(rows, client.fetch)
    expected = expected_best(SNAPSHOTS[1:])
    _check_recovered(portal, delivered, expected)
    # Rows the crawler marked truncated are never fetched.
    assert report.broken == {}  # type: ignore[attr-defined]
    # The client never sends two requests closer than the limit...
    sent = [b - a for a, b in zip(fetcher.sent_at, fetcher.sent_at[1:], strict=False)]
    assert min(sent) >= 0.2 - 1e-3
    # ...and the server, whose clock also counts thread scheduling on a busy
    # machine, never sees more than the limit allows in any second.
    times = [t for t, _ in commoncrawl.log[-fetcher.requests:]]
    assert max_rate(times) <= 6
    assert (len(times) - 1) / (times[-1] - times[0]) <= 5.0 + 0.1
    print(f"\ncommoncrawl: {len(delivered)} URLs recovered, {fetcher.requests} requests, "
          f"server-side {(len(times) - 1) / (times[-1] - times[0]):.2f} requests/s")


def test_default_rate_is_one_request_a_second(commoncrawl: CommonCrawlServer) -> None:
    fetcher = PoliteFetcher()
    start = len(commoncrawl.log)
    began = time.monotonic()
    for _ in range(4):
        assert fetcher.get(f"{commoncrawl.root}/collinfo.json").status == 200
    assert time.monotonic() - began >= 3.0
    times = [t for t, _ in commoncrawl.log[start:]]
    assert len(times) == 4 and max_rate(times, window=0.98) == 1


# ------------------------------------------------------------------ back-off
def test_backoff_honours_retry_after_with_a_ceiling() -> None:
    script = [(429, {"Retry-After": "1"}), (503, {}), (429, {"Retry-After": "3600"})]
    with ScriptedServer(script) as server:
        fetcher = PoliteFetcher(min_interval=0, max_backoff=1.5)
        response = fetcher.get(server.url)
    assert response.status == 200 and fetcher.requests == 4
    gaps = [b - a for a, b in zip(server.log, server.log[1:], strict=False)]
    # Retry-After: 1 s; no header: the doubling delay (2 s by then) under the 1.5 s
    # ceiling; Retry-After: 3600 s, the ceiling again.
    assert gaps[0] >= 1.0 and 1.5 <= gaps[1] < 3.0 and 1.5 <= gaps[2] < 3.0
    assert fetcher.backoff_total == pytest.approx(4.0)


def test_backoff_gives_up_after_the_retries() -> None:
    with ScriptedServer([(503, {"Retry-After": "0"})] * 5) as server:
        fetcher = PoliteFetcher(min_interval=0, max_retries=2)
        with pytest.raises(FetchError, match="still 503 after 2 retries"):
            fetcher.get(server.url)
    assert fetcher.requests == 3


def test_recovery_stops_when_the_archive_stops_answering(portal: CapturedPortal, pywb: Pywb,
                                                         tmp_path: Path) -> None:
    """The index answered, then the replay went away: after five failed fetches in a
    row the walk stops, and nothing is marked done, so the next run tries again."""
    from rescue_servers import free_port

    index = WaybackClient(PoliteFetcher(min_interval=0), cdx_endpoint=pywb.cdx, replay=pywb.root)
    rows = list(index.captures(portal.base_url))
    dead = WaybackClient(PoliteFetcher(min_interval=0, max_retries=0, timeout=5),
                         cdx_endpoint=pywb.cdx, replay=f"http://127.0.0.1:{free_port()}/x")
    state = ResumeState(tmp_path / "state.jsonl")
    with pytest.raises(ArchiveUnreachable, match="5 fetches failed in a row"):
        _run(rows, dead.fetch, state)
    assert dead.fetcher.requests == 5 and len(state) == 0


def test_unreachable_archive_is_a_fetch_error() -> None:
    from rescue_servers import free_port

    with pytest.raises(FetchError):
        PoliteFetcher(min_interval=0, timeout=5).get(f"http://127.0.0.1:{free_port()}/cdx")


def test_both_archives_together(portal: CapturedPortal, pywb: Pywb,
                                commoncrawl: CommonCrawlServer) -> None:
    """Rows of both archives for the same URL are one URL; each capture is fetched
    from the archive that listed it."""
    fetcher = PoliteFetcher(min_interval=0)
    wayback = WaybackClient(fetcher, cdx_endpoint=pywb.cdx, replay=pywb.root)
    cc = CommonCrawlClient(fetcher, index=commoncrawl.root, data=commoncrawl.root)
    # Only the first capture date is in pywb's part; Common Crawl has the later ones.
    rows = list(wayback.captures(portal.base_url, until=portal.timestamp("s1")))
    assert {r.timestamp for r in rows} == {portal.timestamp("s1")}
    for crawl in choose_crawls(cc.crawls(), since=datetime(2024, 6, 1, tzinfo=UTC)):
        rows += cc.captures(portal.base_url, crawl)
    report, delivered = _run(rows, fetch_by_source({"wayback": wayback.fetch,
                                                    "commoncrawl": cc.fetch}))
    _check_recovered(portal, delivered, expected_best(SNAPSHOTS))
    sources = {delivered[portal.urls[n]][0].best.source for n in (12, 3)}  # type: ignore[union-attr]
    assert sources == {"wayback", "commoncrawl"}  # 12: whole only in s1 (pywb)

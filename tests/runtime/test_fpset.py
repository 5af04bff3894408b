"""The compact fingerprint set and the duplicate filter built on it.

``FingerprintSet`` is checked against a plain Python set (random members,
colliding slots, growth, the value 0, values wider than 64 bits);
``CompactDupeFilter`` against Scrapy's own ``RFPDupeFilter``: the same
answers, the same ``JOBDIR/requests.seen`` file, each able to resume the
other's job.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter
from scrapy.settings import Settings

from scraper.dupefilter import CompactDupeFilter
from scraper.fpset import MASK64, MIN_CAPACITY, FingerprintSet, fingerprint64


def test_behaves_like_a_set_of_random_64_bit_ints() -> None:
    rng = random.Random(5)
    values = [rng.getrandbits(64) for _ in range(20_000)]
    values += values[:3000]  # duplicates
    rng.shuffle(values)
    fps, ref = FingerprintSet(), set()
    for v in values:
        assert fps.add(v) == (v not in ref)
        ref.add(v)
    assert len(fps) == len(ref) == 20_000
    assert sorted(fps) == sorted(ref)
    assert all(v in fps for v in ref)
    others = [rng.getrandbits(64) for _ in range(5000)]
    assert [v in fps for v in others] == [v in ref for v in others]


def test_colliding_slots_are_probed_past() -> None:
    # Same low bits: all aim at slot 7 of the table and must chain past each other.
    fps = FingerprintSet()
    colliding = [7 + (k << 40) for k in range(1, 200)]
    for v in colliding:
        assert fps.add(v)
    assert all(v in fps for v in colliding)
    assert not fps.add(colliding[50])
    assert (7 + (500 << 40)) not in fps  # probes the whole chain, then an empty slot
    # The probe wraps around the end of the table.
    last = MIN_CAPACITY - 1
    wrap = [last + (k << 40) for k in range(1, 5)]
    fps2 = FingerprintSet(wrap)
    assert all(v in fps2 for v in wrap) and len(fps2) == 4


def test_grows_at_half_full_and_keeps_every_member() -> None:
    fps = FingerprintSet()
    assert fps.capacity == MIN_CAPACITY
    for v in range(1, MIN_CAPACITY // 2 + 1):
        fps.add(v * 0x9E3779B97F4A7C15)
    assert fps.capacity == MIN_CAPACITY  # half full
    fps.add((MIN_CAPACITY // 2 + 1) * 0x9E3779B97F4A7C15)
    assert fps.capacity == 2 * MIN_CAPACITY  # grew when more than half full
    for v in range(MIN_CAPACITY // 2 + 2, 100_001):
        fps.add(v * 0x9E3779B97F4A7C15)
    assert len(fps) == 100_000
    assert 2 * len(fps) <= fps.capacity <= 4 * len(fps)
    assert fps.nbytes == 8 * fps.capacity  # ≤ 32 bytes per member, no objects
    assert all(v * 0x9E3779B97F4A7C15 & MASK64 in fps for v in range(1, 100_001))
    assert 0x9E3779B97F4A7C15 * 100_001 & MASK64 not in fps


def test_zero_and_wide_or_negative_values() -> None:
    fps = FingerprintSet()
    assert 0 not in fps
    assert fps.add(0) and not fps.add(0)
    assert 0 in fps and len(fps) == 1 and list(fps) == [0]
    assert fps.add(-1)  # taken modulo 2**64, as hash() values are
    assert MASK64 in fps and not fps.add(MASK64)
    assert fps.add(1 << 64 | 5) and 5 in fps
    assert "5" not in fps and None not in fps
    assert len(fps) == 3


def test_capacity_argument_and_initial_members() -> None:
    fps = FingerprintSet(range(1, 10), capacity=5000)
    assert fps.capacity == 8192 and len(fps) == 9
    assert set(fps) == set(range(1, 10))


def test_fingerprint64_is_the_big_endian_prefix() -> None:
    digest = bytes(range(20))
    assert fingerprint64(digest) == int.from_bytes(digest[:8], "big")


# ------------------------------------------------------------- dupefilter
def _requests(n: int) -> list[Request]:
    return [Request(f"http://127.0.0.1:8000/tin-tuc/bai-{i}.html") for i in range(n)]


def test_dupefilter_answers_like_scrapys() -> None:
    ours, theirs = CompactDupeFilter(), RFPDupeFilter()
    reqs = _requests(500)
    stream = reqs + reqs[::3] + [Request(r.url + "#x") for r in reqs[:50]]  # fragments: same
    stream.append(Request(reqs[0].url, method="POST"))
    assert [ours.request_seen(r) for r in stream] == [theirs.request_seen(r) for r in stream]
    assert len(ours.seen) == 501


@pytest.mark.parametrize("first", [CompactDupeFilter, RFPDupeFilter])
def test_jobdir_requests_seen_is_scrapys_format(tmp_path: Path, first: type) -> None:
    """Same file as RFPDupeFilter's: a job written by either resumes in either."""
    reqs = _requests(300)
    df = first(str(tmp_path))
    assert not any(df.request_seen(r) for r in reqs[:200])
    df.close("shutdown")
    data = (tmp_path / "requests.seen").read_bytes()
    assert len(data) == 200 * (2 + 20)
    for cls, new in ((CompactDupeFilter, reqs[200:250]), (RFPDupeFilter, reqs[250:])):
        again = cls(str(tmp_path))
        try:
            assert all(again.request_seen(r) for r in reqs[:200])
            assert not any(again.request_seen(r) for r in new)
        finally:
            again.close("finished")
    # Each resumed job appended its 50 new requests, readable by the other.
    for cls in (CompactDupeFilter, RFPDupeFilter):
        last = cls(str(tmp_path))
        assert all(last.request_seen(r) for r in reqs)
        last.close("finished")
    assert len((tmp_path / "requests.seen").read_bytes()) == 300 * 22


def test_dupefilter_is_what_the_crawl_settings_use(tmp_path: Path) -> None:
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from scraper import settings as project

    crawler = get_crawler(settings_dict={
        "DUPEFILTER_CLASS": project.DUPEFILTER_CLASS, "JOBDIR": str(tmp_path)})
    assert isinstance(crawler.settings, Settings)
    cls = load_object(crawler.settings["DUPEFILTER_CLASS"])
    df = cls.from_crawler(crawler)
    assert isinstance(df, CompactDupeFilter)
    assert not df.request_seen(Request("http://127.0.0.1/a")) and df.file is not None
    assert df.request_seen(Request("http://127.0.0.1/a"))
    df.close("finished")
    assert (tmp_path / "requests.seen").stat().st_size == 22


def test_spider_keeps_url_keys_in_compact_sets() -> None:
    from scrapy.utils.test import get_crawler

    from spiders.portal import PortalSpider

    crawler = get_crawler(PortalSpider)
    spider = PortalSpider.from_crawler(crawler, portal="demo", base_url="http://127.0.0.1:8000/")
    assert isinstance(spider.seen, FingerprintSet) and isinstance(spider.known, FingerprintSet)
    urls = [f"http://127.0.0.1:8000/tin-tuc/bai-{i}.html" for i in range(2000)]
    keys = [PortalSpider._key(u) for u in urls]
    assert all(0 <= k <= MASK64 for k in keys) and len(set(keys)) == len(urls)
    assert keys == [PortalSpider._key(u) for u in urls]  # stable within the process
    spider.known.update(keys[:1000])
    spider.mode = "incremental"
    assert not spider.wants(urls[0]) and spider.wants(urls[1500])
    spider.mode = "full"  # archived articles are revisited from the start, not from links
    assert not spider.wants(urls[0]) and spider.wants(urls[1500])
    assert crawler.stats is not None
    assert crawler.stats.get_value("portal_archive/articles/known_skipped") == 1

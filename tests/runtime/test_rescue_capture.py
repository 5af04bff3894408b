"""Index answers in every shape, the best capture per URL, the polite fetcher's arithmetic.

Pure functions; the servers' side is in tests/runtime/test_rescue_archives.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from scraper.rescue.capture import (
    Capture,
    CdxFormatError,
    body_problem,
    choose,
    group_captures,
    parse_cdx,
    parse_timestamp,
)
from scraper.rescue.commoncrawl import Crawl, choose_crawls, parse_collinfo
from scraper.rescue.fetcher import PoliteFetcher, ResumeState, retry_after
from scraper.rescue.wayback import ArchiveError, cdx_query, replay_url

URL = "http://trieuson.thanhhoa.gov.vn/portal/Pages/2024-3-1/Bai-viet-a7.aspx"
KEY = "vn,gov,thanhhoa,trieuson)/portal/pages/2024-3-1/bai-viet-a7.aspx"

# The Wayback Machine's output=json with showResumeKey=true (shape as documented).
WAYBACK_JSON = json.dumps([
    ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
    [KEY, "20240301080000", URL, "text/html", "200", "AAAA", "3494"],
    [KEY, "20240902093000", URL, "text/html", "200", "BBBB", "3615"],
    [],
    ["vn%2Cgov%2Cthanhhoa%2Ctrieuson%29%2Fportal+20240902093000"],
])
WAYBACK_TEXT = (f"{KEY} 20240301080000 {URL} text/html 200 AAAA 3494\n"
                f"{KEY} 20250502101500 {URL} text/html 503 CCCC 120\n"
                "\nresume-key-123\n")
PYWB_JSON = (
    json.dumps({"urlkey": KEY, "timestamp": "20240301080000", "url": URL, "mime": "text/html",
                "status": "200", "digest": "AAAA", "length": "3494", "offset": "16562",
                "filename": "s1.warc.gz", "source": "demo/indexes/index.cdxj"}) + "\n"
    + json.dumps({"urlkey": KEY, "timestamp": "20240902093000", "url": URL,
                  "mime": "warc/revisit", "status": "-", "digest": "AAAA"}) + "\n")
PYWB_CDXJ = f'{KEY} 20240301080000 {{"url": "{URL}", "mime": "text/html", "status": "200", ' \
            '"digest": "AAAA", "length": "3494", "offset": "16562", "filename": "s1.warc.gz"}\n'
CC_LINE = json.dumps({"urlkey": KEY, "timestamp": "20240301080000", "url": URL,
                      "mime": "text/html", "mime-detected": "text/html", "status": "200",
                      "digest": "AAAA", "length": "9000", "offset": "123456",
                      "filename": "crawl-data/CC-MAIN-2024-10/segments/1/warc/x.warc.gz",
                      "languages": "vie", "encoding": "UTF-8", "truncated": "length"})


def test_wayback_json_array_with_resume_key() -> None:
    page = parse_cdx(WAYBACK_JSON)
    assert [(r.url, r.timestamp, r.status, r.mime, r.digest, r.length) for r in page.rows] == [
        (URL, "20240301080000", 200, "text/html", "AAAA", 3494),
        (URL, "20240902093000", 200, "text/html", "BBBB", 3615)]
    assert page.resume_key == "vn%2Cgov%2Cthanhhoa%2Ctrieuson%29%2Fportal+20240902093000"
    assert all(r.key == KEY for r in page.rows)


def test_wayback_plain_text_with_resume_key() -> None:
    page = parse_cdx(WAYBACK_TEXT)
    assert [(r.timestamp, r.status) for r in page.rows] == [("20240301080000", 200),
                                                            ("20250502101500", 503)]
    assert page.resume_key == "resume-key-123"


def test_pywb_json_lines_and_cdxj() -> None:
    rows = parse_cdx(PYWB_JSON).rows
    assert rows[0].filename == "s1.warc.gz" and rows[0].offset == 16562
    assert rows[1].status is None and rows[1].mime == "warc/revisit"
    assert not rows[1].is_candidate and rows[0].is_candidate
    (row,) = parse_cdx(PYWB_CDXJ).rows
    assert (row.key, row.timestamp, row.status, row.length) == (KEY, "20240301080000", 200, 3494)
    assert parse_cdx("").rows == [] and parse_cdx("[]").rows == []


def test_common_crawl_line_keeps_truncation() -> None:
    (row,) = parse_cdx(CC_LINE, source="commoncrawl").rows
    assert row.truncated == "length" and row.source == "commoncrawl"
    assert not row.is_candidate


@pytest.mark.parametrize("answer", ["<html>blocked</html>", '{"a": 1', "[[1, 2]]",
                                    "short line", '{"url": "x"}'])
def test_unreadable_answers_are_a_clear_error(answer: str) -> None:
    with pytest.raises(CdxFormatError):
        parse_cdx(answer)


def test_capture_time_is_utc_and_not_a_publication_date() -> None:
    row = parse_cdx(WAYBACK_JSON).rows[0]
    assert row.captured_at == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert parse_timestamp("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_timestamp("2024-03-01")


def _cap(ts: str, digest: str, status: int | None = 200, mime: str = "text/html",
         url: str = URL) -> Capture:
    return Capture(url=url, timestamp=ts, status=status, mime=mime, digest=digest, urlkey=KEY)


def test_group_dedupes_and_filters_on_our_side() -> None:
    rows = [_cap("20240301080000", "A"), _cap("20240302080000", "A"),  # same digest twice
            _cap("20240902093000", "B"), _cap("20240902093000", "B"),  # the same row twice
            _cap("20250502101500", "C", status=503), _cap("20250503000000", "D", mime="image/jpeg"),
            _cap("20250504000000", "E", status=None, mime="warc/revisit")]
    (group,) = group_captures(rows).values()
    assert [(c.timestamp, c.digest) for c in group.candidates] == [
        ("20240902093000", "B"), ("20240302080000", "A")]
    assert len(group.rejected) == 3


def test_choose_takes_the_newest_whole_capture_and_older_ones_are_versions() -> None:
    rows = [_cap("20240101000000", "A"), _cap("20240601000000", "B"), _cap("20250101000000", "C")]
    (group,) = group_captures(rows).values()
    checked: list[str] = []

    def check(c: Capture) -> str | None:
        checked.append(c.timestamp)
        return "truncated" if c.digest == "C" else None

    choice = choose(group, check)
    assert choice.best is not None and choice.best.digest == "B"
    assert [v.digest for v in choice.versions] == ["A"]
    assert [(c.digest, r) for c, r in choice.broken] == [("C", "truncated")]
    assert checked == ["20250101000000", "20240601000000"]  # A was never fetched
    nothing = choose(group, lambda c: "truncated")
    assert nothing.best is None and len(nothing.broken) == 3


def test_body_problem() -> None:
    page = b"<html><body><p>x</p></body></html>\n"
    assert body_problem(page) is None
    assert body_problem(page[: len(page) // 2]) == "truncated"
    assert body_problem(page, declared_length=len(page) + 10) == "truncated"
    assert body_problem(b"  ") == "empty"


def test_cdx_query_asks_for_filters_collapse_and_resume_keys() -> None:
    params = cdx_query("example.gov.vn", "host", limit=100, resume_key="k", since="2024")
    assert ("matchType", "host") in params and ("output", "json") in params
    assert ("filter", "statuscode:200") in params and ("filter", "mimetype:text/html") in params
    assert ("collapse", "digest") in params and ("showResumeKey", "true") in params
    assert ("resumeKey", "k") in params and ("limit", "100") in params and ("from", "2024") in params
    with pytest.raises(ValueError):
        cdx_query("x", "everything")
    assert replay_url("https://web.archive.org/web/", "20240301080000", URL) == \
        f"https://web.archive.org/web/20240301080000id_/{URL}"


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert retry_after("7", now) == 7.0
    assert retry_after(format_datetime(datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), usegmt=True),
                       now) == 30.0
    assert retry_after(None, now) is None and retry_after("soon", now) is None


def test_fetcher_defaults_to_one_request_a_second() -> None:
    assert PoliteFetcher().min_interval == 1.0
    with pytest.raises(ValueError):
        PoliteFetcher(min_interval=-1)


def test_collinfo_and_crawls_chosen_by_date() -> None:
    crawls = parse_collinfo(json.dumps([
        {"id": "CC-MAIN-2025-18", "cdx-api": "http://i/CC-MAIN-2025-18-index",
         "from": "2025-04-28T00:00:00", "to": "2025-05-10T00:00:00"},
        {"id": "CC-MAIN-2024-10", "cdx-api": "http://i/CC-MAIN-2024-10-index",
         "from": "2024-02-20T00:00:00", "to": "2024-03-05T00:00:00"}]))
    assert [c.id for c in crawls] == ["CC-MAIN-2025-18", "CC-MAIN-2024-10"]
    since = datetime(2025, 1, 1, tzinfo=UTC)
    assert [c.id for c in choose_crawls(crawls, since=since)] == ["CC-MAIN-2025-18"]
    assert [c.id for c in choose_crawls(crawls, until=since)] == ["CC-MAIN-2024-10"]
    assert choose_crawls([Crawl("x", "u", None, None)], since, since)[0].id == "x"
    with pytest.raises(ArchiveError):
        parse_collinfo('{"not": "a list"}')


def test_resume_state_survives_a_cut_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "state.jsonl"
    state = ResumeState(path)
    state.record("url a", newest="20240101000000")
    with path.open("a") as fh:
        fh.write('{"key": "url b", "newe')  # interrupted mid-write
    again = ResumeState(path)
    assert "url a" in again and "url b" not in again and len(again) == 1


def test_rescue_clients_stay_out_of_scrapy() -> None:
    """The rescue runs in the CLI's process: no Scrapy, no Twisted, no spiders."""
    from test_architecture import ROOT as REPO
    from test_architecture import _imports, _matches

    files = sorted((REPO / "scraper" / "rescue").rglob("*.py")) + [REPO / "archive" / "wacz.py"]
    assert len(files) >= 6
    offenders = [f"{f.name}: {n}" for f in files for n in _imports(f)
                 for bad in ("scrapy", "twisted", "spiders") if _matches(n, bad)]
    assert not offenders, offenders


def test_bodies_are_decoded_from_their_content_encoding() -> None:
    import gzip
    import zlib

    from scraper.rescue.fetcher import decode_body

    page = "<html><body>Huyện Triệu Sơn</body></html>".encode()
    assert decode_body(gzip.compress(page), "gzip") == page
    assert decode_body(zlib.compress(page), "deflate") == page
    assert decode_body(page, None) == page and decode_body(page, "identity") == page
    assert decode_body(b"not gzip", "gzip") == b"not gzip"  # left for the page checks


def test_original_headers_from_a_replay() -> None:
    from scraper.rescue.wayback import original_headers

    replayed = [("X-Archive-Orig-Server", "Microsoft-IIS/8.5"), ("Content-Type", "text/html"),
                ("Memento-Datetime", "Mon, 02 Sep 2024 09:30:00 GMT"),
                ("X-Archive-Orig-Date", "Mon, 02 Sep 2024 09:30:00 GMT")]
    assert original_headers(replayed) == [("Server", "Microsoft-IIS/8.5"),
                                          ("Date", "Mon, 02 Sep 2024 09:30:00 GMT"),
                                          ("Content-Type", "text/html")]

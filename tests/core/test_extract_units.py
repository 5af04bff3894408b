"""Unit tests of the extraction building blocks: dates, authors, text, runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from scraper.extract import NotAnArticle, extract_article
from scraper.extract.authors import parse_byline, split_people
from scraper.extract.dates import looks_like_dateline, parse_iso, parse_vietnamese_date
from scraper.extract.duplicates import collapse_runs
from scraper.extract.text import clean_line, fold
from scraper.extract.urls import canonicalize_url

VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("Ngày 15/01/2022 16:48:18", datetime(2022, 1, 15, 16, 48, 18, tzinfo=VN), True),
        ("Đăng lúc: 15/01/2022 16:48:18 (GMT+7)", datetime(2022, 1, 15, 16, 48, 18, tzinfo=VN), True),
        ("Đăng lúc: 06:33:47 07/10/2017 (GMT+7)", datetime(2017, 10, 7, 6, 33, 47, tzinfo=VN), True),
        ("Cập nhật lúc 16:48 - 15/01/2022", datetime(2022, 1, 15, 16, 48, tzinfo=VN), True),
        ("Thứ Bảy, 15/01/2022 - 16:48", datetime(2022, 1, 15, 16, 48, tzinfo=VN), True),
        ("15/01/2022", datetime(2022, 1, 15, tzinfo=VN), False),
        ("ngày 15 tháng 01 năm 2022", datetime(2022, 1, 15, tzinfo=VN), False),
        ("05/03/2020 08:00 (GMT+0)", datetime(2020, 3, 5, 8, 0, tzinfo=UTC), True),
    ],
)
def test_vietnamese_dates(text: str, expected: datetime, has_time: bool) -> None:
    parsed = parse_vietnamese_date(text)
    assert parsed is not None
    assert parsed.value == expected
    assert parsed.value.utcoffset() == expected.utcoffset()
    assert parsed.has_time is has_time


def test_day_first_never_month_first() -> None:
    parsed = parse_vietnamese_date("03/04/2021")
    assert parsed is not None and (parsed.value.month, parsed.value.day) == (4, 3)


def test_impossible_dates_rejected() -> None:
    assert parse_vietnamese_date("32/13/2021") is None
    assert parse_vietnamese_date("no date here") is None


def test_iso_dates() -> None:
    p = parse_iso("2022-01-15T16:48:18+07:00")
    assert p is not None and p.value == datetime(2022, 1, 15, 16, 48, 18, tzinfo=VN)
    z = parse_iso("2022-01-15T09:48:18Z")
    assert z is not None and z.value == datetime(2022, 1, 15, 16, 48, 18, tzinfo=VN)


def test_dateline_versus_body_sentence() -> None:
    assert looks_like_dateline("Ngày 15/01/2022 16:48:18")
    assert looks_like_dateline("Đăng lúc: 15/01/2022 16:48:18 (GMT+7)")
    assert not looks_like_dateline(
        "Chiều ngày 15/01/2022, UBND huyện tổ chức buổi làm việc giao nhiệm vụ xây dựng xã")


@pytest.mark.parametrize(
    ("line", "emphasised", "author"),
    [
        ("Văn Hùng", True, "Văn Hùng"),
        ("Thùy Dung", False, "Thùy Dung"),
        ("Tác giả: Lê Văn Tám", False, "Lê Văn Tám"),
        ("Nguồn: Trung tâm VH-TT", False, "Trung tâm VH-TT"),
        ("(Văn Hùng)", False, "Văn Hùng"),
        ("Văn Hùng - Trung tâm VH-TT", True, "Văn Hùng - Trung tâm VH-TT"),
        ("Theo baothanhhoa.vn", False, "Theo baothanhhoa.vn"),
        ("UBND huyện tổ chức hội nghị tổng kết công tác năm 2021, triển khai nhiệm vụ.", True, None),
        ("các đại biểu dự hội nghị", True, None),
        ("Phát biểu kết luận hội nghị.", False, None),
    ],
)
def test_bylines(line: str, emphasised: bool, author: str | None) -> None:
    assert parse_byline(line, emphasised=emphasised) == author


def test_split_people() -> None:
    assert split_people("Văn Hùng - Trung tâm VH-TT") == ["Văn Hùng"]
    assert split_people("Văn Hùng, Thùy Dung") == ["Văn Hùng", "Thùy Dung"]


def test_text_cleaning() -> None:
    assert clean_line("\xa0 \xa0 Đồng\u200b chí  Lê\tPhú ") == "Đồng chí Lê Phú"
    nfd = "Nông thôn mới".encode().decode()
    import unicodedata

    assert clean_line(unicodedata.normalize("NFD", nfd)) == "Nông thôn mới"
    assert fold("Đồng Tiến") == "dong tien"
    assert fold("NÔNG THÔN MỚI") == "nong thon moi"


def test_collapse_runs() -> None:
    keys = ["t", "a", "b", "c", "", "t", "a", "b", "c", "x"]
    assert collapse_runs(keys) == [True, True, True, True, True, False, False, False, False, True]
    # A single short repeated line (a caption used twice) is kept.
    assert collapse_runs(["a", "cap", "b", "cap"]) == [True] * 4
    # A single long repeated paragraph is collapsed.
    long = "x" * 100
    assert collapse_runs([long, "y", long]) == [True, True, False]


def test_canonical_url() -> None:
    assert canonicalize_url("HTTP://Example.GOV.vn:80/a/b.aspx?utm_source=x&id=3#top") == \
        "http://example.gov.vn/a/b.aspx?id=3"
    assert canonicalize_url("https://x.vn/(S(abc123))/portal/p.aspx?jsessionid=9") == \
        "https://x.vn/portal/p.aspx"


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"\x00\x01\x02" * 100, b"just words, no markup", b"<html><head></head></html>",
     "<html><body><p>short</p></body></html>"],
)
def test_bad_input_is_not_an_article(raw: bytes | str) -> None:
    with pytest.raises(NotAnArticle):
        extract_article(raw, "http://example.vn/x")

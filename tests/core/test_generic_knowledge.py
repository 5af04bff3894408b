"""What the generic path knows of real portals, one fact at a time: dates as
portals print them, authors that are not writers, attachments, one-line
widgets. (The fixture pages check the same knowledge on whole pages.)"""

from __future__ import annotations

from datetime import datetime

import pytest

from scraper.extract import Article, extract_article
from scraper.extract.article import VIETNAM_TZ, Attachment
from scraper.extract.dates import looks_like_dateline, parse_vietnamese_date

BODY = ("<p>Sáng ngày 12/3/2024, UBND xã Hải Lộc tổ chức hội nghị triển khai nhiệm vụ năm 2024,"
        " với sự tham dự của đông đảo cán bộ, đảng viên và nhân dân trong xã.</p>"
        "<p>Hội nghị đã thống nhất các chỉ tiêu chủ yếu, trong đó thu nhập bình quân đầu người"
        " phấn đấu đạt 62 triệu đồng, tỷ lệ hộ nghèo giảm còn dưới 2 phần trăm.</p>")
PARAGRAPHS = [p.removeprefix("<p>") for p in BODY.split("</p>") if p]
URL = "https://hailoc.gov.vn/tin-tuc/hoi-nghi-trien-khai-nhiem-vu-2024-12.html"


def page(head: str = "", above: str = "", below: str = "", title: str = "Hội nghị triển khai"
         " nhiệm vụ năm 2024 của xã Hải Lộc") -> str:
    return (f"<html><head><title>{title} - UBND xã Hải Lộc</title>{head}</head><body>"
            f"<div class='site'>UBND xã Hải Lộc</div><div class='main'><h1>{title}</h1>{above}"
            f"<div class='content'>{BODY}</div>{below}</div>"
            "<div class='footer'>Bản quyền thuộc về UBND xã Hải Lộc</div></body></html>")


@pytest.mark.parametrize(("text", "expected"), [
    ("ngày 12 tháng 3 năm 2024", datetime(2024, 3, 12)),
    ("12 tháng 3, 2024 lúc 09:15", datetime(2024, 3, 12, 9, 15)),
    ("Ngày đăng: Thứ ba, 12 Tháng 3 2024 09:15", datetime(2024, 3, 12, 9, 15)),
    ("15 Tháng Mười Một, 2023", datetime(2023, 11, 15)),
    ("Tháng Ba 12, 2024", datetime(2024, 3, 12)),
    ("March 12, 2024 10:15 AM", datetime(2024, 3, 12, 10, 15)),
    ("Friday, March 08, 2024", datetime(2024, 3, 8)),
    ("12 March 2024", datetime(2024, 3, 12)),
    ("Wed, 03/13/2024 - 09:15", datetime(2024, 3, 13, 9, 15)),  # month first: the weekday says
    ("Thứ Hai, 11/03/2024", datetime(2024, 3, 11)),
])
def test_dates_as_portals_print_them(text: str, expected: datetime) -> None:
    parsed = parse_vietnamese_date(text)
    assert parsed is not None and parsed.value == expected.replace(tzinfo=VIETNAM_TZ)
    assert looks_like_dateline(text)


@pytest.mark.parametrize("text", ["Tháng 3 năm 2024", "Đánh giá cao kết quả", "Xem thêm"])
def test_not_dates(text: str) -> None:
    assert not looks_like_dateline(text)


def test_a_time_declared_only_in_utc_is_the_same_instant_in_vietnam_time() -> None:
    head = '<meta property="article:published_time" content="2024-03-12T02:15:00Z">'
    a = extract_article(page(head), URL, profile="generic")
    assert a.published is not None and a.published.isoformat() == "2024-03-12T09:15:00+07:00"


def test_a_day_shown_and_the_time_only_in_metadata() -> None:
    head = '<meta property="article:published_time" content="2024-03-12T02:15:00+00:00">'
    a = extract_article(page(head, above="<p class='date'>12/03/2024</p>"), URL,
                        profile="generic")
    assert a.published is not None and a.published.isoformat() == "2024-03-12T09:15:00+07:00"
    assert a.published_raw == "12/03/2024"


@pytest.mark.parametrize("name", ["UBND xã Hải Lộc", "Cổng thông tin điện tử xã Hải Lộc",
                                  "admin", "Super User", "Quản trị viên"])
def test_the_portal_or_its_account_is_never_the_author(name: str) -> None:
    head = f'<meta name="author" content="{name}"><meta property="og:site_name" content="UBND xã Hải Lộc">'
    a = extract_article(page(head), URL, profile="generic")
    assert a.author is None and "no-author" in a.warnings


def test_a_writer_in_meta_is_kept() -> None:
    a = extract_article(page('<meta name="author" content="Lê Thu Hà">'), URL, profile="generic")
    assert a.author == "Lê Thu Hà"


def test_attachments_of_the_article_not_of_the_sidebar() -> None:
    below = ("<div class='files'><p>Tài liệu đính kèm</p><ul>"
             "<li><a href='/files/ke-hoach-12.pdf'>Kế hoạch số 12/KH-UBND</a> "
             "<a href='/files/ke-hoach-12.pdf'>Tải về</a></li>"
             "<li><a href='/files/phu-luc.docx'>Tải về</a></li>"
             "<li><a href='/download.php?id=7' title='bieu-mau.xlsx'>Tải về</a></li></ul></div>")
    html = page(below=below).replace(
        "<div class='footer'>", "<div class='side'><a href='/vb/qd-99.pdf'>Quyết định 99</a></div>"
        "<div class='footer'>")
    a = extract_article(html, URL, profile="generic")
    assert a.attachments == (
        Attachment("https://hailoc.gov.vn/files/ke-hoach-12.pdf", "Kế hoạch số 12/KH-UBND", "pdf"),
        Attachment("https://hailoc.gov.vn/files/phu-luc.docx", "phu-luc.docx", "docx"),
        Attachment("https://hailoc.gov.vn/download.php?id=7", "bieu-mau.xlsx", "xlsx"),
    )
    assert "Tải về" not in a.body and "Tài liệu đính kèm" not in a.body
    # the record survives its dict form (exports, the CLI's JSON)
    again = Article.from_dict(a.to_dict())
    assert again.attachments == a.attachments


@pytest.mark.parametrize("line", ["<p>Lượt xem: 1.146</p>", "<p>Số lượt người xem: 874</p>",
                                  "<p>Từ khóa: <a href='/t/1'>nông thôn mới</a>, "
                                  "<a href='/t/2'>giao thông</a></p>",
                                  "<div>Tags: <a href='/t/1'>an toàn thực phẩm</a></div>",
                                  "<p>Xếp hạng: 5 - 3 phiếu bầu</p>",
                                  "<div><a href='https://www.facebook.com/sharer/sharer.php?u=x' "
                                  "title='Chia sẻ: Tin khác hoàn toàn'>f</a> | <a href='#' "
                                  "onclick='window.print()'>In</a></div>"])
def test_one_line_widgets_leave_the_body(line: str) -> None:
    a = extract_article(page(below=line), URL, profile="generic")
    assert a.body.split("\n\n") == PARAGRAPHS

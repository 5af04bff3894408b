"""Soft 404s (scraper/extract/notfound.py): the notice, and the probe's page."""

from __future__ import annotations

import pytest

from scraper.demo.app import SOFT_404_NOTICE, DemoApp
from scraper.demo.site import DemoSite
from scraper.extract.notfound import SAME_PAGE, not_found_notice, page_signature, similarity


@pytest.mark.parametrize("page", [
    "<title>404 - Không tìm thấy trang</title>",
    "<title>Cổng TTĐT huyện Triệu Sơn</title><h1>Bài viết không tồn tại hoặc đã bị xóa</h1>",
    "<title>Page not found</title>",
    "<title>Cổng TTĐT huyện A - Nội dung bạn yêu cầu không tồn tại</title>",
    "<h2>KHONG TIM THAY TRANG</h2>",
])
def test_a_not_found_notice_is_seen(page: str) -> None:
    assert not_found_notice(page)


@pytest.mark.parametrize("page", [
    # Articles whose titles hold the words, among others.
    "<title>Cổng TTĐT</title><h1>Không tìm thấy thi thể nạn nhân mất tích sau lũ ở xã A</h1>",
    "<h1>Khắc phục lỗi đăng ký hộ tịch trực tuyến tại bộ phận một cửa</h1>",
    "<title>Cổng TTĐT huyện Triệu Sơn</title><h1>Hội nghị triển khai nhiệm vụ năm 2025</h1>",
    "",
    "plain text",
])
def test_an_article_is_not_taken_for_a_notice(page: str) -> None:
    assert not_found_notice(page) is None


def _chrome(heading: str, body: str, counter: int) -> str:
    menu = " ".join(f"<a href='/c{n}'>Chuyên mục số {chr(97 + n)} của huyện</a>" for n in range(20))
    return (f"<html><head><title>Cổng thông tin điện tử huyện</title>"
            f"<script>var x = 'ignored words here';</script></head><body><nav>{menu}</nav>"
            f"<h1>{heading}</h1><div>{body}</div>"
            f"<div class='counter'>Đang truy cập: {counter} Hôm nay: {counter * 3}</div>"
            f"<footer>Chịu trách nhiệm nội dung: Văn phòng HĐND và UBND huyện</footer>"
            f"</body></html>")


def test_the_probes_page_is_recognised_whatever_its_wording() -> None:
    """Two views of the portal's "not found" page (a heading no notice rule knows,
    the visitor counter moved on) are the same page; an article in the same
    template is not."""
    probe = page_signature(_chrome("Thông báo", "Xin lỗi quý khách.", 1227))
    again = page_signature(_chrome("Thông báo", "Xin lỗi quý khách.", 1228))
    article = page_signature(_chrome(
        "Hội nghị tổng kết công tác năm", " ".join(
            f"Đoạn văn thứ {n} của bài viết nói về kết quả phát triển kinh tế xã hội."
            for n in range(30)), 1229))
    assert similarity(probe, again) >= SAME_PAGE
    assert similarity(probe, article) < SAME_PAGE
    assert similarity(frozenset(), probe) == 0.0


def test_the_demo_portals_soft_404_against_its_articles() -> None:
    site = DemoSite(size=40, seed=1)
    app = DemoApp(site, faults=frozenset({"deleted"}))
    app.deleted_as = "soft404"
    deleted = min(app._deleted())
    soft = app.handle("GET", site.article(deleted).path)
    assert soft.status == 200 and not_found_notice(soft.body) == SOFT_404_NOTICE
    probe = page_signature(app.handle("GET", site.article(deleted).path).body)
    assert similarity(page_signature(soft.body), probe) >= SAME_PAGE
    for article in site.iter_articles():
        if article.id in app._deleted():
            continue
        page = app.handle("GET", article.path)
        assert page.status == 200 and not_found_notice(page.body) is None
        assert similarity(page_signature(page.body), probe) < SAME_PAGE

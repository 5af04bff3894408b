"""Bad input: extraction raises NotAnArticle or returns an Article, nothing
else, and never hangs (pytest-timeout guards every test here)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.demo.app import DemoApp
from scraper.demo.layouts import LAYOUTS
from scraper.demo.site import DemoSite
from scraper.extract import Article, NotAnArticle, extract_article, parse_text_dump

URL = "https://trieuson.thanhhoa.gov.vn/portal/Pages/2022-1-15/bai-viet-a1.aspx"
PARAGRAPH = ("Chiều ngày 15/01/2022, UBND huyện tổ chức buổi làm việc giao nhiệm vụ xây dựng "
             "xã đạt chuẩn nông thôn mới nâng cao năm 2022 với 3 xã: Tiến Nông, Xuân Thịnh "
             "và Hợp Thành.")


def outcome(data: bytes | str, url: str = URL) -> Article | NotAnArticle:
    try:
        return extract_article(data, url)
    except NotAnArticle as exc:
        return exc


def _random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("empty bytes", b"", "empty"),
    ("whitespace", b" \n\t \r\n", "empty"),
    ("empty str", "", "empty"),
    ("binary", _random_bytes(1, 5000), None),
    ("png", b"\x89PNG\r\n\x1a\n" + _random_bytes(2, 3000), None),
    ("nul bytes", b"\x00" * 1000, "binary"),
    ("utf-16 without markup", "xin chào".encode("utf-16"), None),
    ("plain text", "Chỉ là một dòng chữ, không có thẻ HTML nào.".encode(), "not-html"),
    ("html with no body", "<html><head><title>Tin tức</title></head></html>".encode(), None),
    ("empty html", b"<html></html>", None),
    ("only a title", "<html><body><h1>Tiêu đề bài viết</h1></body></html>".encode(), None),
    ("xml declaration", b'<?xml version="1.0" encoding="utf-8"?><html><body></body></html>', None),
    ("unclosed comment", b"<html><body><!-- " + b"x" * 10_000, None),
    ("deep nesting", b"<html><body>" + b"<div>" * 100_000 + b"chu", None),
])
def test_bad_input_is_not_an_article(name: str, data: bytes | str, reason: str | None) -> None:
    result = outcome(data)
    assert isinstance(result, NotAnArticle), name
    if reason:
        assert result.reason == reason


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_listing_and_home_pages_are_not_articles(layout: str) -> None:
    site = DemoSite(size=60, seed=3, layout=layout)
    app = DemoApp(site, "http://127.0.0.1:9/")
    paths = ["/"] + [site.listing_path(c.slug, p) for c in site.categories
                     for p in range(1, site.page_count(c.slug) + 1)]
    for path in paths:
        for profile in (None, "generic"):
            body = app.handle("GET", path).body
            with pytest.raises(NotAnArticle) as info:
                extract_article(body, "http://127.0.0.1:9" + path, profile=profile)
            assert info.value.reason in ("listing", "no-content", "no-title", "no-body"), path


@pytest.mark.timeout(120)
def test_twenty_megabyte_page_with_inline_image_keeps_its_article() -> None:
    image = "data:image/jpeg;base64," + "QUJD" * (5 * 1024 * 1024)  # 20 MiB of base64
    page = (f'<html><head><meta charset="utf-8"><title>Bài viết lớn</title></head><body>'
            f'<div class="news-detail"><h1 class="news-title">Hội nghị tổng kết năm 2021</h1>'
            f'<div class="news-date">Ngày 15/01/2022 16:48:18</div><div class="news-content">'
            f'<p style="text-align:center"><img src="{image}" /></p>'
            f"<p>{PARAGRAPH}</p><p>{PARAGRAPH} Hội nghị kết thúc.</p>"
            f'<p style="text-align:right"><b>Văn Hùng</b></p></div></div></body></html>')
    data = page.encode("utf-8")
    assert len(data) > 20 * 1024 * 1024
    article = extract_article(data, URL)
    assert article.body.startswith(PARAGRAPH)
    assert article.author == "Văn Hùng"


@pytest.mark.timeout(120)
def test_twenty_megabyte_listing_is_not_an_article() -> None:
    links = "".join(f'<li><a href="/tin/{i}.html">Tin tức số {i} về hội nghị tổng kết công tác '
                    f"năm</a></li>" for i in range(200_000))
    data = f"<html><body><ul>{links}</ul></body></html>".encode()
    assert len(data) > 20 * 1024 * 1024
    assert isinstance(outcome(data), NotAnArticle)


# ----------------------------------------------------------------- properties
_TAGS = ["p", "div", "span", "a", "h1", "h2", "td", "tr", "table", "ul", "li", "img", "br",
         "b", "i", "em", "script", "style", "article", "figure", "figcaption", "time", "meta",
         "title", "head", "body", "html", "font", "center", "form", "input", "iframe"]
_ATTRS = st.sampled_from([
    "", ' class="news-title"', ' class="news-detail"', ' class="news-content"',
    ' class="news-date"', ' style="display:none"', ' style="text-align:right"',
    ' href="/tin/1.html"', ' src="/a.jpg"', ' data-src="x.png"', ' datetime="2022-01-15T16:48"',
    ' face=".VnTime"', ' style="font-family:VNI-Times"', ' property="og:title" content="Tin"',
    ' charset="windows-1258"', ' hidden', ' class="paging"', ' alt="ảnh.jpg"',
])
_TEXT = st.sampled_from([
    "Ngày 15/01/2022 16:48:18", "Đăng lúc: 06:33:47 07/10/2017 (GMT+7)", PARAGRAPH, "Văn Hùng",
    "Ý kiến thăm dò", "Truy cập", "Hôm nay:", "1085", "Các tin khác", "ViÖt Nam Hµ Néi",
    "Vieät Nam", "&nbsp;", "&#7897;", "&", "<", ">", "]]>", "<!--", "-->", "\x00", "\u0301",
    "z3111643032049_6aa8.jpg", "Các đại biểu dự hội nghị.", "Theo baothanhhoa.vn", "",
]) | st.text(max_size=40)


@st.composite
def html_fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6 if depth < 3 else 2))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(_TAGS))
            inner = draw(html_fragments(depth + 1))
            close = draw(st.sampled_from([f"</{tag}>", "", f"</{tag}"]))
            parts.append(f"<{tag}{draw(_ATTRS)}>{inner}{close}")
        else:
            parts.append(draw(_TEXT))
    return "".join(parts)


_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes_give_an_article_or_not_an_article(data: bytes) -> None:
    assert isinstance(outcome(data), (Article, NotAnArticle))


@_SETTINGS
@given(html_fragments(), st.sampled_from(["utf-8", "cp1252", "cp1258", "utf-16"]))
def test_random_html_gives_an_article_or_not_an_article(fragment: str, encoding: str) -> None:
    data = fragment.encode(encoding, errors="replace")
    result = outcome(data)
    assert isinstance(result, (Article, NotAnArticle))
    if isinstance(result, Article):
        assert result.title and (result.body or result.images)


@_SETTINGS
@given(st.text(max_size=3000) | html_fragments())
def test_random_text_dumps_give_an_article_or_not_an_article(text: str) -> None:
    try:
        result: Article | NotAnArticle = parse_text_dump(text)
    except NotAnArticle as exc:
        result = exc
    assert isinstance(result, (Article, NotAnArticle))

"""Fields the Vietnamese way (issue 3 §2) on small hand-written pages, and the
(profile, version) record that goes with every extraction."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import pytest

from archive.store import Archive
from scraper.demo import DemoSite
from scraper.demo.app import DemoApp
from scraper.extract import extract_article
from scraper.extract.authors import parse_byline, parse_labelled_byline, split_people
from scraper.extract.metadata import _breadcrumb_attrs
from scraper.extract.profiles import PROFILES
from scraper.extract.text import fold
from scraper.extract.urls import absolute_url
from scraper.extract.widgets import _label_key
from scraper.portals import Portal

URL = "https://trieuson.thanhhoa.gov.vn/tin-tuc/bai-viet-1.html"
BODY = (
    "<p>Chiều ngày 14/01/2022, UBND huyện tổ chức hội nghị triển khai nhiệm vụ phát triển kinh tế - "
    "xã hội năm 2022 với sự tham dự của lãnh đạo các phòng, ban, ngành và 35 xã, thị trấn.</p>"
    "<p>Tại hội nghị, các đại biểu đã thảo luận, đóng góp nhiều ý kiến sát thực nhằm hoàn thành "
    "thắng lợi các chỉ tiêu kinh tế - xã hội đã đề ra trong năm 2022.</p>"
)


def page(*, head: str = "", dateline: str = "", body: str = BODY, after: str = "") -> str:
    return (
        f"<html><head><meta charset='utf-8'><title>Hội nghị triển khai nhiệm vụ năm 2022</title>{head}"
        "</head><body><div class='menu'><a href='/'>Trang chủ</a></div>"
        "<div class='main'><h1>Hội nghị triển khai nhiệm vụ năm 2022</h1>"
        f"<div class='time'>{dateline}</div><div class='content'>{body}</div>{after}</div>"
        "<div class='side'><h3>Tin khác</h3><ul><li><a href='/a'>Tin cũ một</a> (10/01/2022)</li>"
        "<li><a href='/b'>Tin cũ hai</a> (09/01/2022)</li></ul></div></body></html>"
    )


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    ("dateline", "head", "iso", "raw"),
    [
        ("Ngày 15/01/2022 16:48:18", "", "2022-01-15T16:48:18+07:00", "Ngày 15/01/2022 16:48:18"),
        ("Đăng lúc: 15/01/2022 16:48:18 (GMT+7)", "", "2022-01-15T16:48:18+07:00", None),
        ("Cập nhật lúc 16:48 - 15/01/2022", "", "2022-01-15T16:48:00+07:00", None),
        ("Thứ Bảy, 15/01/2022 - 16:48", "", "2022-01-15T16:48:00+07:00", None),
        ("15/01/2022", "", "2022-01-15T00:00:00+07:00", "15/01/2022"),
        ("ngày 15 tháng 01 năm 2022", "", "2022-01-15T00:00:00+07:00", None),
        # the page says more precisely what it shows: the seconds, the time of a day-only line
        ("Thứ Bảy, 15/01/2022 - 16:48",
         "<meta property='article:published_time' content='2022-01-15T16:48:18+07:00'>",
         "2022-01-15T16:48:18+07:00", "Thứ Bảy, 15/01/2022 - 16:48"),
        ("15/01/2022", "<meta property='article:published_time' content='2022-01-15T09:48:18Z'>",
         "2022-01-15T16:48:18+07:00", "15/01/2022"),
        # a declared time that disagrees with the visible one does not override it
        ("Cập nhật lúc 16:48 - 15/01/2022",
         "<meta property='article:published_time' content='2022-01-15T08:00:00+07:00'>",
         "2022-01-15T16:48:00+07:00", None),
        # only declared: JSON-LD, <time datetime>
        ("", "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", "
             "\"datePublished\": \"2022-01-15T16:48:18+07:00\"}</script>",
         "2022-01-15T16:48:18+07:00", None),
        ("<time datetime='2022-01-15T16:48:18+07:00'>15/01/2022</time>", "",
         "2022-01-15T16:48:18+07:00", "15/01/2022"),
        ("Ngày 05/03/2020 08:00 (GMT+0)", "", "2020-03-05T08:00:00+00:00", None),
    ],
)
def test_publication_time(dateline: str, head: str, iso: str, raw: str | None) -> None:
    a = extract_article(page(head=head, dateline=dateline), URL)
    assert a.published is not None and a.published.isoformat() == iso
    if raw is not None:
        assert a.published_raw == raw


def test_never_a_date_from_the_body_or_a_related_list() -> None:
    a = extract_article(page(dateline=""), URL)  # the body says 14/01, the related list 10/01
    assert a.published is None and "no-date" in a.warnings
    b = extract_article(page(dateline="Ngày 15/01/2022 16:48:18"), URL)
    assert b.published is not None and b.published.day == 15
    assert "Chiều ngày 14/01/2022" in b.body
    # a related list with no heading at all: its dated links are still not the dateline
    bare = page(dateline="").replace("<h3>Tin khác</h3>", "")
    assert extract_article(bare, URL).published is None


# ---------------------------------------------------------------- authors
@pytest.mark.parametrize(
    ("last_line", "author", "people"),
    [
        ("<p style='text-align:right'>Văn Hùng</p>", "Văn Hùng", ["Văn Hùng"]),
        ("<p><strong>Thùy Dung</strong></p>", "Thùy Dung", ["Thùy Dung"]),
        ("<p>Minh Hiếu</p>", "Minh Hiếu", ["Minh Hiếu"]),
        ("<p>Tác giả: Lê Hà</p>", "Lê Hà", ["Lê Hà"]),
        ("<p>Nguồn: Trung tâm VH-TT&amp;TT huyện</p>", "Trung tâm VH-TT&TT huyện", []),
        ("<p><em>(Theo baothanhhoa.vn)</em></p>", "Theo baothanhhoa.vn", []),
        ("<p style='text-align:right'>(Văn Hùng)</p>", "Văn Hùng", ["Văn Hùng"]),
        ("<p style='text-align:right'><b>Văn Hùng - Trung tâm VH-TT</b></p>",
         "Văn Hùng - Trung tâm VH-TT", ["Văn Hùng"]),
        ("<p style='text-align:right'><b>Văn Hùng, Thùy Dung</b></p>", "Văn Hùng, Thùy Dung",
         ["Văn Hùng", "Thùy Dung"]),
        ("<p style='text-align:right'><b>Văn Hùng - Thùy Dung</b></p>", "Văn Hùng - Thùy Dung",
         ["Văn Hùng", "Thùy Dung"]),
        ("<p><b>Hoàng Anh (TTVH-TT)</b></p>", "Hoàng Anh (TTVH-TT)", ["Hoàng Anh"]),
        ("<p><em>Tin, ảnh: Lê Hà</em></p>", "Lê Hà", ["Lê Hà"]),
        ("<p><strong>Bài và ảnh: Văn Hùng</strong></p>", "Văn Hùng", ["Văn Hùng"]),
        ("<p align='right'><b>Ban Tuyên giáo Huyện ủy</b></p>", "Ban Tuyên giáo Huyện ủy", []),
    ],
)
def test_signature(last_line: str, author: str, people: list[str]) -> None:
    a = extract_article(page(dateline="Ngày 15/01/2022", body=BODY + last_line), URL)
    assert (a.author, a.authors) == (author, people)
    assert author not in a.body and len(a.body.split("\n\n")) == 2


def test_signature_leaves_body_html_but_its_paragraph_stays() -> None:
    alone = extract_article(page(dateline="15/01/2022", body=BODY + "<p><b>Văn Hùng</b></p>"), URL)
    assert alone.author == "Văn Hùng" and "Văn Hùng" not in alone.body_html
    shared = extract_article(page(dateline="15/01/2022",
                                  body=BODY + "<p>Câu cuối của bài.<br><b>Văn Hùng</b></p>"), URL)
    assert shared.author == "Văn Hùng" and "Câu cuối của bài." in shared.body_html
    assert shared.body.endswith("Câu cuối của bài.")


def test_a_body_sentence_is_never_an_author() -> None:
    last = ("<p style='text-align:right'><b>Đồng chí Lê Quang Hùng, Bí thư Huyện ủy phát biểu "
            "chỉ đạo hội nghị.</b></p>")
    a = extract_article(page(dateline="Ngày 15/01/2022", body=BODY + last), URL)
    assert a.author is None and "Lê Quang Hùng" in a.body
    assert parse_byline("Các đại biểu dự hội nghị tại huyện.", emphasised=True) is None
    for sentence in ("Theo kế hoạch, năm 2023 xã sẽ làm đường.", "Tin vui cho người dân.",
                     "Ban chỉ đạo đã họp.", "Nguồn vốn được bố trí kịp thời trong năm."):
        assert parse_byline(sentence, emphasised=True) is None, sentence
        a = extract_article(page(dateline="15/01/2022", body=BODY + f"<p>{sentence}</p>"), URL)
        assert a.author is None and sentence in a.body


def test_byline_outside_the_body() -> None:
    a = extract_article(page(dateline="Ngày 15/01/2022", after="<div>Tác giả: Lê Hà</div>"), URL)
    assert a.author == "Lê Hà"
    # a bare name-shaped line outside the body is not trusted (it may be a menu entry)
    assert parse_labelled_byline("Văn Hùng") is None
    assert parse_labelled_byline("(Văn Hùng - Trung tâm VH-TT)") == "Văn Hùng - Trung tâm VH-TT"


def test_json_ld_organisation_is_not_an_author() -> None:
    org = ("<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"author\": "
           "{\"@type\": \"Organization\", \"name\": \"Cổng TTĐT huyện\"}}</script>")
    person = org.replace("Organization", "Person").replace("Cổng TTĐT huyện", "Lê Hà")
    assert extract_article(page(head=org, dateline="15/01/2022"), URL).author is None
    assert extract_article(page(head=person, dateline="15/01/2022"), URL).author == "Lê Hà"
    assert split_people("Theo baothanhhoa.vn") == []


# ----------------------------------------------------------------- images
def test_caption_boxes_alts_and_lazy_sources() -> None:
    body = (BODY
            + "<div class='wp-caption'><img src='/a.jpg' alt=''><p class='wp-caption-text'>Quang "
              "cảnh hội nghị.</p></div>"
            + "<p><img src='data:image/gif;base64,R0lGOD' data-src='/b.jpg' alt='Đồng chí Chủ tịch "
              "UBND huyện phát biểu'></p><p>Đoạn kết của bài viết về hội nghị triển khai.</p>"
            + "<p><img src='/c.jpg' alt='IMG_2022.JPG'></p><p>Một đoạn văn nữa của bài viết.</p>"
            + "<p><img data-original='/d.jpg' src='/images/loading.gif' "
              "alt='Hội nghị triển khai nhiệm vụ năm 2022'></p>")
    a = extract_article(page(dateline="15/01/2022", body=body), URL)
    assert [(i.url.rsplit("/", 1)[1], i.caption) for i in a.images] == [
        ("a.jpg", "Quang cảnh hội nghị."),
        ("b.jpg", "Đồng chí Chủ tịch UBND huyện phát biểu"),  # a describing alt
        ("c.jpg", None),  # a file name is no caption
        ("d.jpg", None),  # nor is the title repeated
    ]
    assert all(i.url.startswith("https://trieuson.thanhhoa.gov.vn/") for i in a.images)
    assert "Quang cảnh" not in a.body and "loading.gif" not in a.body_html


# ------------------------------------------------------------- internals
def test_breadcrumbs_and_labels_are_found_cheaply() -> None:
    assert _breadcrumb_attrs('<div class="dnnBreadcrumb">') == [("div[@class", "dnnBreadcrumb")]
    assert _breadcrumb_attrs('<OL data-x="1" id="Breadcrumbs">') == [("ol[@id", "Breadcrumbs")]
    assert _breadcrumb_attrs("<div class='top path'>") == [("div[@class", "top path")]
    assert _breadcrumb_attrs('<div class="xpath"><a href="/path/breadcrumb">') == []
    for label in ("Thống kê truy cập", "THỐNG KÊ TRUY CẬP:", " Thong ke  truy cap "):
        assert _label_key(label) == fold("Thống kê truy cập")


# ------------------------------------------------------------- provenance
def test_profile_and_version_are_stored_with_the_article(tmp_path: Path) -> None:
    site = DemoSite(size=30, seed=2, layout="dnn")
    app = DemoApp(site, base_url="http://127.0.0.1:8765/")
    demo = site.article(5)
    html = app.handle("GET", demo.path).body
    own = extract_article(html, demo.url(app.base_url))
    generic = extract_article(html, demo.url(app.base_url), profile="generic")
    assert (own.extractor, own.extractor_version) == ("dnn", PROFILES["dnn"].version)
    assert generic.extractor == "generic" and generic.extractor_version
    portal = Portal("demo", "Demo", "Thanh Hóa", "http://127.0.0.1:8765/", "dnn")
    with Archive(tmp_path / "a.db") as archive:
        archive.ensure_portal(portal)
        archive.save_articles([own], portal_id="demo")
        stored = archive.get_article(own.canonical_url)
    assert stored is not None and (stored.extractor, stored.extractor_version) == ("dnn", "1")


@pytest.mark.parametrize(
    ("base", "ref"),
    [("https://a.vn/x/y.html", "/img/a.jpg"), ("https://a.vn", "/img/a.jpg"),
     ("https://a.vn/x/y?q=1", "/i.jpg"), ("http://a.vn:8080/x", "/p?x=1#f"),
     ("https://a.vn/x/", "../a.jpg"), ("https://a.vn/x/", "https://b.vn/c.jpg"),
     ("https://a.vn/x/", "//cdn.vn/c.jpg"), ("https://a.vn/x/", "/a/../b.jpg"),
     ("https://a.vn?x=1", "/a.jpg"), ("https://a.vn/x/", "a.jpg")],
)
def test_absolute_urls_as_urljoin(base: str, ref: str) -> None:
    assert absolute_url(base, ref) == urljoin(base, ref)


# ---------------------------------------------------- sections after the article
_REL = "".join(
    f"<div class='item'><a href='/t{i}'>Tiêu đề tin liên quan số {i}</a><p>Tóm tắt tin số {i}: "
    "nội dung tóm tắt đủ dài để vượt quá một trăm hai mươi ký tự, giống như các cổng thông tin "
    "thường hiển thị dưới bài viết.</p></div>" for i in range(3))
_COMMENT = ("<p>Bài viết rất hay, cảm ơn ban biên tập đã đưa tin kịp thời về hội nghị quan trọng "
            "này của huyện nhà, mong tiếp tục có nhiều bài viết như thế nữa.</p>")


def _flat(after: str, before: str = "") -> str:
    return ("<html><head><meta charset='utf-8'><title>Hội nghị triển khai nhiệm vụ năm 2022</title>"
            f"</head><body><div class='wrap'>{before}<h1>Hội nghị triển khai nhiệm vụ năm 2022</h1>"
            f"<div class='d'>Ngày 15/01/2022 16:48</div>{BODY}"
            f"<p style='text-align:right'><b>Văn Hùng</b></p>{after}</div></body></html>")


@pytest.mark.parametrize("after", [
    f"<div class='x'><h2>Tin liên quan</h2>{_REL}</div>",  # a box the label opens
    f"<h2>Tin liên quan</h2>{_REL}",  # flat, in the article's own container
    f"<div class='x'><h3>Ý kiến bạn đọc</h3>{_COMMENT}{_COMMENT}</div>",
    f"<h3>Bình luận</h3>{_COMMENT}",
])
def test_related_summaries_and_comments_never_reach_the_body(after: str) -> None:
    a = extract_article(_flat(after), URL)
    assert a.author == "Văn Hùng"
    assert len(a.body.split("\n\n")) == 2
    assert "Tóm tắt" not in a.body and "Bài viết rất hay" not in a.body


def test_a_widget_word_heading_the_article_does_not_remove_it() -> None:
    a = extract_article(_flat("", before="<h2>Bình luận</h2>"), URL)
    assert len(a.body.split("\n\n")) == 2 and a.author == "Văn Hùng"


def test_dateline_above_the_title_but_not_the_header_bar() -> None:
    html = ("<html><head><meta charset='utf-8'><title>Hội nghị triển khai nhiệm vụ năm 2022</title>"
            "</head><body><div class='top'>Hôm nay: Thứ Hai, 20/06/2022</div>"
            "<div class='box'><span class='d'>Thứ Bảy, 15/01/2022 - 16:48</span>"
            f"<h1>Hội nghị triển khai nhiệm vụ năm 2022</h1><div class='c'>{BODY}</div></div>"
            "</body></html>")
    a = extract_article(html, URL)
    assert a.published is not None and a.published.isoformat() == "2022-01-15T16:48:00+07:00"
    headless = html.replace("<span class='d'>Thứ Bảy, 15/01/2022 - 16:48</span>", "")
    assert extract_article(headless, URL).published is None  # never the header bar's "today"


def test_signature_set_apart_just_after_the_container() -> None:
    after = "<div class='tacgia'><strong>Thu Hương</strong></div>"
    assert extract_article(page(dateline="15/01/2022", after=after), URL).author == "Thu Hương"
    # a plain (not set apart) line there, or a menu of links, is not an author
    assert extract_article(page(dateline="15/01/2022", after="<div>Thu Hương</div>"),
                           URL).author is None
    assert extract_article(page(dateline="15/01/2022", after="<div><b><a href='/x'>Trang Chủ</a></b>"
                                "</div>"), URL).author is None

"""Attached documents found in article pages (pure: the page's HTML and URL)."""

from __future__ import annotations

from scraper.extract import Attachment, extract_article
from scraper.extract.attachments import document_kind

_BODY = "<p>" + "Ủy ban nhân dân xã tổ chức hội nghị tổng kết công tác năm. " * 6 + "</p>"


def _page(inside: str = "", after: str = "", sidebar: str = "") -> str:
    return f"""<html><head><title>Hội nghị tổng kết</title></head><body>
<div class="sidebar"><h3>Văn bản mới</h3>{sidebar}</div>
<div class="news-detail"><h1>Hội nghị tổng kết công tác năm 2023</h1>
<div class="date">Ngày 15/01/2024 08:30</div>
<div class="news-content">{_BODY}{inside}{_BODY}</div>
{after}</div></body></html>"""


def test_links_in_the_body_and_the_attachment_block() -> None:
    html = _page(
        inside='<p>Xem <a href="/upload/qd-12.pdf">Quyết định 12</a>.</p>',
        after='<div class="attach"><p><strong>Tài liệu đính kèm:</strong></p><ul>'
              '<li><a href="files/Ke%20hoach.DOCX">Kế hoạch</a></li>'
              '<li><a href="/upload/qd-12.pdf">Tải về</a></li>'
              '<li><a href="/dl.aspx?file=bao-cao.xlsx">Báo cáo</a></li></ul></div>',
        sidebar='<a href="/vb/other.pdf">Văn bản khác</a>')
    article = extract_article(html, "https://xa.example.vn/tin/hoi-nghi.html")
    assert article.attachments == (
        Attachment("https://xa.example.vn/upload/qd-12.pdf", "Quyết định 12", "pdf"),
        Attachment("https://xa.example.vn/tin/files/Ke%20hoach.DOCX", "Kế hoạch", "docx"),
        Attachment("https://xa.example.vn/dl.aspx?file=bao-cao.xlsx", "Báo cáo", "xlsx"),
    )
    assert "Tài liệu đính kèm" not in article.body


def test_no_documents() -> None:
    article = extract_article(_page(inside='<p><a href="/tin/khac.html">Tin khác</a></p>'),
                              "https://xa.example.vn/tin/a.html")
    assert article.attachments == ()
    assert article.to_dict()["attachments"] == ()


def test_tai_ve_link_named_by_its_file() -> None:
    html = _page(after='<p>Công văn số 5 <a href="/files/cv-5.odt">Tải về</a></p>')
    article = extract_article(html, "https://xa.example.vn/tin/a.html")
    assert article.attachments == (
        Attachment("https://xa.example.vn/files/cv-5.odt", "cv-5.odt", "odt"),)


def test_document_kind() -> None:
    assert document_kind("https://a.vn/x/QD.PDF") == "pdf"
    assert document_kind("https://a.vn/x/t%E1%BB%87p.doc?v=2") == "doc"
    assert document_kind("https://a.vn/download?name=bang.xls") == "xls"
    assert document_kind("https://a.vn/x/anh.jpg") is None
    assert document_kind("https://a.vn/pdf/") is None

"""The documents store: each article's links, one row per document URL, the
documents' text in the full-text index, retries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from factories import make_article

from archive.search import search
from archive.store import Archive, DocumentDownload
from scraper.extract.article import Article, Attachment
from scraper.portals import Portal

PORTAL = Portal("xa", "Xã Đồng Tiến", "Thanh Hóa", "https://xa.example.vn/")
PDF = Attachment("https://xa.example.vn/f/qd.pdf", "Quyết định 12", "pdf")
DOCX = Attachment("https://xa.example.vn/f/kh.docx", "Kế hoạch", "docx")
BODY = "Ủy ban nhân dân xã tổ chức hội nghị tổng kết."


def _articles() -> list[Article]:
    return [make_article("https://xa.example.vn/a.html", "Hội nghị", body=BODY,
                         attachments=(PDF, DOCX)),
            make_article("https://xa.example.vn/b.html", "Tin khác", body=BODY,
                         attachments=(PDF,))]


def test_text_indexed_for_every_article_that_links_it(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        a.save_articles(_articles(), portal_id=PORTAL.id)
        assert a.documents_to_retry(PORTAL.id) == [(DOCX.url, None), (PDF.url, None)]
        a.record_document(DocumentDownload(PDF.url, "ok", "pdf", sha256="ab" * 32,
                                           path="documents/ab/x.pdf", size=10,
                                           text="Phê duyệt kênh mương thủy lợi",
                                           text_status="ok", pages=1))
        hits = search(a, "kenh muong")
        assert sorted(h.title for h in hits) == ["Hội nghị", "Tin khác"]
        assert all(h.matched_in == ("attachment:Quyết định 12",) for h in hits)
        a.check_fts()
        docs = a.documents_of([1])[1]
        assert [(d["name"], d["status"]) for d in docs] == [("Quyết định 12", "ok"),
                                                           ("Kế hoạch", "pending")]
        assert a.documents_to_retry(PORTAL.id) == [(DOCX.url, None)]


def test_failures_counted_retried_and_never_erase_a_success(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        a.save_articles(_articles(), portal_id=PORTAL.id)
        a.record_document(DocumentDownload(DOCX.url, "failed", "docx", http_status=500,
                                           error="HTTP 500"))
        assert a.documents_to_retry(PORTAL.id, max_tries=1) == [(PDF.url, None)]
        assert (DOCX.url, "failed") in a.documents_to_retry(PORTAL.id)
        a.record_document(DocumentDownload(PDF.url, "too_large", "pdf",
                                           error="larger than 10 bytes"))
        assert a.documents_to_retry(PORTAL.id) == [(DOCX.url, "failed")]
        a.record_document(DocumentDownload(DOCX.url, "ok", "docx", text="Hội thi",
                                           text_status="ok"))
        a.record_document(DocumentDownload(DOCX.url, "failed", "docx", error="HTTP 503"))
        state = a.document_state(DOCX.url)
        assert state is not None and state["status"] == "ok" and state["tries"] == 3
        assert [h.title for h in search(a, "hoi thi")] == ["Hội nghị"]


def test_a_changed_article_replaces_its_links(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        first = _articles()[0]
        a.save_articles([first], portal_id=PORTAL.id)
        a.record_document(DocumentDownload(PDF.url, "ok", "pdf", text="kênh mương",
                                           text_status="ok"))
        assert search(a, "kenh muong")
        a.save_articles([replace(first, body=BODY + " Sửa.", attachments=(DOCX,))],
                        portal_id=PORTAL.id)
        assert [d["url"] for d in a.documents_of([1])[1]] == [DOCX.url]
        assert list(a.iter_documents()) == a.documents_of([1])[1]
        assert search(a, "kenh muong") == []

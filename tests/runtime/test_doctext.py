"""Text extraction from attached documents, on real files of each type
(written here by the libraries and tools that make them)."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest

from scraper.demo.documents import _docx, _pdf, decision_text, plan_text
from scraper.doctext import XLSX_MAX_BYTES, document_text
from scraper.extract.legacy import encode_tcvn3, encode_vni


def test_pdf_text_layer_read() -> None:
    got = document_text(_pdf(decision_text(7)), "pdf")
    assert got.status == "ok" and got.pages == 1
    assert "QUYẾT ĐỊNH số 7/QĐ-UBND" in (got.text or "")
    assert "kênh mương thủy lợi nội đồng" in (got.text or "")


def test_pdf_with_broken_cross_references_still_read() -> None:
    data = _pdf(plan_text(3))
    broken = re.sub(rb"startxref\s+\d+", b"startxref\n999999", data)
    got = document_text(broken, "pdf")
    assert got.status == "ok" and "KẾ HOẠCH số 3/KH-UBND" in (got.text or "")


def test_pdfminer_reads_what_pypdf_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdf

    def refuse(*args: object, **kwargs: object) -> None:
        raise pypdf.errors.PdfReadError("refused")

    monkeypatch.setattr(pypdf, "PdfReader", refuse)
    got = document_text(_pdf(plan_text(4)), "pdf")
    assert got.status == "ok" and got.pages == 1
    assert "KẾ HOẠCH số 4/KH-UBND" in (got.text or "")


def test_scanned_pdf_flagged() -> None:
    got = document_text(_pdf([], image="scan-1"), "pdf")
    assert got.status == "scanned" and got.pages == 1 and got.text is None


def test_unreadable_pdf_fails_in_one_line() -> None:
    got = document_text(b"%PDF-1.4\nnot really", "pdf")
    assert got.status in ("failed", "none")
    assert got.error is None or "\n" not in got.error


def test_docx_paragraphs_and_tables() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Báo cáo kết quả tiêm chủng mở rộng")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Xã Đồng Tiến"
    table.rows[0].cells[1].text = "98,5%"
    out = io.BytesIO()
    document.save(out)
    got = document_text(out.getvalue(), "docx")
    assert got.status == "ok"
    assert got.text == "Báo cáo kết quả tiêm chủng mở rộng\nXã Đồng Tiến | 98,5%"
    assert document_text(_docx(plan_text(2)), "docx").text.startswith("KẾ HOẠCH số 2")  # type: ignore[union-attr]


def test_xlsx_cells_and_size_cap() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tổng hợp"
    sheet.append(["Thôn", "Số hộ nghèo"])
    sheet.append(["Bản Giốc", 12])
    out = io.BytesIO()
    book.save(out)
    got = document_text(out.getvalue(), "xlsx")
    assert got.status == "ok" and got.text == "Tổng hợp\nThôn | Số hộ nghèo\nBản Giốc | 12"
    big = document_text(out.getvalue() + b"\0" * XLSX_MAX_BYTES, "xlsx")
    assert big.status == "none" and "not read" in (big.error or "")


def _odt(paragraphs: list[str]) -> bytes:
    body = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:text><text:h>Thông báo</text:h>{body}'
        '</office:text></office:body></office:document-content>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
    return out.getvalue()


def test_odt_paragraphs() -> None:
    got = document_text(_odt(["Lịch tiếp công dân tháng 5", "Phòng họp số 2"]), "odt")
    assert got.status == "ok"
    assert got.text == "Thông báo\nLịch tiếp công dân tháng 5\nPhòng họp số 2"


def test_doc_not_word_97_read_by_catdoc_and_legacy_text_converted() -> None:
    # antiword rejects a file that is not a Word 97 document; catdoc reads it
    # as the text it is. Its TCVN3 bytes become Unicode.
    text = "Ban chỉ đạo xã thông báo lịch tiêm phòng dại cho chó mèo năm nay"
    got = document_text(encode_tcvn3(text).encode("latin-1"), "doc")
    assert got.status == "ok" and got.legacy == "tcvn3" and got.text == text


def test_legacy_vni_in_a_docx_converted() -> None:
    text = "Hội nghị tổng kết công tác dân vận khéo của các thôn bản"
    got = document_text(_docx([encode_vni(text), encode_vni(text)]), "docx")
    assert got.status == "ok" and got.legacy == "vni"
    assert got.text == f"{text}\n{text}"


def test_missing_converter_is_a_failure_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    got = document_text(b"\xd0\xcf\x11\xe0 not a real file", "xls")
    assert got.status == "failed" and "xls2csv" in (got.error or "")


def test_unknown_kind() -> None:
    assert document_text(b"abc", "rtf").status == "failed"


def test_documents_per_second() -> None:
    """Throughput of text extraction on the demo's files (printed; a loose floor)."""
    files = [(_pdf(decision_text(n)), "pdf") for n in range(1, 6)]
    files += [(_docx(plan_text(n)), "docx") for n in range(1, 6)]
    started = time.perf_counter()
    for data, kind in files:
        assert document_text(data, kind).status == "ok"
    rate = len(files) / (time.perf_counter() - started)
    print(f"document text extraction: {rate:.1f} documents/s")
    assert rate > 2

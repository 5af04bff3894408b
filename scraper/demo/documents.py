"""Real documents attached to some demo articles: PDF and DOCX files with
Vietnamese text, an image-only ("scanned") PDF, and a document too large for
a crawl's cap. Generated at serve time from the article's id only, so the
same article always serves the same bytes (content addressing holds).

PDFs are written by fpdf2 with the DejaVu Sans font Debian ships
(fonts-dejavu-core); DOCX files by python-docx, re-zipped with fixed times.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from scraper.demo.images import jpeg_bytes

#: Where the documents are served (every layout family alike).
DOCUMENTS_PATH = "/tai-lieu/"
#: A TrueType font with every Vietnamese letter.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
#: Every fourth article has documents (ids 1, 5, 9 …); every eighth a scanned one too.
EVERY = 4
#: One form linked from every article with documents: one URL, one file.
SHARED_FORM = "bieu-mau-dang-ky.pdf"
_FIXED_TIME = datetime(2024, 1, 1, tzinfo=UTC)

MIME = {"pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass(frozen=True)
class DemoDocument:
    """A document as an article links it (``url`` is root-relative)."""

    url: str
    name: str
    kind: str


def decision_text(n: int) -> list[str]:
    """The text of article ``n``'s decision (PDF); its words are searchable."""
    return [f"QUYẾT ĐỊNH số {n}/QĐ-UBND",
            "Về việc phê duyệt kế hoạch tu bổ kênh mương thủy lợi nội đồng",
            f"Điều 1. Phê duyệt kế hoạch tu bổ {n % 17 + 3} tuyến kênh tưới tiêu "
            "của xã Khe Gồm trong mùa khô.",
            "Điều 2. Giao Phòng Nông nghiệp chủ trì, phối hợp với Ủy ban nhân dân các xã "
            "tổ chức thực hiện.",
            "Điều 3. Quyết định có hiệu lực kể từ ngày ký."]


def plan_text(n: int) -> list[str]:
    """The text of article ``n``'s plan (DOCX)."""
    return [f"KẾ HOẠCH số {n}/KH-UBND",
            "Tổ chức hội thi tìm hiểu pháp luật về phòng chống thiên tai",
            f"Thời gian: tháng {n % 12 + 1}; địa điểm: nhà văn hóa thôn Bản Giốc.",
            "Đối tượng dự thi: đoàn viên thanh niên, hội viên phụ nữ, cựu chiến binh."]


def documents_of(n: int) -> tuple[DemoDocument, ...]:
    """The documents article ``n`` links (none for most articles)."""
    if n % EVERY != 1:
        return ()
    docs = [DemoDocument(f"{DOCUMENTS_PATH}quyet-dinh-{n}.pdf", f"Quyết định số {n}/QĐ-UBND",
                         "pdf"),
            DemoDocument(f"{DOCUMENTS_PATH}ke-hoach-{n}.docx", f"Kế hoạch số {n}/KH-UBND",
                         "docx"),
            DemoDocument(f"{DOCUMENTS_PATH}{SHARED_FORM}", "Biểu mẫu đăng ký", "pdf")]
    if n % (2 * EVERY) == 1:
        docs.append(DemoDocument(f"{DOCUMENTS_PATH}ban-chup-{n}.pdf",
                                 f"Bản chụp công văn {n}", "pdf"))
    if n % (4 * EVERY) == 1:
        docs.append(DemoDocument(f"{DOCUMENTS_PATH}bao-cao-lon-{n}.pdf",
                                 f"Báo cáo tổng hợp {n} (bản đầy đủ)", "pdf"))
    return tuple(docs)


def _pdf(lines: list[str], *, image: str | None = None, padding: int = 0) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(_FIXED_TIME)
    pdf.add_page()
    if image is not None:
        pdf.image(io.BytesIO(jpeg_bytes(image, (480, 640))), x=10, y=10, w=190)
    else:
        pdf.add_font("DejaVu", fname=str(FONT))
        pdf.set_font("DejaVu", size=12)
        for line in lines:
            pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    if padding:
        # A comment after the end marker: readers ignore it, the size grows.
        data += b"%" + b"0" * padding + b"\n"
    return data


def _docx(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.created = _FIXED_TIME.replace(tzinfo=None)
    document.core_properties.modified = _FIXED_TIME.replace(tzinfo=None)
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    raw = io.BytesIO()
    document.save(raw)
    # Same bytes every time: the zip entries' times fixed.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


#: Bytes of the "large" report beyond its text (over a test crawl's cap).
LARGE_PADDING = 300_000


@lru_cache(maxsize=64)
def document_bytes(file: str) -> tuple[str, bytes] | None:
    """``(MIME type, bytes)`` of a document file name, or None when there is none."""
    stem, _, ext = file.rpartition(".")
    name, _, number = stem.rpartition("-")
    if file == SHARED_FORM:
        return MIME["pdf"], _pdf(["BIỂU MẪU ĐĂNG KÝ", "Họ và tên: …………",
                                  "Địa chỉ thường trú: …………"])
    if not number.isdigit():
        return None
    n = int(number)
    if ext == "pdf" and name == "quyet-dinh":
        return MIME["pdf"], _pdf(decision_text(n))
    if ext == "docx" and name == "ke-hoach":
        return MIME["docx"], _docx(plan_text(n))
    if ext == "pdf" and name == "ban-chup":
        return MIME["pdf"], _pdf([], image=f"scan-{n}")
    if ext == "pdf" and name == "bao-cao-lon":
        return MIME["pdf"], _pdf([f"BÁO CÁO TỔNG HỢP số {n}"], padding=LARGE_PADDING)
    return None

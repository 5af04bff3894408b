"""The text of an attached document, from its bytes.

PDF through pypdf, with pdfminer.six as the fallback when pypdf fails or finds
no text; a PDF with pages but no text layer is ``scanned``. DOCX through
python-docx (paragraphs, then tables), XLSX through openpyxl (small files
only), ODT from its ``content.xml``, and the old binary formats through
Debian's tools: ``.doc`` with antiword (catdoc when antiword gives up),
``.xls`` with catdoc's xls2csv. Text typed in a legacy Vietnamese font
encoding (TCVN3, VNI) is converted to Unicode.

Slow and CPU-bound: the crawl runs it on a worker thread, never on the reactor.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from scraper.extract.legacy import CONVERTERS, detect_legacy

#: Spreadsheets larger than this are stored but not read (a huge table of
#: numbers costs much and finds little).
XLSX_MAX_BYTES = 5 * 1024 * 1024
#: Seconds a Debian converter (antiword, catdoc) may take on one file.
TOOL_TIMEOUT = 60
#: A PDF whose pages average fewer letters than this has no real text layer.
SCANNED_MAX_CHARS_PER_PAGE = 8


@dataclass(frozen=True)
class DocText:
    """What could be read from a document."""

    #: ``ok``, ``scanned`` (a PDF with no text layer), ``none`` (no text) or ``failed``.
    status: str
    text: str | None = None
    pages: int | None = None
    #: Why reading failed (or was skipped), one line.
    error: str | None = None
    #: The legacy font encoding the text was converted from, if any.
    legacy: str | None = None


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\x00", ""))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def pdf_text(data: bytes) -> tuple[str, int]:
    """``(text, pages)``: pypdf first, pdfminer.six when pypdf fails or reads no letters."""
    pages = 0
    text = ""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on broken files
        text = ""
    if _letters(text) < max(pages, 1) * SCANNED_MAX_CHARS_PER_PAGE:
        from pdfminer.high_level import extract_text as pdfminer_text
        from pdfminer.pdfpage import PDFPage

        try:
            mined = pdfminer_text(io.BytesIO(data))
            if not pages:
                pages = sum(1 for _ in PDFPage.get_pages(io.BytesIO(data)))
        except Exception as exc:  # noqa: BLE001 - pdfminer too
            if not pages:
                raise ValueError(f"unreadable PDF ({type(exc).__name__})") from exc
            mined = ""
        if _letters(mined) > _letters(text):
            text = mined
    return text, pages


def docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        lines: list[str] = []
        for sheet in book.worksheets:
            lines.append(str(sheet.title))
            for row in sheet.iter_rows(values_only=True):
                cells = [str(v) for v in row if v is not None and str(v).strip()]
                if cells:
                    lines.append(" | ".join(cells))
        return "\n".join(lines)
    finally:
        book.close()


_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def odt_text(data: bytes) -> str:
    """The paragraphs and headings of an OpenDocument text's ``content.xml``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("content.xml"),
                                parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                       huge_tree=False))
    paragraphs = root.iter(f"{{{_ODF_TEXT}}}p", f"{{{_ODF_TEXT}}}h")
    return "\n".join("".join(p.itertext()) for p in paragraphs)


def _tool(args: list[str], data: bytes, suffix: str) -> str:
    """Run a Debian converter on ``data`` (in a temporary file); its UTF-8 output."""
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        done = subprocess.run([*args, handle.name], capture_output=True, timeout=TOOL_TIMEOUT,
                              check=False, env={**os.environ, "LANG": "C.UTF-8"})
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(f"{args[0]}: {message[0] if message else f'exit {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace")


def doc_text(data: bytes) -> str:
    """Word 97-2003: antiword, or catdoc for the files antiword does not read."""
    try:
        return _tool(["antiword", "-m", "UTF-8.txt", "-w", "0"], data, ".doc")
    except (ValueError, OSError, subprocess.TimeoutExpired):
        return _tool(["catdoc", "-d", "utf-8", "-w"], data, ".doc")


def xls_text(data: bytes) -> str:
    return _tool(["xls2csv", "-d", "utf-8", "-q", "0"], data, ".xls")


READERS: dict[str, Callable[[bytes], str]] = {
    "docx": docx_text, "xlsx": xlsx_text, "odt": odt_text, "doc": doc_text, "xls": xls_text,
}


def document_text(data: bytes, kind: str) -> DocText:
    """Read the text of a document of type ``kind`` (``pdf``, ``docx`` …). Never raises."""
    pages: int | None = None
    try:
        if kind == "pdf":
            raw, pages = pdf_text(data)
        elif kind == "xlsx" and len(data) > XLSX_MAX_BYTES:
            return DocText("none", error=f"spreadsheet over {XLSX_MAX_BYTES} bytes: not read")
        elif kind in READERS:
            raw = READERS[kind](data)
        else:
            return DocText("failed", error=f"no reader for {kind or 'unknown'} files")
    except FileNotFoundError as exc:
        return DocText("failed", error=f"{exc.filename or 'converter'} is not installed")
    except subprocess.TimeoutExpired:
        return DocText("failed", error=f"converter took over {TOOL_TIMEOUT}s")
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the crawl
        return DocText("failed", error=f"{type(exc).__name__}: {exc}"[:300])
    text = _clean(raw)
    legacy = None
    detection = detect_legacy(text) if text else None
    if detection is not None and detection.encoding:
        legacy = detection.encoding
        text = _clean(CONVERTERS[legacy](text))
    if not text or not _letters(text):
        if kind == "pdf" and pages:
            return DocText("scanned", None, pages)
        return DocText("none", None, pages)
    if kind == "pdf" and pages and _letters(text) < pages * SCANNED_MAX_CHARS_PER_PAGE:
        return DocText("scanned", text, pages)
    return DocText("ok", text, pages, legacy=legacy)

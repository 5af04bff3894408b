"""The page as the portal served it: a capture's recorded bytes, replayed in a sandbox.

``/capture/<id>`` answers with the body of the capture's WARC response
record (its content type as recorded), under
``Content-Security-Policy: sandbox allow-scripts`` and no ``allow-same-origin``:
the browser gives the document an opaque origin of its own, so the archived
page's scripts run (the page as it behaved) but cannot read or change the
UI's pages, cookies or storage, and the rest of the policy keeps them from
fetching anything: not the UI (``connect-src 'none'``) and not the portal
or anyone else (images, styles and scripts only inline or as data: URLs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from warcio.archiveiterator import ArchiveIterator

from archive.store import Archive

CAPTURE_ROUTE = "/capture/"
SANDBOX_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
               "style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
               "form-action 'none'; frame-src 'none'; base-uri 'none'")
#: Recorded headers worth sending again (the rest describe a transfer long over).
_KEPT = ("content-type", "content-language", "last-modified")


@dataclass(frozen=True)
class RecordedPage:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def recorded_page(archive: Archive, folder: Path, capture_id: int) -> RecordedPage | None:
    """The response recorded for capture ``capture_id``, read from its WARC file inside
    ``folder``; None when there is no such capture or its record cannot be read."""
    row = archive.conn.execute(
        "SELECT url, warc_file, warc_offset FROM captures WHERE id = ?", [capture_id]).fetchone()
    if row is None or not row[1] or row[2] is None:
        return None
    rel = PurePosixPath(row[1])
    root = folder.resolve()
    path = (rel if rel.is_absolute() else root / rel)
    path = Path(path).resolve()
    if not rel.is_absolute() and not path.is_relative_to(root):
        return None
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        fh.seek(int(row[2]))
        for record in ArchiveIterator(fh):
            if record.rec_type != "response" or record.http_headers is None:
                return None
            headers = [(k, v) for k, v in record.http_headers.headers if k.lower() in _KEPT]
            status = int(record.http_headers.get_statuscode() or 200)
            return RecordedPage(str(row[0]), status, headers, record.content_stream().read())
    return None

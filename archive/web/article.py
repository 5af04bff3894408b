"""What the article page shows: body, images from the archive's files, versions, captures.

Everything here runs in a Datasette worker thread over a read-only
connection (:func:`article_page`) and returns plain data and escaped
:class:`~markupsafe.Markup`; the template adds the words.

* **Images come from the archive.** An image downloaded by a crawl is a file
  under the archive's folder (``images/ab/abcdef….jpg``, content-addressed
  by sha256; ``image_files``). The page links it as ``/file/image/<sha256>``
  (:func:`image_file`), never the portal's URL: the portal may be gone, and
  a page that loads from it tells the portal who reads the archive. An image
  that was never stored, or whose file is not on disk, is shown as missing.
* **Each image once, with its caption.** The archived ``body_html`` keeps
  the page's images and their captions in place, and the article's images
  are listed again under the body; showing both showed every image twice.
  The body is shown without its images and without the text of their
  captions (:func:`~archive.web.sanitize.strip_images`), and the images are
  shown once each, under the body, with their captions.
* **Attached documents** are listed under the images (name, type, size,
  sha256, status, text); a stored one is linked as ``/file/document/<sha256>``
  (:func:`document_file`), like the images.
* **Versions** with what changed between each and the next (and the
  current text): a word diff (:mod:`difflib`), HTML-escaped.
"""

from __future__ import annotations

import difflib
import html
import re
from pathlib import Path, PurePosixPath
from typing import Any

from markupsafe import Markup

from archive.store import Archive
from archive.web.sanitize import safe_url, sanitize_html, strip_images

IMAGE_ROUTE = "/file/image/"
DOCUMENT_ROUTE = "/file/document/"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def portal_names(archive: Archive) -> dict[str, tuple[str, str]]:
    """Portal id → (name, province)."""
    return {r[0]: (r[1], r[2]) for r in archive.conn.execute(
        "SELECT id, name, province FROM portals ORDER BY name, id")}


def image_file(archive: Archive, folder: Path, sha256: str) -> tuple[Path, str] | None:
    """The stored file (inside ``folder``) of the image with this sha256 and its type, or None."""
    return _stored_file(archive, folder, sha256, "image_files")


def document_file(archive: Archive, folder: Path, sha256: str) -> tuple[Path, str] | None:
    """The stored file (inside ``folder``) of the document with this sha256 and its type, or None."""
    return _stored_file(archive, folder, sha256, "documents")


def _stored_file(archive: Archive, folder: Path, sha256: str,
                 table: str) -> tuple[Path, str] | None:
    if not _SHA256.match(sha256):
        return None
    row = archive.conn.execute(
        f"SELECT path, mime FROM {table} WHERE sha256 = ? AND status = 'ok' "
        "AND path IS NOT NULL LIMIT 1", [sha256]).fetchone()
    if row is None:
        return None
    rel = PurePosixPath(row[0])
    if rel.is_absolute() or ".." in rel.parts:
        return None
    root = folder.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path, row[1] or "application/octet-stream"


def article_images(archive: Archive, folder: Path, article_id: int) -> list[dict[str, Any]]:
    """The article's images in order, each with its archive source or ``missing``."""
    out = []
    for pos, url, caption, alt, status, sha, path, mime, width, height in archive.conn.execute(
            "SELECT position, url, caption, alt, status, sha256, path, mime, width, height "
            "FROM images WHERE article_id = ? ORDER BY position", [article_id]):
        stored = status == "ok" and sha and path and image_file(archive, folder, sha) is not None
        out.append({
            "position": pos, "url": url, "link": safe_url(url), "caption": caption, "alt": alt,
            "src": f"{IMAGE_ROUTE}{sha}" if stored else None,
            "missing": not stored, "status": status or "not downloaded",
            "sha256": sha, "mime": mime, "width": width, "height": height,
        })
    return out


def article_documents(archive: Archive, folder: Path, article_id: int) -> list[dict[str, Any]]:
    """The article's attached documents in order, each with its archive link or none."""
    out = []
    for doc in archive.documents_of([article_id])[article_id]:
        stored = doc["status"] == "ok" and doc["sha256"] and document_file(
            archive, folder, doc["sha256"]) is not None
        out.append({**doc, "link": safe_url(doc["url"]),
                    "href": f"{DOCUMENT_ROUTE}{doc['sha256']}" if stored else None})
    return out


# -------------------------------------------------------------------- diffs
#: Words with the spaces after them: a run of changed words is one change.
_TOKENS = re.compile(r"\s+|\S+\s*")


def word_diff(old: str, new: str) -> Markup:
    """``old`` → ``new`` as escaped HTML: removed words in ``<del>``, added in ``<ins>``."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, [t.strip() for t in a], [t.strip() for t in b],
                                      autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(html.escape("".join(b[j1:j2])))
            continue
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        after = added or removed
        space = after[len(after.rstrip()):]
        if removed.strip():
            parts.append(f"<del>{html.escape(removed.rstrip())}</del>")
        if added.strip():
            parts.append(f"<ins>{html.escape(added.rstrip())}</ins>")
        parts.append(html.escape(space))
    return Markup("".join(parts).replace("\n\n", "<br><br>"))


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields that differ between two versions, each with its diff."""
    out = []
    for field in ("title", "author", "category", "published", "body"):
        before, after = old.get(field) or "", new.get(field) or ""
        if before != after:
            out.append({"field": field, "diff": word_diff(str(before), str(after))})
    return out


def versions(archive: Archive, article_id: int, current: dict[str, Any]) -> list[dict[str, Any]]:
    """Earlier versions, oldest first, each with what changed in the version after it."""
    rows = archive.versions(article_id)
    out = []
    for k, row in enumerate(rows):
        after = rows[k + 1] if k + 1 < len(rows) else current
        out.append({"first_seen": row["first_seen"], "last_seen": row["last_seen"],
                    "replaced": row["replaced"], "title": row["title"],
                    "content_hash": row["content_hash"], "changes": _changes(row, after)})
    return out


def captures(archive: Archive, article_id: int) -> list[dict[str, Any]]:
    """Every fetch of the article's page: when, HTTP status, WARC file (inside the archive)."""
    out = []
    for row in archive.captures(article_id):
        warc = row.get("warc_file") or ""
        out.append({"fetched": row.get("fetched"), "http_status": row.get("http_status"),
                    "url": row.get("url"), "run_id": row.get("run_id"),
                    # A file outside the archive's folder is named, never its absolute path.
                    "warc_file": Path(warc).name if Path(warc).is_absolute() else warc,
                    "warc_offset": row.get("warc_offset"), "id": row.get("id"),
                    "source": row.get("source") or "live",
                    "captured_at": row.get("captured_at") or row.get("fetched")})
    return out


def sources(archive: Archive, article_id: int) -> list[dict[str, Any]]:
    """How the article reached the archive: crawl runs and text-dump imports that saw it."""
    out = []
    for run_id, portal_id, started, settings in archive.conn.execute(
            """SELECT r.id, r.portal_id, r.started, r.settings FROM crawl_runs r
               WHERE r.id IN (SELECT first_run_id FROM articles WHERE id = :id
                              UNION SELECT last_run_id FROM articles WHERE id = :id
                              UNION SELECT run_id FROM captures WHERE article_id = :id
                              UNION SELECT first_run_id FROM article_versions
                                    WHERE article_id = :id)
               ORDER BY r.id""", {"id": article_id}):
        kind = "import" if '"import-text"' in (settings or "") else "crawl"
        out.append({"run_id": run_id, "portal_id": portal_id, "started": started, "kind": kind})
    return out


def article_page(archive: Archive, folder: Path, article_id: int) -> dict[str, Any] | None:
    """Everything the article page shows, or None when there is no such article."""
    stored = archive.get_stored(article_id)
    if stored is None:
        return None
    art = stored.article
    images = article_images(archive, folder, stored.id)
    captions = {i["caption"] for i in images if i["caption"]}
    if art.body_html.strip():
        body = Markup(strip_images(sanitize_html(art.body_html, art.canonical_url), captions))
    else:
        body = Markup("".join(f"<p>{html.escape(p)}</p>" for p in art.body.split("\n\n")
                              if p.strip()))
    current = {"title": art.title, "author": art.author, "category": art.category,
               "published": art.published.isoformat() if art.published else None,
               "body": art.body}
    names = portal_names(archive)
    name, province = names.get(stored.portal_id, (stored.portal_id, ""))
    return {
        "id": stored.id, "portal_id": stored.portal_id, "portal_name": name,
        "province": province, "title": art.title,
        "published": current["published"], "published_raw": art.published_raw,
        "author": art.author, "authors": art.authors, "category": art.category, "body": body,
        "source": safe_url(art.canonical_url), "url": art.canonical_url,
        "images": images,
        "documents": article_documents(archive, folder, stored.id),
        "first_seen": stored.first_seen, "last_seen": stored.last_seen,
        "first_run_id": stored.first_run_id, "last_run_id": stored.last_run_id,
        "status": stored.status, "gone_at": stored.gone_at, "content_hash": stored.content_hash,
        "extractor": art.extractor, "warnings": art.warnings,
        "versions": versions(archive, stored.id, current),
        "captures": captures(archive, stored.id),
        "sources": sources(archive, stored.id),
    }

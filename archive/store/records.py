"""The archive's records: what a write reports, what a read returns, and how
an :class:`~scraper.extract.article.Article` becomes an ``articles`` row and back.

Text is stored NFC (:func:`normalised`); each searchable column has a
``*_folded`` twin (:func:`archive.textfold.fold`) written here, so the
database needs no Python function to stay consistent. Times are stored as
sortable UTC strings (:func:`utc_iso`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from archive.textfold import fold, fold_opt, nfc, nfc_opt
from scraper.extract.article import VIETNAM_TZ, Article, Image


def utc_iso(moment: datetime) -> str:
    """``2022-01-15T09:48:18Z``: the archive's sortable UTC timestamp format.

    A naive ``moment`` is taken as Vietnam local time (the portals' zone).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TZ)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso(now: datetime | None = None) -> str:
    """:func:`utc_iso` of ``now``, or of the current time."""
    return utc_iso(now or datetime.now(UTC))


class Selection(Protocol):
    """Which articles a read is about: a SQL condition over ``articles``
    aliased ``alias`` and its parameters (``("1", [])`` for all).
    :class:`archive.filters.ArticleFilter` is one."""

    def where(self, alias: str = "a") -> tuple[str, list[Any]]: ...


@dataclass
class SaveResult:
    """What :meth:`Archive.save_articles` did: counts, and the ids it touched."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)
    #: Archived texts kept as versions only: the article holds a live or newer text.
    versions: int = 0

    @property
    def total(self) -> int:
        return self.new + self.changed + self.unchanged + self.versions

    def __add__(self, other: SaveResult) -> SaveResult:
        return SaveResult(self.new + other.new, self.changed + other.changed,
                          self.unchanged + other.unchanged, self.ids + other.ids,
                          self.versions + other.versions)

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged}


@dataclass(frozen=True)
class Capture:
    """Where one fetch of an article's page is kept (a WARC response record)."""

    #: The URL fetched (the WARC record's target URI).
    url: str
    #: When the response arrived (ISO 8601).
    fetched: str | None = None
    http_status: int | None = None
    #: WARC file, relative to the archive's folder (or absolute); None without WARC.
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    warc_record_id: str | None = None
    #: Who captured the page: ``live`` (our crawl), ``wayback``, ``commoncrawl``.
    source: str = "live"
    #: When that source captured it (ISO 8601); ``fetched`` when None.
    captured_at: str | None = None


#: The sources an article's text can come from.
SOURCES = ("live", "wayback", "commoncrawl")


@dataclass(frozen=True)
class ImageDownload:
    """The outcome of one attempt to download an image file."""

    url: str
    ok: bool
    sha256: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    mime: str | None = None
    #: Stored file, relative to the archive's folder.
    path: str | None = None
    http_status: int | None = None
    error: str | None = None


#: A document's download status, and how its text extraction went.
DOCUMENT_STATUSES = ("ok", "failed", "too_large", "pending")
TEXT_STATUSES = ("ok", "scanned", "none", "failed")


@dataclass
class DocumentDownload:
    """The outcome of one attempt to download (and read) an attached document."""

    url: str
    #: ``ok``, ``failed`` or ``too_large`` (:data:`DOCUMENT_STATUSES`).
    status: str
    kind: str = ""
    sha256: str | None = None
    #: Stored file, relative to the archive's folder.
    path: str | None = None
    size: int | None = None
    mime: str | None = None
    http_status: int | None = None
    error: str | None = None
    #: Extracted text (legacy TCVN3/VNI converted), or None.
    text: str | None = None
    #: ``ok``, ``scanned`` (a PDF with no text layer), ``none`` (no text in
    #: it) or ``failed`` (:data:`TEXT_STATUSES`); None when not downloaded.
    text_status: str | None = None
    pages: int | None = None


@dataclass
class StoredArticle:
    """An article as archived: the :class:`Article` plus what the archive knows of it."""

    id: int
    portal_id: str
    article: Article
    content_hash: str
    published_utc: str | None
    first_seen: str
    last_seen: str
    first_run_id: int | None
    last_run_id: int | None
    status: str
    #: When the archive found the article gone from the portal (UTC); None while live.
    gone_at: str | None = None


def normalised(article: Article) -> Article:
    """The article as stored: text NFC, a naive publication time taken as Vietnam time."""
    published = article.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=VIETNAM_TZ)
    return replace(
        article,
        title=nfc(article.title),
        body=nfc(article.body),
        body_html=nfc(article.body_html),
        author=nfc_opt(article.author),
        authors=[nfc(a) for a in article.authors],
        category=nfc_opt(article.category),
        published=published,
        images=[
            Image(url=i.url, caption=nfc_opt(i.caption), alt=nfc_opt(i.alt), position=i.position)
            for i in article.images
        ],
    )


def article_row(article: Article) -> dict[str, Any]:
    """The ``articles`` columns an (already normalised) article determines."""
    pub = article.published
    return {
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "published": pub.isoformat() if pub else None,
        "published_utc": utc_iso(pub) if pub else None,
        "published_raw": article.published_raw,
        "author": article.author,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "body": article.body,
        "body_html": article.body_html,
        "category": article.category,
        "language": article.language,
        "extractor": article.extractor,
        "extractor_version": article.extractor_version,
        "warnings": json.dumps(article.warnings, ensure_ascii=False),
        "content_hash": article.content_hash(),
        "title_folded": fold(article.title),
        "body_folded": fold(article.body),
        "author_folded": fold_opt(article.author),
        "category_folded": fold_opt(article.category),
    }


def article_from_row(row: dict[str, Any], images: list[dict[str, Any]]) -> Article:
    return Article(
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        body=row["body"],
        body_html=row["body_html"],
        published=datetime.fromisoformat(row["published"]) if row["published"] else None,
        published_raw=row["published_raw"],
        author=row["author"],
        authors=json.loads(row["authors"]),
        images=[Image(url=i["url"], caption=i["caption"], alt=i["alt"], position=i["position"])
                for i in images],
        category=row["category"],
        language=row["language"],
        extractor=row["extractor"],
        extractor_version=row["extractor_version"],
        warnings=json.loads(row["warnings"]),
    )


#: Columns of :meth:`Archive.iter_articles` rows, in export order.
EXPORT_COLUMNS = (
    "id", "portal_id", "canonical_url", "url", "title", "published", "published_utc",
    "published_raw", "author", "authors", "category", "language", "body", "body_html",
    "images", "extractor", "extractor_version", "warnings", "content_hash",
    "first_seen", "last_seen", "first_run_id", "last_run_id", "status", "gone_at",
)
JSON_COLUMNS = ("authors", "warnings", "images")
#: Columns of :meth:`Archive.iter_images` rows.
IMAGE_COLUMNS = ("article_id", "position", "url", "caption", "alt")
#: The columns of an article's documents (``show``, the web UI, the exports).
DOCUMENT_COLUMNS = ("article_id", "position", "url", "name", "kind", "status", "size", "sha256",
                    "mime", "path", "text_status", "pages", "tries", "error")

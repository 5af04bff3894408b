"""The one typed record of an archived article.

Field names follow zyte-common-items' ``Article`` where they mean the same
thing (url, canonical_url, headline→title, date_published→published,
article_body→body, images, authors). Every field is documented once, here.
This module imports nothing from Scrapy: extraction, the archive and the
CLI all share it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

#: Vietnam's local time. The country has kept UTC+7 without daylight saving
#: since 1975, so a fixed offset is exact and needs no tz database.
VIETNAM_TZ = timezone(timedelta(hours=7), "+07:00")


class NotAnArticle(ValueError):
    """Raised by extraction when a page is not an article page.

    ``reason`` is a short, stable, machine-friendly label (``no-title``,
    ``no-body``, ``listing``, ``static_page``, ``empty``, ``binary``, …) counted
    in crawl stats. ``listing``: a home page or a category listing;
    ``static_page``: one of the portal's standing pages ("Giới thiệu", "Chức
    năng nhiệm vụ", "Liên hệ", an undated page); neither is ever an article.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"not an article ({reason}){': ' + detail if detail else ''}")


@dataclass(frozen=True)
class Image:
    """One image of the article body, in reading order."""

    #: Absolute URL of the image file as served (lazy ``data-src`` resolved).
    url: str
    #: Caption shown under the image or under the run of images it belongs to.
    caption: str | None = None
    #: The ``alt`` attribute as served (often just the file name).
    alt: str | None = None
    #: 0-based position among the article's images.
    position: int = 0


@dataclass(frozen=True)
class Attachment:
    """A document the article links to as its attachment (a decision, a plan,
    a report), in the order the page lists it. The link is recorded; the
    file itself is not fetched by extraction."""

    #: Absolute URL of the document (or of the portal's download link for it).
    url: str
    #: The document's name as the page shows it (link text, else the file name).
    name: str
    #: File type from the extension, lower case: ``pdf``, ``doc``, ``docx``,
    #: ``xls``, ``xlsx``, ``odt``, ``ods``, ``ppt``, ``pptx``, ``rar``, ``zip``.
    kind: str


@dataclass
class Article:
    """An article as the portal published it.

    ``published`` is the normalised publication time (timezone-aware; pages
    that give no zone are Vietnam time, +07:00). ``published_raw`` keeps the
    exact text the page showed, so the normalisation can always be checked.
    """

    #: URL the page was fetched from.
    url: str
    #: The article's identity in the archive: ``<link rel=canonical>`` /
    #: ``og:url`` when the page declares one on the same site, otherwise the
    #: fetched URL normalised (fragment, session ids and tracking query
    #: parameters removed, host lower-cased).
    canonical_url: str
    #: Title exactly as published (stray spaces and punctuation kept;
    #: only Unicode NFC and whitespace folding applied).
    title: str
    #: Plain text of the article: paragraphs separated by one blank line;
    #: no captions, no signature, no widget text, one copy only.
    body: str
    #: The article's own markup, cleaned of scripts, styles and widgets.
    body_html: str = ""
    #: Publication time, timezone-aware, or None when the page shows none.
    published: datetime | None = None
    #: The publication time exactly as shown on the page.
    published_raw: str | None = None
    #: Author as signed (``Văn Hùng``, ``Văn Hùng - Trung tâm VH-TT``).
    author: str | None = None
    #: The author line split into people (``["Văn Hùng"]``).
    authors: list[str] = field(default_factory=list)
    #: Images of the body, in order, with captions.
    images: list[Image] = field(default_factory=list)
    #: Category / section name as the portal shows it (breadcrumb).
    category: str | None = None
    #: BCP-47 language tag of the text.
    language: str = "vi"
    #: Which extraction profile produced this record (``thanhhoa``, ``generic``).
    extractor: str = ""
    #: Version of that profile; bumped whenever its output may change.
    extractor_version: str = ""
    #: Non-fatal problems met while extracting (``no-author``, ``no-date`` …).
    warnings: list[str] = field(default_factory=list)
    #: Documents attached to the article (``Tài liệu đính kèm``, ``File đính
    #: kèm``, links to PDF/DOC/DOCX/XLS/XLSX/ODT files in the article's column),
    #: in page order, one per URL. Their lists never enter ``body``.
    attachments: tuple[Attachment, ...] = ()

    # ------------------------------------------------------------------ hashes
    def content_hash(self) -> str:
        """sha256 over what makes the article itself: title, body, images.

        Widgets, counters, the fetch time and the extractor name never enter
        it, so an unchanged article always hashes the same.
        """
        payload = json.dumps(
            {
                "title": self.title,
                "body": self.body,
                "author": self.author,
                "published": self.published.isoformat() if self.published else None,
                "images": [[i.url, i.caption] for i in self.images],
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    # ------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``published`` as ISO 8601 with offset)."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        pub = values.get("published")
        if isinstance(pub, str):
            values["published"] = datetime.fromisoformat(pub)
        values["images"] = [
            img if isinstance(img, Image) else Image(**img) for img in values.get("images", [])
        ]
        values["attachments"] = tuple(
            a if isinstance(a, Attachment) else Attachment(**a)
            for a in values.get("attachments", ()) or ()
        )
        return cls(**values)

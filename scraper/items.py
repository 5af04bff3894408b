"""What the spider hands to the pipelines: one fetched page."""

from __future__ import annotations

from dataclasses import dataclass, field

from scraper.archiver import PageSummary
from scraper.warc import CaptureRef


@dataclass
class PageItem:
    """A fetched page on its way through the pipelines."""

    url: str
    portal_id: str
    html: bytes
    status: int = 200
    #: When the response arrived (ISO 8601, UTC).
    fetched_at: str = ""
    #: The response's WARC record (set by ``scraper.middlewares.WarcCaptureMiddleware``).
    capture: CaptureRef | None = None
    #: What the crawl's storage made of the page (set by ``ExtractPipeline``).
    summary: PageSummary | None = field(default=None, repr=False)
    #: The article's image URLs (for ``ImageFilesPipeline``).
    image_urls: list[str] = field(default_factory=list)
    #: ``(url, kind)`` of the article's attached documents (for ``DocumentFilesPipeline``).
    document_urls: list[tuple[str, str]] = field(default_factory=list)

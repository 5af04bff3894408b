"""What the spider hands to the pipelines: one fetched page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scraper.archiver import PageSummary
from scraper.extract.article import Article
from scraper.extract.page import Page


@dataclass
class PageItem:
    """A fetched page on its way through the pipelines."""

    url: str
    portal_id: str
    html: bytes
    status: int = 200
    #: When the response arrived (ISO 8601, UTC).
    fetched_at: str = ""
    #: The extraction state, filled stage by stage by the pipelines.
    page: Page | None = field(default=None, repr=False)
    #: Where the response is kept: WARC file, offset, length, record id
    #: (set by ``scraper.middlewares.WarcCaptureMiddleware``).
    capture: dict[str, Any] | None = None
    #: What the archiver process made of the page (when it extracted and stored it).
    summary: PageSummary | None = field(default=None, repr=False)
    #: The article's image URLs, kept when the parse tree is freed (image downloads).
    image_urls: list[str] = field(default_factory=list)

    @property
    def article(self) -> Article | None:
        return self.page.article if self.page is not None else None

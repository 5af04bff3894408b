"""Extraction: a pure function of (html, url). No Scrapy, no network, no clock.

>>> article = extract_article(html_bytes, "https://trieuson.thanhhoa.gov.vn/...")  # doctest: +SKIP
"""

from __future__ import annotations

from scraper.extract.article import VIETNAM_TZ, Article, Attachment, Image, NotAnArticle
from scraper.extract.page import Page
from scraper.extract.steps import STEPS, run
from scraper.extract.textdump import parse_text_dump


def extract_article(html: bytes | str, url: str, *, profile: str | None = None) -> Article:
    """Extract the article of one page.

    ``profile`` forces a layout profile by name (``"generic"`` forces the
    generic extractor); by default the page's structure selects it.
    Raises :class:`NotAnArticle` for pages that are not articles; no other
    exception escapes for any input.
    """
    page = extract_page_state(html, url, profile=profile)
    if page.article is None:  # pragma: no cover - validate() guarantees it
        raise NotAnArticle("no-content")
    return page.article


def extract_page_state(html: bytes | str, url: str, *, profile: str | None = None) -> Page:
    """Every extraction step on one page: its final state (the article, and the
    widgets removed). Raises :class:`NotAnArticle` as :func:`extract_article` does."""
    try:
        return run(Page(url=url, raw=html, forced_profile=profile), STEPS)
    except RecursionError as exc:  # absurdly deep markup
        raise NotAnArticle("too-deep", "markup nested too deeply") from exc


__all__ = ["VIETNAM_TZ", "Article", "Attachment", "Image", "NotAnArticle", "extract_article",
           "extract_page_state", "parse_text_dump"]

"""What makes a page an article: a title, and a body (or images). A page
that is not one raises :class:`~scraper.extract.article.NotAnArticle` with its
reason; missing date and author, and a legacy-encoding conversion, are
warnings on the article."""

from __future__ import annotations

from datetime import datetime

from scraper.extract.article import NotAnArticle
from scraper.extract.page import Page

_MIN_BODY_CHARS = 40


def validate(page: Page) -> Page:
    """Raise :class:`NotAnArticle` unless the article has a title and a body
    (or images); note what it lacks as warnings."""
    a = page.article
    if a is None:
        raise NotAnArticle("no-content")
    if not a.title:
        raise NotAnArticle("no-title")
    if len(a.body) < _MIN_BODY_CHARS and not a.images:
        raise NotAnArticle("no-body", f"{len(a.body)} characters of text")
    if a.published is None:
        a.warnings.append("no-date")
    if not a.author:
        a.warnings.append("no-author")
    if page.legacy_encoding:
        a.warnings.append(f"converted-from-{page.legacy_encoding}")
    if isinstance(a.published, datetime) and a.published.tzinfo is None:
        raise AssertionError("published must be timezone-aware")  # pragma: no cover
    return page

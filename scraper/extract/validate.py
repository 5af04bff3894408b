"""What makes a page an article: a title, and a body (or images). A page
that is not one raises :class:`~scraper.extract.article.NotAnArticle` with its
reason; missing date and author, and a legacy-encoding conversion, are
warnings on the article.

A portal's standing pages ("Giới thiệu", "Chức năng nhiệm vụ", "Sơ đồ cổng",
"Liên hệ") carry no publication date: an undated page with such a title, URL
or breadcrumb section raises ``NotAnArticle("static_page")`` (its title as the
detail). It is never stored as news; the crawl keeps its response (WARC) like
every other page it fetched."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote, urlsplit

from scraper.extract.article import NotAnArticle
from scraper.extract.page import Page
from scraper.extract.text import fold

_MIN_BODY_CHARS = 40

#: Titles of a portal's standing pages (folded, at the title's start).
_STATIC_TITLES = re.compile(r"^(?:" + "|".join(fold(t) for t in (
    "Giới thiệu", "Giới thiệu chung", "Chức năng nhiệm vụ", "Chức năng, nhiệm vụ",
    "Chức năng và nhiệm vụ", "Sơ đồ cổng", "Sơ đồ trang", "Sơ đồ site", "Sơ đồ website",
    "Sơ đồ tổ chức", "Cơ cấu tổ chức", "Liên hệ", "Thông tin liên hệ", "Lịch sử hình thành",
    "Điều kiện tự nhiên", "Vị trí địa lý", "Bản đồ hành chính", "Ban biên tập",
    "Quy chế hoạt động", "Danh bạ", "Danh bạ điện thoại", "Hướng dẫn sử dụng",
    "Chính sách bảo mật", "Điều khoản sử dụng", "Tổ chức bộ máy", "Tổng quan", "About",
    "Contact", "Sitemap",
)) + r")\b")
#: Paths of standing pages: the section at the top of the site (after a
#: language code or SharePoint's ``/portal/Pages/``), never a news item's slug
#: deeper down ("/tin-tuc/gioi-thieu-san-pham-ocop-12.html" is news).
_STATIC_PATH = re.compile(
    r"^/(?:[a-z]{2}/)?(?:portal/pages/)?(?:about|gioi-?thieu[^/]*|lien-?he|contact|sitemap|"
    r"so-?do[^/]*|chuc-?nang[^/]*|co-?cau[^/]*|lich-?su[^/]*|ban-?bien-?tap|danh-?ba[^/]*)"
    r"(?:/|\.html?$|\.aspx$|\.php$|$)", re.I)


def is_static_page(title: str, url: str, breadcrumb: list[str]) -> bool:
    """Whether an undated page is one of the portal's standing pages
    ("Giới thiệu", "Chức năng nhiệm vụ", "Sơ đồ cổng", "Liên hệ" …) by its
    title, its URL or the section its breadcrumb names."""
    if _STATIC_TITLES.match(fold(title)):
        return True
    if _STATIC_PATH.search(unquote(urlsplit(url).path)):
        return True
    return any(_STATIC_TITLES.match(fold(crumb)) for crumb in breadcrumb[1:])


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
        if is_static_page(a.title, a.url, page.meta.breadcrumb):
            # A standing page of the portal, not news: never given a date.
            raise NotAnArticle("static_page", a.title)
        a.warnings.append("no-date")
    if not a.author:
        a.warnings.append("no-author")
    if page.legacy_encoding:
        a.warnings.append(f"converted-from-{page.legacy_encoding}")
    if isinstance(a.published, datetime) and a.published.tzinfo is None:
        raise AssertionError("published must be timezone-aware")  # pragma: no cover
    return page

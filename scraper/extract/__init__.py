"""Extraction: a pure function of (html, url). No Scrapy, no network, no clock."""

from scraper.extract.article import VIETNAM_TZ, Article, Image, NotAnArticle

__all__ = ["VIETNAM_TZ", "Article", "Image", "NotAnArticle"]

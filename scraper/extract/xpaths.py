"""Compiled XPath expressions, cached: profiles and rules are data (strings),
compiled once here instead of on every ``element.xpath(...)`` call."""

from __future__ import annotations

from functools import lru_cache

from lxml import etree


@lru_cache(maxsize=512)
def compiled(expr: str) -> etree.XPath:
    return etree.XPath(expr)

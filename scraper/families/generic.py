"""The family of portals nobody profiled: no profile (the generic extractor
works the page out), no URL rules (the spider's discovery finds the articles
by sitemaps, feeds and page shape), not served by the demo."""

from __future__ import annotations

from scraper.families import LayoutFamily
from scraper.families.links import GENERIC

FAMILY = LayoutFamily(
    name="generic",
    description="any other portal: the generic extractor and discovery work it out",
    profile=None,
    links=GENERIC,
)

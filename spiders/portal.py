"""The portal spider: home page → listings (with pagination) → articles.

Stays on the portal's host, obeys robots.txt (Scrapy's middleware), hands
every article page to the pipelines as a :class:`PageItem`. The portal is
given as JSON (``-a portal='{...}'``) by ``portal-archive crawl``, or by id
(``-a portal=demo``) with an optional ``-a base_url=``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor

from scraper.extract.steps import canonicalize_url
from scraper.items import PageItem
from scraper.portals import Portal, resolve_portal
from spiders.discovery import Discovery, url_kind
from spiders.linkrules import rules_for


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, portal: str = "", base_url: str = "", portals_file: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not portal:
            raise ValueError("give the portal: -a portal=ID (or a JSON object, or a URL)")
        if portal.lstrip().startswith("{"):
            self.portal = Portal(**json.loads(portal))
        else:
            self.portal = resolve_portal(portal, portals_file or None)
        if base_url:
            self.portal = self.portal.with_base_url(base_url)
        self.rules = rules_for(self.portal.layout)
        self.allowed_domains = [self.portal.host]
        # Host filtering is ours (_on_portal): LinkExtractor's compares host:port.
        self.links = LinkExtractor(unique=True)
        # Layouts whose rules know no article URLs: sitemaps, feeds, page shape.
        self.discovery = Discovery(self) if self.rules.article is None else None

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.portal.base_url, callback=self.parse)
        if self.discovery is not None:
            for request in self.discovery.start_requests():
                yield request

    def _on_portal(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.hostname == self.portal.host and parts.path.startswith(
            urlsplit(self.portal.base_url).path
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if not isinstance(response, HtmlResponse):
            return
        kind = self.rules.classify(response.url)
        if self.discovery is not None:
            yield from self.discovery.from_page(response)
            if kind == "page" and self.discovery.is_listing(response):
                kind = "listing"
        if kind in ("article", "page"):
            yield PageItem(
                url=response.url,
                portal_id=self.portal.id,
                html=response.body,
                status=response.status,
                fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        for link in self.links.extract_links(response):
            url = canonicalize_url(link.url)
            if not self._on_portal(url):
                continue
            link_kind = self.rules.classify(url)
            if link_kind == "skip":
                continue
            # Articles first: a listing page only leads to more work.
            if link_kind == "page" and self.discovery is not None:
                link_kind = url_kind(url)
            yield response.follow(url, callback=self.parse,
                                  priority=10 if link_kind == "article" else 0)

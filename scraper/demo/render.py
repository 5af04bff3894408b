"""Turns the demo site's content into HTML with the layout family's templates.

:class:`Renderer` builds the template contexts (``portal``, ``categories``,
``poll``, ``counter``, ``weather``, ``request_path`` for every page, plus
``sections`` / ``category, articles, pages`` / ``article, related``) and
renders ``home.html``, ``listing.html`` and ``article.html`` of the site's
layout, and where the family has them its static ``page.html`` and the
article's ``print.html`` copy. Widgets are deterministic except the visitor counter, which takes the
server's running visit number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scraper.demo.site import Block, DemoArticle, DemoSite, Headline, ImageRun, NotFound
from scraper.demo.vocab import POLL_EXTRA, POLL_QUESTION, WEATHER_PLACES

COUNTER_LABELS = ("Hôm nay:", "Hôm qua:", "Tuần này:", "Tháng này:", "Tất cả:")
#: Neighbouring page numbers linked on each side of the current listing page.
PAGER_WINDOW = 2


@dataclass(frozen=True)
class PageLink:
    """One entry of a listing's pager; ``url`` None means a gap (``…``)."""

    number: int | str
    url: str | None
    current: bool = False


class Renderer:
    """Renders the pages of one :class:`DemoSite`."""

    def __init__(self, site: DemoSite) -> None:
        self.site = site
        self.scheme = site.layout.scheme
        self.env = Environment(
            loader=FileSystemLoader(site.layout.templates),
            autoescape=select_autoescape(("html",)),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        rng = random.Random(f"{site.seed}:widgets")
        self.poll = {
            "question": POLL_QUESTION,
            "options": [c.name for c in site.categories] + list(POLL_EXTRA),
        }
        low = rng.randint(14, 24)
        self.weather = [(p, f"{low + rng.randint(-2, 2)} - {low + rng.randint(5, 9)}")
                        for p in WEATHER_PLACES]
        today = rng.randint(200, 1500)
        month = rng.randint(20_000, 90_000)
        self.counter_base = (today, rng.randint(1000, 6000), today + rng.randint(3000, 12_000),
                             month, month + rng.randint(500_000, 4_000_000))
        self.categories = [
            {"url": site.listing_path(c.slug), "name": c.name, "slug": c.slug}
            for c in site.categories
        ]

    # ------------------------------------------------------------------ pages
    def home(self, request_path: str, visit: int) -> str:
        sections = [
            {"category": c, "articles": [self._link(a) for a in self.site.latest(c["slug"], 5)]}
            for c in self.categories
        ]
        return self._render("home.html", request_path, self._counter(None, visit),
                            sections=sections)

    def listing(self, slug: str, page: int, request_path: str, visit: int) -> str:
        """Page ``page`` of a category; ``NotFound`` when there is no such page."""
        last = self.site.page_count(slug)
        if not 1 <= page <= last:
            raise NotFound(f"category {slug!r} has no page {page}")
        articles = []
        for a in self.site.category_page(slug, page):
            images = a.images
            articles.append({**self._link(a), "summary": a.summary(),
                             "thumb": images[0][0].path if images and a.id % 3 else None})
        category = next(c for c in self.categories if c["slug"] == slug)
        return self._render("listing.html", request_path, self._counter(None, visit),
                            category=category, articles=articles,
                            pages=self.pager(slug, page, last))

    def notice(self, title: str, request_path: str, visit: int) -> str:
        """A page of the portal's template whose heading is a notice (no articles)."""
        return self._render("listing.html", request_path, self._counter(None, visit),
                            category={"name": title, "url": "/", "slug": ""},
                            articles=[], pages=[])

    def article(self, article: DemoArticle, base_url: str, request_path: str,
                visit: int, template: str = "article.html") -> str:
        """An article page; ``template``: another rendering of it that the
        family serves (NukeViet's ``print.html``: the print and savefile copies)."""
        blocks = [_block_view(b) for b in article.blocks]
        context = {
            "title": article.title,
            "date_text": article.date_text,
            "print_date": article.print_date,
            "shown_date": article.shown_date,
            "iso": article.published.isoformat(),
            "author": article.author,
            "category": {"name": article.category.name,
                         "url": self.site.listing_path(article.category.slug)},
            "blocks": blocks,
            "absolute_url": article.url(base_url),
        }
        if article.attachments:
            context["attachments"] = [{"url": d.url, "name": d.name, "kind": d.kind}
                                      for d in article.attachments]
        related = [self._link(a) for a in self.site.related(article, 5)]
        return self._render(template, request_path, self._counter(article, visit),
                            article=context, related=related)

    def page(self, title: str, request_path: str, visit: int) -> str:
        """A static page of the portal ("Giới thiệu"): the family's ``page.html``
        with ``page`` = ``{"title", "paragraphs"}``; no date, no author."""
        p = self.site.portal
        paragraphs = [
            f"{p.name} là kênh thông tin chính thức của {p.owner} trên Internet.",
            f"Trụ sở: {p.address}. Cổng thông tin cung cấp thông tin về hoạt động chỉ đạo,"
            " điều hành, thủ tục hành chính và tình hình kinh tế - xã hội của địa phương.",
            f"Chịu trách nhiệm nội dung: {p.editor}.",
        ]
        return self._render("page.html", request_path, self._counter(None, visit),
                            page={"title": title, "paragraphs": paragraphs})

    def pager(self, slug: str, page: int, last: int) -> list[PageLink]:
        """First, neighbours of ``page`` (± PAGER_WINDOW), last; gaps as ``…``."""
        numbers = sorted({1, last, *range(max(1, page - PAGER_WINDOW),
                                          min(last, page + PAGER_WINDOW) + 1)})
        links: list[PageLink] = []
        for i, n in enumerate(numbers):
            if i and n - numbers[i - 1] > 1:
                links.append(PageLink("…", None))
            links.append(PageLink(n, self.site.listing_path(slug, n), n == page))
        return links

    # ---------------------------------------------------------------- helpers
    def _link(self, a: Headline) -> dict[str, str]:
        return {"url": a.path, "title": a.title, "date": a.short_date}

    def _counter(self, article: DemoArticle | None, visit: int) -> list[tuple[str, int]]:
        """Visitor counter: the seed's captured values or the site's, plus ``visit``."""
        base = article.counter if article is not None and article.counter else self.counter_base
        values = [v if label == "Hôm qua:" else v + visit for label, v in zip(COUNTER_LABELS, base,
                                                                              strict=True)]
        return list(zip(COUNTER_LABELS, values, strict=True))

    def _render(self, template: str, request_path: str, counter: list[tuple[str, int]],
                **context: Any) -> str:
        return self.env.get_template(template).render(
            portal=self.site.portal,
            categories=self.categories,
            poll=self.poll,
            counter=counter,
            weather=self.weather,
            request_path=request_path,
            **context,
        )


def _block_view(block: Block) -> dict[str, Any]:
    """A body block as ``_blocks.html`` reads it (image ``url`` = root-relative path)."""
    if isinstance(block, ImageRun):
        return {"kind": block.kind, "caption": block.caption, "style": block.style,
                "images": [{"file": i.file, "url": i.path} for i in block.images]}
    return {"kind": block.kind, "text": block.text}

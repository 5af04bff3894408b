"""The state of one page between two extraction steps.

Every step (:mod:`scraper.extract.steps`) takes a :class:`Page` and returns it
with more filled in: the text, the parsed tree, what the page declares
(:class:`Metadata`), the profile, the article's elements and blocks, the
widgets removed and finally the :class:`~scraper.extract.article.Article`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml.html import HtmlElement

from scraper.extract.article import Article, Attachment, NotAnArticle
from scraper.extract.blocks import Block
from scraper.extract.dates import ParsedDate
from scraper.extract.profiles import GENERIC_VERSION, Profile


@dataclass
class Metadata:
    """What the page declares about itself, read before any cleaning."""

    canonical: str | None = None
    og_url: str | None = None
    declared_title: str | None = None
    published: list[ParsedDate] = field(default_factory=list)
    print_date: ParsedDate | None = None
    author: str | None = None
    section: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    language: str | None = None
    base_href: str | None = None
    #: Names the portal gives itself (``og:site_name``, ``application-name``,
    #: JSON-LD publisher): never an author.
    site_names: list[str] = field(default_factory=list)
    #: The ``<title>`` as served (often "article - site").
    page_title: str | None = None


@dataclass
class Page:
    """The state a page is in between two steps."""

    url: str
    raw: bytes | str
    #: Force a profile by name (``"generic"`` forces the generic extractor).
    forced_profile: str | None = None
    html: str = ""
    doc: HtmlElement | None = None
    meta: Metadata = field(default_factory=Metadata)
    profile: Profile | None = None
    title_el: HtmlElement | None = None
    date_el: HtmlElement | None = None
    root: HtmlElement | None = None
    blocks: list[Block] = field(default_factory=list)
    #: Widget rule name → elements removed; duplicates collapsed.
    removed: Counter[str] = field(default_factory=Counter)
    article: Article | None = None
    #: Links to documents read before cleaning, with the boxes around each
    #: (:mod:`scraper.extract.attachments`).
    attachment_links: list[tuple[Attachment, tuple[HtmlElement, ...]]] = field(default_factory=list)
    #: Legacy font encoding the page's text was converted from (``tcvn3``, ``vni``).
    legacy_encoding: str | None = None
    #: False when decoding saw no character a legacy font encoding would use.
    legacy_possible: bool = True

    @property
    def extractor(self) -> tuple[str, str]:
        if self.profile is None:
            return "generic", GENERIC_VERSION
        return self.profile.name, self.profile.version

    @property
    def base_url(self) -> str:
        """The URL relative links resolve against (``<base href>`` honoured)."""
        return urljoin(self.url, self.meta.base_href) if self.meta.base_href else self.url

    def need_doc(self) -> HtmlElement:
        if self.doc is None:
            raise NotAnArticle("no-html")
        return self.doc


Step = Callable[[Page], Page]

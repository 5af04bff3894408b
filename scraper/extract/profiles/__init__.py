"""Extraction profiles: one per layout family, declared as data.

A profile says where a family keeps the article (container, title, dateline,
breadcrumb) and how to recognise a page of that family. Everything else
(widget stripping, duplicate collapsing, captions, signatures, dates) is
shared code. A page no profile recognises goes to the generic extractor.

Bump a profile's ``version`` whenever its output may change: the archive
stores (profile, version) with every article so old extractions can be found
and re-run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

from scraper.extract.rules import WidgetRule
from scraper.extract.xpaths import compiled


def has_class(name: str) -> str:
    """XPath predicate: the element's ``class`` holds the word ``name``.

    The plain ``contains(@class, name)`` is tested first: it is implied by the
    word test and far cheaper, so most elements are rejected without building
    ``concat(' ', normalize-space(@class), ' ')``."""
    return (f"contains(@class, '{name}') and "
            f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')")


@dataclass(frozen=True)
class Profile:
    #: Layout family name, as used in portals.toml.
    name: str
    #: Version of this profile's output.
    version: str
    #: XPath that matches only on article pages of this family.
    detect: str
    #: XPath of the element holding the article body.
    root: str
    #: XPath of the title element.
    title: str
    #: XPath of the element showing the publication time (optional).
    date: str = ""
    #: XPath of the breadcrumb links; the last one names the category.
    category: str = ""
    #: XPath of an author line kept outside the body ("Tác giả: …"), optional.
    author: str = ""
    #: A string every page of the family contains in its HTML (a class name):
    #: when absent, ``detect`` is not evaluated. Optional.
    hint: str = ""
    #: Family-specific widget rules, applied after the shared ones.
    extra_rules: tuple[WidgetRule, ...] = ()

    def first(self, doc: HtmlElement, xpath: str) -> HtmlElement | None:
        if not xpath:
            return None
        found = compiled(xpath)(doc)
        return found[0] if found else None

    def matches(self, doc: HtmlElement) -> bool:
        return bool(compiled(self.detect)(doc))


#: Version of the generic extractor's output.
GENERIC_VERSION = "2"


def _registry() -> dict[str, Profile]:
    from scraper.extract.profiles.dnn import DNN
    from scraper.extract.profiles.dual import DUAL
    from scraper.extract.profiles.html5 import HTML5
    from scraper.extract.profiles.thanhhoa import THANHHOA

    return {p.name: p for p in (THANHHOA, DNN, HTML5, DUAL)}


PROFILES: dict[str, Profile] = _registry()


def detect_profile(doc: HtmlElement, html: str = "") -> Profile | None:
    """The first profile whose ``detect`` matches; ``html`` (the page's text)
    lets a profile with a ``hint`` be skipped without evaluating its XPath."""
    match = detect_match(doc, html)
    return match[0] if match else None


def detect_match(doc: HtmlElement, html: str = "") -> tuple[Profile, Any] | None:
    """:func:`detect_profile` and the first node its ``detect`` found (a profile
    whose ``title`` is its ``detect`` has its title element already)."""
    for profile in PROFILES.values():
        if html and profile.hint and profile.hint not in html:
            continue
        found = compiled(profile.detect)(doc)
        if found:
            return profile, found[0] if isinstance(found, list) else None
    return None

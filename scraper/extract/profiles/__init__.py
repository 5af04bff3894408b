"""Extraction profiles: one per layout family, declared as data.

The profiles themselves live with their families (``scraper/families/<name>.py``,
see :mod:`scraper.families`); this module holds the :class:`Profile` type and
the lookups the extractor uses.

A profile says where a family keeps the article (container, title, dateline,
breadcrumb) and how to recognise a page of that family. Everything else
(widget stripping, duplicate collapsing, captions, signatures, dates) is
shared code. A page no profile recognises goes to the generic extractor.

Bump a profile's ``version`` whenever its output may change: the archive
stores (profile, version) with every article so old extractions can be found
and re-run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
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
GENERIC_VERSION = "3"


class _Profiles(Mapping[str, Profile]):
    """The layout families' profiles, by family name, read from the family
    registry (:mod:`scraper.families`) when first used: the families' modules
    import :class:`Profile` from here, so the registry cannot be read at import."""

    def _profiles(self) -> dict[str, Profile]:
        return _registry()

    def __getitem__(self, name: str) -> Profile:
        return self._profiles()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._profiles())

    def __len__(self) -> int:
        return len(self._profiles())

    def __repr__(self) -> str:
        return f"PROFILES({', '.join(self._profiles())})"


@cache
def _registry() -> dict[str, Profile]:
    from scraper.families import profiles

    return profiles()


#: Every layout family's profile, by name (the families without one are absent).
PROFILES: Mapping[str, Profile] = _Profiles()


def get_profile(name: str) -> Profile | None:
    """The profile of the layout family ``name`` (None: no such profile)."""
    return _registry().get(name)


def detect_profile(doc: HtmlElement, html: str = "") -> Profile | None:
    """The first profile whose ``detect`` matches; ``html`` (the page's text)
    lets a profile with a ``hint`` be skipped without evaluating its XPath."""
    match = detect_match(doc, html)
    return match[0] if match else None


def detect_match(doc: HtmlElement, html: str = "") -> tuple[Profile, Any] | None:
    """:func:`detect_profile` and the first node its ``detect`` found (a profile
    whose ``title`` is its ``detect`` has its title element already)."""
    for profile in _registry().values():
        if html and profile.hint and profile.hint not in html:
            continue
        found = compiled(profile.detect)(doc)
        if found:
            return profile, found[0] if isinstance(found, list) else None
    return None

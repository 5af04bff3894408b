"""Layout families: one record per family, declared once, read by everyone.

A layout family is the way one kind of portal lays out its pages and URLs
(a CMS, a theme). Each family is one module of this package holding one
:class:`LayoutFamily` named ``FAMILY``: its extraction profile, its link rules,
its URL scheme and the demo portal's templates for it. The registry collects
every module of the package that declares a ``FAMILY``; adding a family is
adding a module (and, for the demo, its template folder).

Readers: the ``portals.toml`` loader (:func:`family_names`), the spider and
``reextract`` (:func:`link_rules`), the extractor
(:mod:`scraper.extract.profiles` reads :func:`profiles`) and the demo portal
(:mod:`scraper.demo.layouts` reads :func:`demo_families`).

Core-layer data: nothing here imports Scrapy, the demo or the archive.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from scraper.extract.profiles import Profile
from scraper.families.links import GENERIC, LinkRules
from scraper.families.signals import Signal
from scraper.families.urls import UrlScheme

__all__ = ["LayoutFamily", "UnknownFamily", "demo_families", "families", "family",
           "family_names", "link_rules", "profiles"]


def seconds_shown(published: datetime) -> str:
    """``Ngày 15/01/2022 16:48:18``."""
    return published.strftime("Ngày %d/%m/%Y %H:%M:%S")


def to_second(published: datetime) -> datetime:
    return published.replace(microsecond=0)


@dataclass(frozen=True)
class LayoutFamily:
    #: The family's name: ``layout = "<name>"`` in portals.toml, the profile's
    #: name, the name of its module and of its demo template folder.
    name: str
    #: One line: the platform the family is (shown in docs and errors).
    description: str
    #: How the extractor finds the article on the family's pages; None only
    #: for ``generic`` (the generic extractor works it out).
    profile: Profile | None
    #: How the crawl reads the family's URLs (article / listing / same page).
    links: LinkRules = GENERIC
    #: How the family spells its URLs; the demo builds and routes by it.
    #: None: the demo does not serve this family.
    scheme: UrlScheme | None = None
    #: Folder of the demo's Jinja2 templates, under ``scraper/demo/templates/``
    #: (``base``, ``home``, ``listing``, ``article``, ``_blocks``); None with no scheme.
    templates: str | None = None
    #: The publication time as the family's article page shows it under the title.
    date_text: Callable[[datetime], str] = seconds_shown
    #: The most precise publication time the page carries anywhere (visible, or
    #: in ``<meta>`` / JSON-LD / ``<time>``): a family that shows only minutes
    #: and declares nothing finer loses the seconds. The demo's oracle uses it.
    page_time: Callable[[datetime], datetime] = to_second
    #: What in a site's pages says it runs this family (generator meta,
    #: headers, cookies, class names, asset paths); platform detection
    #: (:mod:`scraper.families.detect`) also reads the link rules and the
    #: profile's hint.
    signals: tuple[Signal, ...] = ()


class UnknownFamily(ValueError):
    """A layout name no family declares."""


_REGISTRY: dict[str, LayoutFamily] | None = None


def _load() -> dict[str, LayoutFamily]:
    found: dict[str, LayoutFamily] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        record = getattr(module, "FAMILY", None)
        if record is None:
            continue  # the registry's own types and tools (links, urls, signals, detect)
        if not isinstance(record, LayoutFamily) or record.name != info.name:
            raise TypeError(f"{module.__name__}.FAMILY must be a LayoutFamily named {info.name!r}")
        found[record.name] = record
    return found


def families() -> Mapping[str, LayoutFamily]:
    """Every layout family, by name (in name order)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _load()
    return _REGISTRY


def family_names() -> tuple[str, ...]:
    """The names ``layout`` may take in portals.toml."""
    return tuple(families())


def family(name: str) -> LayoutFamily:
    """The family called ``name``; :class:`UnknownFamily` naming the known ones otherwise."""
    try:
        return families()[name]
    except KeyError:
        raise UnknownFamily(
            f"unknown layout {name!r} (known: {', '.join(family_names())})") from None


def link_rules(name: str) -> LinkRules:
    """The link rules of the family ``name`` (a layout nobody knows: the generic rules)."""
    record = families().get(name)
    return record.links if record is not None else GENERIC


def profiles() -> dict[str, Profile]:
    """Every family's extraction profile, by family name."""
    return {f.name: f.profile for f in families().values() if f.profile is not None}


def demo_families() -> dict[str, LayoutFamily]:
    """The families the demo portal serves (those with a URL scheme and templates)."""
    return {f.name: f for f in families().values()
            if f.scheme is not None and f.templates is not None}

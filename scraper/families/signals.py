"""Platform signals: what in a site's pages says which layout family it runs.

Each family declares its :class:`Signal` list in its own module (the
``signals`` of its :class:`~scraper.families.LayoutFamily`); platform
detection (:mod:`scraper.families.detect`) weighs the ones it finds. Core
data: regular expressions over what an HTTP client sees of a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Where a signal is looked for.
#: ``generator``: the ``<meta name="generator">`` content; ``html``: the page's
#: text (scripts, asset paths, class names, footers); ``header``: a response
#: header line ``name: value``; ``cookie``: a cookie name set by the server;
#: ``link``: a root-relative link path (``href``/``src``) found on the page.
WHERE = ("generator", "html", "header", "cookie", "link")


@dataclass(frozen=True)
class Signal:
    #: One of :data:`WHERE`.
    where: str
    #: Searched in what ``where`` names (case-insensitively).
    pattern: str
    #: How much it speaks for the family: 5 = alone it decides (a generator
    #: naming the platform), 3 = strong (a platform's own class names or
    #: headers), 1-2 = shared with other platforms (ASP.NET, a URL shape).
    weight: int
    #: What the evidence line says when the signal is found.
    says: str

    def __post_init__(self) -> None:
        if self.where not in WHERE:
            raise ValueError(f"signal where={self.where!r} is not one of {WHERE}")

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.pattern)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    found = _CACHE.get(pattern)
    if found is None:
        found = _CACHE[pattern] = re.compile(pattern, re.I)
    return found

"""Responsive family that carries the article twice in the visible DOM.

A desktop copy (``div.d-none.d-md-block.detail-desktop``: ``h1.detail-title``,
``div.detail-time``, ``div.detail-body``) and a mobile copy
(``div.d-md-none.detail-mobile``), each shown by CSS media queries only — no
``display:none`` in the markup. The profile reads the desktop copy and drops
the mobile one. Only the day is shown ("15/01/2022"); the time is in
``article:published_time``. The signature is a bold last line.
"""

from __future__ import annotations

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule

_cls = has_class


_DESKTOP = f"//div[{_cls('detail-desktop')}]"

DUAL = Profile(
    name="dual",
    version="1",
    hint="detail-desktop",
    detect=f"{_DESKTOP}//h1[{_cls('detail-title')}]",
    root=f"{_DESKTOP}//div[{_cls('detail-body')}]",
    title=f"{_DESKTOP}//h1[{_cls('detail-title')}]",
    date=f"{_DESKTOP}//div[{_cls('detail-time')}]",
    category=f"//ol[{_cls('breadcrumb')}]//a",
    extra_rules=(
        WidgetRule(name="mobile_copy", group="duplicate",
                   xpaths=(f"//div[{_cls('detail-mobile')}]", f"//div[{_cls('d-md-none')}]")),
        WidgetRule(name="sidebar", group="widget",
                   xpaths=(f"//div[{_cls('col-md-4')}]",)),
    ),
)

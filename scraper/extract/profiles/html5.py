"""Modern HTML5 family: ``<article>``, ``<figure>``/``<figcaption>``, ``<aside>`` widgets.

``h1.entry-title``, ``<time class="published" datetime=…>`` showing "Thứ Bảy,
15/01/2022 - 16:48" (the seconds are in ``datetime``, OpenGraph and JSON-LD
``NewsArticle.datePublished``), ``div.entry-content`` with lazy images
(``data-src``) grouped in ``<figure>`` with one ``<figcaption>`` per run, the
signature "(Văn Hùng)" as the last paragraph. Sidebar: "Bình chọn", "Số lượt
truy cập", weather; "Tin cùng chuyên mục" after the article.
"""

from __future__ import annotations

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule

_cls = has_class


HTML5 = Profile(
    name="html5",
    version="1",
    hint="entry-title",
    detect=f"//article//h1[{_cls('entry-title')}]",
    root=f"//article//div[{_cls('entry-content')}]",
    title=f"//article//h1[{_cls('entry-title')}]",
    date="//article//time[@datetime]",
    category=f"//ol[{_cls('breadcrumbs')}]//a",
    extra_rules=(
        WidgetRule(name="sidebar", group="widget",
                   xpaths=("//aside", f"//section[{_cls('more-posts')}]",
                           f"//div[{_cls('entry-share')}]")),
    ),
)

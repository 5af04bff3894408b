"""Thanh Hóa family: the SharePoint-era table layout of the seed pages.

Three table columns (widgets | article | weather), the article in
``div.news-detail`` with ``h1.news-title``, ``div.news-date``
("Ngày 15/01/2022 16:48:18") and ``div.news-content``; a hidden print copy of
the whole article ("Đăng lúc: … (GMT+7)") after the related list.
"""

from __future__ import annotations

from scraper.extract.profiles import Profile, has_class

_cls = has_class


THANHHOA = Profile(
    name="thanhhoa",
    version="2",
    hint="news-detail",
    detect=f"//div[{_cls('news-detail')}]//*[{_cls('news-title')}]",
    root=f"//div[{_cls('news-detail')}]//div[{_cls('news-content')}]",
    title=f"//div[{_cls('news-detail')}]//*[{_cls('news-title')}]",
    date=f"//div[{_cls('news-detail')}]//*[{_cls('news-date')}]",
    category=f"//div[{_cls('breadcrumb')}]//a",
)

"""The archive: SQLite store, Vietnamese full-text search, exports, the CLI.

Nothing here imports Scrapy: the crawl runs elsewhere and hands the archive
:class:`~scraper.extract.article.Article` records.

>>> from archive import Archive, search      # doctest: +SKIP
>>> with Archive.open("data/demo.db") as archive:
...     hits = search(archive, "nong thon moi", since="2022")

The names below are imported on first use (PEP 562): the crawl process
imports ``archive.store`` and must not pay for what it never uses — the
exports' pyarrow alone is about 70 MiB of memory (docs/archival.md, "Memory").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.errors import ArchiveError, FilterError, SearchError
    from archive.export import export
    from archive.filters import ArticleFilter
    from archive.search import SearchHit, search
    from archive.store import Archive, SaveResult, StoredArticle

#: Public name → the module that defines it.
_LAZY = {
    "ArchiveError": "archive.errors",
    "FilterError": "archive.errors",
    "SearchError": "archive.errors",
    "export": "archive.export",
    "ArticleFilter": "archive.filters",
    "SearchHit": "archive.search",
    "search": "archive.search",
    "Archive": "archive.store",
    "SaveResult": "archive.store",
    "StoredArticle": "archive.store",
}

__all__ = [
    "Archive",
    "ArchiveError",
    "ArticleFilter",
    "FilterError",
    "SaveResult",
    "SearchError",
    "SearchHit",
    "StoredArticle",
    "export",
    "search",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archive' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

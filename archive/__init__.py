"""The archive: SQLite store, Vietnamese full-text search, exports, the CLI.

Nothing here imports Scrapy: the crawl runs elsewhere and hands the archive
:class:`~scraper.extract.article.Article` records.

>>> from archive import Archive, search      # doctest: +SKIP
>>> with Archive.open("data/demo.db") as archive:
...     hits = search(archive, "nong thon moi", since="2022")
"""

from archive.errors import ArchiveError, FilterError, SearchError
from archive.export import export
from archive.filters import ArticleFilter
from archive.search import SearchHit, search
from archive.store import Archive, SaveResult, StoredArticle

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

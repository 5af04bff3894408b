"""The spider's connection to the archive: opened once per crawl, when first needed.

The spider reads the archive when it is made (to plan the crawl), when it
starts (the archived URLs, the revisits) and writes to it when it closes
(the articles found gone or moved). One :class:`CrawlArchive` serves all of
it: the archive is opened the first time it is asked for and the file
exists (a first crawl started with ``scrapy crawl`` has no archive until the
store creates it, when the spider opens), kept, and closed with the spider.
No Scrapy here.
"""

from __future__ import annotations

from pathlib import Path

from archive.store import Archive


class CrawlArchive:
    """One crawl's connection to its archive (``None`` while there is no archive)."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._archive: Archive | None = None
        #: How many times the archive was opened (once per crawl at most).
        self.opened = 0

    def get(self) -> Archive | None:
        """The archive, opened now if it exists and is not open yet."""
        if self._archive is None and self.db_path and Path(self.db_path).is_file():
            self._archive = Archive(self.db_path)
            self.opened += 1
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None


__all__ = ["CrawlArchive"]

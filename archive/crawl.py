"""Running crawls from the CLI (owned by the crawl work; placeholder signatures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scraper.portals import Portal


def run_crawl(portal: Portal, db_path: str | Path, *, settings: dict[str, Any] | None = None,
              quiet: bool = False) -> dict[str, Any]:
    """Crawl one portal into the archive at db_path; return the run's stats."""
    raise NotImplementedError("crawl is being built")


def run_demo(db_path: str | Path, *, size: int = 200, seed: int = 1, quiet: bool = False) -> None:
    """Start the demo portal, crawl it into db_path, print a summary and a sample search."""
    raise NotImplementedError("demo is being built")

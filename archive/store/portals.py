"""The portals an archive holds articles of (``portals``)."""

from __future__ import annotations

from archive.store.db import Database
from archive.store.records import now_iso
from archive.textfold import nfc
from scraper.portals import Portal


class Portals:
    """The ``portals`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def ensure(self, portal: Portal) -> str:
        """Insert or update the portal's row; return its id."""
        now = now_iso()
        self.database.db.execute(
            """INSERT INTO portals(id, name, province, base_url, layout, added, updated)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET name = excluded.name,
                   province = excluded.province, base_url = excluded.base_url,
                   layout = excluded.layout, updated = excluded.updated""",
            [portal.id, nfc(portal.name), nfc(portal.province), portal.base_url,
             portal.layout, now, now],
        )
        return portal.id

    def ids(self) -> list[str]:
        """The archived portals' ids, sorted."""
        return [r["id"] for r in self.database.db.query("SELECT id FROM portals ORDER BY id")]

"""Where an article's text came from: live, the Wayback Machine, Common Crawl.

One article reached live and in an archive is one article: live text wins, a
differing archived text becomes a version, and an archived capture never
replaces a newer text.
"""

from __future__ import annotations

from pathlib import Path

from factories import make_archive, make_article

from archive.store import Archive, Capture
from scraper.portals import Portal

PORTAL = Portal.adhoc("https://gone.example.gov.vn/")
URL = "https://gone.example.gov.vn/tin-tuc/a-1.html"


def _archived(when: str, source: str = "wayback") -> Capture:
    return Capture(url=URL, fetched=when, http_status=200, source=source, captured_at=when)


def _row(archive: Archive) -> tuple[str, str, str]:
    row = archive.conn.execute("SELECT body, source, captured_at FROM articles").fetchone()
    return row[0], row[1], row[2]


def test_live_text_wins_and_the_archived_text_becomes_a_version(tmp_path: Path) -> None:
    with make_archive(tmp_path / "a.db", {PORTAL: [make_article(URL, body="Live text.")]}) as a:
        result = a.save_articles([make_article(URL, body="Old archived text.")],
                                 portal_id=PORTAL.id,
                                 captures=[_archived("2024-03-01T08:00:00+00:00")])
        assert (result.new, result.changed, result.versions) == (0, 0, 1)
        assert _row(a)[:2] == ("Live text.", "live")
        versions = a.versions(URL)
        assert [v["body"] for v in versions] == ["Old archived text."]
        assert versions[0]["first_seen"] == "2024-03-01T08:00:00+00:00"
        # The same archived text again is no second version.
        again = a.save_articles([make_article(URL, body="Old archived text.")],
                                portal_id=PORTAL.id,
                                captures=[_archived("2024-03-01T08:00:00+00:00")])
        assert again.versions == 0 and len(a.versions(URL)) == 1
        caps = a.captures(URL)
        assert [c["source"] for c in caps] == ["wayback", "wayback"]
        assert caps[0]["captured_at"] == "2024-03-01T08:00:00+00:00"


def test_an_older_capture_never_replaces_a_newer_one(tmp_path: Path) -> None:
    with make_archive(tmp_path / "a.db") as a:
        a.ensure_portal(PORTAL)
        a.save_articles([make_article(URL, body="Edited.")], portal_id=PORTAL.id,
                        captures=[_archived("2025-05-02T10:15:00+00:00", "commoncrawl")])
        a.save_articles([make_article(URL, body="First.")], portal_id=PORTAL.id,
                        captures=[_archived("2024-03-01T08:00:00+00:00")])
        assert _row(a) == ("Edited.", "commoncrawl", "2025-05-02T10:15:00+00:00")
        assert [v["body"] for v in a.versions(URL)] == ["First."]
        # A newer capture does replace an archived text (the old one kept as a version).
        a.save_articles([make_article(URL, body="Newest.")], portal_id=PORTAL.id,
                        captures=[_archived("2025-06-01T00:00:00+00:00")])
        assert _row(a)[:2] == ("Newest.", "wayback")
        # The portal seen live later: its text wins over the archives'.
        a.save_articles([make_article(URL, body="Live now.")], portal_id=PORTAL.id)
        assert _row(a)[:2] == ("Live now.", "live")
        assert [v["body"] for v in a.versions(URL)] == ["First.", "Edited.", "Newest."]

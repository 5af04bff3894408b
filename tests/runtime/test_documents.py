"""Attached documents end to end: two real crawls of the demo portal (with
documents) on loopback into a real archive.

1. one DOCX answers 500, and the cap on a document's size is small enough
   that the large report is over it;
2. the DOCX is back: the next (incremental) crawl fetches it again, and not
   the large report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from dbrows import rows as _rows
from factories import run_cli
from warcio.archiveiterator import ArchiveIterator

from archive.search import search
from archive.store import Archive
from scraper.demo.documents import SHARED_FORM, documents_of
from scraper.demo.site import DemoSite
from scraper.runner import demo_portal, run_crawl

SIZE = 20
FAILING = "ke-hoach-5.docx"
CAP = 100_000


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from scraper.demo.server import DemoServer

    site = DemoSite(size=SIZE, seed=11, documents=True)
    site.failing_documents.add(FAILING)
    folder = tmp_path_factory.mktemp("documents")
    db = folder / "archive.db"
    settings = {"PORTAL_ARCHIVE_DOCUMENT_MAX_BYTES": CAP}
    with DemoServer(site) as server:
        portal = demo_portal(server.base_url)
        first = run_crawl(portal, db, quiet=True, settings=settings)
        with Archive(db) as archive:
            failed = archive.document_state(server.url("/tai-lieu/" + FAILING))
        site.failing_documents.clear()
        second = run_crawl(portal, db, quiet=True, settings=settings)
        base = server.base_url
    return {"site": site, "db": db, "folder": folder, "base": base, "first": first,
            "second": second, "failed": failed}


def _linked(base: str) -> set[str]:
    return {base.rstrip("/") + d.url for n in range(1, SIZE + 1) for d in documents_of(n)}


def test_each_document_stored_once_content_addressed(crawled: dict[str, Any]) -> None:
    rows = _rows(crawled["db"], "SELECT url, status, sha256, size, path, kind, text_status "
                                "FROM documents")
    assert {r[0] for r in rows} == _linked(crawled["base"])
    shared = [r for r in rows if r[0].endswith(SHARED_FORM)]
    assert len(shared) == 1, "one row for a document linked from several articles"
    assert len(_rows(crawled["db"], "SELECT 1 FROM article_documents WHERE url = ?",
                     [shared[0][0]])) == len([n for n in range(1, SIZE + 1)
                                              if documents_of(n)])
    for url, status, sha, size, path, kind, _ in rows:
        if status != "ok":
            continue
        data = (crawled["folder"] / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha and len(data) == size, url
        assert path == f"documents/{sha[:2]}/{sha}.{kind}"
    files = list((crawled["folder"] / "documents").rglob("*.*"))
    assert len(files) == len({r[2] for r in rows if r[1] == "ok"})


def test_documents_in_the_warc_files(crawled: dict[str, Any]) -> None:
    urls = set()
    for path in (crawled["folder"] / "warc").rglob("*.warc.gz"):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    urls.add(record.rec_headers.get_header("WARC-Target-URI"))
    ok = {r[0] for r in _rows(crawled["db"], "SELECT url FROM documents WHERE status = 'ok'")}
    assert ok and ok <= urls


def test_text_searchable_without_diacritics(crawled: dict[str, Any]) -> None:
    with Archive(crawled["db"]) as archive:
        hits = search(archive, "kenh muong thuy loi noi dong khe gom", limit=50)
        plan = search(archive, "phong chong thien tai ban gioc", limit=50)
    site: DemoSite = crawled["site"]
    with_docs = {site.article(n).url(crawled["base"]) for n in range(1, SIZE + 1)
                 if documents_of(n)}
    # Every word of the query is in the decision's text only: exactly the
    # articles that attach one match.
    assert {h.canonical_url for h in hits} == with_docs
    for hit in hits:
        assert any(m.startswith("attachment:Quyết định số") for m in hit.matched_in), hit
    # The DOCX that failed in the first crawl was read in the second.
    assert any("attachment:Kế hoạch số 5/KH-UBND" in h.matched_in for h in plan)


def test_scanned_pdf_flagged(crawled: dict[str, Any]) -> None:
    rows = _rows(crawled["db"], "SELECT url, text_status, pages, text FROM documents "
                                "WHERE url LIKE '%ban-chup-%'")
    assert rows and all(r[1] == "scanned" and r[2] == 1 and not r[3] for r in rows)
    texts = _rows(crawled["db"], "SELECT text_status, count(*) FROM documents "
                                 "WHERE status = 'ok' GROUP BY text_status")
    assert dict(texts).get("ok", 0) >= 3


def test_failed_and_too_large_recorded_retried_next_crawl(crawled: dict[str, Any]) -> None:
    failed = crawled["failed"]
    assert failed is not None and failed["status"] == "failed" and failed["tries"] == 1
    assert failed["error"] == "HTTP 500"
    assert crawled["first"]["articles_new"] == SIZE, "articles stored whatever their documents"
    with Archive(crawled["db"]) as archive:
        now = archive.document_state(crawled["base"] + "tai-lieu/" + FAILING)
        large = [archive.document_state(u) for u in _linked(crawled["base"])
                 if "bao-cao-lon" in u]
    assert now is not None and now["status"] == "ok" and now["tries"] == 2
    assert large and all(s is not None and s["status"] == "too_large" and s["tries"] == 1
                         and str(CAP) in (s["error"] or "") for s in large)
    stats = crawled["second"]["stats"]
    assert stats["portal_archive/documents/retried"] == 1
    assert stats.get("portal_archive/documents/too_large", 0) == 0, "too large: not again"


def _article_id(crawled: dict[str, Any], n: int) -> int:
    url = crawled["site"].article(n).url(crawled["base"])
    with Archive(crawled["db"]) as archive:
        stored = archive.get_stored(url)
    assert stored is not None
    return stored.id


def test_show_lists_the_documents(crawled: dict[str, Any]) -> None:
    article_id = _article_id(crawled, 9)
    text = run_cli("show", str(article_id), "--db", str(crawled["db"])).output
    assert "[document 0] Quyết định số 9/QĐ-UBND (pdf, ok," in text
    assert "[document 3] Bản chụp công văn 9 (pdf, ok," in text and "text scanned" in text
    data = json.loads(run_cli("show", str(article_id), "--json", "--db",
                              str(crawled["db"])).output)
    docs = data["attachments"]
    assert [d["kind"] for d in docs] == ["pdf", "docx", "pdf", "pdf"]
    assert all(d["status"] == "ok" and len(d["sha256"]) == 64 and d["size"] > 0 for d in docs)


def test_export_has_a_documents_file(crawled: dict[str, Any], tmp_path: Path) -> None:
    run_cli("export", "--format", "csv", "-o", str(tmp_path / "x.csv"), "--db",
            str(crawled["db"]))
    rows = list(csv.DictReader((tmp_path / "x.documents.csv").open(encoding="utf-8")))
    assert len(rows) == len(_rows(crawled["db"], "SELECT 1 FROM article_documents"))
    statuses = {r["status"] for r in rows}
    assert statuses == {"ok", "too_large"}
    assert all(r["path"].startswith("documents/") for r in rows if r["status"] == "ok")
    package = json.loads((tmp_path / "x.datapackage.json").read_text("utf-8"))
    assert [r["name"] for r in package["resources"]] == ["articles", "images", "documents"]


def test_web_article_page_lists_and_serves_documents(crawled: dict[str, Any]) -> None:
    import asyncio

    from archive.web.server import make_datasette

    ds = make_datasette(crawled["db"])
    page = asyncio.run(ds.client.get(f"/article/{_article_id(crawled, 9)}")).text
    assert 'id="documents"' in page and "Quyết định số 9/QĐ-UBND" in page
    assert page.count('<tr class="pa-document">') == 4
    sha = _rows(crawled["db"], "SELECT sha256 FROM documents WHERE url LIKE '%quyet-dinh-9.pdf'")
    served = asyncio.run(ds.client.get(f"/file/document/{sha[0][0]}"))
    assert served.status_code == 200 and served.content.startswith(b"%PDF")
    assert asyncio.run(ds.client.get("/file/document/" + "0" * 64)).status_code == 404
    export = asyncio.run(ds.client.get("/export.documents.csv?q=khe+gom"))
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    linked = {r[0] for r in _rows(crawled["db"], "SELECT article_id FROM article_documents")}
    assert {int(r["article_id"]) for r in rows} == linked
    assert any(r["name"].startswith("Quyết định số") and r["status"] == "ok" for r in rows)

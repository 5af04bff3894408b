"""Platform detection: the pure weighing (scraper.families.detect) on the demo's
families served over real HTTP, on real pages of the platforms and on a page
of no known platform; ``portal-archive detect`` in-process; ``crawl URL``
crawling an undeclared portal by the family it detects."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import main
from scraper.demo import DemoServer
from scraper.demo.site import DemoSite
from scraper.families import families
from scraper.families.detect import THRESHOLD, detect
from scraper.probe import article_links, probe

SAMPLES = Path(__file__).resolve().parents[1] / "platform_samples"
SERVED = sorted(name for name, f in families().items() if f.scheme is not None)


def no_sleep(_: float) -> None:
    return None


@pytest.mark.parametrize("layout", SERVED)
def test_each_demo_family_is_detected(layout: str) -> None:
    site = DemoSite(size=30, seed=5, layout=layout)
    with DemoServer(site) as server:
        found, read = probe(server.base_url, delay=0, sleep=no_sleep)
        hits = dict(server.hits)
    assert found.family == layout, found
    assert 0 < found.confidence <= 1 and found.evidence
    # Home, robots.txt and two articles: no more.
    assert len(read) == 4 and hits.get("article") == 2 and hits.get("robots") == 1, (read, hits)


def test_the_home_page_alone_names_the_platform_families() -> None:
    for layout, must in (("nukeviet", "generator meta names NukeViet"),
                         ("tandan", "Tân Dân class names"),
                         ("liferay", "Liferay-Portal header")):
        site = DemoSite(size=30, seed=5, layout=layout)
        with DemoServer(site) as server:
            from scraper.probe import fetch

            found = detect([fetch(server.base_url)])
        assert found.family == layout
        assert any(must in line for line in found.evidence), found.evidence


@pytest.mark.parametrize(("sample", "url", "family"), [
    ("muongthan_laichau_nukeviet_head_partial.html",
     "https://muongthan.laichau.gov.vn/index.php/savefile/thong-bao/"
     "de-an-thanh-lap-sap-xep-to-chuc-lai-cac-ban-tren-dia-ban-xa-muong-than-105.html", "nukeviet"),
    ("xuandong_dongnai_nukeviet_head_partial.html",
     "https://xuandong.dongnai.gov.vn/vi/news/savefile/thong-tin-chi-dao-dieu-hanh/"
     "hdnd-xa-xuan-dong-378.html", "nukeviet"),
    ("tandan_quangxuong_article_body.html",
     "https://quangxuong.thanhhoa.gov.vn/portal/Pages/2023-02-11/Mot-so-bien-phap.aspx", "tandan"),
])
def test_real_platform_pages(sample: str, url: str, family: str) -> None:
    found = detect([(url, 200, {"Content-Type": "text/html; charset=utf-8"},
                     (SAMPLES / sample).read_bytes())])
    assert found.family == family, found
    assert found.scores[family] >= THRESHOLD


def test_headers_and_cookies_alone() -> None:
    """What a server says before any page is read."""
    liferay = detect([("https://sotttt.example.gov.vn/", 200,
                       [("Liferay-Portal", "Liferay Portal Community Edition 6.2 CE GA6"),
                        ("Set-Cookie", "GUEST_LANGUAGE_ID=vi_VN; Path=/")], b"")])
    assert liferay.family == "liferay"
    sharepoint = detect([("https://h.example.gov.vn/", 200,
                          [("MicrosoftSharePointTeamServices", "15.0.0.4797"),
                           ("Set-Cookie", "ASP.NET_SessionId=abc; path=/")], b"")])
    assert sharepoint.family == "generic"  # SharePoint alone: Tân Dân or not is unknown
    assert sharepoint.scores["tandan"] == 3


def test_a_page_of_no_known_platform_is_generic() -> None:
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>UBND xã An Phú</title>"
            "<meta name='generator' content='Joomla! - Open Source Content Management'></head>"
            "<body><div class='main'><h2><a href='/index.php/tin-tuc/123-hoi-nghi-tong-ket'>"
            "Hội nghị tổng kết</a></h2><p>Nội dung</p><img src='/images/banner.jpg'></div>"
            "</body></html>")
    found = detect([("https://anphu.example.gov.vn/", 200, {}, page)])
    assert found.family == "generic" and found.confidence == 0
    assert found.evidence
    assert detect([]).family == "generic"


def test_article_links_prefers_the_families_article_shapes() -> None:
    page = ('<a href="/vi/news/tin-tuc/">Tin tức</a><a href="/vi/about/gioi-thieu.html">GT</a>'
            '<a href="/vi/news/tin-tuc/ubnd-xa-hop-ban-chi-dao-12.html">Bài</a>'
            '<a href="https://other.gov.vn/vi/news/a/b-c-d-1.html">Ngoài</a>'
            '<a href="/uploads/news/2025_03/ke-hoach-so-1-2025.pdf">PDF</a>'
            '<a href="/chuyen-muc/hoi-nghi-tong-ket-cong-tac-nam">Shaped</a>')
    links = article_links(("https://x.gov.vn/", 200, {}, page), limit=5)
    assert links == ["https://x.gov.vn/vi/news/tin-tuc/ubnd-xa-hop-ban-chi-dao-12.html",
                     "https://x.gov.vn/chuyen-muc/hoi-nghi-tong-ket-cong-tac-nam"]


def test_cli_detect() -> None:
    site = DemoSite(size=30, seed=5, layout="liferay")
    with DemoServer(site) as server:
        text = CliRunner().invoke(main, ["detect", server.base_url], catch_exceptions=False)
        as_json = CliRunner().invoke(main, ["detect", server.base_url, "--json"],
                                     catch_exceptions=False)
    assert text.exit_code == 0, text.output
    assert text.output.startswith(f"{server.base_url}: liferay (confidence ")
    assert "Liferay-Portal header" in text.output and "[+5]" in text.output
    data = json.loads(as_json.output)
    assert data["family"] == "liferay" and data["scores"]["liferay"] >= THRESHOLD
    assert data["pages"][0] == server.base_url and len(data["pages"]) == 4
    help_text = CliRunner().invoke(main, ["detect", "--help"]).output
    assert "portal-archive detect https://" in help_text


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "ftp://x.gov.vn/"])
def test_cli_detect_unreachable_is_one_line(url: str) -> None:
    result = CliRunner().invoke(main, ["detect", url])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output


def test_crawl_of_an_undeclared_url_uses_the_detected_family(tmp_path: Path) -> None:
    site = DemoSite(size=20, seed=6, layout="nukeviet")
    db = tmp_path / "archive.db"
    with DemoServer(site) as server:
        result = CliRunner().invoke(main, ["crawl", server.base_url, "--db", str(db),
                                           "-s", "DOWNLOAD_DELAY=0"], catch_exceptions=False)
        hits = dict(server.hits)
    assert result.exit_code == 0, result.output
    assert "Detected layout: nukeviet" in result.output
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT canonical_url, extractor FROM articles").fetchall()
        stats = json.loads(conn.execute("SELECT stats FROM crawl_runs").fetchone()[0])
    finally:
        conn.close()
    assert sorted(r[0] for r in rows) == sorted(
        a.to_article(server.base_url).canonical_url for a in site.iter_articles())
    assert {r[1] for r in rows} == {"nukeviet"}
    # The family's link rules, not discovery; the print/savefile copies never fetched.
    assert not any(k.startswith("portal_archive/discovery") for k in stats), stats
    assert hits.get("print", 0) == 0, hits

"""WACZ packages: valid for the `wacz` tool, replayed by pywb and in a browser.

The WARC files are the demo portal recorded at three dates
(tests/rescue_servers.py); the page records carry each article's newest whole
capture with its title and text.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest
from rescue_servers import (
    SNAPSHOTS,
    CapturedPortal,
    Pywb,
    archive_tool,
    capture_demo_portal,
    expected_best,
)
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from archive.wacz import PageRecord, index_warc, read_wacz_pages, surt_key, write_wacz
from scraper.demo.site import DemoSite

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> CapturedPortal:
    return capture_demo_portal(tmp_path_factory.mktemp("captures"))


@pytest.fixture(scope="module")
def pages(portal: CapturedPortal) -> list[PageRecord]:
    site = DemoSite(size=30, seed=1)
    records = []
    for n, snap in sorted(expected_best(SNAPSHOTS).items()):
        article = site.article(n)
        when = next(s.when for s in SNAPSHOTS if s.name == snap)
        records.append(PageRecord(portal.urls[n], when, article.title,
                                  "\n\n".join(article.paragraphs), id=f"article-{n}"))
    return records


@pytest.fixture(scope="module")
def wacz(portal: CapturedPortal, pages: list[PageRecord],
         tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wacz") / "demo.wacz"
    return write_wacz(out, portal.warcs, pages, title="Demo portal (rescued)")


def test_layout_and_digests(wacz: Path, portal: CapturedPortal, pages: list[PageRecord]) -> None:
    with zipfile.ZipFile(wacz) as zf:
        names = set(zf.namelist())
        assert names == {"archive/s1.warc.gz", "archive/s2.warc.gz", "archive/s3.warc.gz",
                         "indexes/index.cdx", "pages/pages.jsonl", "datapackage.json",
                         "datapackage-digest.json"}
        assert zf.getinfo("archive/s1.warc.gz").compress_type == zipfile.ZIP_STORED
        package_bytes = zf.read("datapackage.json")
        package = json.loads(package_bytes)
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(package_bytes).hexdigest()
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        for res in package["resources"]:
            data = zf.read(res["path"])
            assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert res["bytes"] == len(data)
        index = zf.read("indexes/index.cdx").decode().splitlines()
        header = json.loads(zf.read("pages/pages.jsonl").decode().splitlines()[0])
    assert header["format"] == "json-pages-1.0" and header["hasText"] is True
    assert index == sorted(index)
    recorded = sum(len(index_warc(w)) for w in portal.warcs)
    assert len(index) == recorded
    got = read_wacz_pages(wacz)
    assert [p["url"] for p in got] == [p.url for p in pages]
    assert got[0]["title"] == pages[0].title and got[0]["text"] == pages[0].text
    assert got[0]["ts"].endswith("Z")


def test_surt_keys_are_the_surt_packages(tmp_path: Path) -> None:
    urls = ["http://127.0.0.1:8765/portal/Pages/2024-3-1/Bai-Viet-a7.aspx?b=2&a=1",
            "https://www.Trieuson.ThanhHoa.gov.vn/portal/Pages/x.aspx",
            "http://trieuson.thanhhoa.gov.vn:80/", "https://example.org:8443/A/b?x=%C3%A1"]
    python = archive_tool("python")
    out = subprocess.run([str(python), "-c",
                          "import json, sys, surt; "
                          "print(json.dumps([surt.surt(u) for u in json.load(sys.stdin)]))"],
                         input=json.dumps(urls), capture_output=True, text=True, check=True)
    assert [surt_key(u) for u in urls] == json.loads(out.stdout)


def test_the_wacz_tool_validates_it(wacz: Path) -> None:
    result = subprocess.run([str(archive_tool("wacz")), "validate", "-f", str(wacz)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wacz_tool_refuses_a_tampered_package(wacz: Path, tmp_path: Path) -> None:
    """The validation above can fail: a page list changed after packaging no longer
    matches its hash in datapackage.json."""
    bad = tmp_path / "tampered.wacz"
    with zipfile.ZipFile(wacz) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "pages/pages.jsonl":
                data = data.replace(b"article-1", b"article-X")
            dst.writestr(item, data)
    result = subprocess.run([str(archive_tool("wacz")), "validate", "-f", str(bad)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0


@pytest.fixture(scope="module")
def replay(wacz: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pywb]:
    """pywb with two collections: ``rescued``, the WACZ added with ``wb-manager``,
    and ``ourindex``, its WARC files looked up through the package's own index."""
    server = Pywb(tmp_path_factory.mktemp("pywb-wacz"), [wacz], collection="rescued")
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(wacz) as zf:
        zf.extractall(unpacked)
        cdxj = zf.read("indexes/index.cdx")
    server.add_indexed("ourindex", sorted((unpacked / "archive").glob("*.warc.gz")), cdxj)
    with server:
        yield server


@pytest.mark.parametrize("collection", ["rescued", "ourindex"])
def test_pywb_replays_every_article_from_the_package(replay: Pywb, portal: CapturedPortal,
                                                     pages: list[PageRecord],
                                                     collection: str) -> None:
    root = replay.root.rsplit("/", 1)[0] + "/" + collection
    with urlopen(f"{root}/cdx?url={pages[0].url}&output=json", timeout=30) as resp:
        rows = [json.loads(line) for line in resp.read().decode().splitlines()]
    assert rows and all(r["source"] == f"{collection}/indexes/index.cdxj" for r in rows)
    for page in pages:
        ts = page.captured.strftime("%Y%m%d%H%M%S")
        with urlopen(f"{root}/{ts}id_/{page.url}", timeout=30) as resp:
            body = resp.read()
            assert resp.headers["Memento-Datetime"]
        snap = next(s.name for s in SNAPSHOTS if s.when == page.captured)
        assert body == portal.bodies[(snap, page.url)], page.url


def test_a_browser_opens_the_replayed_article(replay: Pywb, pages: list[PageRecord],
                                              tmp_path: Path) -> None:
    page = pages[4]
    ts = page.captured.strftime("%Y%m%d%H%M%S")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(60)
        # The framed replay (the pywb banner around the page in an iframe).
        driver.get(f"{replay.root}/{ts}mp_/{page.url}")
        assert page.title is not None
        assert page.title in driver.page_source
        assert driver.title == page.title or page.title in driver.title
    finally:
        driver.quit()
        shutil.rmtree(tmp_path, ignore_errors=True)

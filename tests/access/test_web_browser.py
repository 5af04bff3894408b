"""The web UI in a real headless Chromium: `portal-archive serve` as a subprocess over a real archive.

Needs Debian's chromium and chromium-driver (`make browser` installs them;
`make test` depends on it). The archive is built here from the demo portal's
generator while the demo portal runs on a local port: its images are
downloaded into the archive's folder as a crawl stores them, then the portal
is stopped, so every image the pages show comes from the archive. One
article carries hostile HTML.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from factories import free_port
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from archive.store import Archive
from archive.textfold import fold
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.extract.article import Article
from scraper.pipelines import inspect_image
from scraper.portals import Portal

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
EVIL_TITLE = "Bài có mã độc hại trong nội dung"
EVIL_HTML = (
    "<p>Đoạn đầu an toàn.</p>"
    "<script>document.title = 'pwned'; window.__pwned = 1;</script>"
    "<img src=x onerror=\"document.title='pwned-img'; window.__pwned = 2\">"
    "<p onmouseover=\"window.__pwned = 3\">Di chuột</p>"
    "<a id=\"jslink\" href=\"javascript:window.__pwned=4\">Bấm vào đây</a>"
    "<iframe src=\"javascript:parent.__pwned=5\"></iframe>"
    "<svg><script>window.__pwned = 6</script></svg>"
    "<p style=\"background:url(javascript:window.__pwned=7)\">Kiểu</p>"
)

def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(size=60, seed=3)


def _download_images(archive: Archive, articles: list[Article], run_id: int) -> None:
    """Fetch each image from the (running) demo portal and store it as a crawl does."""
    for url in {i.url for a in articles for i in a.images}:
        with urllib.request.urlopen(url, timeout=10) as r:
            archive.record_image(inspect_image(url, r.status, r.read(), archive.folder),
                                 run_id=run_id)


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory, site: DemoSite) -> dict[str, object]:
    path = tmp_path_factory.mktemp("web") / "archive.db"
    with DemoServer(site) as demo_server:  # the live portal: stopped once the images are in
        base = demo_server.base_url
        articles = [site.article(n).to_article(base) for n in range(1, site.size + 1)]
        evil_url = base + "evil/1.htm"
        evil = replace(articles[0], url=evil_url, canonical_url=evil_url, title=EVIL_TITLE,
                       body="Đoạn đầu an toàn.\n\nDi chuột", body_html=EVIL_HTML, images=[])
        with Archive(path) as archive:
            archive.ensure_portal(Portal("demo", "Huyện Demo", "Thanh Hóa", base))
            run_id = archive.start_run("demo")
            result = archive.save_articles([*articles, evil], portal_id="demo", run_id=run_id)
            _download_images(archive, articles, run_id)
            archive.finish_run(run_id)
    evil_id = result.ids[-1]
    with_image = next(a for a in articles if len(a.images) > 1 and a.images[0].caption)
    return {"path": path, "evil_id": evil_id, "with_image": with_image,
            "ids": dict(zip((a.canonical_url for a in articles), result.ids, strict=False))}


def _serve(path: object, *options: str) -> Iterator[str]:
    port = free_port()
    exe = Path(sys.executable).parent / "portal-archive"
    proc = subprocess.Popen([str(exe), "serve", "--db", str(path), "--port", str(port),
                             *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(archive_path: dict[str, object]) -> Iterator[str]:
    yield from _serve(archive_path["path"])


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: webdriver.Chrome, css: str) -> None:
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


# -------------------------------------------------------------------- tests
def test_search_without_diacritics(browser: webdriver.Chrome, server: str) -> None:
    browser.get(server)
    box = browser.find_element(By.ID, "q")
    box.send_keys("nong thon moi")
    browser.find_element(By.ID, "go").click()
    _wait(browser, ".pa-hit")
    assert "q=nong+thon+moi" in browser.current_url
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".pa-hit .pa-title")]
    marks = {e.text.lower() for e in browser.find_elements(By.CSS_SELECTOR, ".pa-hit mark")}
    assert titles and {"nông", "thôn", "mới"} <= marks
    count = browser.find_element(By.ID, "count").text
    assert "bài viết khớp với" in count and "nong thon moi" in count
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert browser.find_element(By.ID, "go").text == "Tìm kiếm"
    # facets and the chart are there for the matching articles
    assert browser.find_elements(By.CSS_SELECTOR, ".facet-portal a")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.pa-chart polyline")
    if os.environ.get("PA_SAVE_SCREENSHOT"):
        browser.save_screenshot(str(ROOT / "docs" / "web-ui.png"))


def test_open_article_sees_image_and_caption(browser: webdriver.Chrome, server: str,
                                             archive_path: dict[str, object]) -> None:
    art = archive_path["with_image"]
    assert isinstance(art, Article)
    ids = archive_path["ids"]
    assert isinstance(ids, dict)
    # find it through the search page, then follow the link
    browser.get(server + "?q=" + urllib.parse.quote(art.title))
    _wait(browser, ".pa-hit")
    link = browser.find_element(By.CSS_SELECTOR, f'.pa-hit a[href="/article/{ids[art.canonical_url]}"]')
    link.click()
    _wait(browser, "#title")
    assert browser.find_element(By.ID, "title").text == art.title
    # every image once, loaded from the archive (the portal is stopped), with its caption
    images = browser.find_elements(By.CSS_SELECTOR, "img")
    assert len(images) == len(art.images)
    for img, expected in zip(images, art.images, strict=True):
        browser.execute_script("arguments[0].scrollIntoView()", img)
        WebDriverWait(browser, 10).until(lambda d, img=img: d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", img))
        src = img.get_attribute("src") or ""
        assert src.startswith(server + "file/image/") and expected.url not in src
    captions = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".pa-image figcaption")]
    assert captions == [i.caption for i in art.images if i.caption]
    body_text = browser.find_element(By.ID, "body").text
    assert all(c not in body_text for c in captions)
    provenance = browser.find_element(By.ID, "first-seen").text
    assert "lần thu thập 1" in provenance
    assert browser.find_element(By.ID, "source").get_attribute("href") == art.canonical_url


def test_csv_export_link(browser: webdriver.Chrome, server: str) -> None:
    browser.get(server + "?q=dong+tien")
    _wait(browser, "#csv-link")
    shown = int(browser.find_element(By.CSS_SELECTOR, "#count strong").text.replace(",", ""))
    href = browser.find_element(By.ID, "csv-link").get_attribute("href")
    assert href and "/export.csv?q=dong+tien" in href
    text = browser.execute_async_script(
        "const done = arguments[1];"
        "fetch(arguments[0]).then(r => r.text()).then(done, e => done('ERR ' + e));", href)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert shown > 0 and len(rows) == shown
    for row in rows:
        words = fold(row["title"] + " " + row["body"] + " " + row["author"]).split()
        assert any(w.startswith("dong") for w in words) and any("tien" in w for w in words)
    assert {"id", "title", "published", "images"} <= set(rows[0])


def test_hostile_archived_html_does_not_run(browser: webdriver.Chrome, server: str,
                                            archive_path: dict[str, object]) -> None:
    evil_id = archive_path["evil_id"]
    browser.get(f"{server}article/{evil_id}")
    _wait(browser, "#body")
    time.sleep(0.5)  # give any handler (onerror of a broken image) a chance to fire
    body = browser.find_element(By.ID, "body")
    browser.execute_script("arguments[0].scrollIntoView()", body)
    links = body.find_elements(By.TAG_NAME, "a")
    for link in links:  # clicking the sanitised link runs nothing
        link.click()
    assert browser.title == EVIL_TITLE
    assert browser.execute_script("return window.__pwned === undefined")
    html = body.get_attribute("innerHTML")
    assert "Đoạn đầu an toàn." in html and "Di chuột" in html
    for bad in ("<script", "onerror", "onmouseover", "javascript:", "<iframe", "<svg", "style="):
        assert bad not in html.lower()
    # ... and the served page itself carries none of it, whatever the browser does
    with urllib.request.urlopen(f"{server}article/{evil_id}") as r:
        served = r.read().decode()
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "__pwned" not in served and "onerror" not in served


def test_capped_counts_say_so(browser: webdriver.Chrome, archive_path: dict[str, object]) -> None:
    """A text query matching more than --match-cap articles: the page says the counts are partial."""
    for url in _serve(archive_path["path"], "--match-cap", "5"):
        browser.get(url + "?q=xa&lang=en")
        _wait(browser, ".pa-hit")
        count = browser.find_element(By.ID, "count").text
        assert count.startswith("More than 5 articles match") and "not all counted" in count
        note = browser.find_element(By.ID, "capped-note").text
        assert "the 5 most recently published matches" in note
        assert sum(int(e.text) for e in browser.find_elements(
            By.CSS_SELECTOR, ".facet-portal .count")) == 5
        # no last page is claimed; "next" leads on
        pages = browser.find_element(By.CSS_SELECTOR, ".pa-pages").text
        assert "page 1" in pages and " of " not in pages
        browser.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
        _wait(browser, ".pa-hit")
        assert "page=2" in browser.current_url
        # the unqueried page is exact
        browser.get(url)
        _wait(browser, "#count")
        assert browser.find_element(By.ID, "count").text.startswith(
            f"{len(archive_path['ids']) + 1} articles")
        browser.get(url + "?lang=vi")


def test_english_one_click_away(browser: webdriver.Chrome, server: str) -> None:
    browser.get(server + "?q=dong+tien")
    _wait(browser, "#lang-switch")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tìm kiếm trong kho lưu trữ"
    browser.find_element(By.ID, "lang-switch").click()
    _wait(browser, ".pa-hit")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Search the archive"
    assert "q=dong+tien" in browser.current_url
    # remembered: the next page is English too, until switched back
    browser.find_element(By.CSS_SELECTOR, ".pa-hit .pa-title").click()
    _wait(browser, "#provenance")
    assert "First archived" in browser.find_element(By.ID, "provenance").text
    browser.find_element(By.ID, "lang-switch").click()
    _wait(browser, "#provenance")
    assert "Lưu lần đầu" in browser.find_element(By.ID, "provenance").text


def test_search_without_diacritics_finds_a_seed_title(browser: webdriver.Chrome, server: str,
                                                      archive_path: dict[str, object]) -> None:
    art = archive_path["with_image"]
    assert isinstance(art, Article)
    typed = fold(art.title)  # the title as typed on a keyboard without Vietnamese input
    assert typed != art.title
    browser.get(server)
    browser.find_element(By.ID, "q").send_keys(typed)
    browser.find_element(By.ID, "go").click()
    _wait(browser, ".pa-hit")
    first = browser.find_element(By.CSS_SELECTOR, ".pa-hit .pa-title")
    assert first.text == art.title


def test_host_check_refuses_other_names(server: str) -> None:
    port = urllib.parse.urlsplit(server).port
    for host in (f"rebound.example:{port}", f"127.0.0.1:{port + 1}"):
        request = urllib.request.Request(server, headers={"Host": host})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 421
    with urllib.request.urlopen(f"http://localhost:{port}/", timeout=10) as ok:
        assert ok.status == 200

"""The page as served, from the article page of `serve`, in headless Chromium: the
link opens our own WARC capture, and the capture's scripts run sandboxed, in an
origin of their own, unable to read or change the UI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import urlopen

import pytest
from factories import make_article
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from test_web_browser import _serve, browser  # noqa: F401 - the shared Chromium fixture

from archive.store import Archive, Capture
from scraper.portals import Portal
from scraper.warc import WarcWriter

URL = "http://huyen-cu.example.gov.vn/tin-tuc/bai-cu.html"
TITLE = "Bài cũ của cổng huyện"
SERVED = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{TITLE}</title></head>
<body><h1>{TITLE}</h1><p id="out">script did not run</p>
<script>
var r = [];
try {{ localStorage.setItem('pa_pwned', '1'); r.push('storage:written'); }}
catch (e) {{ r.push('storage:blocked'); }}
try {{ var c = document.cookie; r.push(c ? 'cookie:read' : 'cookie:empty'); }}
catch (e) {{ r.push('cookie:blocked'); }}
try {{ window.opener.document.body.innerHTML = 'PWNED'; r.push('opener:changed'); }}
catch (e) {{ r.push('opener:blocked'); }}
try {{ var t = parent.document.title; r.push(parent === window ? 'parent:self' : 'parent:read'); }}
catch (e) {{ r.push('parent:blocked'); }}
document.getElementById('out').textContent = r.join(' ');
fetch('/').then(function () {{ document.title = 'fetched-ui'; }},
                function () {{ document.body.dataset.fetch = 'blocked'; }});
</script></body></html>""".encode()


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("served") / "archive.db"
    when = datetime(2024, 9, 2, 9, 30, tzinfo=UTC)
    with Archive(path) as archive:
        portal = Portal.adhoc("http://huyen-cu.example.gov.vn/")
        archive.ensure_portal(portal)
        writer = WarcWriter(archive.folder, "warc/test", "rescue000001")
        loc = writer.write_response(url=URL, status=200, body=SERVED, when=when,
                                    headers=[("Content-Type", "text/html; charset=utf-8")],
                                    provenance={"WARC-Refers-To-Target-URI": URL})
        writer.close()
        result = archive.save_articles(
            [make_article(URL, TITLE, body="Nội dung bài cũ.")], portal_id=portal.id,
            captures=[Capture(url=URL, fetched=loc.date, http_status=200, warc_file=loc.file,
                              warc_offset=loc.offset, warc_length=loc.length,
                              source="wayback", captured_at=when.isoformat())])
    return path, result.ids[0]


@pytest.fixture(scope="module")
def ui(archive_file: tuple[Path, int]) -> Iterator[str]:
    yield from _serve(archive_file[0])


def _text(driver: webdriver.Chrome, element_id: str) -> str:
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, element_id).text != "script did not run")
    return str(driver.find_element(By.ID, element_id).text)


def test_the_capture_is_served_sandboxed(archive_file: tuple[Path, int], ui: str) -> None:
    with urlopen(f"{ui}capture/1", timeout=10) as resp:
        assert resp.read() == SERVED
        csp = resp.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    assert "connect-src 'none'" in csp


def test_the_link_opens_the_capture_whose_scripts_cannot_touch_the_ui(
        archive_file: tuple[Path, int], ui: str,
        browser: webdriver.Chrome) -> None:  # noqa: F811 - the fixture imported above
    article = f"{ui}article/{archive_file[1]}?lang=vi"  # sets the UI's language cookie
    browser.get(article)
    browser.execute_script("localStorage.setItem('pa_ui', 'kept')")
    assert browser.get_cookie("pa_lang") is not None
    link = browser.find_element(By.CSS_SELECTOR, "a.pa-served")
    assert "wayback" in browser.find_element(By.ID, "captures").text

    # Opened by the UI's page (an opener the script can try to reach).
    ui_window = browser.current_window_handle
    browser.execute_script("window.open(arguments[0], 'served')", link.get_attribute("href"))
    served = next(h for h in browser.window_handles if h != ui_window)
    browser.switch_to.window(served)
    WebDriverWait(browser, 10).until(lambda d: d.title == TITLE)
    out = _text(browser, "out")
    assert out == "storage:blocked cookie:blocked opener:blocked parent:self", out
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-fetch") == "blocked")
    assert browser.title == TITLE
    browser.close()
    browser.switch_to.window(ui_window)
    assert "PWNED" not in browser.find_element(By.TAG_NAME, "body").text
    assert browser.execute_script("return localStorage.getItem('pa_pwned')") is None
    assert browser.execute_script("return localStorage.getItem('pa_ui')") == "kept"

    # The link itself, followed in the UI's tab.
    browser.find_element(By.CSS_SELECTOR, "a.pa-served").click()
    WebDriverWait(browser, 10).until(lambda d: d.title == TITLE)
    assert browser.current_url.endswith("/capture/1")
    assert _text(browser, "out").startswith("storage:blocked cookie:blocked")

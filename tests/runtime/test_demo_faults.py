"""The demo portal's fault modes, request by request (DemoApp, and one real socket),
and the link rules that undo URL variants."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys

import pytest

from scraper.demo.app import CALENDAR_PATH, FAULT_MODES, LOOP_PATH, DemoApp
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.extract.urls import canonicalize_url
from scraper.families import link_rules
from scraper.runner import PROJECT_ROOT

THANHHOA = link_rules("thanhhoa")
GENERIC = link_rules("generic")

SITE = DemoSite(size=60, seed=2)
ARTICLE = SITE.article(11)
LISTING = SITE.listing_path(ARTICLE.category.slug)


def app(*faults: str) -> DemoApp:
    return DemoApp(SITE, faults=frozenset(faults))


def test_no_fault_by_default() -> None:
    plain = app()
    r = plain.handle("GET", ARTICLE.path)
    assert r.status == 200 and not r.truncate and not r.delay


def test_error_burst_then_served() -> None:
    a = app("error_burst")
    assert [a.handle("GET", ARTICLE.path).status for _ in range(3)] == [503, 500, 200]
    assert a.handle("GET", "/robots.txt").status == 200  # not a page: never fails


def test_timeout_slow_truncated() -> None:
    a = app("timeout", "truncated", "slow")
    first = a.handle("GET", SITE.article(11).path)
    assert first.delay == a.timeout_delay
    assert a.handle("GET", SITE.article(11).path).delay == a.slow_delay
    assert a.handle("GET", SITE.article(12).path).truncate
    assert not a.handle("GET", SITE.article(12).path).truncate
    assert not a.handle("GET", SITE.article(13).path).truncate


def test_endless_pagination_and_calendar_and_redirect_loop() -> None:
    a = app("endless_pagination", "calendar", "redirect_loop")
    last = SITE.page_count(ARTICLE.category.slug)
    beyond = a.handle("GET", f"{LISTING}?Page={last + 7}")
    assert beyond.status == 200
    assert f"?Page={last + 8}" in beyond.body.decode()
    day = a.handle("GET", f"{CALENDAR_PATH}?ngay=2030-01-01").body.decode()
    assert "ngay=2030-01-02" in day and "ngay=2029-12-31" in day
    assert CALENDAR_PATH in a.handle("GET", "/").body.decode()
    hop = a.handle("GET", LOOP_PATH)
    back = a.handle("GET", hop.headers["Location"])
    assert (hop.status, back.status, back.headers["Location"]) == (302, 302, LOOP_PATH)


def test_session_ids_change_every_view_and_are_served() -> None:
    a = app("session_path", "session_query")
    first = a.handle("GET", "/").body.decode()
    second = a.handle("GET", "/").body.decode()
    link = re.search(r'href="(/\(S\([a-z0-9]+\)\)/portal/Pages/[^"]+)"', first)
    assert link is not None and link.group(1) not in second
    assert "sid=" in link.group(1)
    assert a.handle("GET", link.group(1).replace("&amp;", "&")).status == 200
    plain = canonicalize_url("http://h" + link.group(1).replace("&amp;", "&"))
    assert "(S(" not in plain and "sid=" not in plain


def test_duplicate_urls_served_and_folded_by_link_rules() -> None:
    a = app("duplicate_urls")
    text = a.handle("GET", LISTING).body.decode()
    hrefs = set(re.findall(r'href="(/portal/Pages/[^"]*a\d+\.aspx[^"]*)"', text))
    assert any("?ref=" in h for h in hrefs)
    assert any(h.startswith("/portal/Pages/Tin-tuc-Su-kien/") for h in hrefs)
    for href in hrefs:
        assert a.handle("GET", href).status == 200
    canonical = {THANHHOA.same_page(canonicalize_url("http://h" + h)) for h in hrefs}
    assert len(canonical) < len(hrefs)
    assert all(THANHHOA.classify(c) == "article" and "?" not in c for c in canonical)


def test_deleted_and_wrong_charset() -> None:
    a = app("deleted", "wrong_charset")
    assert a.handle("GET", SITE.article(20).path).status == 404
    ok = a.handle("GET", SITE.article(21).path)
    assert ok.content_type == "text/html; charset=windows-1258"
    assert b"charset=iso-8859-1" in ok.body
    assert ARTICLE.category.name.encode("utf-8") in ok.body  # but the bytes are UTF-8
    a.deleted_as = "410"
    assert a.handle("GET", SITE.article(40).path).status == 410
    a.deleted_as = "home"
    moved = a.handle("GET", SITE.article(40).path)
    assert (moved.status, moved.headers["Location"]) == (302, "/")
    assert a.handle("GET", SITE.article(41).path).status == 200


def test_unknown_fault_rejected() -> None:
    with pytest.raises(ValueError, match="not implemented: nope"):
        app("nope")
    assert "slow" in FAULT_MODES


def test_truncated_body_on_a_real_socket() -> None:
    with DemoServer(SITE, faults=frozenset({"truncated"})) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", SITE.article(12).path)
        resp = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            resp.read()
        conn.close()


def test_cli_serves_with_faults() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "scraper.demo", "serve", "--size", "20",
                             "--fault", "error_burst", "--fault", "wrong_charset"],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1].strip("/"))
        statuses = []
        for _ in range(3):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            resp = conn.getresponse()
            resp.read()
            statuses.append((resp.status, resp.getheader("Content-Type")))
            conn.close()
        assert [s for s, _ in statuses] == [503, 500, 200]
        assert statuses[-1][1] == "text/html; charset=windows-1258"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run([sys.executable, "-m", "scraper.demo", "serve", "--fault", "nope"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_link_rules_paging() -> None:
    assert THANHHOA.listing_page("http://h/portal/Pages/Tin-tuc.aspx?Page=7") \
        == ("http://h/portal/pages/tin-tuc.aspx", 7)
    assert THANHHOA.listing_page("http://h/portal/Pages/Tin-tuc.aspx") \
        == ("http://h/portal/pages/tin-tuc.aspx", 1)
    assert THANHHOA.listing_page(f"http://h{CALENDAR_PATH}?ngay=2025-01-01") is None
    assert GENERIC.listing_page("http://h/tin-tuc?page=2") is None
    assert GENERIC.same_page("http://h/a?ref=1") == "http://h/a?ref=1"

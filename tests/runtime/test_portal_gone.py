"""A gone portal told apart from a flaky one, against real servers on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import URLError

from factories import free_port

from scraper.rescue.gone import classify_error, diagnose, gone_message


@contextmanager
def answering(status: int, body: bytes = b"<html><body>ok</body></html>",
              location: str | None = None) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_refused_connection_is_gone() -> None:
    verdict = diagnose(f"http://127.0.0.1:{free_port()}/")
    assert verdict.state == "gone" and "refuses" in verdict.why


def test_the_whole_site_redirected_to_another_host_is_gone() -> None:
    with answering(301, location="https://thanhhoa.gov.vn/") as url:
        verdict = diagnose(url)
    assert verdict.state == "gone" and "thanhhoa.gov.vn" in verdict.why
    with answering(302, location="/portal/home.aspx") as url:
        assert diagnose(url).state == "up"


def test_a_parked_page_is_gone() -> None:
    parked = "<html><body><h1>Tên miền này đang được rao bán</h1></body></html>".encode()
    with answering(200, parked) as url:
        assert diagnose(url).state == "gone"


def test_a_server_error_is_flaky_and_a_live_site_is_up() -> None:
    with answering(503) as url:
        assert diagnose(url).state == "flaky"
    with answering(200) as url:
        assert diagnose(url).state == "up"


def test_dns_no_such_name_is_gone_a_temporary_failure_flaky() -> None:
    nxdomain = URLError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert classify_error(nxdomain).state == "gone"
    again = URLError(socket.gaierror(socket.EAI_AGAIN, "Temporary failure"))
    assert classify_error(again).state == "flaky"
    assert classify_error(URLError(TimeoutError("timed out"))).state == "flaky"


def test_the_message_points_at_rescue_only_after_a_crawl_that_got_nothing() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    line = gone_message("oldportal", url, {"articles_new": 0})
    assert line is not None and "portal-archive rescue oldportal" in line
    assert "\n" not in line
    assert gone_message("oldportal", url, {"articles_new": 3}) is None
    assert gone_message("oldportal", url, {"responses_by_status": '{"200": 4}'}) is None
    with answering(503) as flaky:
        line = gone_message("oldportal", flaky, {})
    assert line is not None and "rescue" not in line and "again later" in line

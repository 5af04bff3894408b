"""Is a portal gone for good, or only unreachable for now?

After a crawl that got no page from a portal, one request to its home page
tells the two apart:

- gone: its name does not resolve (the DNS says there is no such name), it
  refuses connections, the whole site redirects to another host (a province's
  or a new commune's portal), or it answers with a parked page;
- flaky: a timeout, a temporary DNS failure, a connection cut short, a 5xx.

Only a gone portal is worth a ``portal-archive rescue``.
"""

from __future__ import annotations

import errno
import json
import re
import socket
from dataclasses import dataclass
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

#: Words of registrars' and hosts' parking pages, and of suspended sites.
PARKED = re.compile(
    r"domain (?:is )?(?:for sale|parked|has expired)|this domain (?:may be|is) for sale|"
    r"buy this domain|parked free|sedoparking|parkingcrew|bodis\.com|"
    r"website (?:is )?(?:suspended|expired)|account (?:has been )?suspended|"
    r"tên miền (?:này )?(?:đang được rao bán|đã hết hạn)|website (?:đã )?tạm ngừng|"
    r"trang (?:web|thông tin) (?:đã )?(?:ngừng hoạt động|tạm ngừng)",
    re.IGNORECASE)

_TEMPORARY_DNS = {getattr(socket, n) for n in ("EAI_AGAIN",) if hasattr(socket, n)}


@dataclass(frozen=True)
class Verdict:
    #: ``gone``, ``flaky`` or ``up``.
    state: str
    why: str


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def classify_error(exc: BaseException) -> Verdict:
    """What a failed request to the home page says of the portal."""
    reason = exc.reason if isinstance(exc, URLError) and not isinstance(exc, HTTPError) else exc
    if isinstance(reason, socket.gaierror):
        if reason.errno in _TEMPORARY_DNS:
            return Verdict("flaky", "a temporary DNS failure")
        return Verdict("gone", "its name no longer resolves (DNS)")
    if isinstance(reason, ConnectionRefusedError) or getattr(reason, "errno", None) in (
            errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
        return Verdict("gone", "it refuses connections")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return Verdict("flaky", "it did not answer in time")
    return Verdict("flaky", f"the connection failed ({type(reason).__name__})")


def classify_answer(url: str, status: int, location: str | None, body: bytes) -> Verdict:
    """What the home page's answer says of the portal."""
    if status in (301, 302, 303, 307, 308) and location:
        target = urljoin(url, location)
        if _host(target) and _host(target) != _host(url):
            return Verdict("gone", f"the whole site redirects to {_host(target)}")
        return Verdict("up", f"redirects within the site ({status})")
    if status >= 500 or status == 429:
        return Verdict("flaky", f"it answers {status}")
    text = body[:200_000].decode("utf-8", "replace")
    if PARKED.search(text):
        return Verdict("gone", "it serves a parked or suspended page")
    if status in (404, 410):
        return Verdict("gone", f"its home page answers {status}")
    return Verdict("up", f"it answers {status}")


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


def diagnose(url: str, timeout: float = 15.0) -> Verdict:
    """One GET of ``url`` (redirects not followed): gone, flaky or up."""
    opener = build_opener(_NoRedirect())
    request = Request(url, headers={"User-Agent": "portal-archive (is the portal still there?)"})
    try:
        with opener.open(request, timeout=timeout) as resp:
            return classify_answer(url, resp.status, resp.headers.get("Location"),
                                   resp.read(200_000))
    except HTTPError as err:
        try:
            body = err.read(200_000)
        except (OSError, HTTPException):
            body = b""
        return classify_answer(url, err.code, err.headers.get("Location"), body)
    except (URLError, HTTPException, OSError) as err:
        return classify_error(err)


def gone_message(portal_id: str, url: str, run: dict[str, object]) -> str | None:
    """One line for a crawl that got no page: the portal is gone (and ``rescue``
    can recover it from web archives) or unreachable for now; None when the
    crawl got pages."""
    if int(str(run.get("articles_new") or 0)) or int(str(run.get("articles_changed") or 0)) \
            or int(str(run.get("articles_unchanged") or 0)):
        return None
    by_status = run.get("responses_by_status") or {}
    if isinstance(by_status, str):
        try:
            by_status = json.loads(by_status)
        except ValueError:
            by_status = {}
    if isinstance(by_status, dict) and any(str(k).startswith("2") and v
                                           for k, v in by_status.items()):
        return None  # the portal answered pages: an incremental crawl with nothing new
    verdict = diagnose(url)
    if verdict.state == "gone":
        return (f"{portal_id} looks gone: {verdict.why}. Its pages may live on in web "
                f"archives: portal-archive rescue {portal_id}")
    if verdict.state == "flaky":
        return f"{portal_id} is unreachable for now ({verdict.why}): try the crawl again later"
    return None

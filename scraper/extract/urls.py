"""URLs: a URL's identity (:func:`canonicalize_url`, used by the spiders, the
link rules and the text-dump importer), same-site tests and absolute URLs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|zarsrc|jsessionid|phpsessid|sid|sessionid|session_id|"
    r"asp\.net_sessionid|aspsessionid\w*|__viewstate)$",
    re.I,
)
_PATH_SESSION = re.compile(r"/\(S\([a-z0-9]+\)\)|;jsessionid=[^/?#]*", re.I)


def canonicalize_url(url: str) -> str:
    """A URL's identity: scheme and host lower-cased, default port, fragment,
    session ids and tracking parameters removed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, path, query, ""))


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one host (``www.`` ignored)."""
    ha, hb = urlsplit(a).hostname or "", urlsplit(b).hostname or ""
    return ha.removeprefix("www.") == hb.removeprefix("www.")


def absolute_url(base: str, ref: str) -> str:
    """``urljoin(base, ref)``, with the common cases (already absolute, or
    root-relative without dot segments) done without parsing."""
    if ref.startswith(("http://", "https://")) and "/." not in ref:
        return ref
    if ref.startswith("/") and not ref.startswith("//") and "/." not in ref and "\\" not in ref:
        scheme_end = base.find("://")
        if scheme_end > 0:
            host_end = base.find("/", scheme_end + 3)
            origin = base if host_end == -1 else base[:host_end]
            if "?" not in origin and "#" not in origin:
                return origin + ref
    return urljoin(base, ref)

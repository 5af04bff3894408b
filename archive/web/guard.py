"""The ASGI layer in front of every page (ours and Datasette's): Host check, CSP, language.

* **Host check.** A request whose ``Host`` header names neither the address
  the server was started on nor the loopback names is refused with 421:
  a page on another site cannot reach the archive through DNS rebinding
  (a hostile name re-pointed at 127.0.0.1 still carries its own name).
  With a port configured, the Host must carry that port.
* **Content-Security-Policy** on every response that has none: scripts,
  styles and images only from this server (archived images are served from
  the archive's own files, never hot-linked), no frames, no objects.
* **Hidden paths.** Datasette pages that show the database file's absolute
  path answer 404.
* **Language.** ``?lang=vi|en`` (remembered in a cookie) or the ``pa_lang``
  cookie picks the UI language for the request (:mod:`archive.web.i18n`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from archive.web.i18n import COOKIE, DEFAULT_LANGUAGE, LANGUAGES, use_language

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
#: Datasette pages that print the database's absolute path.
HIDDEN_PATHS = frozenset({"/-/databases", "/-/databases.json"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` headers are accepted: these names, with ``port`` (when set) after them."""

    names: frozenset[str] = field(default_factory=lambda: frozenset(LOOPBACK_NAMES))
    port: int | None = None

    @classmethod
    def for_bind(cls, host: str, port: int | None, extra: Iterable[str] = ()) -> HostPolicy:
        """The policy of a server bound to ``host:port``: loopback names, ``host``, ``extra``."""
        names = {*LOOPBACK_NAMES, *(n.strip().lower() for n in extra if n.strip())}
        if host not in ("0.0.0.0", "::", ""):
            names.add(f"[{host}]" if ":" in host else host.lower())
        return cls(frozenset(names), port)

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        value = header.strip().lower()
        if value.startswith("["):
            name, _, rest = value.partition("]")
            name += "]"
            port = rest[1:] if rest.startswith(":") else None
        else:
            name, sep, port_text = value.partition(":")
            port = port_text if sep else None
        if name not in self.names:
            return False
        if self.port is None:
            return port is None or port.isdigit()
        if port is None:
            return self.port == 80
        return port == str(self.port)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def request_language(scope: Scope) -> tuple[str, bool]:
    """The UI language of a request, and whether it was chosen by ``?lang=`` (to remember)."""
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    asked = (query.get("lang") or [""])[0]
    if asked in LANGUAGES:
        return asked, True
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie") or "")
    except Exception:  # a malformed Cookie header is no language choice
        return DEFAULT_LANGUAGE, False
    morsel = cookie.get(COOKIE)
    if morsel is not None and morsel.value in LANGUAGES:
        return morsel.value, False
    return DEFAULT_LANGUAGE, False


async def _plain(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-security-policy", CSP.encode()),
    ]})
    await send({"type": "http.response.body", "body": text.encode()})


def guard(app: App, policy_of: Callable[[], HostPolicy]) -> App:
    """``app`` behind the Host check, the CSP header, the hidden paths and the language."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        if not policy_of().allows(_header(scope, b"host")):
            await _plain(send, 421, "Misdirected request: this server does not answer for "
                                    "that host name.\n")
            return
        if scope.get("path", "").rstrip("/") in HIDDEN_PATHS:
            await _plain(send, 404, "Not found\n")
            return
        lang, chosen = request_language(scope)
        held: list[dict[str, Any]] = []

        async def send_with_headers(message: dict[str, Any]) -> None:
            if held:
                # The first body chunk of an HTML page: name its language on <html>.
                start = held.pop()
                body = bytes(message.get("body", b""))
                tagged = body.replace(b"<html>", f'<html lang="{lang}">'.encode(), 1)
                if tagged != body:
                    start["headers"] = [
                        (k, str(len(tagged) + int(v) - len(body)).encode()
                         if bytes(k).lower() == b"content-length" else v)
                        for k, v in start["headers"]]
                    message = {**message, "body": tagged}
                await send(start)
                await send(message)
                return
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                names = {bytes(k).lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if chosen:
                    headers.append((b"set-cookie", f"{COOKIE}={lang}; Path=/; Max-Age=31536000; "
                                                   f"SameSite=Lax".encode()))
                message = {**message, "headers": headers}
                content_type = next((bytes(v) for k, v in headers
                                     if bytes(k).lower() == b"content-type"), b"")
                policy = next((bytes(v) for k, v in headers
                               if bytes(k).lower() == b"content-security-policy"), b"")
                if content_type.startswith(b"text/html") and not policy.startswith(b"sandbox"):
                    # A sandboxed page (an archived one) is sent as it was recorded.
                    held.append(message)
                    return
            await send(message)

        with use_language(lang):
            await app(scope, receive, send_with_headers)

    return guarded

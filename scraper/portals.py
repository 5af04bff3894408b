"""Portals are data: ``portals.toml`` lists them, this module reads it.

No Scrapy here: the CLI, the archive and the spiders all use it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scraper.families import family_names

DEFAULT_PORTALS_FILE = Path(__file__).resolve().parent.parent / "portals.toml"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class PortalConfigError(ValueError):
    """portals.toml is malformed, or a portal id is unknown."""


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    province: str
    base_url: str
    layout: str = "generic"
    notes: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def with_base_url(self, base_url: str) -> Portal:
        """The same portal served from another address (the demo's free port)."""
        return Portal(self.id, self.name, self.province, normalise_base_url(base_url),
                      self.layout, self.notes)

    @classmethod
    def adhoc(cls, url: str, layout: str = "generic") -> Portal:
        """A portal nobody declared: identified by its host name."""
        base = normalise_base_url(url)
        host = urlsplit(base).hostname or "portal"
        pid = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
        return cls(id=pid, name=host, province="", base_url=base, layout=layout)


def normalise_base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PortalConfigError(f"not an http(s) URL: {url!r}")
    path = parts.path or "/"
    if not path.endswith("/"):
        path = path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def load_portals(path: str | Path | None = None) -> dict[str, Portal]:
    """Read portals.toml into ``{id: Portal}``, in file order."""
    file = Path(path) if path else DEFAULT_PORTALS_FILE
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PortalConfigError(f"portals file not found: {file}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PortalConfigError(f"{file}: {exc}") from exc
    portals: dict[str, Portal] = {}
    for i, entry in enumerate(data.get("portal", []), 1):
        missing = [k for k in ("id", "name", "base_url") if not entry.get(k)]
        if missing:
            raise PortalConfigError(f"{file}: portal #{i} lacks {', '.join(missing)}")
        pid = str(entry["id"])
        if not _ID_RE.match(pid):
            raise PortalConfigError(f"{file}: bad portal id {pid!r} (use a-z, 0-9, - and _)")
        if pid in portals:
            raise PortalConfigError(f"{file}: portal id {pid!r} appears twice")
        layout = str(entry.get("layout", "generic"))
        if layout not in family_names():
            raise PortalConfigError(
                f"{file}: portal {pid!r} has unknown layout {layout!r} "
                f"(known: {', '.join(family_names())})"
            )
        portals[pid] = Portal(
            id=pid,
            name=str(entry["name"]),
            province=str(entry.get("province", "")),
            base_url=normalise_base_url(str(entry["base_url"])),
            layout=layout,
            notes=str(entry.get("notes", "")),
        )
    return portals


def resolve_portal(ref: str, path: str | Path | None = None) -> Portal:
    """A portal by id from portals.toml, or an ad-hoc portal for a URL."""
    if ref.startswith(("http://", "https://")):
        for portal in load_portals(path).values():
            if portal.base_url == normalise_base_url(ref):
                return portal
        return Portal.adhoc(ref)
    portals = load_portals(path)
    if ref not in portals:
        raise PortalConfigError(
            f"unknown portal {ref!r}; known: {', '.join(portals)} (or give a URL)"
        )
    return portals[ref]

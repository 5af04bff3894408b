"""Start Datasette over an archive with the portal-archive plugin: ``portal-archive serve``.

::

    from archive.web.server import make_datasette, serve
    serve("data/archive.db", host="127.0.0.1", port=8001)   # blocks

The archive is opened **read-only** and never written: pending schema
migrations stop the start with a one-line error (``portal-archive migrate``
applies them; ``serve --migrate`` too); Datasette's connections use SQLite's
``mode=ro`` (a crawl may keep writing the file; new articles appear on the
next request), and the plugin adds no write path. The server binds to
127.0.0.1 unless another host is given (all interfaces only with
``public=True``); requests naming another host are refused
(:mod:`archive.web.guard`); Datasette's arbitrary SQL is off unless
``allow_sql``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datasette.app import Datasette
from datasette.plugins import pm

import archive.web
from archive.errors import ArchiveError
from archive.facets import MATCH_CAP
from archive.store import Archive, pending_migrations
from archive.web.guard import HostPolicy

PLUGIN_NAME = "portal_archive"


def register_plugin() -> None:
    """Register :mod:`archive.web` with Datasette's plugin manager (once per process)."""
    if not pm.is_registered(archive.web):
        pm.register(archive.web, name=PLUGIN_NAME)


class PendingMigrations(ArchiveError):
    """The archive's schema is older than this code: serving it would mean writing it."""


class ServeError(ArchiveError):
    """The server cannot start as asked (busy port, public address without consent)."""


#: Addresses that listen on every interface.
ALL_INTERFACES = ("0.0.0.0", "::", "")


def make_datasette(db: str | Path, *, migrate: bool = False,
                   match_cap: int | None = None, allow_sql: bool = False,
                   host: str = "127.0.0.1", port: int | None = None,
                   allowed_hosts: Iterable[str] = ()) -> Datasette:
    """A Datasette over the archive at ``db`` (which must exist), with our plugin.

    Nothing is written to the archive: if it lacks migrations (an archive
    made by an older version), :class:`PendingMigrations` says to run
    ``portal-archive migrate`` first — a migration may rewrite every row,
    which a web server must not start on its own — unless ``migrate`` asks
    for them to be applied here, before the read-only server opens the file.
    ``match_cap`` bounds how many matches of a text query the search page
    counts for its total, facets and chart (default
    :data:`archive.facets.MATCH_CAP`). ``allow_sql`` turns Datasette's
    arbitrary ``?sql=`` queries on (off by default). ``host``/``port`` (where
    the server listens) and ``allowed_hosts`` (more names it answers for)
    make the Host check; without ``port`` any port of the loopback names is
    accepted (in-process clients).
    """
    pending = pending_migrations(db)  # one-line errors for a missing or foreign file
    if pending and not migrate:
        raise PendingMigrations(
            f"the archive {db} needs {len(pending)} schema migration"
            f"{'s' if len(pending) != 1 else ''} ({', '.join(pending)}) and serve never "
            f"writes: run `portal-archive migrate --db {db}` first (or serve --migrate)")
    if pending:
        Archive.open(db).close()
    register_plugin()
    ds = Datasette(
        [str(db)],
        settings={
            "default_page_size": 50,
            "sql_time_limit_ms": 3000,
            "facet_time_limit_ms": 1000,
            "allow_download": False,
            "default_allow_sql": allow_sql,
        },
        metadata={
            "title": "portal-archive",
            "description": "Articles archived from Vietnamese district government portals.",
            "plugins": {PLUGIN_NAME: {
                "match_cap": match_cap or MATCH_CAP,
                "hosts": sorted(HostPolicy.for_bind(host, port, allowed_hosts).names),
                "port": port,
            }},
            "databases": {Path(db).stem: {"tables": {
                "articles_fts": {"hidden": True},
                "schema_migrations": {"hidden": True},
            }}},
        },
    )
    asyncio.run(ds.invoke_startup())
    return ds


def check_bind(host: str, port: int, *, public: bool = False) -> None:
    """Refuse, in one line, an address serve must not or cannot listen on.

    Every interface (``0.0.0.0``) needs ``public``: the archive and its
    search would be open to the whole network. A port another process holds
    is said so, before Datasette starts.
    """
    if host in ALL_INTERFACES and not public:
        raise ServeError(f"--host {host or '0.0.0.0'} would open the archive to every machine "
                         f"on the network: add --public if that is what you want")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"port {port} on {host} is already in use: stop the other "
                                 f"server or choose another --port") from None
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(db: str | Path, *, host: str = "127.0.0.1", port: int = 8001,
          log_level: str = "warning", migrate: bool = False, public: bool = False) -> None:
    """Serve the archive's web UI until interrupted."""
    check_bind(host, port, public=public)
    run(make_datasette(db, migrate=migrate, host=host, port=port), host=host, port=port,
        log_level=log_level)


def run(ds: Datasette, *, host: str = "127.0.0.1", port: int = 8001,
        log_level: str = "warning") -> None:
    """Serve ``ds`` with uvicorn until interrupted."""
    import uvicorn

    config: dict[str, Any] = {"host": host, "port": port, "log_level": log_level,
                              "lifespan": "on"}
    uvicorn.run(ds.app(), **config)

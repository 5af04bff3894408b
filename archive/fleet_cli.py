"""Commands of the distributed crawl: ``fleet enqueue``, ``fleet status``,
``worker`` and ``merge`` (registered on the main group by :mod:`archive.cli`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from archive.errors import ArchiveError
from scraper.fleet import DEFAULT_RETRIES, DEFAULT_VISIBILITY_TIMEOUT
from scraper.portals import load_portals, resolve_portal

ENV_REDIS = "PORTAL_ARCHIVE_REDIS"

redis_option = click.option(
    "--redis", "redis_url", required=True, envvar=ENV_REDIS, show_envvar=True, metavar="URL",
    help="The fleet's Redis, e.g. redis://queue.example.org:6379/0.")


@click.group(name="fleet")
def fleet() -> None:
    """Crawl on many machines: a queue of portals in Redis (see docs/fleet.md).

    \b
    Examples:
      portal-archive fleet enqueue --all --redis redis://queue:6379/0
      portal-archive fleet status --redis redis://queue:6379/0
    """


@fleet.command(name="enqueue")
@click.argument("portal_refs", nargs=-1, metavar="[PORTAL]...")
@click.option("--all", "all_portals", is_flag=True,
              help="Every portal of the portals file (the bundled demo portal left out).")
@click.option("--portals", "portals_file", type=click.Path(dir_okay=False),
              help="Portals file to read instead of the bundled portals.toml.")
@click.option("--full", is_flag=True, help="Workers fetch everything again (default: incremental).")
@click.option("--retries", default=DEFAULT_RETRIES, show_default=True, type=click.IntRange(0, 100),
              help="Times a portal is tried again after a failed crawl or a lost worker.")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A crawl setting for these portals (repeatable), e.g. -s DEPTH_LIMIT=2.")
@redis_option
def enqueue_cmd(portal_refs: tuple[str, ...], all_portals: bool, portals_file: str | None,
                full: bool, retries: int, settings: tuple[str, ...], redis_url: str) -> None:
    """Queue portals for the fleet's workers (one job per portal).

    A portal already queued or being crawled stays as it is.

    \b
    Examples:
      portal-archive fleet enqueue trieuson hoanghoa --redis redis://queue:6379/0
      portal-archive fleet enqueue --all --portals thanhhoa.toml --redis redis://queue:6379/0
    """
    from archive.cli import _parse_settings
    from scraper.fleet import connect, enqueue_portals

    if all_portals == bool(portal_refs):
        raise click.UsageError("give PORTAL… or --all")
    if all_portals:
        portals = [p for p in load_portals(portals_file).values()
                   if portals_file is not None or p.id != "demo"]
    else:
        portals = [resolve_portal(ref, portals_file) for ref in portal_refs]
    extra = _parse_settings(settings)
    conn = connect(redis_url)
    for pid, what in enqueue_portals(conn, portals, full=full, retries=retries,
                                     settings=extra or None):
        click.echo(f"{pid}: {what}")


@fleet.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@redis_option
def status_cmd(as_json: bool, redis_url: str) -> None:
    """Each enqueued portal: queued / running / done / failed, its worker, attempts
    and last error.

    \b
    Examples:
      portal-archive fleet status --redis redis://queue:6379/0
      portal-archive fleet status --json --redis redis://queue:6379/0
    """
    from scraper.fleet import connect, fleet_status

    rows = fleet_status(connect(redis_url))
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.state] = counts.get(r.state, 0) + 1
    click.echo(", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no portal")
    if rows:
        click.echo(f"{'PORTAL':<16} {'STATE':<8} {'WORKER':<16} {'TRIES':>5}  LAST ERROR")
    for r in rows:
        click.echo(f"{r.portal:<16} {r.state:<8} {r.worker or '-':<16} {r.attempts:>5}  "
                   f"{r.last_error}".rstrip())


@click.command(name="worker")
@redis_option
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False),
              help="Folder of the worker's shard: DATA/<name>/archive.db, with its WARC "
                   "files and images.")
@click.option("--name", metavar="NAME",
              help="The worker's name, unique in the fleet [default: the host name].")
@click.option("--visibility-timeout", default=DEFAULT_VISIBILITY_TIMEOUT, show_default=True,
              type=click.IntRange(4, 86_400), metavar="SECONDS",
              help="A worker silent this long is taken for dead; its portal goes to another.")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--max-idle", type=click.IntRange(1), metavar="SECONDS",
              help="Stop after this long without a portal to crawl.")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A crawl setting for every portal this worker crawls (repeatable).")
@click.option("-v", "--verbose", is_flag=True, help="Log each job taken and finished.")
def worker_cmd(redis_url: str, data_dir: str, name: str | None, visibility_timeout: int,
               burst: bool, max_idle: int | None, settings: tuple[str, ...],
               verbose: bool) -> None:
    """Crawl portals from the fleet's queue, one at a time, into this worker's shard.

    Each crawl is the ordinary, polite, incremental crawl. Stop it with
    Ctrl-C or SIGTERM (it finishes the current portal; a second signal stops
    at once, and the portal goes to another worker).

    \b
    Examples:
      portal-archive worker --redis redis://queue:6379/0 --data /srv/portal-archive
      portal-archive worker --redis redis://queue:6379/0 --data shards --name w2 --burst
    """
    from archive.cli import _parse_settings
    from scraper.fleet import connect, run_worker

    extra = _parse_settings(settings)
    conn = connect(redis_url)
    run_worker(conn, data_dir, name=name, visibility_timeout=visibility_timeout,
               settings=extra, burst=burst, max_idle=max_idle,
               log_level="INFO" if verbose else "WARNING")


@click.command(name="merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--into", "into", required=True, type=click.Path(dir_okay=False),
              help="The archive to merge into (created if missing).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def merge_cmd(shards: tuple[str, ...], into: str, as_json: bool) -> None:
    """Merge shard archives (from fleet workers) into one archive.

    SHARD is a shard's archive.db, or a folder: its archive.db, or, for the
    fleet's data folder, every DATA/*/archive.db. Safe to run again and again,
    also while workers write the shards; merging the same shards twice adds
    nothing, and a merge that was killed is completed by the next one.

    \b
    Examples:
      portal-archive merge shards/*/archive.db --into data/archive.db
      portal-archive merge shards --into data/archive.db
    """
    from archive.store.merge import merge_shards

    files = _shard_files(shards)
    report = merge_shards(files, into)
    if as_json:
        data: dict[str, Any] = {k: v for k, v in vars(report).items()}
        data["added"] = report.added
        click.echo(json.dumps(data, indent=2))
        return
    rate = report.articles_seen / report.seconds if report.seconds else 0.0
    click.echo(f"Merged {report.shards} shards into {into} in {report.seconds:.1f} s "
               f"({report.articles_seen} articles read, {rate:.0f}/s)")
    click.echo(f"  new: {report.articles_new} articles, {report.articles_changed} changed, "
               f"{report.versions_new} versions, {report.captures_new} captures, "
               f"{report.runs_new} runs, {report.portals_new} portals, "
               f"{report.image_records_new} image records; "
               f"{report.files_copied} files copied ({report.bytes_copied} bytes)")


def _shard_files(refs: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for ref in refs:
        path = Path(ref)
        if path.is_dir():
            if (path / "archive.db").is_file():
                files.append(path / "archive.db")
                continue
            found = sorted(path.glob("*/archive.db"))
            if not found:
                raise ArchiveError(f"no shard archive in {path} (no archive.db, no */archive.db)")
            files.extend(found)
        else:
            files.append(path)
    return files

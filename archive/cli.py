"""The ``portal-archive`` command line.

Every command takes ``--db PATH`` (default ``data/archive.db``; the
``PORTAL_ARCHIVE_DB`` environment variable changes the default). Errors the
user can cause are reported by :class:`ArchiveGroup` as one line,
``Error: …``, with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import errno
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from archive.errors import ArchiveError
from archive.export import FORMATS, export
from archive.filters import ArticleFilter, count_articles
from archive.search import ORDERS, RANK_WINDOW, search
from archive.store import DEFAULT_DB, Archive
from scraper.extract.article import NotAnArticle
from scraper.portals import Portal, PortalConfigError, load_portals, resolve_portal

F = TypeVar("F", bound=Callable[..., Any])

ENV_DB = "PORTAL_ARCHIVE_DB"
BOLD = ("\x1b[1m", "\x1b[22m")
BRACKETS = ("[", "]")

#: Exceptions that mean "the user can fix this": reported as one line.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ArchiveError, PortalConfigError, NotAnArticle, OSError, sqlite3.Error, UnicodeError,
)


def one_line(exc: BaseException) -> str:
    """A user error as a single line of text."""
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    elif isinstance(exc, sqlite3.Error):
        text = f"database error: {exc}"
    else:
        text = str(exc) or type(exc).__name__
    return one_line_text(text)


def one_line_text(text: str) -> str:
    """``text`` with all runs of whitespace (newlines included) made one space."""
    return " ".join(text.split())


class _OneLineUsageError(click.ClickException):
    """A usage error printed as one line; exit status 2 like click's own."""

    exit_code = 2


class ArchiveGroup(click.Group):
    """A click group that turns the project's user errors into ``Error: <one line>``.

    Covers the archive's errors, portal configuration errors, pages that are
    not articles, unreadable files, SQLite errors (a locked database …) and
    click's own usage errors (exit status 2, as click uses).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # Bad options or arguments: one line too, with a pointer to --help.
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            hint = f"see '{where} --help'"
            if isinstance(exc, click.NoSuchOption):
                hint += "; to search for '-word', put the query after '--'"
            raise _OneLineUsageError(
                f"{one_line_text(exc.format_message())} ({hint})") from None
        except USER_ERRORS as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # click handles a closed pipe (``| head``) itself
            raise click.ClickException(one_line(exc)) from None


# ------------------------------------------------------------------ options
def db_option(default: str = DEFAULT_DB) -> Callable[[F], F]:
    return click.option(
        "--db", "db", default=default, show_default=True, envvar=ENV_DB, show_envvar=True,
        type=click.Path(dir_okay=False), help="Archive database file.",
    )


def filter_options(fn: F) -> F:
    """--portal, --since, --until, --author, --category."""
    for option in reversed((
        click.option("--portal", metavar="ID", help="Only this portal (id from portals.toml)."),
        click.option("--since", metavar="DATE",
                     help="Published on or after DATE: YYYY, YYYY-MM or YYYY-MM-DD."),
        click.option("--until", metavar="DATE",
                     help="Published on or before DATE (the whole year/month/day included)."),
        click.option("--author", metavar="TEXT", help="Author has the words of TEXT, in order (accents optional)."),
        click.option("--category", metavar="TEXT",
                     help="Category has the words of TEXT, in order (accents optional)."),
    )):
        fn = option(fn)
    return fn


def _markers() -> tuple[str, str]:
    """Bold on a colour terminal (as click.echo decides), ``[`` ``]`` in plain text."""
    from click.globals import resolve_color_default
    from click.utils import should_strip_ansi

    return BRACKETS if should_strip_ansi(sys.stdout, resolve_color_default()) else BOLD


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# ------------------------------------------------------------------ commands
@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portal-archive")
def main() -> None:
    """Archive Vietnamese district government news portals: crawl, search, export.

    \b
    Quick start:
      portal-archive demo                         # crawl the built-in demo portal
      portal-archive search "nông thôn mới" --db data/demo.db
      portal-archive crawl trieuson               # a portal from portals.toml
      portal-archive export --format csv --out trieuson.csv --portal trieuson
    """


@main.command()
@click.argument("portal", required=False)
# --all, --parallel, --full, --no-resume: crawling many portals (see _crawl_all)
@click.option("--all", "all_portals", is_flag=True,
              help="Crawl every portal of portals.toml, one after another (see --parallel).")
@click.option("--parallel", default=1, show_default=True, type=click.IntRange(1, 16),
              help="With --all: crawl this many portals at a time (each stays polite).")
@click.option("--full", is_flag=True,
              help="Fetch every article again (default: only what is new since the last crawl).")
@click.option("--skip", multiple=True, metavar="ID",
              help="With --all: leave this portal out (repeatable). The bundled demo portal "
                   "is always left out (it is served only while `portal-archive demo` runs).")
@click.option("--no-resume", "no_resume", is_flag=True,
              help="Keep no crawl queue on disk (data/jobs/PORTAL) to resume from.")
@click.option("--revisit", metavar="N|P%|auto", callback=lambda c, p, v: _check_revisit(v),
              help="Incremental crawls also fetch again this many archived articles, those "
                   "seen longest ago, to find deleted (marked gone) and edited ones "
                   "[default: auto = 1% of the portal's articles, at least 50; 0 = off].")
@click.option("--max-pages", type=click.IntRange(1, None), metavar="N",
              help="Page budget: at most N distinct URLs fetched in this run of a portal "
                   "[default: 200000] (docs/archival.md, bounds).")
@click.option("--max-lost", type=click.FloatRange(0, 1), metavar="SHARE",
              help="Fail (exit 1) when more than this share of the article pages were lost "
                   "after their retries [default: 0.05].")
@click.option("--base-url", metavar="URL",
              help="Crawl the declared portal at another address (a mirror, the demo's port).")
@click.option("--portals", "portals_file", type=click.Path(dir_okay=False),
              help="Portals file to read instead of the bundled portals.toml.")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A crawl setting (repeatable), e.g. -s DEPTH_LIMIT=2.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@click.option("--profile", metavar="NAME",
              help="Force an extraction profile for every page (generic: the generic "
                   "extractor, no profile).")
@db_option()
def crawl(portal: str | None, all_portals: bool, parallel: int, full: bool, skip: tuple[str, ...],
          no_resume: bool, revisit: str | None, max_pages: int | None, max_lost: float | None,
          base_url: str | None, portals_file: str | None,
          settings: tuple[str, ...], quiet: bool, profile: str | None, db: str) -> None:
    """Crawl a portal (or --all) into the archive.

    PORTAL is an id from portals.toml, or a URL.

    Running it again re-crawls incrementally: listings are walked newest
    first until they show only archived articles (plus a margin of pages),
    new articles are added; --full fetches everything again. A crawl that was
    interrupted (even killed) continues where it stopped.

    \b
    Examples:
      portal-archive crawl trieuson
      portal-archive crawl https://hoanghoa.thanhhoa.gov.vn/ --db data/hoanghoa.db
      portal-archive crawl demo --base-url http://127.0.0.1:9000/ -s DEPTH_LIMIT=2
      portal-archive crawl https://some-portal.gov.vn/ --profile generic
      (a URL nobody declared: its layout family is detected first, see `detect`;
      --profile generic crawls it as an unknown platform)
      portal-archive crawl trieuson --full
      portal-archive crawl trieuson --revisit 200
      portal-archive crawl https://some-portal.gov.vn/ --max-pages 5000 --max-lost 0.1
      portal-archive crawl --all --parallel 3
    """
    from scraper.runner import run_crawl

    if revisit is not None:
        settings = (*settings, f"PORTAL_ARCHIVE_REVISIT={revisit}")
    if max_pages is not None:
        settings = (*settings, f"PORTAL_ARCHIVE_MAX_PAGES={max_pages}")
    if max_lost is not None:
        settings = (*settings, f"PORTAL_ARCHIVE_MAX_LOST={max_lost}")

    if all_portals or portal is None:
        if portal is not None or not all_portals:
            raise click.UsageError("give one PORTAL, or --all")
        _crawl_all(portals_file, parallel, full, settings, db,
                   skip=set(skip) | ({"demo"} if portals_file is None else set()))
        return
    target = resolve_portal(portal, portals_file)
    if _undeclared(portal, target):
        target = Portal.adhoc(portal, layout=_adhoc_layout(portal, profile, quiet))
    if base_url:
        target = target.with_base_url(base_url)
    extra = _parse_settings(settings)
    if profile:
        extra["PORTAL_ARCHIVE_PROFILE"] = _known_profile(profile)
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    from scraper.rescue.gone import gone_message

    try:
        run = run_crawl(target, db, settings=extra or None, quiet=quiet,
                        full=full, jobdir=not no_resume)
    except ArchiveError as exc:
        hint = gone_message(target.id, target.base_url, {})
        raise (ArchiveError(f"{exc}; {hint}") if hint else exc) from None
    click.echo(f"Crawled {target.id} ({target.base_url}) into {db}")
    click.echo(_run_summary(run))
    if (hint := gone_message(target.id, target.base_url, run)) is not None:
        click.echo(hint, err=True)


@main.command()
@click.argument("portal")
@click.option("--cdx", metavar="URL", default=None,
              help="A Wayback-compatible CDX server [default: the Wayback Machine's].")
@click.option("--replay", metavar="URL", default=None,
              help="Its replay root, serving {URL}/{timestamp}id_/{page} "
                   "[default: https://web.archive.org/web].")
@click.option("--cc-index", metavar="URL", default=None,
              help="Common Crawl's index server [default: https://index.commoncrawl.org].")
@click.option("--cc-data", metavar="URL", default=None,
              help="Where Common Crawl's WARC files are read by byte range "
                   "[default: https://data.commoncrawl.org].")
@click.option("--source", "source", type=click.Choice(["wayback", "commoncrawl", "both"]),
              default="wayback", show_default=True, help="Which archives to search.")
@click.option("--since", metavar="DATE", help="Only captures made on or after DATE (YYYY[-MM[-DD]]).")
@click.option("--until", metavar="DATE", help="Only captures made on or before DATE.")
@click.option("--rate", default=1.0, show_default=True, type=click.FloatRange(0.01, 50),
              help="At most this many requests a second against the archives.")
@click.option("--versions", is_flag=True,
              help="Also fetch older captures whose text differs (kept as versions).")
@click.option("--no-images", is_flag=True, help="Do not fetch the articles' images.")
@click.option("--portals", "portals_file", type=click.Path(dir_okay=False),
              help="Portals file to read instead of the bundled portals.toml.")
@db_option()
def rescue(portal: str, cdx: str | None, replay: str | None, cc_index: str | None,
           cc_data: str | None, source: str, since: str | None, until: str | None, rate: float,
           versions: bool, no_images: bool, portals_file: str | None, db: str) -> None:
    """Recover a gone portal's articles from web archives.

    PORTAL is an id from portals.toml, or a URL. Finds the captures the
    archives hold (Wayback CDX, Common Crawl's index), picks the newest whole
    capture per URL, fetches its raw bytes, extracts and stores it like a
    crawled page (source `wayback`/`commoncrawl`, with the capture time), and
    keeps it in WARC with its provenance. Interrupted or repeated, it fetches
    only what the archive does not hold yet.

    \b
    Examples:
      portal-archive rescue trieuson --since 2023 --until 2025-07
      portal-archive rescue https://old-district.gov.vn/ --source both --rate 0.5
      portal-archive rescue demo --cdx http://127.0.0.1:8080/demo/cdx --rate 20
    """
    from scraper.rescue.run import RescueOptions, run_rescue
    from scraper.rescue.wayback import WAYBACK_CDX, WAYBACK_REPLAY

    target = resolve_portal(portal, portals_file)
    if cdx and not replay:
        replay = cdx.rstrip("/").removesuffix("/cdx")
    options = RescueOptions(
        cdx=cdx or WAYBACK_CDX, replay=replay or WAYBACK_REPLAY,
        sources=("wayback", "commoncrawl") if source == "both" else (source,),
        since=_capture_bound(since, "--since", end=False),
        until=_capture_bound(until, "--until", end=True),
        rate=rate, versions=versions, images=not no_images)
    if cc_index:
        options.cc_index = cc_index
    if cc_data:
        options.cc_data = cc_data
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    result = run_rescue(target, db, options, say=lambda line: click.echo(f"  {line}"))
    click.echo(f"Rescued {target.id} ({target.base_url}) into {db}")
    click.echo(_run_summary(result.run))
    if result.run.get("status") != "finished":
        raise SystemExit(1)


def _capture_bound(value: str | None, option: str, *, end: bool) -> Any:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first (or last) moment, UTC."""
    from datetime import UTC, datetime, timedelta

    if value is None:
        return None
    parts = value.split("-")
    try:
        nums = [int(p) for p in parts]
        if not 1 <= len(nums) <= 3 or len(parts[0]) != 4:
            raise ValueError
        start = datetime(nums[0], nums[1] if len(nums) > 1 else 1,
                         nums[2] if len(nums) > 2 else 1, tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD",
                                 param_hint=option) from None
    if not end:
        return start
    if len(nums) == 1:
        nxt = start.replace(year=start.year + 1)
    elif len(nums) == 2:
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        nxt = start + timedelta(days=1)
    return nxt - timedelta(seconds=1)


def _undeclared(ref: str, target: Portal) -> bool:
    """Is ``target`` the ad-hoc portal of a URL portals.toml does not declare?"""
    return ref.startswith(("http://", "https://")) and target == Portal.adhoc(ref)


def _adhoc_layout(url: str, profile: str | None, quiet: bool) -> str:
    """The layout family of an undeclared portal: the forced profile's family
    (``--profile generic``: generic), else the one detection finds."""
    from scraper.families import family_names
    from scraper.probe import Unreachable, probe

    if profile:
        return profile if profile in family_names() else "generic"
    try:
        found, _ = probe(url)
    except Unreachable as exc:
        click.echo(f"Layout not detected ({exc}); crawling it as generic.", err=True)
        return "generic"
    if not quiet:
        click.echo(f"Detected layout: {found.family}"
                   + (f" (confidence {found.confidence:.2f})" if found.family != "generic" else ""))
    return found.family


def _check_revisit(value: str | None) -> str | None:
    """--revisit: a number, a share (``5%``) or ``auto``, checked before any crawl."""
    from scraper.crawlstate import revisit_budget

    if value is None:
        return None
    try:
        revisit_budget(value, 0)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--revisit'") from None
    return value.strip()


def _known_profile(name: str) -> str:
    from scraper.extract.profiles import PROFILES

    if name != "generic" and name not in PROFILES:
        raise click.BadParameter(
            f"unknown profile {name!r} (known: generic, {', '.join(PROFILES)})",
            param_hint="'--profile'")
    return name


def _crawl_all(portals_file: str | None, parallel: int, full: bool,
               settings: tuple[str, ...], db: str, *, skip: set[str]) -> None:
    """``crawl --all``: every declared portal; one failing does not stop the others."""
    from scraper.runner import PortalOutcome, run_all

    declared = [p for p in load_portals(portals_file).values() if p.id not in skip]
    if not declared:
        raise ArchiveError("no portal to crawl (all of them skipped)")
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"Crawling {len(declared)} portals into {db}, {parallel} at a time …")

    def done(o: PortalOutcome) -> None:
        click.echo(f"  {o.portal.id}: " + (
            f"done in {o.seconds:.0f} s" if o.ok else f"FAILED after {o.seconds:.0f} s: {o.error}"))

    outcomes = run_all(declared, db, parallel=parallel, full=full,
                       settings=_parse_settings(settings) or None, on_done=done)
    click.echo("")
    click.echo(f"{'PORTAL':<14} {'RESULT':<7} {'NEW':>6} {'CHANGED':>7} {'UNCHANGED':>9} "
               f"{'SECONDS':>7}")
    for o in outcomes:
        run = o.run
        click.echo(f"{o.portal.id:<14} {'ok' if o.ok else 'FAILED':<7} "
                   f"{run.get('articles_new', 0):>6} {run.get('articles_changed', 0):>7} "
                   f"{run.get('articles_unchanged', 0):>9} {o.seconds:>7.1f}")
    failed = [o.portal.id for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(failed)} of {len(outcomes)} portals crawled, "
               f"{len(failed)} failed; "
               f"{sum(o.run.get('articles_new', 0) or 0 for o in outcomes)} new articles.")
    if failed:
        raise ArchiveError(f"{len(failed)} of {len(outcomes)} portals failed: {', '.join(failed)}")


def _parse_settings(pairs: tuple[str, ...]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="'-s'")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        settings[key.strip()] = value
    if "PORTAL_ARCHIVE_ARCHIVER" in settings:  # checked now, not in the crawl process
        from scraper.archiver import archiver_mode

        try:
            archiver_mode(str(settings["PORTAL_ARCHIVE_ARCHIVER"]))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'-s'") from None
    return settings


@main.command()
@click.option("--size", default=200, show_default=True, type=click.IntRange(1, 100_000),
              help="Number of articles the demo portal serves.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="Seed of the demo portal's generated content.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@db_option("data/demo.db")
def demo(size: int, seed: int, quiet: bool, db: str) -> None:
    """Crawl the built-in demo portal (a quick tour).

    Serves the demo portal locally, crawls it, and shows a sample search.

    \b
    Example:
      portal-archive demo --size 50 --db /tmp/demo.db
      portal-archive search "nong thon moi" --db /tmp/demo.db
    """
    from scraper.runner import run_demo

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    run_demo(db, size=size, seed=seed, quiet=quiet)


@main.command(name="search")
@click.argument("query")
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Number of results.")
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0),
              help="Skip this many results (paging).")
@click.option("--order", type=click.Choice(ORDERS), default="relevance", show_default=True,
              help="Best matches first, or newest first.")
@click.option("--exhaustive", is_flag=True,
              help=f"Rank every match at once, not in blocks of {RANK_WINDOW:,} newest "
                   "first (slower for broad queries in a big archive).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@db_option()
def search_cmd(query: str, portal: str | None, since: str | None, until: str | None,
               author: str | None, category: str | None, limit: int, offset: int,
               order: str, exhaustive: bool, as_json: bool, db: str) -> None:
    """Full-text search (accents optional).

    Articles with the accents exactly as typed rank first. When more than
    the rank window match, relevance orders them block by block, the newest
    block first (--exhaustive ranks them all at once).

    QUERY understands words (all must match), "exact phrases", prefixes
    (xã*), OR, NOT / -word, and (grouping). A query that starts with '-'
    goes after '--', once the options are given.

    \b
    Examples:
      portal-archive search "nông thôn mới"
      portal-archive search 'nong thon moi -"Triệu Sơn"' --since 2021 --until 2022-06
      portal-archive search 'hội nghị OR hội thảo' --portal trieuson --order date --json
      portal-archive search --limit 5 -- '-"Triệu Sơn" khuyến nông'
    """
    with Archive.open(db) as archive:
        hits = search(archive, query, portal=portal, since=since, until=until, author=author,
                      category=category, limit=limit, offset=offset, order=order,
                      markers=BRACKETS if as_json else _markers(),
                      rank_window=None if exhaustive else RANK_WINDOW)
        total = count_articles(archive, ArticleFilter(
            portal=portal, since=since, until=until, author=author, category=category,
            query=query))
    windowed = order == "relevance" and not exhaustive and total > RANK_WINDOW
    if as_json:
        _echo_json({"query": query, "total": total,
                    "rank_window": RANK_WINDOW if windowed else None,
                    "results": [h.to_dict() for h in hits]})
        return
    if not hits:
        click.echo(f"No articles match {query!r}.")
        return
    click.echo(f"{total} {'article matches' if total == 1 else 'articles match'} {query!r}; "
               f"showing {offset + 1}–{offset + len(hits)}"
               + (f" (ranked in blocks of {RANK_WINDOW:,}, newest first; --exhaustive ranks all)"
                  if windowed else "") + ":\n")
    for hit in hits:
        when = (hit.published or "undated")[:16].replace("T", " ")
        meta = " · ".join(x for x in (when, hit.portal_id, hit.author) if x)
        click.echo(f"{hit.rank:>3}. {hit.title_highlighted}")
        click.echo(f"     {meta}")
        click.echo(f"     {hit.canonical_url}")
        click.echo(f"     {hit.snippet}\n")


@main.command(name="export")
@click.option("-f", "--format", "fmt", type=click.Choice(sorted([*FORMATS, "wacz"])),
              required=True,
              help="Output format (wacz: the pages as served, from our WARC files, for "
                   "ReplayWeb.page and pywb).")
@click.option("-o", "--out", required=True, type=click.Path(allow_dash=True),
              help="Output file, a folder (ending in /), or '-' for standard output.")
@click.option("--query", help="Only articles matching this search query.")
@filter_options
@click.option("--html/--no-html", "include_html", default=False, show_default=True,
              help="Include the articles' cleaned HTML (body_html).")
@click.option("--excel", is_flag=True,
              help="CSV only: start with the UTF-8 byte-order mark Excel needs.")
@db_option()
def export_cmd(fmt: str, out: str, query: str | None, portal: str | None, since: str | None,
               until: str | None, author: str | None, category: str | None,
               include_html: bool, excel: bool, db: str) -> None:
    """Export articles (oldest first) as CSV, JSON Lines or Parquet, or as a WACZ package.

    A file export writes four files: the articles (X.csv), their images
    (X.images.csv), their attached documents (X.documents.csv) and a
    Frictionless X.datapackage.json describing them; a folder export writes
    articles.*, images.*, documents.* and datapackage.json. CSV/JSONL
    timestamps are ISO 8601 and lists JSON; Parquet columns are typed
    (timestamps, integers, lists). See docs/search-export-web.md.

    \b
    Examples:
      portal-archive export --format csv --out trieuson.csv --portal trieuson
      portal-archive export -f csv --excel -o for-excel.csv --since 2023
      portal-archive export -f parquet -o data/exports/ --query "nông thôn mới"
      portal-archive export -f jsonl -o 2022.jsonl --since 2022 --until 2022 --query "nông thôn"
      portal-archive export -f jsonl -o - | head -1
      portal-archive export --format wacz --out district.wacz
    """
    if fmt == "wacz":
        if out == "-":
            raise click.BadParameter("a WACZ package is a file: give its path", param_hint="--out")
        from archive.export import export_wacz

        with Archive.open(db) as archive:
            n = export_wacz(archive, out, query=query, portal=portal, since=since, until=until,
                            author=author, category=category)
        click.echo(f"Packaged {n} article{'s' if n != 1 else ''} with their pages in {out}",
                   err=True)
        return
    with Archive.open(db) as archive:
        target: Any = out
        if out == "-":
            target = sys.stdout.buffer if FORMATS[fmt].binary else sys.stdout
        n = export(archive, fmt, target, query=query, portal=portal, since=since, until=until,
                   author=author, category=category, include_html=include_html, excel=excel)
    if out != "-":
        click.echo(f"Exported {n} article{'s' if n != 1 else ''} to {out}", err=True)


# ---------------------------------------------------------------- serve (web UI)
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind (only this machine by default; 0.0.0.0 needs --public).")
@click.option("--public", is_flag=True,
              help="Allow --host 0.0.0.0 (every interface): anyone on the network can then "
                   "read the archive.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (repeatable); other names are "
                   "refused (DNS rebinding).")
@click.option("--allow-sql", is_flag=True,
              help="Let Datasette run arbitrary read-only SQL from ?sql= (off by default).")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port.")
@click.option("--migrate", "apply_migrations", is_flag=True,
              help="Apply pending schema migrations first (otherwise serve refuses to start "
                   "on an archive that needs them; see `portal-archive migrate`).")
@click.option("--match-cap", type=click.IntRange(1, 10_000_000), default=None,
              help="Count at most this many matches of a text query for the total, facets "
                   "and chart (default 10000; the page says \"More than …\" beyond it).")
@db_option()
def serve(host: str, port: int, public: bool, allow_hosts: tuple[str, ...], allow_sql: bool,
          apply_migrations: bool, match_cap: int | None, db: str) -> None:
    """Browse and search the archive in a web browser (Datasette, read-only).

    Search with or without diacritics, facets, article pages with images and
    provenance, a chart of articles per month, CSV/JSON downloads; every
    table is browsable too. Archived HTML is sanitised before it is shown.

    \b
    Examples:
      portal-archive serve --db data/demo.db            # http://127.0.0.1:8001/
      portal-archive serve --db data/archive.db --port 9000
      portal-archive serve --db data/old.db --migrate   # upgrade the schema, then serve
      portal-archive serve --host 0.0.0.0 --public --allow-host archive.lan
    """
    import socket

    from archive.web.server import ALL_INTERFACES, check_bind, make_datasette, run

    check_bind(host, port, public=public)
    names = list(allow_hosts)
    if host in ALL_INTERFACES:
        names += [socket.gethostname(), socket.getfqdn()]
        click.echo(f"Warning: listening on every interface ({host}): anyone who can reach "
                   f"this machine can read the archive.", err=True)
    ds = make_datasette(db, migrate=apply_migrations, match_cap=match_cap, allow_sql=allow_sql,
                        host=host, port=port, allowed_hosts=names)
    click.echo(f"Serving {Path(db).name} read-only at http://{host}:{port}/ (Ctrl-C to stop)",
               err=True)
    run(ds, host=host, port=port)



# migrate: schema upgrades are explicit (serve never writes)
@main.command(name="migrate")
@click.option("--dry-run", is_flag=True, help="Only list the pending migrations.")
@db_option()
def migrate_cmd(dry_run: bool, db: str) -> None:
    """Upgrade an archive's schema (apply its pending migrations).

    The other commands apply them when they open the archive; `serve` never
    writes and asks for this first. A migration may rewrite every article
    (minutes on a million articles); each runs in one transaction.

    \b
    Examples:
      portal-archive migrate --db data/archive.db
      portal-archive migrate --db data/archive.db --dry-run
    """
    from archive.store import pending_migrations

    pending = pending_migrations(db)
    if not pending:
        click.echo(f"{db} is up to date; no migration pending.")
        return
    if dry_run:
        click.echo(f"{db} lacks {len(pending)} migration{'s' if len(pending) != 1 else ''}: "
                   + ", ".join(pending))
        return
    with Archive.open(db) as archive:
        applied = archive.applied_migrations
    click.echo(f"Applied {len(applied)} migration{'s' if len(applied) != 1 else ''} to {db}: "
               + ", ".join(applied))

@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@db_option()
def stats(as_json: bool, db: str) -> None:
    """What the archive holds.

    Articles per portal, publication dates, images, crawl runs, file size.

    \b
    Example:
      portal-archive stats --db data/demo.db
    """
    with Archive.open(db) as archive:
        data = archive.stats()
    if as_json:
        _echo_json(data)
        return
    click.echo(f"Archive {data['path']} ({data['size_bytes'] / 1_048_576:.1f} MiB, "
               f"schema v{data['schema_version']})")
    click.echo(f"  articles: {data['articles']}  images: {data['images']}  "
               f"portals: {data['portals']}  crawl runs: {data['runs']}")
    if data["articles"]:
        click.echo(f"  published: {data['first_published'] or '?'} … "
                   f"{data['last_published'] or '?'}  (undated: {data['undated']})")
    else:
        click.echo("  (no articles yet — run `portal-archive crawl PORTAL` or `make demo`)")
    if data["per_portal"]:
        click.echo("")
        click.echo(f"  {'PORTAL':<14} {'ARTICLES':>8} {'IMAGES':>7} {'RUNS':>5}  FIRST … LAST")
        for p in data["per_portal"]:
            span = f"{(p['first_published_utc'] or '?')[:10]} … {(p['last_published_utc'] or '?')[:10]}"
            click.echo(f"  {p['portal_id']:<14} {p['articles']:>8} {p['images']:>7} "
                       f"{p['runs']:>5}  {span}")
    by_source = data.get("articles_by_source") or {}
    if set(by_source) - {"live"}:
        click.echo("  articles by source: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())))
    rescues = data.get("rescues")
    if rescues:
        click.echo(f"  rescues: {rescues['runs']} runs; captures found {rescues['captures_found']}, "
                   f"fetched {rescues['captures_fetched']}; articles new "
                   f"{rescues['articles_new']}, versions {rescues['versions']}; "
                   f"failures {rescues['failures']}")
    run = data["last_run"]
    if run:
        click.echo(f"\n  last {run.get('kind') or 'crawl'} #{run['id']} ({run['portal_id']}): "
                   f"{run['status']}, "
                   f"started {run['started']}; new {run['articles_new']}, changed "
                   f"{run['articles_changed']}, unchanged {run['articles_unchanged']}, "
                   f"dropped {run['pages_dropped']}, errors {run['errors']}")


@main.command()
@click.option("--portals", "portals_file", type=click.Path(dir_okay=False),
              help="Portals file to read instead of the bundled portals.toml.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@db_option()
def portals(portals_file: str | None, as_json: bool, db: str) -> None:
    """List the known portals (portals.toml).

    Counts come from the archive when it exists.

    \b
    Example:
      portal-archive portals --db data/demo.db
    """
    declared = load_portals(portals_file)
    counts: dict[str, int] | None = None
    if Path(db).is_file():
        try:
            with Archive.open(db) as archive:
                counts = {p["portal_id"]: p["articles"] for p in archive.stats()["per_portal"]}
        except ArchiveError:
            counts = None
    rows = [
        {"id": p.id, "name": p.name, "province": p.province, "base_url": p.base_url,
         "layout": p.layout, "articles": None if counts is None else counts.get(p.id, 0)}
        for p in declared.values()
    ]
    if as_json:
        _echo_json(rows)
        return
    click.echo(f"{'ID':<12} {'LAYOUT':<9} {'ARTICLES':>8}  {'BASE URL':<38} NAME")
    for r in rows:
        n = "-" if r["articles"] is None else str(r["articles"])
        click.echo(f"{r['id']:<12} {r['layout']:<9} {n:>8}  {r['base_url']:<38} {r['name']}")
    if counts is None:
        click.echo(f"(no archive at {db}: article counts not shown)", err=True)


@main.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the detection as JSON.")
def detect(url: str, as_json: bool) -> None:
    """Tell which layout family (platform) the portal at URL runs.

    Fetches its home page, robots.txt and at most two article-looking pages
    it links (one at a time, robots.txt obeyed), and weighs what they show:
    generator meta, scripts and asset paths, class names, URL shapes of the
    links and feeds, headers and cookies. Prints the family (``generic``
    when none wins) and the evidence, each line with its weight.

    \b
    Examples:
      portal-archive detect https://xuandong.dongnai.gov.vn/
      portal-archive detect https://quangxuong.thanhhoa.gov.vn/ --json
    """
    from scraper.portals import normalise_base_url
    from scraper.probe import Unreachable, probe

    try:
        normalise_base_url(url)
    except PortalConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="'URL'") from None
    try:
        found, read = probe(url)
    except Unreachable as exc:
        raise ArchiveError(str(exc)) from None
    if as_json:
        _echo_json({**found.as_dict(), "url": url, "pages": read})
        return
    shown = found.family if found.family == "generic" else \
        f"{found.family} (confidence {found.confidence:.2f})"
    click.echo(f"{url}: {shown}")
    for line in found.evidence:
        click.echo(f"  {line}")
    click.echo(f"  read: {', '.join(read)}")


@main.command()
@click.argument("page", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--url", required=True, help="The URL the page was fetched from.")
@click.option("--profile", help="Force an extraction profile (thanhhoa, generic).")
def extract(page: str, url: str, profile: str | None) -> None:
    """Extract the article of a saved page and print it as JSON.

    \b
    Example:
      portal-archive extract page.html --url https://trieuson.thanhhoa.gov.vn/tin-tuc/123
    """
    from scraper.extract import extract_article

    html = sys.stdin.buffer.read() if page == "-" else Path(page).read_bytes()
    article = extract_article(html, url, profile=profile)
    click.echo(article.to_json())


@main.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@db_option()
def show(ref: str, as_json: bool, db: str) -> None:
    """Show one archived article by id or canonical URL.

    \b
    Example:
      portal-archive show 42 --db data/demo.db
    """
    with Archive.open(db) as archive:
        stored = archive.get_stored(ref)
        documents = archive.documents_of([stored.id])[stored.id] if stored else []
    if stored is None:
        raise ArchiveError(f"no article {ref!r} in {db}")
    if as_json:
        _echo_json({**stored.article.to_dict(), "id": stored.id, "portal_id": stored.portal_id,
                    "content_hash": stored.content_hash, "first_seen": stored.first_seen,
                    "last_seen": stored.last_seen, "status": stored.status,
                    "gone_at": stored.gone_at,
                    "attachments": [{k: d[k] for k in _SHOWN_DOCUMENT} for d in documents]})
        return
    a = stored.article
    click.echo(a.title)
    click.echo(" · ".join(x for x in (a.published.isoformat() if a.published else "undated",
                                      stored.portal_id, a.author, a.category) if x))
    click.echo(a.canonical_url)
    click.echo("")
    click.echo(a.body)
    for img in a.images:
        click.echo(f"[image {img.position}] {img.url}" + (f" — {img.caption}" if img.caption else ""))
    for d in documents:
        facts = [d["kind"], d["status"]]
        if d["size"] is not None:
            facts.append(f"{d['size']} bytes")
        if d["text_status"]:
            facts.append(f"text {d['text_status']}")
        click.echo(f"[document {d['position']}] {d['name']} ({', '.join(facts)}) {d['url']}")
        if d["sha256"]:
            click.echo(f"    sha256 {d['sha256']}  {d['path']}")


#: What ``show`` says of each attached document.
_SHOWN_DOCUMENT = ("position", "url", "name", "kind", "status", "size", "sha256", "mime", "path",
                   "text_status", "pages", "tries", "error")


# ------------------------------------------------------------ import-text
#: The portal text dumps are filed under when no --portal is given.
TEXTDUMP_PORTAL = ("textdump", "Imported text dumps (import-text)")


@main.command(name="import-text")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--portal", "portal_id", metavar="ID",
              help="File the articles under this portal (id from portals.toml); "
                   "default: a 'textdump' portal.")
@click.option("--url", metavar="URL",
              help="The page's URL (one FILE only); default: a stable textdump: URI "
                   "derived from the article's content.")
@click.option("--portals", "portals_file", type=click.Path(dir_okay=False),
              help="Portals file to read instead of the bundled portals.toml.")
@click.option("--dry-run", is_flag=True,
              help="Print the articles read (JSON, one per line) and store nothing.")
@db_option()
def import_text(files: tuple[str, ...], portal_id: str | None, url: str | None,
                portals_file: str | None, dry_run: bool, db: str) -> None:
    """Import plain-text dumps of article pages into the archive.

    Each FILE is the text of one whole page (widgets, print copy and all);
    the article is read from it and stored like a crawled one. Importing the
    same dump again changes nothing.

    \b
    Examples:
      portal-archive import-text dumps/*.txt --portal trieuson
      portal-archive import-text page.txt --url https://trieuson.thanhhoa.gov.vn/portal/Pages/2022-1-15/x.aspx
      portal-archive import-text page.txt --dry-run
    """
    from scraper.extract import parse_text_dump
    from scraper.extract.decode import decode_html
    from scraper.portals import Portal

    if url and len(files) > 1:
        raise click.BadParameter("--url names one page: give one FILE with it",
                                 param_hint="'--url'")
    if portal_id:
        portal = resolve_portal(portal_id, portals_file)
    else:
        portal = Portal(id=TEXTDUMP_PORTAL[0], name=TEXTDUMP_PORTAL[1], province="",
                        base_url="textdump:", layout="generic")
    articles = []
    skipped: list[str] = []
    for name in files:
        data = Path(name).read_bytes()
        text = data.decode("utf-8-sig") if _is_utf8(data) else decode_html(data)
        try:
            articles.append((name, parse_text_dump(text, url)))
        except NotAnArticle as exc:
            skipped.append(name)
            click.echo(f"Skipped {name}: {exc}", err=True)
    if dry_run:
        for _, article in articles:
            click.echo(article.to_json(indent=None))
        if skipped:
            raise ArchiveError(f"{len(skipped)} of {len(files)} files held no article: "
                               + ", ".join(skipped))
        return
    from archive.sink import ArticleSink

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    sink = ArticleSink.open(db, portal, run_settings={"started_by": "import-text",
                                                       "files": list(files)})
    try:
        for name, article in articles:
            # One file, one transaction: its status is printed as it is stored.
            sink.add(article)
            result = sink.flush(wait=True)
            status = next(k for k in ("new", "changed", "unchanged") if getattr(result, k))
            click.echo(f"{status:<9} {article.canonical_url}  {article.title}  ({name})")
        sink.finish({"pages_dropped": len(skipped), "skipped": skipped},
                    columns={"pages_dropped": len(skipped)})
    finally:
        sink.close()
    counts = sink.counts
    click.echo(f"Imported {len(articles)} of {len(files)} files into {db} "
               f"({counts.new} new, {counts.changed} changed, "
               f"{counts.unchanged} unchanged).")
    if skipped:
        raise ArchiveError(f"{len(skipped)} of {len(files)} files held no article: "
                           + ", ".join(skipped))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ------------------------------------------- provenance and re-extraction
def _run_summary(run: dict[str, Any]) -> str:
    from scraper.progress import format_run

    return format_run(run)


@main.command()
@click.option("--portal", metavar="ID", help="Only runs of this portal.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000),
              help="Number of runs (newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON (stats included).")
@db_option()
def runs(portal: str | None, limit: int, as_json: bool, db: str) -> None:
    """List crawl runs, newest first: what each fetched, stored, dropped and wrote.

    \b
    Examples:
      portal-archive runs --db data/demo.db
      portal-archive runs --portal trieuson --limit 5 --json
    """
    with Archive.open(db) as archive:
        rows = archive.list_runs(portal=portal, limit=limit)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("No crawl runs" + (f" of {portal}." if portal else "."))
        return
    for i, run in enumerate(rows):
        if i:
            click.echo("")
        click.echo(_run_summary(run))


@main.command()
@click.option("--portal", metavar="ID", help="Only the WARC files of this portal.")
@click.option("--warc-dir", type=click.Path(file_okay=False),
              help="Folder of WARC files (default: warc/ next to the database).")
@db_option()
def reextract(portal: str | None, warc_dir: str | None, db: str) -> None:
    """Rebuild articles from the WARC files alone, with the current extractor.

    No network: every article page kept in the crawl's WARC files is
    extracted again and saved (changed articles keep their old text as a
    version). Use it after improving the extractor, or to rebuild an archive.

    \b
    Examples:
      portal-archive reextract --db data/demo.db
      portal-archive reextract --db /tmp/rebuilt.db --warc-dir data/warc --portal demo
    """
    from archive.reextract import reextract as run_reextract

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with Archive(db) as archive:
        result = run_reextract(archive, warc_dir, portal=portal)
    saved = result.saved
    click.echo(f"Re-extracted {result.pages} article pages from {result.files} WARC "
               f"file{'s' if result.files != 1 else ''} into {db}: {saved.new} new, "
               f"{saved.changed} changed, {saved.unchanged} unchanged, "
               f"{sum(result.dropped.values())} not articles"
               + (f", {result.older} older than the archive's capture skipped"
                  if result.older else "")
               + (f", {result.bombs} records over the size cap skipped" if result.bombs else "")
               + ".")


def _status_line(stored: Any) -> str:
    """``live`` / ``gone since …`` with when the portal last served the article."""
    if stored.status == "gone":
        since = stored.gone_at or "an unrecorded time (marked before gone_at existed)"
        return f"Status: gone from the portal since {since}; last served {stored.last_seen}"
    return f"Status: {stored.status}; last served {stored.last_seen}"


@main.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print versions and captures as JSON.")
@db_option()
def history(ref: str, as_json: bool, db: str) -> None:
    """Earlier versions of an article and every capture of its page (WARC record).

    REF is an article id or canonical URL.

    \b
    Example:
      portal-archive history 42 --db data/demo.db
    """
    with Archive.open(db) as archive:
        stored = archive.get_stored(ref)
        if stored is None:
            raise ArchiveError(f"no article {ref!r} in {db}")
        versions = archive.versions(stored.id)
        captures = archive.captures(stored.id)
    if as_json:
        _echo_json({"id": stored.id, "canonical_url": stored.article.canonical_url,
                    "content_hash": stored.content_hash, "status": stored.status,
                    "gone_at": stored.gone_at, "last_seen": stored.last_seen,
                    "versions": versions, "captures": captures})
        return
    click.echo(f"{stored.article.title}\n{stored.article.canonical_url}")
    click.echo(_status_line(stored))
    click.echo(f"\nVersions ({len(versions) + 1}, oldest first):")
    for v in versions:
        click.echo(f"  {v['first_seen']} … {v['last_seen']}  {v['content_hash'][:12]}  "
                   f"{v['title']}")
    click.echo(f"  {stored.first_seen if not versions else versions[-1]['replaced']} … "
               f"{stored.last_seen}  {stored.content_hash[:12]}  (current)")
    click.echo(f"\nCaptures ({len(captures)}):")
    for c in captures:
        where = (f"{c['warc_file']} @ {c['warc_offset']} (+{c['warc_length']})"
                 if c["warc_file"] else "(no WARC)")
        click.echo(f"  run {c['run_id']}  {c['fetched'] or '?'}  HTTP {c['http_status']}  {where}")


from archive.fleet_cli import fleet, merge_cmd, worker_cmd  # noqa: E402

main.add_command(fleet)
main.add_command(worker_cmd)
main.add_command(merge_cmd)


if __name__ == "__main__":  # pragma: no cover
    main()

"""Live progress of a crawl, and the one-screen summary of a run.

The crawl process (``scraper/extensions.py``) writes a line
``PORTAL_ARCHIVE_PROGRESS {json}`` to stderr every second.
:func:`run_crawl_process` starts the process, turns those lines into one
updating status line when stderr is a terminal (plain lines otherwise, at
most one every ``plain_every`` seconds), passes every other line through,
and keeps the last lines for the error message of a failed crawl.
:func:`format_run` is the summary printed at the end and by
``portal-archive runs``. No Scrapy here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from scraper.childproc import die_with_parent

PROGRESS_TAG = "PORTAL_ARCHIVE_PROGRESS "


def format_progress(p: dict[str, Any]) -> str:
    """One status line: articles, pages and pages/s, images, errors, elapsed time."""
    elapsed = float(p.get("elapsed") or 0)
    rate = p.get("pages", 0) / elapsed if elapsed > 0 else 0.0
    minutes, seconds = divmod(int(elapsed), 60)
    parts = [
        f"{p.get('articles', 0)} articles",
        f"{p.get('pages', 0)} pages ({rate:.1f}/s)",
        f"{p.get('images_ok', 0)} images" + (f" ({p['images_failed']} failed)"
                                             if p.get("images_failed") else ""),
        f"{p.get('errors', 0)} errors",
    ]
    if p.get("http_errors"):
        parts.append(f"{p['http_errors']} HTTP 4xx/5xx")
    return f"[{minutes}:{seconds:02d}] " + " · ".join(parts)


@dataclass
class ProgressDisplay:
    """Shows progress lines on ``stream``: one updating line on a terminal."""

    stream: TextIO
    tty: bool
    plain_every: float = 10.0
    _last_plain: float = field(default=-1e9)
    _width: int = 0
    last: dict[str, Any] | None = None

    def update(self, progress: dict[str, Any]) -> None:
        self.last = progress
        line = format_progress(progress)
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
            self.stream.flush()
            return
        now = time.monotonic()
        if progress.get("final") or now - self._last_plain >= self.plain_every:
            self._last_plain = now
            self.stream.write(line + "\n")
            self.stream.flush()

    def passthrough(self, line: str) -> None:
        """A line that is not progress: printed on a line of its own."""
        self.end()
        self.stream.write(line if line.endswith("\n") else line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def parse_progress(line: str) -> dict[str, Any] | None:
    """The progress dict of a ``PORTAL_ARCHIVE_PROGRESS`` line, else None."""
    if not line.startswith(PROGRESS_TAG):
        return None
    try:
        data = json.loads(line[len(PROGRESS_TAG):])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass
class ProcessResult:
    returncode: int
    #: The last lines the process wrote to stderr (progress lines excluded).
    tail: list[str]
    #: The last progress the process reported.
    progress: dict[str, Any] | None
    #: How the process ran: seconds, max_rss_kb and cpu_seconds (from wait4).
    process: dict[str, Any] = field(default_factory=dict)


def run_crawl_process(cmd: Sequence[str], *, env: dict[str, str], cwd: str, quiet: bool,
                      stream: TextIO | None = None) -> ProcessResult:
    """Run the crawl process; show its progress unless ``quiet``; return how it ended."""
    stream = stream or sys.stderr
    tty = bool(getattr(stream, "isatty", lambda: False)())
    display = ProgressDisplay(stream, tty)
    tail: deque[str] = deque(maxlen=20)
    proc = subprocess.Popen(
        list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace", bufsize=1,
        # Killed with the CLI (even by SIGKILL): SIGTERM, a clean stop that saves the queue.
        preexec_fn=die_with_parent(signal.SIGTERM),
        # Its own process group: a Ctrl-C reaches the CLI only, which hands the
        # crawl exactly one SIGINT (a second one would force an unclean stop).
        # From a worker thread (crawl --all --parallel), which sees no
        # KeyboardInterrupt, the crawl stays in the terminal's group.
        start_new_session=threading.current_thread() is threading.main_thread(),
    )
    assert proc.stderr is not None
    started = time.monotonic()
    returncode: int | None = None
    usage: Any = None
    interrupted = 0

    def read() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            progress = parse_progress(line)
            if progress is not None:
                display.last = progress
                if not quiet:
                    display.update(progress)
                continue
            if line.strip():
                tail.append(line.rstrip("\n"))
            if not quiet:
                display.passthrough(line)

    try:
        while True:
            try:
                read()
                break
            except KeyboardInterrupt:
                # Ctrl-C: the crawl stops cleanly (its queue saved); its last
                # lines are still read. Twice: the crawl is stopped at once.
                interrupted += 1
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)
                if interrupted > 1:
                    raise
    finally:
        proc.stderr.close()
        try:
            # wait4: the exit status and the crawl process's own peak memory and CPU.
            _, status, usage = os.wait4(proc.pid, 0)
            returncode = os.waitstatus_to_exitcode(status)
            proc.returncode = returncode
        except ChildProcessError:  # already reaped
            returncode = proc.wait()
        if not quiet:
            display.end()
    if interrupted:
        raise KeyboardInterrupt
    process = {"seconds": round(time.monotonic() - started, 3)}
    if usage is not None:
        process.update(max_rss_kb=usage.ru_maxrss,
                       cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3))
    return ProcessResult(returncode, list(tail), display.last, process)


def format_run(run: dict[str, Any]) -> str:
    """A run's record as a short screen of text (the end of a crawl, ``runs``)."""
    def js(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    by_status = js(run.get("responses_by_status")) or {}
    dropped = js(run.get("dropped_reasons")) or {}
    warc_files = js(run.get("warc_files")) or []
    duration = run.get("duration_s")
    lines = [
        f"Run #{run.get('id', '?')} of {run.get('portal_id', '?')}: {run.get('status')} "
        f"({run.get('started')} → {run.get('finished') or '…'}"
        + (f", {duration:.1f} s" if isinstance(duration, (int, float)) else "") + ")",
        f"  articles   {run.get('articles_new', 0)} new, {run.get('articles_changed', 0)} "
        f"changed, {run.get('articles_unchanged', 0)} unchanged",
        f"  requests   {run.get('requests', 0)}; responses {run.get('responses', 0)}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())) + ")"
           if by_status else ""),
        f"  dropped    {run.get('pages_dropped', 0)} pages that are not articles"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items())) + ")"
           if dropped else ""),
        f"  revisits   {run.get('articles_revisited') or 0} archived articles verified, "
        f"{run.get('articles_gone') or 0} found gone",
        f"  images     {run.get('images_ok', 0)} stored, {run.get('images_failed', 0)} failed",
        f"  WARC       {len(warc_files)} file{'s' if len(warc_files) != 1 else ''}, "
        f"{(run.get('warc_bytes') or 0) / 1_048_576:.1f} MiB"
        + (f" ({warc_files[0]}{' …' if len(warc_files) > 1 else ''})" if warc_files else ""),
        f"  errors     {run.get('errors', 0)}",
    ]
    stats = js(run.get("stats")) or {}
    if not isinstance(stats, dict):
        stats = {}
    if run.get("kind") == "rescue":
        lines[0] = lines[0].replace("Run #", "Rescue run #", 1)
        lines[1:5] = _rescue_lines(run, stats)

    def group(prefix: str) -> str:
        found = {k[len(prefix):]: v for k, v in stats.items()
                 if k.startswith(prefix) and isinstance(v, (int, float))}
        return ", ".join(f"{k}: {v}" for k, v in sorted(found.items()))

    cuts = group("portal_archive/cut/")
    not_followed = stats.get("portal_archive/pages/not_followed")
    if cuts or not_followed:
        lines.append("  cut        " + ", ".join(filter(None, [
            cuts, f"stale branches: {not_followed}" if not_followed else ""])))
    waits = group("portal_archive/waits/")
    if waits:
        lines.append(f"  waited     {waits} (429/503, Retry-After or backoff)")
    network = group("portal_archive/network_errors/")
    lost = stats.get("portal_archive/articles/lost")
    gave_up = stats.get("retry/max_reached")
    if network or lost or gave_up:
        lines.append("  network    " + ", ".join(filter(None, [
            network, f"given up after retries: {gave_up}" if gave_up else "",
            f"article pages lost: {lost}" if lost else ""])))
    robots = stats.get("portal_archive/robots/unavailable_reason")
    if robots:
        lines.append(f"  robots     {robots}: crawling disallowed while it errs (RFC 9309)")
    if stats.get("failure"):
        lines.append(f"  FAILED     {stats['failure']}")
    return "\n".join(lines)


def _rescue_lines(run: dict[str, Any], stats: dict[str, Any]) -> list[str]:
    """What a rescue did, in place of a crawl's requests / dropped / revisits lines."""
    failures = stats.get("failures") or {}
    return [
        f"  articles   {run.get('articles_new', 0)} new, {run.get('articles_changed', 0)} "
        f"changed, {run.get('articles_unchanged', 0)} unchanged, "
        f"{stats.get('articles_versions', 0)} versions",
        f"  archives   {', '.join(stats.get('sources') or [])}: "
        f"{stats.get('captures_found', 0)} captures found of {stats.get('urls', 0)} URLs "
        f"({stats.get('urls_held', 0)} held already, {stats.get('urls_done_before', 0)} done "
        f"by an earlier rescue), {stats.get('captures_fetched', 0)} fetched, "
        f"{stats.get('recovered', 0)} whole pages recovered",
        f"  requests   {run.get('requests', 0)} "
        f"({stats.get('requests_per_second', 0)}/s, {stats.get('backoff_s', 0):.0f} s backing off)",
        "  failures   " + (", ".join(f"{k}: {v}" for k, v in sorted(failures.items()))
                           if failures else "none"),
    ]

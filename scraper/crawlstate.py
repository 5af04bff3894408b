"""What kind of crawl to run, decided from the archive and the job folder.

No Scrapy here: the portal spider calls :func:`plan_crawl` when it is
created, whoever starts it (``portal-archive crawl``, ``scrapy crawl portal``,
a Scrapyd job), so every way of running the spider picks the same mode:

``full``
    when asked for (``--full``, ``-a mode=full``, ``PORTAL_ARCHIVE_MODE=full``);
``resume``
    when the portal's last crawl run did not finish (killed: still
    ``running``; stopped: ``shutdown``; ``failed`` …);
``incremental``
    otherwise.

A Scrapy ``JOBDIR`` (the crawl's queue on disk) is kept only when the crawl
that wrote it stopped cleanly (it left :data:`RESUMABLE_MARK`) and the new
crawl is not ``full``; any other job folder is discarded before Scrapy opens
it (after a SIGKILL its queue index was never saved; the archive itself says
what is done). Runs of the portal still marked ``running`` (their process
died) become ``interrupted``.

:func:`revisit_budget` sizes the revisits of an incremental crawl: how many
archived articles it fetches again to verify them (deleted ones are marked
gone, edited ones get a revision).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.store import Archive

#: The crawl modes (see spiders/portal.py); ``auto`` lets :func:`plan_crawl` choose.
MODES = ("incremental", "resume", "full")
AUTO = "auto"

#: Written by the spider into its JOBDIR when it stops cleanly before the end
#: (SIGINT/SIGTERM, close reason other than "finished"): the queue on disk is
#: whole and the next crawl continues from it. After a SIGKILL it is absent and
#: the JOBDIR (its queue index unsaved) is discarded: the archive itself says
#: what is done.
RESUMABLE_MARK = "portal_archive.resumable"

#: Default revisit budget: 1% of the portal's live articles, at least this many.
REVISIT_MIN = 50
REVISIT_SHARE = 0.01


def job_dir(db_path: str | Path, portal_id: str) -> Path:
    """Where a crawl of ``portal_id`` into ``db_path`` keeps its Scrapy JOBDIR."""
    return Path(db_path).resolve().parent / "jobs" / portal_id


@dataclass(frozen=True)
class CrawlPlan:
    """The decision: the mode, why, and whether Scrapy resumes a saved queue."""

    mode: str
    #: Why this mode, in words (recorded with the run).
    reason: str
    #: A cleanly stopped crawl's JOBDIR is kept: Scrapy continues its queue.
    job_resumed: bool = False
    #: Earlier runs of the portal found still ``running`` and marked ``interrupted``.
    interrupted: int = 0

    def as_settings(self) -> dict[str, Any]:
        """The plan as the run records it (``crawl_runs.settings``)."""
        return {"PORTAL_ARCHIVE_MODE": self.mode, "PORTAL_ARCHIVE_MODE_REASON": self.reason,
                "PORTAL_ARCHIVE_JOB_RESUMED": self.job_resumed}


def plan_crawl(archive: Archive | None, portal_id: str, *, requested: str = AUTO,
               own_run_id: int = 0, jobdir: str | Path | None = None) -> CrawlPlan:
    """Choose the crawl's mode and prepare its job folder (see the module docstring).

    ``archive`` is None when there is no archive yet (a first crawl).
    ``own_run_id`` is the run already recorded for this crawl (by
    ``portal-archive crawl``), left out of "the last run".
    """
    if requested not in (*MODES, AUTO):
        raise ValueError(f"unknown crawl mode {requested!r} (use {', '.join(MODES)} or auto)")
    status = None
    interrupted = 0
    if archive is not None:
        status = archive.last_run_status(portal_id, exclude=own_run_id or None)
        interrupted = archive.interrupt_stale_runs(portal_id, exclude=own_run_id or None)
    if requested != AUTO:
        mode, reason = requested, "asked for"
    elif status is None:
        mode, reason = "incremental", "first crawl of the portal"
    elif status != "finished":
        mode, reason = "resume", f"the last run did not finish ({status})"
    else:
        mode, reason = "incremental", "the last run finished"
    resumed = False
    if jobdir:
        folder = Path(jobdir)
        if (folder / RESUMABLE_MARK).is_file() and mode != "full":
            resumed = True
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return CrawlPlan(mode, reason, resumed, interrupted)


def revisit_budget(setting: Any, live: int) -> int:
    """How many archived articles an incremental crawl verifies.

    ``setting`` is ``PORTAL_ARCHIVE_REVISIT``: ``auto`` (default: 1% of the
    ``live`` articles, at least :data:`REVISIT_MIN`), a number ``N``, or a
    share ``"P%"`` of the live articles; ``0`` turns revisits off. Never more
    than ``live``.
    """
    text = str(setting).strip().lower() if setting is not None else AUTO
    try:
        if text in ("", AUTO):
            want = max(REVISIT_MIN, math.ceil(live * REVISIT_SHARE))
        elif text.endswith("%"):
            want = math.ceil(live * float(text[:-1]) / 100)
        else:
            want = int(text)
    except ValueError:
        raise ValueError(f"PORTAL_ARCHIVE_REVISIT is auto, a number or a share like 1%, "
                         f"not {setting!r}") from None
    if want < 0:
        raise ValueError(f"PORTAL_ARCHIVE_REVISIT must not be negative: {setting!r}")
    return min(want, live)

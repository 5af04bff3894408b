"""Crawling on many machines: a queue of portals in Redis, workers that crawl them.

The engine is RQ (``rq``, Redis Queue). A job is one portal; its id is
``portal-<id>``, so a portal is queued once however often it is enqueued.
A worker (:func:`run_worker`) takes one job at a time and crawls the portal
with the ordinary crawl code path (:func:`scraper.runner.run_crawl`) into its
own archive folder, a *shard*: ``<data>/<worker name>/archive.db`` with its
WARC files and images beside it. ``portal-archive merge`` folds shards into
one archive (:mod:`archive.store.merge`).

Guarantees, and what gives them:

* **At least once.** RQ keeps a running job in its started registry under a
  heartbeat the worker renews every ``visibility_timeout / 4`` seconds. When
  the worker dies (SIGKILL, machine gone) the heartbeat lapses; after
  ``visibility_timeout`` seconds the registry's clean-up (run by every idle
  worker, and by ``fleet status``) finds the job abandoned and, while it has
  retries left, queues it again for another worker.
* **One worker per portal.** RQ runs a job in a forked work horse. The horse
  holds a per-portal lock in Redis (``SET NX`` with a TTL of the visibility
  timeout, renewed while it crawls) and takes its own process group down the
  moment its worker disappears (:class:`_ParentWatch`), so a redelivered
  portal never overlaps an orphaned crawl of the same portal.
* **Status.** The job records who took it, how many times, and the last
  error (:func:`fleet_status`).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError
from scraper.portals import Portal

__all__ = ["DEFAULT_VISIBILITY_TIMEOUT", "QUEUE_NAME", "FleetError", "PortalStatus",
           "connect", "crawl_portal", "enqueue_portals", "fleet_status", "job_id",
           "run_worker", "shard_db"]

QUEUE_NAME = "portal-archive"
#: Prefix of the keys this module keeps beside RQ's own.
KEY_PREFIX = "portal-archive:fleet"
#: Seconds without a heartbeat after which a worker's portal goes to another worker.
DEFAULT_VISIBILITY_TIMEOUT = 120
#: Times a portal is crawled again after its crawl failed or its worker died.
DEFAULT_RETRIES = 3
#: Finished and failed jobs are kept this long for ``fleet status`` (seconds).
KEEP_RESULTS = 30 * 24 * 3600
SHARD_DB = "archive.db"


class FleetError(ArchiveError):
    """Redis cannot be reached, or a fleet command was given something it cannot use."""


def job_id(portal_id: str) -> str:
    return f"portal-{portal_id}"


def shard_db(data_dir: str | Path, worker_name: str) -> Path:
    """The archive a worker writes: ``<data>/<worker name>/archive.db``."""
    return Path(data_dir) / worker_name / SHARD_DB


def connect(url: str) -> Any:
    """A Redis connection to ``url`` (``redis://host:port/db``), checked with a PING."""
    import redis

    try:
        conn = redis.Redis.from_url(url, socket_connect_timeout=5)
        conn.ping()
    except ValueError as exc:
        raise FleetError(f"bad Redis URL {url!r}: {exc}") from None
    except redis.exceptions.RedisError as exc:
        raise FleetError(f"cannot reach Redis at {url}: {exc}") from None
    return conn


def _queue(conn: Any) -> Any:
    from rq import Queue
    from rq.serializers import JSONSerializer

    return Queue(QUEUE_NAME, connection=conn, serializer=JSONSerializer)


def _lock_key(portal_id: str) -> str:
    return f"{KEY_PREFIX}:lock:{portal_id}"


def _portals_key() -> str:
    return f"{KEY_PREFIX}:portals"


# ------------------------------------------------------------------ enqueue
def enqueue_portals(conn: Any, portals: Iterable[Portal], *, full: bool = False,
                    retries: int = DEFAULT_RETRIES,
                    settings: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """Queue a crawl of each portal; return ``(portal id, what happened)`` pairs.

    A portal already queued or being crawled is left as it is ("already
    queued" / "running"); a finished or failed one is queued again.
    """
    from rq import Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    queue = _queue(conn)
    outcome: list[tuple[str, str]] = []
    for portal in portals:
        jid = job_id(portal.id)
        try:
            status = Job.fetch(jid, connection=conn, serializer=queue.serializer).get_status()
        except NoSuchJobError:
            status = None
        state = getattr(status, "value", status)
        if state in ("queued", "started", "scheduled", "deferred"):
            outcome.append((portal.id, "running" if state == "started" else "already queued"))
            continue
        queue.enqueue(
            "scraper.fleet.crawl_portal", asdict(portal), full, settings or {},
            job_id=jid, description=f"crawl {portal.id}", job_timeout=-1,
            retry=Retry(max=retries) if retries else None,
            result_ttl=KEEP_RESULTS, failure_ttl=KEEP_RESULTS,
            meta={"portal": portal.id, "attempts": 0, "workers": [],
                  "enqueued": _now()},
        )
        conn.sadd(_portals_key(), portal.id)
        outcome.append((portal.id, "queued"))
    return outcome


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ status
@dataclass
class PortalStatus:
    """What the fleet knows of one portal."""

    portal: str
    state: str  # queued / running / done / failed / unknown
    worker: str = ""
    attempts: int = 0
    last_error: str = ""
    workers: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_STATES = {"queued": "queued", "scheduled": "queued", "deferred": "queued",
           "started": "running", "finished": "done", "failed": "failed",
           "stopped": "failed", "canceled": "failed"}


def fleet_status(conn: Any) -> list[PortalStatus]:
    """Every portal ever enqueued, with its state, worker, attempts and last error.

    Reading the started registry also runs RQ's clean-up of abandoned jobs,
    so a portal whose worker died is shown queued again once the visibility
    timeout has passed.
    """
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    queue = _queue(conn)
    StartedJobRegistry(queue=queue).cleanup()
    ids = sorted(p.decode() if isinstance(p, bytes) else str(p)
                 for p in conn.smembers(_portals_key()))
    jobs = Job.fetch_many([job_id(p) for p in ids], connection=conn,
                          serializer=queue.serializer)
    out: list[PortalStatus] = []
    for pid, job in zip(ids, jobs, strict=True):
        if job is None:
            out.append(PortalStatus(pid, "unknown", last_error="job expired from Redis"))
            continue
        status = job.get_status(refresh=False)
        state = _STATES.get(getattr(status, "value", str(status)), str(status))
        meta = job.meta or {}
        workers = list(meta.get("workers") or [])
        error = str(meta.get("last_error") or "")
        if state == "failed":
            error = _last_line(job.exc_info) or error
        elif state == "queued" and workers and not meta.get("finished"):
            error = error or f"redelivered: worker {workers[-1]} stopped answering"
        result = job.return_value() if state == "done" else None
        out.append(PortalStatus(
            pid, state, worker=workers[-1] if workers else "",
            attempts=int(meta.get("attempts") or 0), last_error=error, workers=workers,
            result=result if isinstance(result, dict) else {}))
    return out


def _last_line(text: str | None) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


# ------------------------------------------------------------------ the job
@dataclass
class _WorkerContext:
    """What the worker process tells the jobs its horses run (inherited by fork)."""

    name: str
    data_dir: Path
    visibility_timeout: int
    settings: dict[str, Any]


_CONTEXT: _WorkerContext | None = None

_RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"""
_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end"""


class _ParentWatch(threading.Thread):
    """Kills the work horse's process group (the horse and its crawl) when the
    worker that forked it is gone: an orphaned crawl would overlap the
    redelivered one."""

    def __init__(self) -> None:
        super().__init__(name="parent-watch", daemon=True)
        self.parent = os.getppid()

    def run(self) -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != self.parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)


class _PortalLock:
    """The per-portal lock: held by one horse at a time, renewed while it crawls."""

    def __init__(self, conn: Any, portal_id: str, owner: str, ttl: int) -> None:
        self.conn, self.key, self.owner, self.ttl_ms = conn, _lock_key(portal_id), owner, ttl * 1000
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="lock-renew", daemon=True)

    def acquire(self, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while not self.conn.set(self.key, self.owner, nx=True, px=self.ttl_ms):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            self.conn.eval(_RENEW, 1, self.key, self.owner, self.ttl_ms)

    def holder(self) -> str:
        value = self.conn.get(self.key)
        return value.decode() if isinstance(value, bytes) else str(value or "")

    def release(self) -> None:
        self._stop.set()
        self.conn.eval(_RELEASE, 1, self.key, self.owner)


def crawl_portal(portal: dict[str, Any], full: bool = False,
                 settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job: crawl one portal into this worker's shard; return the run's summary."""
    from rq import get_current_job

    from scraper.runner import run_crawl

    ctx = _CONTEXT
    job = get_current_job()
    if ctx is None or job is None:
        raise FleetError("crawl_portal runs inside `portal-archive worker` only")
    _ParentWatch().start()
    target = Portal(**portal)
    job.meta["attempts"] = int(job.meta.get("attempts") or 0) + 1
    job.meta["workers"] = [*(job.meta.get("workers") or []), ctx.name]
    job.meta["started"] = _now()
    job.meta.pop("finished", None)
    job.save_meta()
    lock = _PortalLock(job.connection, target.id, f"{ctx.name}:{os.getpid()}",
                       ctx.visibility_timeout)
    # A dead holder's lock lapses within one visibility timeout; a live holder
    # keeps it, and this (duplicate) delivery then leaves the portal to it.
    if not lock.acquire(wait=2 * ctx.visibility_timeout):
        job.meta["finished"] = _now()
        job.save_meta()
        return {"portal": target.id, "skipped": f"being crawled by {lock.holder()}"}
    try:
        db = shard_db(ctx.data_dir, ctx.name)
        run = run_crawl(target, db, settings={**ctx.settings, **(settings or {})},
                        quiet=True, full=full)
    except Exception as exc:
        job.meta["last_error"] = " ".join(str(exc).split()) or type(exc).__name__
        job.save_meta()
        raise
    finally:
        lock.release()
    job.meta["finished"] = _now()
    job.meta.pop("last_error", None)
    job.save_meta()
    return {"portal": target.id, "worker": ctx.name, "shard": str(db), "run_id": run.get("id"),
            "status": run.get("status"), "articles_new": run.get("articles_new", 0),
            "articles_changed": run.get("articles_changed", 0),
            "articles_unchanged": run.get("articles_unchanged", 0)}


# ------------------------------------------------------------------ the worker
def default_worker_name() -> str:
    return socket.gethostname().split(".")[0] or "worker"


def run_worker(conn: Any, data_dir: str | Path, *, name: str | None = None,
               visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT,
               settings: dict[str, Any] | None = None, burst: bool = False,
               max_idle: int | None = None, log_level: str = "WARNING") -> None:
    """Take portals from the queue and crawl them, one at a time, until stopped.

    ``visibility_timeout``: seconds after the last heartbeat of a dead worker
    before its portal is handed to another. ``burst``: stop when the queue is
    empty; ``max_idle``: stop after that many seconds without a portal.
    """
    global _CONTEXT
    from rq import Worker
    from rq.serializers import JSONSerializer

    if visibility_timeout < 4:
        raise FleetError("the visibility timeout must be at least 4 seconds")
    worker_name = name or default_worker_name()
    folder = Path(data_dir)
    shard_db(folder, worker_name).parent.mkdir(parents=True, exist_ok=True)
    _CONTEXT = _WorkerContext(worker_name, folder.resolve(), visibility_timeout, settings or {})
    beat = max(1, visibility_timeout // 4)
    sweep = max(1, visibility_timeout // 2)

    class FleetWorker(Worker):
        # RQ adds a fixed 60 s to every heartbeat's lifetime; the fleet's
        # visibility timeout is the whole lifetime instead.
        def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
            return visibility_timeout

    worker = FleetWorker(
        [_queue(conn)], name=worker_name, connection=conn, serializer=JSONSerializer,
        job_monitoring_interval=beat, maintenance_interval=sweep, worker_ttl=sweep + 15,
        log_job_description=False,
    )
    try:
        worker.work(burst=burst, max_idle_time=max_idle, logging_level=log_level)
    except ValueError as exc:  # another live worker has this name
        raise FleetError(f"{exc} (give each worker its own --name)") from None

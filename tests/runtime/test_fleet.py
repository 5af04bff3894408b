"""The fleet: a real redis-server, demo portals on their own ports, worker
processes (one killed with SIGKILL mid-portal), and merges of their shards."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fleet_servers import (
    CLI,
    demo_portals,
    kill_session,
    redis_server,
    start_worker,
    stop,
)

from archive.cli import main
from archive.store.merge import merge_shards

VISIBILITY = 6
TABLES = ("portals", "crawl_runs", "articles", "article_versions", "captures", "images",
          "image_files")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def status(url: str) -> dict[str, dict[str, Any]]:
    out = cli("fleet", "status", "--json", "--redis", url)
    assert out.returncode == 0, out.stderr
    return {row["portal"]: row for row in json.loads(out.stdout)}


def run_of(shard: Path, portal: str) -> str | None:
    """The status of the portal's last run in a shard (None: none yet)."""
    if not shard.is_file():
        return None
    conn = sqlite3.connect(f"{shard.as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT status FROM crawl_runs WHERE portal_id = ? "
                           "ORDER BY id DESC LIMIT 1", [portal]).fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def session_pids(sid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id, not a zombie
            pids.append(int(entry.name))
    return pids


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


@pytest.mark.timeout(240)
def test_workers_crawl_six_portals_one_is_killed_and_the_merge_has_every_article_once(
        tmp_path: Path) -> None:
    data = tmp_path / "shards"
    with redis_server(tmp_path / "redis") as url, \
            demo_portals(6, tmp_path / "portals", size=12, faults=frozenset({"slow"}),
                         slow_delay=0.05) as (portals_file, sites):
        queued = cli("fleet", "enqueue", "--all", "--portals", str(portals_file),
                     "--redis", url)
        assert queued.returncode == 0, queued.stderr
        assert queued.stdout.count(": queued") == 6
        again = cli("fleet", "enqueue", "p01", "--portals", str(portals_file), "--redis", url)
        assert "p01: already queued" in again.stdout

        workers = {name: start_worker(url, data, name, visibility_timeout=VISIBILITY,
                                      log=tmp_path / f"{name}.log")
                   for name in ("w1", "w2", "w3")}
        try:
            # Wait for w1 to be mid-portal: its crawl has started writing the shard.
            deadline = time.monotonic() + 90
            victim_portal = None
            while victim_portal is None:
                assert time.monotonic() < deadline, "w1 never started a portal"
                for pid, row in status(url).items():
                    if (row["state"] == "running" and row["worker"] == "w1"
                            and run_of(data / "w1" / "archive.db", pid) == "running"):
                        victim_portal = pid
                time.sleep(0.2)
            victim = workers["w1"]
            os.kill(victim.pid, signal.SIGKILL)  # the worker alone: its horse must follow
            victim.wait()
            deadline = time.monotonic() + 10
            while session_pids(victim.pid):
                assert time.monotonic() < deadline, "w1's crawl outlived its worker"
                time.sleep(0.2)
            assert run_of(data / "w1" / "archive.db", victim_portal) == "running", \
                "killed mid-portal"

            # A merge while the others crawl: the final merge below completes it.
            target = tmp_path / "merged" / "archive.db"
            early = merge_shards(sorted(data.glob("*/archive.db")), target)
            assert early.runs_new >= 1

            deadline = time.monotonic() + 150
            while True:
                rows = status(url)
                if all(r["state"] == "done" for r in rows.values()):
                    break
                assert not any(r["state"] == "failed" for r in rows.values()), rows
                assert time.monotonic() < deadline, rows
                time.sleep(0.5)
        finally:
            for proc in workers.values():
                stop(proc)
            for proc in workers.values():
                kill_session(proc)

    redelivered = rows[victim_portal]
    assert redelivered["attempts"] == 2, redelivered
    assert redelivered["workers"][0] == "w1" and redelivered["worker"] != "w1"
    assert sum(r["attempts"] for r in rows.values()) == 7, "only the victim's portal twice"

    shards = sorted(data.glob("*/archive.db"))
    assert [s.parent.name for s in shards] == ["w1", "w2", "w3"]
    merged = CliRunner().invoke(main, ["merge", str(data), "--into", str(target)],
                                catch_exceptions=False)
    assert merged.exit_code == 0, merged.output
    conn = sqlite3.connect(target)
    per_portal = dict(conn.execute(
        "SELECT portal_id, count(*) FROM articles GROUP BY portal_id").fetchall())
    assert per_portal == {pid: site.article_count for pid, site in sites.items()}
    runs = conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
    assert runs == 7, "six finished runs and the killed one, each once"
    # Every capture's WARC file and every image file is in the target's folder.
    for (warc,) in conn.execute("SELECT DISTINCT warc_file FROM captures"):
        assert warc.startswith("warc/shards/") and (target.parent / warc).is_file(), warc
    for (path,) in conn.execute("SELECT path FROM image_files WHERE status = 'ok'"):
        assert (target.parent / path).is_file(), path
    assert conn.execute("SELECT count(*) FROM images WHERE status IS NULL").fetchone()[0] == 0
    conn.close()

    before = counts(target)
    again_merged = merge_shards(shards, target)
    assert again_merged.added == 0
    assert counts(target) == before
    hits = CliRunner().invoke(main, ["search", "nong thon moi", "--db", str(target), "--json"])
    assert hits.exit_code == 0 and json.loads(hits.stdout)["results"]


def test_fleet_commands_give_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    down = runner.invoke(main, ["fleet", "status", "--redis", "redis://127.0.0.1:9/0"])
    assert down.exit_code == 1 and "cannot reach Redis" in down.stderr
    assert "Traceback" not in down.output and down.stderr.strip().count("\n") == 0
    both = runner.invoke(main, ["fleet", "enqueue", "--redis", "redis://127.0.0.1:9/0"])
    assert both.exit_code == 2 and "give PORTAL… or --all" in both.stderr
    nothing = runner.invoke(main, ["merge", str(tmp_path), "--into", str(tmp_path / "t.db")])
    assert nothing.exit_code == 1 and "no shard archive" in nothing.stderr
    bad = tmp_path / "w" / "archive.db"
    bad.parent.mkdir()
    bad.write_bytes(b"not sqlite")
    refused = runner.invoke(main, ["merge", str(bad), "--into", str(tmp_path / "t.db")])
    assert refused.exit_code == 1 and "Traceback" not in refused.output


@pytest.mark.parametrize("command", [("fleet", "enqueue"), ("fleet", "status"), ("worker",),
                                     ("merge",)])
def test_fleet_commands_have_help_with_an_example(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"portal-archive {' '.join(command)}" in result.stdout
    if command != ("merge",):
        assert "--redis" in result.stdout and "PORTAL_ARCHIVE_REDIS" in result.stdout

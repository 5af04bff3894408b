"""Real parts for the fleet tests and benchmark: a redis-server on a free
loopback port, several demo portals on their own ports, fleet workers as
``portal-archive worker`` processes.

``redis-server`` is Debian's package (``make redis`` installs it when missing);
it runs in a temporary folder with persistence off.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite

ROOT = Path(__file__).resolve().parent.parent
CLI = [str(Path(sys.executable).parent / "portal-archive")]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence; yields its URL."""
    if not Path(REDIS_SERVER).is_file():
        raise RuntimeError("redis-server is not installed: run `make redis`")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def demo_portals(count: int, folder: Path, *, size: int = 20,
                 faults: frozenset[str] = frozenset(), slow_delay: float | None = None,
                 ) -> Iterator[tuple[Path, dict[str, DemoSite]]]:
    """``count`` demo portals, each on its own port (ids ``p01``…); yields a
    portals file declaring them and ``{id: site}``."""
    folder.mkdir(parents=True, exist_ok=True)
    sites: dict[str, DemoSite] = {}
    entries: list[str] = []
    with ExitStack() as stack:
        for i in range(1, count + 1):
            pid = f"p{i:02d}"
            site = DemoSite(size=size, seed=i)
            server = DemoServer(site, faults=faults)
            if slow_delay is not None:
                server.app.slow_delay = slow_delay
            stack.enter_context(server)
            sites[pid] = site
            entries.append(f'[[portal]]\nid = "{pid}"\nname = "Demo portal {i}"\n'
                           f'province = "Thanh Hóa"\nbase_url = "{server.base_url}"\n'
                           f'layout = "thanhhoa"\n')
        portals = folder / "portals.toml"
        portals.write_text("\n".join(entries), encoding="utf-8")
        yield portals, sites


def start_worker(redis_url: str, data: Path, name: str, *, visibility_timeout: int,
                 log: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """A ``portal-archive worker`` process in a session of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [*CLI, "worker", "--redis", redis_url, "--data", str(data), "--name", name,
         "--visibility-timeout", str(visibility_timeout), "-v", *extra],
        cwd=str(ROOT), env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM (RQ's warm shutdown), then SIGKILL of its whole session."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_session(proc)


def kill_session(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

"""Extraction worker processes: same result as extract_article, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scraper.extract import extract_article
from scraper.extract.steps import STAGES
from scraper.extractpool import extract_page, start_pool

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def _case() -> tuple[str, bytes]:
    folder = sorted(p for p in FIXTURES.iterdir() if (p / "page.html").is_file())[0]
    return "http://127.0.0.1:9/tin-tuc/1.html", (folder / "page.html").read_bytes()


def test_worker_gives_what_extract_article_gives() -> None:
    url, html = _case()
    pool = start_pool(1)
    try:
        outcome = pool.submit(extract_page, url, html, None, tuple(STAGES)).result(timeout=60)
    finally:
        pool.shutdown()
    assert outcome.article == extract_article(html, url)
    assert outcome.reason == ""


def test_not_an_article_comes_back_as_a_reason() -> None:
    outcome = extract_page("http://h/x", b"", None, tuple(STAGES))
    assert outcome.article is None and outcome.reason == "empty"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (it runs nothing).
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_workers_exit_when_the_crawl_is_killed() -> None:
    code = (
        "import os, sys, time\n"
        "from scraper.extractpool import start_pool\n"
        "pool = start_pool(1)\n"
        "print(pool.submit(os.getpid).result(timeout=60), flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout is not None
    worker = int(proc.stdout.readline())
    assert _alive(worker)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the extraction worker outlived the killed crawl"

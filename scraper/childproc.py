"""Child processes that do not outlive their parent.

A crawl process (and its archiver) started by the CLI must stop when the
CLI process is killed, even with SIGKILL, which no handler sees. On Linux the
child asks the kernel for a signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``, set between fork and exec); elsewhere the
child notices the end of its pipes (the crawl's stderr, the archiver's stdin).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive ``sig`` when its parent dies
    (None where the platform has no such call)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The running process's own symbols (libc among them): find_library
        # would start a subprocess (ldconfig) to look for it.
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal will come
            os.kill(os.getpid(), sig)

    return preexec

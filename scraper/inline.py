"""An executor that runs each call at once, in the caller's thread.

Stands in for a one-thread ``ThreadPoolExecutor`` when a writer thread is
turned off by a setting: the code that submits work and waits for futures
stays the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")


class InlineExecutor(Executor):
    """``submit`` runs the call now and returns its finished future."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the future, as a pool does
            future.set_exception(exc)
        return future


def writer_executor(threaded: bool, name: str) -> Executor:
    """One writer thread (calls run in order), or the caller's thread."""
    if threaded:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    return InlineExecutor()

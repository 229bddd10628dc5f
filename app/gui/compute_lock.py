"""One compute job at a time across the app's worker threads.

Numba's ``workqueue`` threading layer (the one PyPI wheels use) is not safe to enter from two
Python threads at once, and the image and points workspaces each have a worker thread.  Every
worker slot that runs kernels holds this lock; the other worker simply waits its turn.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

#: re-entrant, so a locked slot may call another locked method of the same worker
COMPUTE = threading.RLock()


def exclusive(method: F) -> F:
    """Run ``method`` holding :data:`COMPUTE`."""

    @functools.wraps(method)
    def locked(*args, **kwargs):
        with COMPUTE:
            return method(*args, **kwargs)

    return locked  # type: ignore[return-value]

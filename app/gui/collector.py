"""Python's cyclic garbage collector, paused while a worker loads Numba or its kernels.

Importing Numba and loading kernels from its cache create hundreds of thousands of objects.
The collector counts them, and every so often a full collection walks every object of the
process (Qt's and pyqtgraph's wrappers too) while holding the GIL: the window froze for 70-80
ms at a time (measured while importing Numba next to PySide6; 114 ms in ``bench_first_run.py
--stacks`` as the first picture's kernels loaded).  While paused, no collection starts; at the
end every object made meanwhile is frozen out of later collections (``gc.freeze``), uncollected:
they are modules, types and kernels that live as long as the process, and the garbage among them
was 1,112 objects after Numba's import and the first picture's kernels.  Collecting them
instead (``gc.collect(1)``) was itself a 103 ms freeze.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # workers inside paused() now (the image and the points worker may overlap)
_was_enabled = True


@contextmanager
def paused() -> Iterator[None]:
    """No garbage collection starts inside the block (process-wide; nests across threads)."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()

"""Large scratch buffers kept between calls.

The quantizer works in tables indexed by 24-bit colour code (64 MB and 16 MB).  A freshly
allocated one costs a page fault for every 4 KB page it touches -- measured here at 10-100 ms
on a 12-megapixel photo, varying from run to run -- while a reused one costs only its reset.
A pool keeps one spare buffer; a caller that finds none (another thread holds it) simply gets a
new one, so the pool never blocks.  Buffers whose size depends on the call are lent by key (the
spare is reused only for the key it was made for).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class BufferPool(Generic[T]):
    """Lend a buffer made by ``factory``; ``reset`` (if any) restores it when it comes back.

    ``factory`` takes no argument, or the key given to :meth:`lend` when there is one.
    """

    def __init__(self, factory: Callable[..., T], reset: Callable[[T], None] | None = None):
        self._factory = factory
        self._reset = reset
        self._lock = threading.Lock()
        self._spare: tuple[Hashable, T] | None = None

    @contextlib.contextmanager
    def lend(self, key: Hashable = None) -> Iterator[T]:
        """The buffer (for ``key``), valid inside the ``with`` block only."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare[0] == key:
            buffer = spare[1]
        else:
            buffer = self._factory() if key is None else self._factory(key)
        try:
            yield buffer
        finally:
            if self._reset is not None:
                self._reset(buffer)
            with self._lock:
                self._spare = (key, buffer)

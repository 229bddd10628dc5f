"""The GUI thread's heartbeat: how the benchmarks measure the window's freezes.

Imports only Qt's core and has no side effects (``bench_first_run.py`` runs it in a window that
may be on a real display).
"""

from __future__ import annotations

import faulthandler
import itertools
import time

from PySide6.QtCore import Qt, QTimer


class Heartbeat:
    """Timestamps of a timer in the GUI thread, every ``interval_ms`` (10 by default).

    A gap between two beats is a freeze plus up to one interval (the time since the last beat
    when the freeze began), so a finer beat measures a freeze more exactly.  With ``stacks``
    (an open text file), every thread's Python stack is written to it whenever a beat is
    ``stack_after_ms`` late (``faulthandler`` needs no GIL for this): that is how the freezes
    are found.
    """

    def __init__(self, stacks=None, stack_after_ms: float = 20.0, interval_ms: int = 10) -> None:
        self.beats: list[float] = []
        self.stacks = stacks
        self.stack_after_s = (interval_ms + stack_after_ms) / 1000
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.beat)

    def beat(self) -> None:
        self.beats.append(time.perf_counter())
        if self.stacks is not None:
            faulthandler.cancel_dump_traceback_later()
            faulthandler.dump_traceback_later(self.stack_after_s, file=self.stacks)

    def longest_gap(self, start: float, stop: float) -> float:
        inside = [t for t in self.beats if start <= t <= stop]
        edges = [start, *inside, stop]
        return max(b - a for a, b in itertools.pairwise(edges))

    def gaps(self, start: float, stop: float) -> list[tuple[float, float]]:
        """(time of the later beat, gap) of each two beats in [start, stop]."""
        inside = [t for t in self.beats if start <= t <= stop]
        return [(b, b - a) for a, b in itertools.pairwise(inside)]

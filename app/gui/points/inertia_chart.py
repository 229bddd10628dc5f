"""The Inertia tab's curve, drawn so that a live run repaints little.

With a 1M-point file a live frame came every 33 ms, and the chart's repaint took 8-12 ms of
the GUI thread in each (``benchmarks/bench_points_gui.py`` with a timeline of the paint events):
pyqtgraph fitted the view to the growing curve on every frame, and a new range means a new tick
layout for both axes in Python, plus a symbol per point.  Now, while a run is live:

* the curve is redrawn at most :data:`LIVE_HZ` times a second, from a timer of its own, so
  that its work never adds to a frame of the scatter's, and not at all while the tab is hidden;
* the view runs from 0 to the highest inertia so far, and the x axis doubles, so the axes'
  cached pixmaps are reused between steps of the range;
* symbols are drawn only while they can be told apart.

A finished run (or a step) is fitted exactly, as pyqtgraph's own auto-range would, also in a
turn of its own: the new ticks of a fitted range took 11-30 ms to lay out and paint.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

#: redraws a second of a live run's curve, at most (the scatter shows every frame)
LIVE_HZ = 5
#: points of the curve that still get a symbol each (a stepped run's half-steps)
SYMBOLS_UP_TO = 60
#: the inertia axis's width: room for "2.15e+06"
AXIS_WIDTH_PX = 64
#: the x range of a live run starts at this many steps and doubles
FIRST_STEPS = 8


class InertiaChart:
    """The inertia history of the shown run in ``plot``.

    A new run (a history shorter than the last one drawn) starts a new range.  Once the user
    pans or zooms the chart, its range is theirs until the next run."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.curve = plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=5)
        left = plot.getAxis("left")
        left.enableAutoSIPrefix(False)  # a new prefix re-lays the label's rich text out
        left.setWidth(AXIS_WIDTH_PX)  # tick labels of a new width re-lay the whole plot out
        self._symbols = True
        self._range: tuple[int, float] | None = None  # a live run's steps and top
        self._drawn = 0  # steps in the curve drawn last
        self._users_range = False
        self._drawn_at = -math.inf
        self._pending: np.ndarray | None = None
        self._live = False
        self._timer = QTimer(plot)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw_pending)
        plot.getViewBox().sigRangeChangedManually.connect(self._taken_over)

    def show(self, history: Sequence[float], live: bool) -> None:
        """Draw ``history`` (one inertia a step); ``live`` while the run goes on.

        Drawn from the event loop's next turn (a live run's, within 1 / :data:`LIVE_HZ` s of
        the last), never inside the caller's frame."""
        self._pending = np.asarray(history, dtype=np.float64)
        self._live = live
        if live:
            if not self._timer.isActive():
                wait = self._drawn_at + 1 / LIVE_HZ - time.perf_counter()
                self._timer.start(round(1000 * max(0.0, wait)))
        else:
            self._timer.start(0)

    def _taken_over(self, *_args) -> None:
        self._users_range = True

    def _draw_pending(self) -> None:
        y, self._pending = self._pending, None
        if y is None or (self._live and (not len(y) or not self.plot.isVisible())):
            return
        if len(y) < self._drawn:  # a new run
            self._range = None
            self._users_range = False
        self._draw(y)
        if not self._live:
            self._drawn_at = -math.inf
            if len(y) and self._fits(y):
                self.plot.getViewBox().setRange(xRange=(1, max(2, len(y))),
                                                yRange=(y.min(), y.max()))
            self._range = None
            return
        self._drawn_at = time.perf_counter()
        steps, top = self._range or (FIRST_STEPS, 0.0)
        if (len(y) > steps or y.max() > top) and self._fits(y):
            while steps < len(y):
                steps *= 2
            top = max(top, 1.05 * float(y.max()))
            self._range = (steps, top)
            self.plot.getViewBox().setRange(xRange=(1, steps), yRange=(0, top), padding=0)

    def _fits(self, y: np.ndarray) -> bool:
        """Whether the chart may fit its range to ``y``: not the user's, and finite."""
        return not self._users_range and bool(np.isfinite(y).all())

    def _draw(self, y: np.ndarray) -> None:
        symbols = len(y) <= SYMBOLS_UP_TO
        if symbols != self._symbols:
            self.curve.setSymbol("o" if symbols else None)
            self._symbols = symbols
        self.curve.setData(np.arange(1, len(y) + 1), y)
        self._drawn = len(y)

"""The pieces that keep the Points workspace smooth with a million points (issue 18, item 5):
the Voronoi grid, the grid lines drawn by one item, the stepped inertia chart and the worker
threads' lower priority.  The freezes themselves are measured by
``benchmarks/bench_points_gui.py``, not here."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import worker_signal
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage, QPainter

from palettelab.app.gui.launch import create_app
from palettelab.app.gui.points import inertia_chart
from palettelab.app.gui.points.grid import AxisGrid
from palettelab.app.gui.points.inertia_chart import FIRST_STEPS, SYMBOLS_UP_TO, InertiaChart
from palettelab.app.gui.worker_host import BACKGROUND_NICE, WorkerHost, shutdown
from palettelab.core.voronoi import nearest_centre


@pytest.mark.parametrize("k", [1, 3, 17])
def test_nearest_centre_matches_brute_force(k):
    rng = np.random.default_rng(k)
    centres = rng.normal(size=(k, 2)) * 3
    xs, ys = np.linspace(-5, 5, 61), np.linspace(-4, 6, 47)
    gx, gy = np.meshgrid(xs, ys)  # [y, x]
    d2 = (gx[..., None] - centres[:, 0]) ** 2 + (gy[..., None] - centres[:, 1]) ** 2
    np.testing.assert_array_equal(nearest_centre(xs, ys, centres), np.argmin(d2, axis=-1))


def test_grid_lines_fall_on_the_axis_ticks(qtbot):
    create_app()
    plot = pg.PlotWidget(background="w")
    qtbot.addWidget(plot)
    grid = AxisGrid(plot.getPlotItem())
    plot.addItem(grid, ignoreBounds=True)
    plot.resize(400, 300)
    plot.show()
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(-1, 1, padding=0)
    qtbot.wait(50)
    bottom = plot.getAxis("bottom")
    ticks = bottom.tickValues(0, 10, bottom.width())[0][1]
    assert len(ticks) >= 3
    # the grid adds nothing to the auto-range, and the axes draw no grid of their own
    assert plot.getViewBox().childrenBounds()[0] is None
    assert bottom.grid is False
    # the lines are drawn where the axis puts its ticks: a dark column at each
    image = QImage(plot.size(), QImage.Format.Format_RGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    plot.render(painter)
    painter.end()
    view = plot.getViewBox()
    left = plot.getAxis("left")
    rows = left.tickValues(-1, 1, left.height())[0][1]
    row = round(view.mapViewToScene(pg.Point(0, (rows[1] + rows[2]) / 2)).y())  # between lines
    for tick in ticks[1:-1]:
        column = round(view.mapViewToScene(pg.Point(tick, 0)).x())
        darkest = min(image.pixelColor(c, row).value() for c in range(column - 1, column + 2))
        assert darkest < 250, tick
    middle = round(view.mapViewToScene(pg.Point((ticks[1] + ticks[2]) / 2, 0)).x())
    assert image.pixelColor(middle, row).value() == 255


def _chart(qtbot) -> InertiaChart:
    create_app()
    plot = pg.PlotWidget(background="w")
    qtbot.addWidget(plot)
    plot.show()
    return InertiaChart(plot)


def test_a_live_run_moves_the_chart_range_in_steps(qtbot, monkeypatch):
    monkeypatch.setattr(inertia_chart, "LIVE_HZ", 1000)
    chart = _chart(qtbot)
    history = [100.0, 60.0, 50.0]
    chart.show(history, live=True)
    qtbot.waitUntil(lambda: chart.curve.xData is not None and len(chart.curve.xData) == 3)
    view = chart.plot.getViewBox()
    first = view.viewRange()
    assert first[0] == pytest.approx([1, FIRST_STEPS])
    assert first[1] == pytest.approx([0, 105.0])
    for n in range(4, FIRST_STEPS + 1):  # lower values within the range: the view stays
        history.append(50.0 - n)
        chart.show(history, live=True)
        qtbot.waitUntil(lambda n=n: len(chart.curve.xData) == n)
        assert view.viewRange() == first
    history.append(30.0)  # one step past the range: the x axis doubles
    chart.show(history, live=True)
    qtbot.waitUntil(lambda: len(chart.curve.xData) == FIRST_STEPS + 1)
    assert view.viewRange()[0] == pytest.approx([1, 2 * FIRST_STEPS])
    assert view.viewRange()[1] == pytest.approx([0, 105.0])
    chart.show(history, live=False)  # the result: fitted to the curve
    qtbot.waitUntil(lambda: view.viewRange()[0][1] < 2 * FIRST_STEPS)
    x_range, y_range = view.viewRange()
    assert x_range[0] < 1 < FIRST_STEPS + 1 < x_range[1] < 2 * FIRST_STEPS
    assert 0 < y_range[0] < 30.0 and 100.0 < y_range[1] < 105.0


def test_live_redraws_are_throttled_and_the_result_is_drawn_at_once(qtbot, monkeypatch):
    monkeypatch.setattr(inertia_chart, "LIVE_HZ", 2)  # one redraw each 0.5 s
    chart = _chart(qtbot)
    chart.show([5.0, 4.0], live=True)
    qtbot.waitUntil(lambda: chart.curve.xData is not None and len(chart.curve.xData) == 2)
    chart.show([5.0, 4.0, 3.0], live=True)
    assert chart._timer.isActive() and chart._timer.remainingTime() > 300
    assert len(chart.curve.xData) == 2  # not yet: within half a second of the last redraw
    chart.show([5.0, 4.0, 3.0, 2.5], live=False)
    qtbot.wait(50)
    assert len(chart.curve.xData) == 4  # a result is never held back
    qtbot.wait(600)
    assert len(chart.curve.xData) == 4  # and the held-back live frame does not come after it


def test_a_new_run_starts_a_new_range_and_the_users_zoom_is_kept(qtbot, monkeypatch):
    monkeypatch.setattr(inertia_chart, "LIVE_HZ", 1000)
    chart = _chart(qtbot)
    view = chart.plot.getViewBox()
    long = list(np.linspace(1000, 10, 40))
    chart.show(long, live=True)
    qtbot.waitUntil(lambda: chart.curve.xData is not None and len(chart.curve.xData) == 40)
    assert view.viewRange()[0][1] == 64
    chart.show([50.0, 40.0], live=True)  # Run again, mid-run: the old range is not kept
    qtbot.waitUntil(lambda: len(chart.curve.xData) == 2)
    assert view.viewRange()[0][1] == FIRST_STEPS
    assert view.viewRange()[1] == pytest.approx([0, 52.5])
    view.sigRangeChangedManually.emit([True, True])  # the user zooms: the range is theirs
    view.setRange(xRange=(1, 3), yRange=(39, 41), padding=0)
    chart.show([50.0, 40.0, 30.0, 20.0, 10.0, 9.0, 8.0, 7.0, 6.0], live=True)
    qtbot.waitUntil(lambda: len(chart.curve.xData) == 9)
    chart.show([50.0, 40.0, 30.0, 20.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0], live=False)
    qtbot.waitUntil(lambda: len(chart.curve.xData) == 10)
    assert view.viewRange()[0] == pytest.approx([1, 3])
    chart.show([float("inf"), 3.0], live=False)  # a new run; nothing finite to fit: no error
    qtbot.waitUntil(lambda: len(chart.curve.xData) == 2)


def test_symbols_only_while_they_can_be_told_apart(qtbot):
    chart = _chart(qtbot)
    chart.show(np.linspace(10, 1, SYMBOLS_UP_TO), live=False)
    qtbot.waitUntil(lambda: chart.curve.xData is not None
                    and len(chart.curve.xData) == SYMBOLS_UP_TO)
    assert chart.curve.opts["symbol"] == "o"
    chart.show(np.linspace(10, 1, SYMBOLS_UP_TO + 1), live=False)
    qtbot.waitUntil(lambda: len(chart.curve.xData) == SYMBOLS_UP_TO + 1)
    assert chart.curve.opts["symbol"] is None


class _Probe(WorkerHost):
    niceness = Signal(int, int)  # this thread's niceness, and that of a thread it starts

    def __init__(self) -> None:
        super().__init__(lambda: None)

    @Slot()
    def probe(self) -> None:
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child: list[int] = []
        thread = threading.Thread(
            target=lambda: child.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        thread.start()
        thread.join()
        self.niceness.emit(own, child[0])


class _Asker(QObject):
    ask = Signal()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_worker_threads_and_the_threads_they_start_run_in_the_background(qtbot):
    create_app()
    probe, asker = _Probe(), _Asker()
    asker.ask.connect(probe.probe)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with worker_signal(qtbot, probe.ready, 5000):
        probe.start(asker, "test probe")
    try:
        with worker_signal(qtbot, probe.niceness, 5000) as blocker:
            asker.ask.emit()
        expected = min(base + BACKGROUND_NICE, 19)  # lowered by it, from wherever it was
        assert blocker.args == [expected, expected]  # as Numba's pool threads inherit it
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
    finally:
        shutdown(probe)

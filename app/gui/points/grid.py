"""Grid lines at the major ticks of a plot's axes, drawn as one item in the plot's view.

pyqtgraph draws a grid (``showGrid``) as part of each axis, so each axis's bounding box covers
the whole plot: with the axes cached as pixmaps (the Points workspace does this, see
``workspace.py``), every change of range re-rendered two plot-sized pixmaps.  The first paint
of the scatter after a 1M-point file loaded took 23-63 ms of the GUI thread with that grid,
and 12-19 ms with this item, points and axes included (``benchmarks/bench_points_gui.py``
with a timeline of the paint events).  This item asks the axes for their major ticks and
draws a line at each: a handful of cosmetic lines, nothing cached.  (The plot's own context
menu can still switch pyqtgraph's axis grid on as well.)
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter


class AxisGrid(pg.GraphicsObject):
    """Grid lines of ``plot``'s bottom and left axes; add it with ``ignoreBounds=True``."""

    def __init__(self, plot: pg.PlotItem, alpha: float = 0.2) -> None:
        super().__init__()
        self._bottom, self._left = plot.getAxis("bottom"), plot.getAxis("left")
        self._view = plot.getViewBox()
        self._pen = pg.mkPen((0, 0, 0, round(255 * alpha)), width=1, cosmetic=True)
        self.setZValue(-5)  # over the Voronoi cells, under everything else
        self._view.sigRangeChanged.connect(self._range_changed)

    def _range_changed(self, *_args) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._view.viewRect()

    def paint(self, painter: QPainter, *args) -> None:
        rect = self._view.viewRect()
        size = self._view.size()
        painter.setPen(self._pen)
        for x in _major_ticks(self._bottom, rect.left(), rect.right(), size.width()):
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        for y in _major_ticks(self._left, rect.top(), rect.bottom(), size.height()):
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))


def _major_ticks(axis: pg.AxisItem, low: float, high: float, pixels: float) -> list[float]:
    """The values of ``axis``'s major ticks between ``low`` and ``high``."""
    if pixels <= 0 or not high > low:
        return []
    levels = axis.tickValues(low, high, pixels)
    return [v for v in levels[0][1] if low <= v <= high] if levels else []

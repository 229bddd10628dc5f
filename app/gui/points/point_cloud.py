"""A scatter of many points in a few colours, drawn by Qt in one call per colour.

pyqtgraph's ScatterPlotItem keeps a Python record per point (symbol, size, pen, brush and an
atlas key): setting 8,000 points cost 100 ms of GUI time while a worker ran, and the window
froze.  Here the points of each colour go into one QPolygonF (filled from numpy without a Python
loop); painting maps them to the screen in one call and blits a pre-drawn dot at each with
``drawPixmapFragments`` (1.6 ms for 8,000 points, where ``drawPoints`` with a round
antialiased pen took 28 ms).  The dots keep their size in screen pixels whatever the zoom.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap, QPolygonF


def _dot(color: QColor, size: float) -> QPixmap:
    """An antialiased disc of diameter ``size`` on a transparent square."""
    side = int(np.ceil(size)) + 2
    pixmap = QPixmap(side, side)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF((side - size) / 2, (side - size) / 2, size, size))
    painter.end()
    return pixmap


def _polygon(xy: np.ndarray) -> QPolygonF:
    poly = fn.create_qpolygonf(len(xy))
    if len(xy):  # an empty polygon has no buffer to write to
        fn.ndarray_from_qpolygonf(poly)[:] = xy
    return poly


class PointCloudItem(pg.GraphicsObject):
    """Points coloured by group: ``set_points(xy, groups)`` with ``xy`` (n, 2) and ``groups``
    (n,) indices into the colours given at construction."""

    def __init__(self, colors: list[QColor], size: float = 6.0):
        super().__init__()
        self._dots = [_dot(color, size) for color in colors]
        self._size = size
        self._polygons: list[QPolygonF] = []
        self._counts: list[int] = []
        self._bounds = QRectF()

    def set_points(self, xy: np.ndarray, groups: np.ndarray) -> None:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        groups = np.asarray(groups)
        self.prepareGeometryChange()
        self._polygons, self._counts = [], []
        for g in range(len(self._dots)):
            part = xy[groups == g]
            self._counts.append(len(part))
            self._polygons.append(_polygon(part))
        if len(xy):
            (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = QRectF()
        self.informViewBoundsChanged()
        self.update()

    def counts(self) -> list[int]:
        """Points drawn in each colour."""
        return list(self._counts)

    # -- what pyqtgraph asks of a plotted item ---------------------------------------------------

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if self._bounds.isNull():
            return (None, None)
        if ax == 0:
            return (self._bounds.left(), self._bounds.right())
        return (self._bounds.top(), self._bounds.bottom())

    def pixelPadding(self) -> float:
        return self._size / 2

    def boundingRect(self) -> QRectF:
        if self._bounds.isNull():
            return QRectF()
        # pad by the dot radius, in data units at the current zoom
        px, py = self.pixelVectors()
        pad_x = 0.0 if px is None else px.length() * self._size
        pad_y = 0.0 if py is None else py.length() * self._size
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def paint(self, painter: QPainter, *args) -> None:
        screen = painter.transform()
        painter.resetTransform()  # the fragments are placed in device pixels
        for dot, poly in zip(self._dots, self._polygons, strict=False):
            n = poly.size()
            if not n:
                continue
            xy = fn.ndarray_from_qpolygonf(screen.map(poly))
            side = dot.width()
            fragments = PrimitiveArray(QPainter.PixmapFragment, 10)
            fragments.resize(n)
            # x, y, source left, top, width, height, scale x, y, rotation, opacity
            columns = fragments.ndarray()
            columns[:, :2] = xy
            columns[:, 2:] = (0.0, 0.0, side, side, 1.0, 1.0, 0.0, 1.0)
            painter.drawPixmapFragments(*fragments.drawargs(), dot)
        painter.setTransform(screen)

"""Original and recoloured images side by side, with linked zoom and pan (pyqtgraph).

Both views show the image in image coordinates (one unit per pixel of the full-size image), so
a low-resolution live preview and the full-size result occupy the same place and the two views
can share their ranges.

Drawing a 12-megapixel image whole costs pyqtgraph 400-550 ms a paint here (it converts every
pixel), far too long for the GUI thread.  So each view shows only the visible part, taking
every ``step``-th pixel so that it has about as many pixels as the screen (a strided numpy
view: no averaging, which would blend palette colours into colours the palette does not have);
it is re-cut, debounced, whenever the range or the widget size changes.  Compare mode shows the
original in the right-hand view as well, for flicking between the two at one spot.

The importance brush (issue 17) paints on the original, into a mask of at most ``MASK_SIDE``
pixels a side stretched over the image (a brush is coarse, and a 12 MP mask would cost 400 ms a
repaint): pyqtgraph's draw kernel writes a disc of 1 (brush) or 0 (eraser) into it at each drag
step, and ``importanceChanged`` fires when a stroke ends.  The eyedropper reports the image pixel
clicked (``picked``).

An image with alpha is drawn over a checkerboard (white and light grey squares, as image editors
show transparency), one item under each image: ``CHECKS`` squares across the longer side, a
small array stretched over the image, so it costs nothing per frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from palettelab.core.quantization.compare import HEAT_SCALE  # numpy only: no Numba at start-up

#: delay before re-cutting the visible part after a zoom, pan or resize
RECUT_MS = 30
#: the importance mask's longer side, at most
MASK_SIDE = 1024
#: how painted (importance) pixels are tinted on the original: orange, half transparent
MASK_LUT = np.array([[0, 0, 0, 0], [255, 140, 0, 120]], dtype=np.uint8)
TOOLS = ("none", "brush", "eraser", "eyedropper")
#: checkerboard squares across the longer side of an image with alpha
CHECKS = 48
#: the checkerboard's two greys
CHECK_GREYS = (255, 204)


def checkerboard(width: int, height: int) -> tuple[np.ndarray, QRectF]:
    """The checkerboard behind a ``width`` x ``height`` image: (grey squares, one pixel each,
    as (rows, cols, 3) uint8; the rectangle they are stretched over in image coordinates)."""
    cell = max(1.0, max(width, height) / CHECKS)
    cols, rows = int(np.ceil(width / cell)), int(np.ceil(height / cell))
    parity = np.add.outer(np.arange(rows), np.arange(cols)) % 2
    greys = np.where(parity == 0, CHECK_GREYS[0], CHECK_GREYS[1]).astype(np.uint8)
    return np.repeat(greys[..., None], 3, axis=2), QRectF(0, 0, cols * cell, rows * cell)


class _Title(pg.LabelItem):
    """A view's title that never sizes its column.

    Left to the grid layout, the titles' text widths ("Original" 55 px, "Recoloured" 75 px)
    made the views 628 and 449 px wide in a 1100 px window, and the linked right-hand view then
    showed only the middle of what the left one showed.  With no width of their own the two
    columns hold only the two identical view boxes, so they are always equal.
    """

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[hint] = (0, self._sizeHint[hint][1])
        self.updateGeometry()


class _MaskItem(pg.ImageItem):
    """The importance overlay on the original: painted by pyqtgraph's draw kernel; reports
    each finished stroke, and clicks in eyedropper mode."""

    def __init__(self, pair: ImagePair) -> None:
        super().__init__(axisOrder="row-major")
        self._pair = pair

    def mouseDragEvent(self, ev) -> None:
        super().mouseDragEvent(ev)
        if self.drawKernel is not None and ev.isFinish():
            self._pair.stroke_done()

    def mouseClickEvent(self, ev) -> None:
        left = ev.button() == Qt.MouseButton.LeftButton
        if left and self._pair.tool == "eyedropper":
            ev.accept()
            self._pair.pick(ev.pos())
            return
        super().mouseClickEvent(ev)
        if left and self.drawKernel is not None:
            self._pair.stroke_done()

    def hoverEvent(self, ev) -> None:
        if not ev.isExit() and self._pair.tool == "eyedropper":
            ev.acceptClicks(Qt.MouseButton.LeftButton)
            return
        super().hoverEvent(ev)


class ImagePair(QWidget):
    """Two linked image views: "Original" and "Recoloured"."""

    compareChanged = Signal(bool)
    importanceChanged = Signal()  # a brush or eraser stroke ended, or the mask was cleared
    picked = Signal(int, int)  # eyedropper: x, y of the image pixel clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = pg.GraphicsLayoutWidget()
        self._layout.setBackground("#2b2b2b")
        self._titles = []
        self._views: list[pg.ViewBox] = []
        self._items: list[pg.ImageItem] = []
        self._boards: list[pg.ImageItem] = []  # the checkerboard under each image
        for col, title in enumerate(("Original", "Recoloured")):
            label = _Title(title, color="#dddddd")
            self._layout.addItem(label, row=0, col=col)
            self._titles.append(label)
            view = self._layout.addViewBox(row=1, col=col, lockAspect=True, invertY=True,
                                           enableMenu=False)
            board = pg.ImageItem(axisOrder="row-major")
            board.setZValue(-1)
            board.hide()
            view.addItem(board)
            item = pg.ImageItem(axisOrder="row-major")
            view.addItem(item)
            self._views.append(view)
            self._items.append(item)
            self._boards.append(board)
        self._mask_item = _MaskItem(self)
        self._mask_item.setZValue(1)
        self._views[0].addItem(self._mask_item)
        self._mask: np.ndarray | None = None  # (mh, mw) uint8 0/1, painted importance
        self._mask_scale = 1  # image pixels per mask pixel
        self.tool = "none"
        self.brush_size = 40  # diameter, image pixels
        self._views[1].setXLink(self._views[0])
        self._views[1].setYLink(self._views[0])
        grid = self._layout.ci.layout
        for col in (0, 1):
            grid.setColumnStretchFactor(col, 1)
        self._hint = QLabel("Open an image (File > Open, or drop a file here)")
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._layout)
        layout.addWidget(self._hint)
        self._size: tuple[int, int] | None = None
        self._original: np.ndarray | None = None
        self._recoloured: np.ndarray | None = None
        self._shown: list[np.ndarray | None] = [None, None]
        self._compare = False
        self._error_map: np.ndarray | None = None  # shown instead of the recoloured image
        self._recut = QTimer(self)
        self._recut.setSingleShot(True)
        self._recut.setInterval(RECUT_MS)
        self._recut.timeout.connect(self._refresh)
        self._views[0].sigRangeChanged.connect(self._recut.start)
        self._views[0].sigResized.connect(self._recut.start)

    # --- content --------------------------------------------------------------------------------

    def set_original(self, pixels: np.ndarray) -> None:
        """A new image: show it on the left, clear the right, fit both to the window."""
        h, w = pixels.shape[:2]
        self._size = (w, h)
        self._original = pixels
        self._recoloured = None
        self._hint.hide()
        self._shown = [pixels, None]
        self._items[1].clear()
        self._new_mask(w, h)
        board, rect = checkerboard(w, h)
        for item in self._boards:
            item.setImage(board, autoLevels=False, levels=None)
            item.setRect(rect)
        self._show_boards()
        self.fit()
        self._refresh()

    def set_recoloured(self, pixels: np.ndarray) -> None:
        """The recoloured image, full size or a smaller preview stretched to the same place.
        An error map shown for the previous one goes (it no longer matches)."""
        self._recoloured = pixels
        self._error_map = None
        self._show_right()

    def set_error_map(self, heat: np.ndarray | None) -> None:
        """Show ``heat`` (a per-pixel error picture of the recoloured image, any size: it is
        stretched over the image) on the right instead of the recoloured image; None shows the
        recoloured image again."""
        self._error_map = heat
        self._show_right()

    def showing_error_map(self) -> bool:
        return self._error_map is not None and not self._compare

    def _show_right(self) -> None:
        """The right-hand view: the original when comparing, else the error map when there is
        one, else the recoloured image."""
        if self._compare:
            shown, title = self._original, "Original (compare)"
        elif self._error_map is not None:
            shown, title = self._error_map, f"OKLab error (black 0, yellow {HEAT_SCALE} and up)"
        else:
            shown, title = self._recoloured, "Recoloured"
        self._titles[1].setText(title)
        self._shown[1] = shown
        self._show_boards()
        if shown is None:
            self._items[1].clear()
        else:
            self._refresh_item(1)

    # --- importance and the eyedropper ----------------------------------------------------------

    def _new_mask(self, width: int, height: int) -> None:
        self._mask_scale = max(1, -(-max(width, height) // MASK_SIDE))
        scale = self._mask_scale
        self._mask = np.zeros((-(-height // scale), -(-width // scale)), dtype=np.uint8)
        self._mask_item.setImage(self._mask, autoLevels=False, levels=(0, 1), lut=MASK_LUT)
        self._mask_item.setRect(QRectF(0, 0, self._mask.shape[1] * scale,
                                       self._mask.shape[0] * scale))
        self._apply_tool()

    def set_tool(self, tool: str) -> None:
        """"brush" or "eraser" paint the importance mask on the original, "eyedropper" picks a
        pixel, "none" pans and zooms."""
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {TOOLS}, got {tool!r}")
        self.tool = tool
        self._apply_tool()

    def set_brush_size(self, size: int) -> None:
        """The brush's diameter in image pixels."""
        self.brush_size = max(1, int(size))
        self._apply_tool()

    def _apply_tool(self) -> None:
        painting = self.tool in ("brush", "eraser") and self._mask is not None
        self._views[0].setMouseEnabled(not painting, not painting)
        if not painting:
            self._mask_item.setDrawKernel(None)
            return
        radius = max(0.5, self.brush_size / self._mask_scale / 2)
        side = int(np.ceil(radius)) * 2 + 1
        centre = side // 2
        yy, xx = np.mgrid[:side, :side]
        disc = ((yy - centre) ** 2 + (xx - centre) ** 2 <= radius**2).astype(np.uint8)
        value = 1 if self.tool == "brush" else 0
        self._mask_item.setDrawKernel(np.full((side, side), value, np.uint8), mask=disc,
                                      center=(centre, centre), mode="set")

    def stroke_done(self) -> None:
        self.importanceChanged.emit()

    def pick(self, pos) -> None:
        """An eyedropper click at ``pos`` (mask item coordinates): the image pixel there."""
        if self._size is None:
            return
        w, h = self._size
        x = min(w - 1, max(0, int(pos.x() * self._mask_scale)))
        y = min(h - 1, max(0, int(pos.y() * self._mask_scale)))
        self.picked.emit(x, y)

    def importance(self) -> np.ndarray | None:
        """The painted mask ((mh, mw) uint8, 1 where painted; :attr:`mask_scale` image pixels a
        mask pixel each way), or None when nothing is painted."""
        if self._mask is None or not self._mask.any():
            return None
        return self._mask.copy()

    @property
    def mask_scale(self) -> int:
        return self._mask_scale

    def paint_importance(self, x0: int, y0: int, x1: int, y1: int, value: int = 1) -> None:
        """Paint (1) or erase (0) the image rectangle [x0, x1) x [y0, y1), as strokes do (for
        scripts and tests)."""
        scale = self._mask_scale
        self._mask[y0 // scale:-(-y1 // scale), x0 // scale:-(-x1 // scale)] = value
        self._mask_item.updateImage()
        self.importanceChanged.emit()

    def clear_importance(self) -> None:
        if self._mask is not None and self._mask.any():
            self._mask[:] = 0
            self._mask_item.updateImage()
            self.importanceChanged.emit()

    def _show_boards(self) -> None:
        """A checkerboard under each view that shows an image with alpha."""
        for board, shown in zip(self._boards, self._shown, strict=True):
            board.setVisible(shown is not None and shown.ndim == 3 and shown.shape[2] == 4)

    def showing_checkerboard(self, index: int) -> bool:
        """Whether view ``index`` draws its image over the checkerboard (for tests)."""
        return self._boards[index].isVisible()

    def _refresh(self) -> None:
        for index in (0, 1):
            self._refresh_item(index)

    def _refresh_item(self, index: int) -> None:
        """Show the visible part of image ``index`` at about screen resolution."""
        pixels = self._shown[index]
        item = self._items[index]
        if pixels is None or self._size is None:
            return
        w, h = self._size
        if pixels.shape[1] != w:  # a live preview: small, shown whole over the full-size area
            item.setImage(pixels, autoLevels=False, levels=None)
            item.setRect(QRectF(0, 0, w, h))
            return
        view = self._views[index]
        rect = view.viewRect().intersected(QRectF(0, 0, w, h))
        if rect.isEmpty():
            rect = QRectF(0, 0, w, h)
        screen = max(1.0, view.sceneBoundingRect().width() * (self.devicePixelRatioF() or 1.0))
        step = max(1, int(rect.width() / screen))
        x0 = int(rect.left()) // step * step
        y0 = int(rect.top()) // step * step
        x1 = min(w, int(np.ceil(rect.right())) + step)
        y1 = min(h, int(np.ceil(rect.bottom())) + step)
        crop = np.ascontiguousarray(pixels[y0:y1:step, x0:x1:step])
        item.setImage(crop, autoLevels=False, levels=None)
        item.setRect(QRectF(x0, y0, crop.shape[1] * step, crop.shape[0] * step))

    # --- navigation -----------------------------------------------------------------------------

    def fit(self) -> None:
        """Fit the whole image in the views (Ctrl+0)."""
        if self._size is not None:
            self._views[0].setRange(QRectF(0, 0, *self._size), padding=0.02)

    def actual_size(self) -> None:
        """One image pixel per screen pixel, around the current centre (Ctrl+1).

        The scale comes from the view's own mapping to the screen, not from its size: the view
        box draws into a rectangle half a pixel smaller than its geometry, and sizing the range
        from the geometry gave 0.9989x (a column in 900 dropped).
        """
        if self._size is None:
            return
        view = self._views[0]
        rect = view.viewRect()
        per_x, per_y = view.viewPixelSize()  # image pixels per logical screen pixel now
        ratio = self.devicePixelRatioF() or 1.0
        width, height = rect.width() / per_x * ratio, rect.height() / per_y * ratio
        centre = rect.center()
        view.setRange(QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height),
                      padding=0)

    def set_compare(self, on: bool) -> None:
        """Show the original in the right-hand view too (to flick between them)."""
        self._compare = on
        self._show_right()
        self.compareChanged.emit(on)

    def view_range(self) -> QRectF:
        """The visible part of the image (shared by both views)."""
        return self._views[0].viewRect()

    def shown_resolution(self, index: int) -> tuple[int, int, int]:
        """(width, height, step) of what view ``index`` draws now (for tests)."""
        image = self._items[index].image
        if image is None:
            return 0, 0, 0
        rect = self._items[index].mapRectToParent(self._items[index].boundingRect())
        return image.shape[1], image.shape[0], round(rect.width() / image.shape[1])

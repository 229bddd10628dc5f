"""Original and recoloured images side by side, with linked zoom and pan (pyqtgraph).

Both views show the image in image coordinates (one unit per pixel of the full-size image), so
a low-resolution live preview and the full-size result occupy the same place and the two views
can share their ranges.  ``autoDownsample`` keeps drawing a 12-megapixel image cheap when it is
zoomed out.  Compare mode shows the original in the right-hand view as well, for flicking
between the two at the same spot.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ImagePair(QWidget):
    """Two linked image views: "Original" and "Recoloured"."""

    compareChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = pg.GraphicsLayoutWidget()
        self._layout.setBackground("#2b2b2b")
        self._titles = []
        self._views: list[pg.ViewBox] = []
        self._items: list[pg.ImageItem] = []
        for col, title in enumerate(("Original", "Recoloured")):
            label = self._layout.addLabel(title, row=0, col=col, color="#dddddd")
            self._titles.append(label)
            view = self._layout.addViewBox(row=1, col=col, lockAspect=True, invertY=True,
                                           enableMenu=False)
            item = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
            view.addItem(item)
            self._views.append(view)
            self._items.append(item)
        self._views[1].setXLink(self._views[0])
        self._views[1].setYLink(self._views[0])
        self._hint = QLabel("Open an image (File > Open, or drop a file here)")
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._layout)
        layout.addWidget(self._hint)
        self._size: tuple[int, int] | None = None
        self._original: np.ndarray | None = None
        self._recoloured: np.ndarray | None = None
        self._compare = False

    # --- content --------------------------------------------------------------------------------

    def set_original(self, pixels: np.ndarray) -> None:
        """A new image: show it on the left, clear the right, fit both to the window."""
        h, w = pixels.shape[:2]
        self._size = (w, h)
        self._original = pixels
        self._recoloured = None
        self._hint.hide()
        self._show(0, pixels)
        self._items[1].clear()
        self.fit()

    def set_recoloured(self, pixels: np.ndarray) -> None:
        """The recoloured image, full size or a smaller preview stretched to the same place."""
        self._recoloured = pixels
        if not self._compare:
            self._show(1, pixels)

    def _show(self, index: int, pixels: np.ndarray) -> None:
        item = self._items[index]
        item.setImage(pixels, autoLevels=False, levels=(0, 255))
        if self._size is not None:
            item.setRect(QRectF(0, 0, *self._size))

    # --- navigation -----------------------------------------------------------------------------

    def fit(self) -> None:
        """Fit the whole image in the views (Ctrl+0)."""
        if self._size is not None:
            self._views[0].setRange(QRectF(0, 0, *self._size), padding=0.02)

    def actual_size(self) -> None:
        """One image pixel per screen pixel, around the current centre (Ctrl+1)."""
        if self._size is None:
            return
        view = self._views[0]
        rect = view.sceneBoundingRect()
        ratio = self.devicePixelRatioF() or 1.0
        width, height = rect.width() * ratio, rect.height() * ratio
        centre = view.viewRect().center()
        view.setRange(QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height),
                      padding=0)

    def set_compare(self, on: bool) -> None:
        """Show the original in the right-hand view too (to flick between them)."""
        self._compare = on
        self._titles[1].setText("Original (compare)" if on else "Recoloured")
        if on and self._original is not None:
            self._show(1, self._original)
        elif self._recoloured is not None:
            self._show(1, self._recoloured)
        self.compareChanged.emit(on)

    def view_range(self) -> QRectF:
        """The visible part of the image (shared by both views)."""
        return self._views[0].viewRect()

    def right_view_range(self) -> QRectF:
        return self._views[1].viewRect()

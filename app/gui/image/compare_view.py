"""Every quantizer installed, side by side on the open image (issue 17, item 2).

Image > Compare Methods opens this window beside the main one.  The worker runs the methods
of :mod:`palettelab.core.quantization.compare` one after another on the full image (our
k-means in OKLab and RGB, Pillow's median cut, fast octree and maximum coverage, pngquant and
libimagequant when installed) and sends each result as it is done, with small pictures of the
result and of its per-pixel OKLab error computed in the worker; this view only shows them.
A card gives the method's PSNR, OKLab error (ΔE), colours and seconds; the lowest ΔE is
starred once all are in.  "Show error maps" swaps every picture for its heat map (black: no
error, pale yellow: 0.08 and above, one scale for all).  Clicking a card continues from that
method's palette: the Image workspace remaps the image to it, and its colours can then be
edited, locked and exported as any result.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from palettelab.app.gui.image.worker import Compared
from palettelab.core.quantization.compare import over_checkerboard

#: cards a row
COLUMNS = 3


def pixmap(pixels: np.ndarray) -> QPixmap:
    """An (h, w, 3|4) uint8 array as a pixmap; transparency over a checkerboard."""
    h, w = pixels.shape[:2]
    rgb = over_checkerboard(pixels)
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # copy: the array goes away


def caption(entry: Compared, best: bool = False) -> str:
    star = " ★" if best else ""
    return (f"{entry.name}{star}\nPSNR {entry.psnr:.2f} dB   ΔE {entry.oklab_error:.4f}\n"
            f"{entry.colours} colours   {entry.seconds:.2f} s")


class CompareView(QDialog):
    """The compare window: a card a method; see the module docstring."""

    chosen = Signal(str, object)  # method name, its palette (n, 3) uint8
    closed = Signal()  # closed or dismissed (Esc): the methods not run yet are not needed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare Methods")
        self.setModal(False)
        self.resize(1080, 760)
        self.job = 0
        self.complete = False  # every method of the job is in
        self.entries: dict[str, Compared] = {}
        self.cards: dict[str, QToolButton] = {}
        self.status_label = QLabel()
        self.heat_box = QCheckBox("Show error maps")
        self.heat_box.setToolTip("Per-pixel OKLab error of each result: black is exact, pale "
                                 "yellow 0.08 (four just-noticeable differences) and above")
        self.heat_box.toggled.connect(self._redraw)
        self._grid = QGridLayout()
        cards = QWidget()
        cards.setLayout(self._grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(cards)
        top = QHBoxLayout()
        top.addWidget(self.status_label, 1)
        top.addWidget(self.heat_box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)

    def start(self, job: int, n_colors: int) -> None:
        """A new comparison (job ``job``) of ``n_colors`` colours: the old cards go."""
        self.job = job
        self.complete = False
        self.entries.clear()
        for card in self.cards.values():
            card.deleteLater()
        self.cards.clear()
        self.status_label.setText(f"Comparing {n_colors} colours: every method on the whole "
                                  f"image…")

    def add(self, entry: Compared) -> None:
        """One method is done: its card."""
        if entry.job != self.job:
            return
        self.entries[entry.name] = entry
        card = QToolButton()
        card.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        card.setAutoRaise(True)
        card.setToolTip(f"Continue from {entry.name}'s palette ({entry.colours} colours)")
        card.clicked.connect(lambda _=False, name=entry.name: self._choose(name))
        index = len(self.cards)
        self._grid.addWidget(card, index // COLUMNS, index % COLUMNS)
        self.cards[entry.name] = card
        self._draw(entry.name)
        self.status_label.setText(f"{len(self.cards)} done; running the next method…")

    def all_in(self, job: int) -> None:
        """Every method is in: star the lowest error."""
        if job != self.job or not self.entries:
            return
        self.complete = True
        best = self.best()
        self._redraw()
        self.status_label.setText(f"Lowest OKLab error: {best}. Click a result to continue "
                                  f"from its palette.")

    def failed(self, job: int, message: str) -> None:
        if job == self.job:
            self.status_label.setText(f"Comparison stopped: {message}")

    def best(self) -> str | None:
        """The method with the lowest OKLab error so far."""
        if not self.entries:
            return None
        return min(self.entries.values(), key=lambda e: e.oklab_error).name

    def _draw(self, name: str, best: bool = False) -> None:
        entry, card = self.entries[name], self.cards[name]
        picture = entry.heat if self.heat_box.isChecked() else entry.thumbnail
        card.setIcon(pixmap(picture))
        card.setIconSize(QSize(picture.shape[1], picture.shape[0]))
        card.setText(caption(entry, best))

    def _redraw(self) -> None:
        best = self.best() if self.complete else None
        for name in self.cards:
            self._draw(name, best=name == best)

    def closeEvent(self, event) -> None:
        self.closed.emit()
        super().closeEvent(event)

    def reject(self) -> None:
        self.closed.emit()
        super().reject()

    def _choose(self, name: str) -> None:
        self.chosen.emit(name, self.entries[name].palette)

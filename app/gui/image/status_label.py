"""A status-bar label that never shows a cut-off text.

A plain QLabel in the status bar was cut mid-word by the progress bar beside it during a run
("clustering (iteration 15").  This one asks for its whole text's width but accepts less, and
then draws the text elided with "…" at the end; the whole text is always in its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

#: the narrowest the label lets a layout make it, in characters of "x"
MIN_CHARS = 12


class ElidedLabel(QLabel):
    """One line of text, elided at the right when the layout gives it less than its width."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("x" * MIN_CHARS)),
                     hint.height())

    def displayed_text(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:
        with QPainter(self) as painter:
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.contentsRect(), int(self.alignment()), self.displayed_text())

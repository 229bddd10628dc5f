"""The strip of an image set (issue 17): every member's picture with its share, and for an
animation a preview that plays the recoloured frames at their own timing.

The pictures are small copies made in the worker (``SET_THUMBNAIL`` pixels a side): the strip
draws them as they come, the originals at first and each member recoloured with the shared
palette after every run.  Clicking one shows that member in the main views.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from palettelab.app.gui.image.compare_view import pixmap
from palettelab.app.gui.image.worker import SET_THUMBNAIL, Member, SetInfo

#: the frame time used when an animation gives none (browsers use 100 ms for 0 and 10 ms)
DEFAULT_FRAME_MS = 100


class SetStrip(QWidget):
    """Members of an image set side by side; ``selected(index)`` when one is clicked."""

    selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setIconSize(QSize(SET_THUMBNAIL // 2, SET_THUMBNAIL // 2))
        self.list.setGridSize(QSize(SET_THUMBNAIL, SET_THUMBNAIL // 2 + 44))
        self.list.setFixedHeight(SET_THUMBNAIL // 2 + 56)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._row_changed)
        self.title = QLabel()
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the animation recoloured with the shared palette")
        self.play_button.toggled.connect(self._play_toggled)
        self.player = QLabel()
        self.player.setFixedSize(SET_THUMBNAIL, SET_THUMBNAIL)
        self.player.setAlignment(Qt.AlignmentFlag.AlignCenter)
        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.play_button)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(side)
        layout.addWidget(self.player)
        layout.addWidget(self.list, 1)
        self._info: SetInfo | None = None
        self._frames: list[QPixmap] = []
        self._frame = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next_frame)
        self.hide()

    def set_info(self, info: SetInfo | None) -> None:
        """A new set (or None: a single image, the strip hides)."""
        self.play_button.setChecked(False)
        self._info = info
        self.list.blockSignals(True)
        self.list.clear()
        if info is None:
            self.list.blockSignals(False)
            self.hide()
            return
        kind = "frames" if info.durations is not None else "images"
        self.title.setText(f"{info.title}\n{len(info.names)} {kind}, one palette")
        for name, share, thumb in zip(info.names, info.shares, info.thumbnails, strict=True):
            item = QListWidgetItem(QIcon(pixmap(thumb)), f"{name}\n{share:.0%} of the pixels")
            item.setToolTip(f"{name}: {share:.1%} of the set's pixels")
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self._frames = [pixmap(t) for t in info.thumbnails]
        self.player.setVisible(info.durations is not None)
        self.play_button.setVisible(info.durations is not None)
        self._show_frame(0)
        self.show()

    def set_members(self, members: tuple[Member, ...], k: int) -> None:
        """A result's members: their pictures recoloured with the shared palette of ``k``."""
        if self._info is None or len(members) != self.list.count():
            return
        self._frames = []
        for row, (member, name, share) in enumerate(zip(members, self._info.names,
                                                        self._info.shares, strict=True)):
            picture = pixmap(member.thumbnail)
            self._frames.append(picture)
            item = self.list.item(row)
            item.setIcon(QIcon(picture))
            item.setText(f"{name}\n{share:.0%} · {member.colours} of {k} colours")
            item.setToolTip(f"{name}: {share:.1%} of the set's pixels, uses {member.colours} "
                            f"of the {k} shared colours")
        if not self._timer.isActive():
            self._show_frame(self._frame)

    def show_member(self, index: int) -> None:
        """Select member ``index`` without asking for it (an undo brought it back)."""
        self.list.blockSignals(True)
        self.list.setCurrentRow(index)
        self.list.blockSignals(False)

    def playing(self) -> bool:
        return self._timer.isActive()

    def shown_frame(self) -> int:
        return self._frame

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.selected.emit(row)

    def _play_toggled(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            self._next_frame()
        else:
            self._timer.stop()

    def _next_frame(self) -> None:
        if not self._frames or self._info is None or self._info.durations is None:
            return
        self._show_frame((self._frame + 1) % len(self._frames))
        duration = self._info.durations[self._frame] or DEFAULT_FRAME_MS
        self._timer.start(max(20, duration))

    def _show_frame(self, index: int) -> None:
        if self._frames:
            self._frame = index
            self.player.setPixmap(self._frames[index])

"""The palette panel: one row per palette entry (swatch, hex code, share, lock), sorted by share.

Live previews call ``set_palette`` up to 30 times a second while a run is going, so rows are
updated in place: widgets are created or removed only when the number of entries changes, each
row touches a widget only when its value actually changed, and every label has a fixed size so
that a new text never sends a layout request up through 256 rows.

Locks are kept by colour value, not by row: a re-run reorders the palette (it is sorted by
share), and the user locked a colour, not a position.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QIcon,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from palettelab.core.color.codes import RGB, hex_color

UNKNOWN_SHARE = "–"
LOCK_TOOLTIP = "Lock this colour: it stays in the palette when you re-run"
CLICK_TOOLTIP = "Click to copy the hex code; double-click to pick a new colour"
SWATCH_SIZE = (28, 20)
MAX_ROWS = 256  # the largest palette
#: rows built per idle moment: 16 at once took up to 150 ms on a first start, while the worker
#: thread imported Numba (every Qt call of the batch waited for the GIL), 4 stay under 40 ms
POOL_BATCH = 4
MERGE_CHOICES = 8  # nearest colours offered in a row's "Merge With" menu
SHOW_BATCH = 24  # rows shown per event-loop turn when k grows


def _lock_icon(color: QColor) -> QIcon:
    """A drawn padlock, closed for the checked state and open otherwise.

    Drawn rather than the 🔒/🔓 emoji because many Linux desktops have no emoji font and would
    show empty boxes.
    """
    icon = QIcon()
    for state, shackle_top, right_leg_end in (
        (QIcon.State.On, 4.0, 14.0),  # closed: both legs reach the body
        (QIcon.State.Off, 0.0, 9.0),  # open: shackle raised, right leg out of the body
    ):
        pixmap = QPixmap(32, 32)
        pixmap.fill(Qt.GlobalColor.transparent)
        with QPainter(pixmap) as painter:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(color, 3.0))
            shackle = QPainterPath()
            shackle.moveTo(10.0, 14.0)
            shackle.lineTo(10.0, shackle_top + 6.0)
            shackle.arcTo(QRectF(10.0, shackle_top, 12.0, 12.0), 180.0, -180.0)
            shackle.lineTo(22.0, right_leg_end)
            painter.drawPath(shackle)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(QRectF(6.0, 14.0, 20.0, 15.0), 2.0, 2.0)
        icon.addPixmap(pixmap, QIcon.Mode.Normal, state)
    return icon


class _ClickLabel(QLabel):
    """A label that reports left clicks and double-clicks.

    A double-click arrives as press, release, double-click, release; the release that ends the
    double-click is swallowed so that one double-click copies once, not twice.
    """

    clicked = Signal()
    doubleClicked = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._swallow_release = False
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(CLICK_TOOLTIP)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # A new click starts here (the double-click event comes after its press, if at all).
        self._swallow_release = False
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and inside and not self._swallow_release:
            self.clicked.emit()
        self._swallow_release = False
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        super().mouseDoubleClickEvent(event)  # QWidget's calls mousePressEvent: so it goes first
        if event.button() == Qt.MouseButton.LeftButton:
            self._swallow_release = True
            self.doubleClicked.emit()


class _Swatch(_ClickLabel):
    """The entry's colour, painted directly: a style sheet per swatch would re-polish the widget
    on every live update."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._color = QColor(0, 0, 0)
        self.setFixedSize(*SWATCH_SIZE)

    def set_color(self, color: QColor) -> None:
        self._color = color
        self.update()

    def color(self) -> QColor:
        return QColor(self._color)

    def paintEvent(self, event: QPaintEvent) -> None:
        with QPainter(self) as painter:
            if self._color.alpha() < 255:  # a checkerboard shows through, as in the views
                cell = SWATCH_SIZE[1] // 4
                for y in range(0, self.height(), cell):
                    for x in range(0, self.width(), cell):
                        grey = 255 if (x // cell + y // cell) % 2 == 0 else 204
                        painter.fillRect(x, y, cell, cell, QColor(grey, grey, grey))
            painter.fillRect(self.rect(), self._color)
            painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))


class _PaletteRow(QWidget):
    """Row ``index`` of the panel. Rows are positional: row i always shows palette entry i."""

    copyRequested = Signal(int)
    editRequested = Signal(int)
    lockClicked = Signal(int, bool)
    menuRequested = Signal(int, QPoint)  # right click: index, global position

    def __init__(
        self, index: int, lock_icon: QIcon, hex_size: QSize, share_size: QSize, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._index = index
        self._rgb: RGB | None = None
        self._alpha = 255
        self._share: str | None = None
        self.setObjectName("paletteRow")

        self.swatch = _Swatch(self)
        self.hex_label = _ClickLabel(self)
        self.hex_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.hex_label.setFixedSize(hex_size)
        self.share_label = QLabel(self)
        self.share_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.share_label.setFixedSize(share_size)
        self.lock_button = QToolButton(self)
        self.lock_button.setCheckable(True)
        self.lock_button.setAutoRaise(True)
        self.lock_button.setIcon(lock_icon)
        self.lock_button.setToolTip(LOCK_TOOLTIP)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 1, 4, 1)
        layout.setSpacing(8)
        layout.addWidget(self.swatch)
        layout.addWidget(self.hex_label)
        layout.addWidget(self.share_label)
        layout.addStretch(1)
        layout.addWidget(self.lock_button)

        for label in (self.swatch, self.hex_label):
            label.clicked.connect(lambda: self.copyRequested.emit(self._index))
            label.doubleClicked.connect(lambda: self.editRequested.emit(self._index))
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu_at)
        # ``clicked`` (not ``toggled``) so that the panel's own setChecked calls do not echo back.
        self.lock_button.clicked.connect(
            lambda checked: self.lockClicked.emit(self._index, checked)
        )

    def _menu_at(self, pos: QPoint) -> None:
        self.menuRequested.emit(self._index, self.mapToGlobal(pos))

    def set_entry(self, rgb: RGB, share: str, locked: bool, alpha: int = 255) -> None:
        """Show ``rgb`` (at ``alpha``: a palette with alpha shows #rrggbbaa over a
        checkerboard) with its share text; cheap when nothing changed (the common live case)."""
        changed = False
        if (rgb, alpha) != (self._rgb, self._alpha):
            self._rgb, self._alpha = rgb, alpha
            code = hex_color(rgb) + (f"{alpha:02x}" if alpha < 255 else "")
            self.swatch.set_color(QColor(*rgb, alpha))
            self.hex_label.setText(code)
            self.lock_button.setAccessibleName(f"Lock {code}")
            changed = True
        if share != self._share:
            self._share = share
            self.share_label.setText(share)
            changed = True
        if changed:
            shown = "share unknown" if share == UNKNOWN_SHARE else f"{share} of the pixels"
            opacity = f", {alpha / 255:.0%} opaque" if alpha < 255 else ""
            self.setAccessibleName(f"Colour {self._index + 1}: {hex_color(rgb)}{opacity}, "
                                   f"{shown}")
        self.set_locked(locked)

    def set_locked(self, locked: bool) -> None:
        if self.lock_button.isChecked() != locked:
            self.lock_button.setChecked(locked)


class PalettePanel(QWidget):
    """The palette of the quantized image, one row per entry in the order given (by share).

    The panel never changes the palette itself: an edit is reported through ``colorEdited`` and
    the window re-runs the remap and calls ``set_palette``. ``lockedChanged`` is emitted only when
    the user clicks a lock button; the window's own calls (``set_locked_colors``,
    ``replace_locked``, ``set_palette``) do not echo back.

    Note that ``palette()`` returns the colours shown (an ndarray) and so shadows
    ``QWidget.palette()``; use ``QWidget.palette(panel)`` for the Qt palette.
    """

    colorEdited = Signal(int, object)
    lockedChanged = Signal()
    message = Signal(str)
    # by colour, not row: a live update may reorder the rows while the menu is open
    deleteRequested = Signal(object)  # the colour to drop (k - 1, re-converge)
    mergeRequested = Signal(object, object)  # two colours to merge into one (k - 1)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colors: list[RGB] = []
        self._palette = np.zeros((0, 3), dtype=np.uint8)
        self._alphas: list[int] = []
        self._locked: set[RGB] = set()
        self._rows: list[_PaletteRow] = []  # the first k of the pool, shown
        self._pool: list[_PaletteRow] = []
        self._lock_icon = _lock_icon(QWidget.palette(self).color(QPalette.ColorRole.ButtonText))

        # Fixed label sizes, measured once: room for any hex code and for "100.0%".
        mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        text = self.fontMetrics()
        height = max(SWATCH_SIZE[1], mono.height() + 2, text.height() + 2)
        self._hex_size = QSize(mono.horizontalAdvance("#88888888") + 6, height)
        self._share_size = QSize(text.horizontalAdvance("100.0%") + 6, height)

        title = QLabel("Palette", self)
        bold = title.font()
        bold.setBold(True)
        title.setFont(bold)
        self._count_label = QLabel(self)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self._count_label)

        self._rows_widget = QWidget()
        self._rows_layout = QVBoxLayout(self._rows_widget)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self._rows_layout.setSpacing(1)
        self._rows_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._rows_widget)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(scroll)
        self.setAccessibleName("Palette")
        self._update_count()
        self._pool_timer = QTimer(self)
        self._pool_timer.timeout.connect(self._grow_pool)
        self._pool_timer.start(0)
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_batch)

    def set_palette(self, palette: np.ndarray, counts: np.ndarray | None,
                    alpha: np.ndarray | None = None) -> None:
        """Show ``palette`` ((k, 3) uint8 sRGB, already sorted) with pixel ``counts`` (k,) and,
        for a palette with alpha, each entry's ``alpha`` (k,).

        ``counts`` is None during a live preview, when shares are not known yet. The arrays are
        copied: a worker may reuse its buffers for the next update.
        """
        palette = np.asarray(palette)
        if palette.ndim != 2 or palette.shape[1] != 3 or palette.dtype != np.uint8:
            raise ValueError(
                f"palette must be a (k, 3) uint8 array, got {palette.dtype} {palette.shape}"
            )
        k = palette.shape[0]
        if counts is None:
            shares = [UNKNOWN_SHARE] * k
        else:
            counts = np.asarray(counts)
            if counts.shape != (k,):
                raise ValueError(f"counts must have shape ({k},), got {counts.shape}")
            total = float(counts.sum())
            if total > 0:
                shares = [f"{s:.1f}%" for s in (counts * (100.0 / total)).tolist()]
            else:
                shares = [UNKNOWN_SHARE] * k

        self._palette = palette.copy()
        self._colors = [tuple(c) for c in self._palette.tolist()]
        self._alphas = [255] * k if alpha is None else [int(a) for a in alpha]
        if k != len(self._rows):
            self._resize_rows(k)
            self._update_count()
        locked = self._locked
        for row, rgb, share, level in zip(self._rows, self._colors, shares, self._alphas,
                                          strict=True):
            row.set_entry(rgb, share, rgb in locked, level)

    def palette(self) -> np.ndarray:  # type: ignore[override]
        """The colours shown, (k, 3) uint8 (a copy)."""
        return self._palette.copy()

    def locked_colors(self) -> list[RGB]:
        """The locked colours present in the current palette, in palette order, each once."""
        seen: set[RGB] = set()
        result: list[RGB] = []
        for rgb in self._colors:
            if rgb in self._locked and rgb not in seen:
                seen.add(rgb)
                result.append(rgb)
        return result

    def lock_set(self) -> frozenset[RGB]:
        """Every locked colour, in the palette shown or not (for undo)."""
        return frozenset(self._locked)

    def set_locked_colors(self, colors: Iterable[Iterable[int]]) -> None:
        """Replace the locked set (e.g. to carry locks over to a new image).

        Colours not in the current palette are kept: they show as locked as soon as a palette
        containing them is shown.
        """
        self._locked = {_as_rgb(c) for c in colors}
        self._refresh_locks()

    def set_color_locked(self, rgb: Iterable[int], locked: bool) -> None:
        """Lock or unlock one colour (an edited colour is locked by the window)."""
        color = _as_rgb(rgb)
        if locked:
            self._locked.add(color)
        else:
            self._locked.discard(color)
        self._refresh_locks()

    def is_locked(self, rgb: Iterable[int]) -> bool:
        """Whether ``rgb`` is locked (shown in the palette or not)."""
        return _as_rgb(rgb) in self._locked

    def clear_locks(self) -> int:
        """Unlock every colour (a new image: its palette has other colours); how many were."""
        count = len(self._locked)
        self._locked = set()
        self._refresh_locks()
        return count

    def replace_locked(self, old_rgb: Iterable[int], new_rgb: Iterable[int]) -> None:
        """Move a lock from ``old_rgb`` to ``new_rgb``: called when the user edits a locked colour,
        so that the edited colour stays locked in the re-run. No-op if ``old_rgb`` is unlocked."""
        old = _as_rgb(old_rgb)
        if old in self._locked:
            self._locked.discard(old)
            self._locked.add(_as_rgb(new_rgb))
            self._refresh_locks()

    def changeEvent(self, event: QEvent) -> None:
        """Redraw the lock icon in the new text colour when the theme changes (e.g. dark mode)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._lock_icon = _lock_icon(QWidget.palette(self).color(QPalette.ColorRole.ButtonText))
            for row in self._rows:
                row.lock_button.setIcon(self._lock_icon)

    def _pick_color(self, initial: QColor) -> QColor | None:
        """Ask the user for a colour; None if cancelled. Separate so that tests can replace it."""
        color = QColorDialog.getColor(initial, self, "Edit palette colour")
        return color if color.isValid() else None

    def _new_row(self) -> None:
        """Add a hidden row to the pool (rows are never deleted, only shown and hidden)."""
        row = _PaletteRow(
            len(self._pool),
            self._lock_icon,
            self._hex_size,
            self._share_size,
            self._rows_widget,
        )
        row.copyRequested.connect(self._copy)
        row.editRequested.connect(self._edit)
        row.lockClicked.connect(self._on_lock_clicked)
        row.menuRequested.connect(self._show_row_menu)  # a bound method: a lambda on self
        # would keep every panel alive (and its row-building timers running) after it closed
        row.hide()
        self._rows_layout.insertWidget(len(self._pool), row)
        self._pool.append(row)

    def _grow_pool(self) -> None:
        """Build rows a few at a time while the app is idle, up to the largest palette, so that
        raising k later shows rows instead of building them (150 ms for 256 at once here)."""
        for _ in range(POOL_BATCH):
            if len(self._pool) >= MAX_ROWS:
                self._pool_timer.stop()
                return
            self._new_row()

    def _resize_rows(self, k: int) -> None:
        """Show exactly ``k`` rows: the first batch now, the rest over the next event-loop turns.

        Making 112 more rows visible at once (k 16 -> 128 during a live run) froze the window
        for 80 ms; a batch costs a few.  Rows beyond k are hidden, never deleted; rows the idle
        pool has not built yet are built here.
        """
        while len(self._pool) < k:
            self._new_row()
        for row in self._pool[k:len(self._rows)]:
            row.hide()
        self._rows = self._pool[:k]
        self._show_batch()

    def _show_batch(self) -> None:
        """Show up to SHOW_BATCH of the current rows still hidden; schedule the next batch."""
        hidden = [row for row in self._rows if row.isHidden()]
        # Rows are shown while their container is hidden: showing it then lays them out in one
        # go, where showing each row of a visible container costs a layout pass per row.
        self._rows_widget.hide()
        for row in hidden[:SHOW_BATCH]:
            row.show()
        self._rows_widget.show()  # visible again once the panel is (it may not be yet)
        if len(hidden) > SHOW_BATCH:
            self._show_timer.start(0)

    def _update_count(self) -> None:
        k = len(self._rows)
        self._count_label.setText(f"{k} colour" if k == 1 else f"{k} colours")

    def _refresh_locks(self) -> None:
        for row, rgb in zip(self._rows, self._colors, strict=True):
            row.set_locked(rgb in self._locked)

    def _copy(self, index: int) -> None:
        code = hex_color(self._colors[index])
        QGuiApplication.clipboard().setText(code)
        self.message.emit(f"Copied {code}")

    def _edit(self, index: int) -> None:
        old = self._colors[index]
        chosen = self._pick_color(QColor(*old))
        if chosen is None or not chosen.isValid():
            return
        new = (chosen.red(), chosen.green(), chosen.blue())
        if new == old:
            return
        # The dialog runs its own event loop while live updates keep arriving: report the index
        # the picked-from colour has now, or drop the edit if that colour is gone.
        if index >= len(self._colors) or self._colors[index] != old:
            if old not in self._colors:
                self.message.emit(f"{hex_color(old)} is no longer in the palette; edit dropped")
                return
            index = self._colors.index(old)
        self.colorEdited.emit(index, new)

    def _show_row_menu(self, index: int, where: QPoint) -> None:
        self.row_menu(index).exec(where)

    def row_menu(self, index: int) -> QMenu:
        """The right-click menu of entry ``index``: edit, copy, delete, merge with one of the
        nearest colours (in OKLab)."""
        menu = QMenu(self)
        code = hex_color(self._colors[index])
        menu.addAction("Edit Colour…", lambda: self._edit(index))
        menu.addAction(f"Copy {code}", lambda: self._copy(index))
        menu.addSeparator()
        colour = self._colors[index]
        delete = menu.addAction(f"Delete {code}", lambda: self.deleteRequested.emit(colour))
        merge = menu.addMenu("Merge With")
        for other in self._nearest(index):
            action = merge.addAction(hex_color(self._colors[other]),
                                     lambda c=self._colors[other]: self.mergeRequested.emit(
                                         colour, c))
            action.setIcon(_swatch_icon(QColor(*self._colors[other])))
        delete.setEnabled(len(self._colors) > 2)  # the window's smallest palette
        merge.setEnabled(len(self._colors) > 2)
        return menu

    def _nearest(self, index: int) -> list[int]:
        """The other entries nearest to entry ``index`` in OKLab, nearest first."""
        from palettelab.core.color.ordering import nearest_entries  # not at start-up

        return nearest_entries(self._palette, index, MERGE_CHOICES)

    def _on_lock_clicked(self, index: int, checked: bool) -> None:
        rgb = self._colors[index]
        if checked:
            self._locked.add(rgb)
        else:
            self._locked.discard(rgb)
        self._refresh_locks()  # other rows may show the same colour
        self.message.emit(f"{'Locked' if checked else 'Unlocked'} {hex_color(rgb)}")
        self.lockedChanged.emit()


def _swatch_icon(color: QColor) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(color)
    return QIcon(pixmap)


def _as_rgb(color: Iterable[int]) -> RGB:
    values = [int(v) for v in color]
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise ValueError(f"a colour must be three ints in 0..255, got {values}")
    return values[0], values[1], values[2]

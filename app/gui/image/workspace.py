"""The designer's workspace: quantize an image live.

The widget only shows things and forwards what the user asks for; all work happens in the
:class:`~palettelab.app.gui.image.worker.QuantizeWorker` in its own QThread (a
:class:`~palettelab.app.gui.worker_host.WorkerHost`).  Every control change restarts the run
after a short debounce (a burst of slider moves costs one run, and the newest request cancels
the older one inside the worker).  Live frames update the recoloured view, the palette, the
scatter centres and the convergence chart; the finished result replaces them at full size.

What belongs to the window, not to this widget, reaches it through signals: status-bar text
(``message``), problems to show in a dialog (``error``) and a loaded image (``imageLoaded``:
the window's title and recent files).  The status-bar widgets the runs drive
(:attr:`~ImageWorkspace.preparing_label`, :attr:`~ImageWorkspace.stats_label`,
:attr:`~ImageWorkspace.progress_bar`) are made here and placed by the window.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from palettelab.app.gui.image.compare_view import CompareView
from palettelab.app.gui.image.export import (
    IMAGE_TYPES,
    PALETTE_TYPES,
    file_filter,
    transparency_question,
    with_chosen_extension,
)
from palettelab.app.gui.image.history import History, State
from palettelab.app.gui.image.palette_panel import PalettePanel
from palettelab.app.gui.image.scatter_views import ColorScatter2D, ColorScatter3D, ConvergenceChart
from palettelab.app.gui.image.set_strip import SetStrip
from palettelab.app.gui.image.sizes import SizeEstimator, human_size
from palettelab.app.gui.image.status_label import ElidedLabel
from palettelab.app.gui.image.views import ImagePair
from palettelab.app.gui.image.worker import (
    Frame,
    Loaded,
    QuantizeWorker,
    Request,
    Result,
    Sample,
    Settings,
)
from palettelab.app.gui.worker_host import shutdown
from palettelab.core.color.codes import hex_color, parse_color
from palettelab.core.errors import InputError
from palettelab.core.kernel_warmup import IMAGE_GROUPS, NAMES

SPACES = (("OKLab", "oklab"), ("Lab", "lab"), ("RGB", "rgb"))
DITHERS = (("None", "none"), ("Floyd-Steinberg", "fs"), ("Ordered (Bayer)", "bayer"))
ORDERS = (("Share", "share"), ("Lightness", "lightness"), ("Hue", "hue"))
#: the tools of the original view: name, button text, tooltip
TOOL_BUTTONS = (
    ("brush", "Brush", "Paint on the original what matters most (a face, a logo): the palette "
                       "serves it first"),
    ("eraser", "Eraser", "Erase painted importance"),
    ("eyedropper", "Pick", "Click a colour in the original to add it to the palette, locked"),
)
DEBOUNCE_MS = 250
PROGRESS_WIDTH = 180  # px, fixed: a growing bar used to squeeze the status text


def _permuted(values: np.ndarray | None, perm: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[perm]


def last_folder(settings: QSettings) -> str:
    """The folder of the last file opened or saved (the home folder at first)."""
    return str(settings.value("files/last_folder", str(Path.home())))


class ImageWorkspace(QWidget):
    """Open an image, choose the number of colours, watch it converge, export."""

    # to the worker (queued: they run in its thread)
    _load = Signal(str)
    _loadSet = Signal(object)  # list of paths
    _selectMember = Signal(int)
    _exportSet = Signal(str, object, object)  # folder, palette, settings
    _export = Signal(str, str, object, bool)
    _compare = Signal(int, int, int)  # job, colours, seed
    _errorMap = Signal(int, object)  # job of the result, its image
    # for the window, tests and scripts
    runFinished = Signal(object)  # Result
    imageLoaded = Signal(object)  # Loaded
    message = Signal(str, int)  # status-bar text, milliseconds
    error = Signal(str, str)  # title, one-line message

    def __init__(self, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self._settings = settings
        self._job = 0
        self._running = False
        self._image_path: str | None = None
        self._result: Result | None = None
        self._samples: dict[str, Sample] = {}  # the scatter sample per space, for a cancel
        self.history = History()  # finished results, for undo and redo
        self._original: np.ndarray | None = None  # the loaded pixels (for the eyedropper)
        self._picked: list[tuple[int, int, int]] = []  # eyedropper colours, locked by the user
        self._member = 0  # the member of an image set shown
        self._member_restored = False  # an undo brought back another member: no new run
        self.export_question: QMessageBox | None = None  # the open "save anyway?" dialog
        self.compare_view: CompareView | None = None  # made when first asked for
        self._compare_job = 0
        self._compare_kernels = False  # our k-means in OKLab and RGB loaded in the worker
        self.compare_action = QAction("Compare &Methods…", self)
        self.compare_action.setShortcut(QKeySequence("Ctrl+M"))
        self.compare_action.setToolTip("Quantize the image with every method installed and "
                                       "compare their results")
        self.compare_action.setEnabled(False)  # an image, and the kernels of both spaces
        self.compare_action.triggered.connect(self.compare_methods)
        self.error_action = QAction("&Error Map", self)
        self.error_action.setShortcut(QKeySequence("E"))
        self.error_action.setCheckable(True)
        self.error_action.setToolTip("Show the result's per-pixel OKLab error instead of the "
                                     "recoloured image: black is exact, yellow 0.08 and above")
        self.error_action.toggled.connect(self._error_map_toggled)
        self._build_views()
        self._build_controls()
        self._build_status()
        self._start_worker()
        self._restore_settings()

    # --- construction ---------------------------------------------------------------------------

    def _build_views(self) -> None:
        self.images = ImagePair()
        self.set_strip = SetStrip()
        self.set_strip.selected.connect(self._select_member)
        self.images.importanceChanged.connect(self._importance_changed)
        self.images.picked.connect(self.pick_colour)
        self.palette_panel = PalettePanel()
        self.palette_panel.colorEdited.connect(self._edit_color)
        self.palette_panel.deleteRequested.connect(self.delete_colour)
        self.palette_panel.mergeRequested.connect(self.merge_colours)
        self.palette_panel.lockedChanged.connect(self._schedule_run)
        self.palette_panel.message.connect(lambda text: self.message.emit(text, 3000))
        self.scatter2d = ColorScatter2D()
        self.scatter3d = ColorScatter3D()
        self.chart = ConvergenceChart()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.scatter2d, "Colour space 2D")
        self.tabs.addTab(self.scatter3d, "Colour space 3D")
        self.tabs.addTab(self.chart, "Convergence")

    def _build_controls(self) -> None:
        self.colors_spin = QSpinBox()
        self.colors_spin.setRange(2, 256)
        self.colors_spin.setValue(16)
        self.colors_spin.setToolTip("Number of colours in the palette (2-256)")
        self.colors_slider = QSlider(Qt.Orientation.Horizontal)
        self.colors_slider.setRange(2, 256)
        self.colors_slider.setValue(16)
        self.colors_spin.valueChanged.connect(self.colors_slider.setValue)
        self.colors_slider.valueChanged.connect(self.colors_spin.setValue)
        self.colors_spin.valueChanged.connect(self._schedule_run)
        self.space_combo = QComboBox()
        for label, value in SPACES:
            self.space_combo.addItem(label, value)
        self.space_combo.setToolTip("Colour space where distances are measured: OKLab looks "
                                    "most even to the eye, RGB maximises PSNR")
        self.space_combo.currentIndexChanged.connect(self._space_changed)
        self.dither_combo = QComboBox()
        for label, value in DITHERS:
            self.dither_combo.addItem(label, value)
        self.dither_combo.currentIndexChanged.connect(self._dither_changed)
        self.strength_spin = QDoubleSpinBox()
        self.strength_spin.setRange(0.0, 1.0)
        self.strength_spin.setSingleStep(0.1)
        self.strength_spin.setValue(1.0)
        self.strength_spin.setEnabled(False)
        self.strength_spin.setToolTip("How much of the error is spread to the neighbours")
        self.strength_spin.valueChanged.connect(self._schedule_run)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same palette")
        self.seed_spin.valueChanged.connect(self._schedule_run)
        self.starts_spin = QSpinBox()
        self.starts_spin.setRange(1, 16)
        self.starts_spin.setValue(3)  # the pipeline's DEFAULT_STARTS, as the command line
        self.starts_spin.setToolTip("k-means starts: more starts, better palettes, slower")
        self.starts_spin.valueChanged.connect(self._schedule_run)
        self.order_combo = QComboBox()
        for label, value in ORDERS:
            self.order_combo.addItem(label, value)
        self.order_combo.setToolTip("Order of the palette, in the panel and in every export")
        self.order_combo.currentIndexChanged.connect(self._order_changed)
        self.copy_css_action = QAction("Copy Palette as &CSS", self)
        self.copy_css_action.triggered.connect(lambda: self.copy_palette(".css"))
        self.copy_hex_action = QAction("Copy Palette as &Hex List", self)
        self.copy_hex_action.triggered.connect(lambda: self.copy_palette(".txt"))
        self.export_set_action = QAction("Export Image &Set…", self)
        self.export_set_action.setToolTip("Write the shared palette and every image of the set "
                                          "with it into a folder")
        self.export_set_action.setEnabled(False)
        self.export_set_action.triggered.connect(self.export_set)
        self.map_action = QAction("&Map to Palette File…", self)
        self.map_action.setToolTip("Recolour the image with the colours of a palette file "
                                   "(.gpl .ase .aco .json .txt .css .png), no k-means")
        self.map_action.triggered.connect(self.map_to_palette_file)
        for action in (self.copy_css_action, self.copy_hex_action, self.map_action):
            action.setEnabled(False)
        self.tool_buttons: dict[str, QToolButton] = {}
        tools = QButtonGroup(self)
        tools.setExclusive(False)  # a checked tool is unchecked by clicking it again
        for tool, label, tip in TOOL_BUTTONS:
            button = QToolButton()
            button.setText(label)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.toggled.connect(lambda on, t=tool: self._tool_toggled(t, on))
            tools.addButton(button)
            self.tool_buttons[tool] = button
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(2, 2000)
        self.brush_spin.setValue(self.images.brush_size)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Brush diameter, in image pixels")
        self.brush_spin.valueChanged.connect(self.images.set_brush_size)
        self.clear_importance_button = QToolButton()
        self.clear_importance_button.setText("Clear")
        self.clear_importance_button.setToolTip("Forget the painted importance")
        self.clear_importance_button.clicked.connect(self.images.clear_importance)

        form = QFormLayout()
        colours = QHBoxLayout()
        colours.addWidget(self.colors_spin)
        colours.addWidget(self.colors_slider, 1)
        form.addRow("Colours", colours)
        form.addRow("Colour space", self.space_combo)
        form.addRow("Dithering", self.dither_combo)
        form.addRow("Strength", self.strength_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Starts", self.starts_spin)
        form.addRow("Palette order", self.order_combo)
        importance = QHBoxLayout()
        for button in self.tool_buttons.values():
            importance.addWidget(button)
        importance.addWidget(self.brush_spin)
        importance.addWidget(self.clear_importance_button)
        form.addRow("Importance", importance)
        self.run_button = QPushButton("Re-run")
        self.run_button.clicked.connect(lambda: self.start_run())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        self.export_image_button = QPushButton("Export image…")
        self.export_image_button.clicked.connect(self.export_image)
        self.export_palette_button = QPushButton("Export palette…")
        self.export_palette_button.clicked.connect(self.export_palette)
        for button in (self.export_image_button, self.export_palette_button):
            button.setEnabled(False)
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(self.redo)
        self._update_history_actions()
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.matte_button = QToolButton()
        self.matte_button.setText("Matte")
        self.matte_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.matte_button.setToolTip("The colour soft edges are blended onto in a GIF (which "
                                     "has no partial transparency)")
        self.matte_button.clicked.connect(self._choose_matte)
        exports = QHBoxLayout()
        exports.addWidget(self.export_image_button)
        exports.addWidget(self.export_palette_button)
        exports.addWidget(self.matte_button)
        self.sizes_label = QLabel("")
        self.sizes_label.setToolTip("What the recoloured image would weigh as each type "
                                    "(indexed PNG, GIF, lossless WebP), measured by encoding it")
        self.sizes = SizeEstimator(self)
        self.sizes.estimated.connect(self._on_sizes)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addLayout(form)
        side_layout.addLayout(buttons)
        side_layout.addLayout(exports)
        side_layout.addWidget(self.sizes_label)
        side_layout.addWidget(self.palette_panel, 1)
        side.setMinimumWidth(300)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.images)
        left.addWidget(self.set_strip)
        left.addWidget(self.tabs)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(side)
        main.setStretchFactor(0, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(main)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.start_run())

    def _build_status(self) -> None:
        self._kernels_here = False  # the worker warms up itself (kernels_in_worker)
        self.preparing_label = QLabel(f"Compiling kernels: 0 of {len(NAMES)} groups ready")
        self.preparing_label.setToolTip("A child process compiles them on the very first start "
                                        "(a quick preview shows meanwhile); later starts load "
                                        "them from Numba's cache")
        self.stats_label = ElidedLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFixedWidth(PROGRESS_WIDTH)
        self.progress_bar.hide()

    def _start_worker(self) -> None:
        self.worker = QuantizeWorker()
        self._load.connect(self.worker.load)
        self._loadSet.connect(self.worker.load_set)
        self._selectMember.connect(self.worker.select_member)
        self._exportSet.connect(self.worker.export_set)
        self.worker.memberSelected.connect(self._on_member)
        self._export.connect(self.worker.export)
        self.worker.ready.connect(self._on_ready)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.loadFailed.connect(self._on_load_failed)
        self.worker.sample.connect(self._on_sample)
        self.worker.frame.connect(self._on_frame)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.exported.connect(self._on_exported)
        self.worker.exportFailed.connect(self._on_export_failed)
        self.worker.exportQuestion.connect(self._on_export_question)
        self.worker.kernelsLoaded.connect(self._update_compare_action)
        self._compare.connect(self.worker.compare)
        self._errorMap.connect(self.worker.error_map)
        self.worker.errorMap.connect(self._on_error_map)
        self.worker.start(self, "PaletteLab image worker", warm=False)

    # --- comparing methods (issue 17) -----------------------------------------------------------

    def _update_compare_action(self, kernels: tuple[str, ...] = ()) -> None:
        """Compare needs an image, and our k-means in OKLab and RGB loaded (it must never
        compile in the worker while the kernel child does)."""
        if kernels:
            self._compare_kernels = "colour spaces" in kernels
        self.compare_action.setEnabled(self._compare_kernels and self._image_path is not None)

    def compare_methods(self) -> None:
        """Open the compare window and run every method on the image, k from the Colours box."""
        if self._image_path is None:
            return
        if self.compare_view is None:
            self.compare_view = CompareView(self)
            self.worker.compared.connect(self.compare_view.add)
            self.worker.compareDone.connect(self.compare_view.all_in)
            self.worker.compareFailed.connect(self.compare_view.failed)
            self.compare_view.chosen.connect(self._adopt_palette)
            self.compare_view.closed.connect(self.worker.comparisons.cancel)
        self._compare_job += 1
        self.worker.comparisons.set(self._compare_job)
        self.compare_view.start(self._compare_job, self.colors_spin.value())
        self.compare_view.show()
        self.compare_view.raise_()
        self._compare.emit(self._compare_job, self.colors_spin.value(), self.seed_spin.value())

    def _error_map_toggled(self, on: bool) -> None:
        if not on:
            self.images.set_error_map(None)
        elif self._result is not None:
            self._errorMap.emit(self._result.job, self._result.image)

    def _on_error_map(self, job: int, heat: np.ndarray) -> None:
        """A heat map arrived: shown if it is still the current result's and still wanted."""
        if (self.error_action.isChecked() and self._result is not None
                and job == self._result.job and not self._running):
            self.images.set_error_map(heat)

    def _adopt_palette(self, name: str, palette: np.ndarray) -> None:
        """Continue from a compared method's palette: remap the image to it."""
        self.start_run(palette=np.asarray(palette, dtype=np.uint8))
        self.message.emit(f"Continuing from {name}'s {len(palette)} colours", 5000)

    def close_worker(self) -> None:
        """Stop the debounce, the export-size thread and the worker thread (the host's shutdown
        policy); safe twice."""
        self._debounce.stop()
        self.sizes.close()
        shutdown(self.worker)

    # --- settings -------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        self._show_matte()
        self.colors_spin.setValue(int(s.value("run/colors", 16)))
        index = self.space_combo.findData(s.value("run/space", "oklab"))
        self.space_combo.setCurrentIndex(max(index, 0))
        self._debounce.stop()  # restoring is not a user change

    def save_settings(self) -> None:
        """Keep the number of colours and the colour space for the next start."""
        self._settings.setValue("run/colors", self.colors_spin.value())
        self._settings.setValue("run/space", self.space_combo.currentData())

    # --- opening --------------------------------------------------------------------------------

    def open_path(self, path: str) -> None:
        """Read an image in the worker; what is shown stays until it is read."""
        self._load.emit(str(path))

    def open_set(self, paths: list[str]) -> None:
        """Read several images (or one animated file) as one set with one palette."""
        self._loadSet.emit([str(p) for p in paths])

    def _select_member(self, index: int) -> None:
        """The user picked member ``index`` in the strip."""
        self._member = index
        self._selectMember.emit(index)

    def _on_member(self, loaded: Loaded) -> None:
        """Another member of the set: show it, remapped to the set's palette (not when an undo
        or redo brought it back with its own result)."""
        self._original = loaded.pixels
        self.images.set_original(loaded.pixels)
        if self._member_restored:
            self._member_restored = False
            self.images.set_recoloured(self._result.image)
            return
        if self._result is not None:
            q = self._result.quantized
            self.start_run(palette=q.palette, palette_alpha=q.palette_alpha)

    def export_set(self) -> None:
        """Write the set's palette and every member with it into a folder (all or none)."""
        if self._result is None or not self._result.members:
            return
        folder = self._ask_folder("Export image set to folder")
        if folder:
            self._exportSet.emit(folder, self._result.quantized.palette, self._result.settings)

    def _ask_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self, title, last_folder(self._settings))

    def _on_loaded(self, loaded: Loaded) -> None:
        """A new image: locks and colour edits belong to the old one's palette, so they go
        (before, they carried over silently into the new image's run), and the message says so.
        An open compare window compares the new image."""
        self._image_path = loaded.path
        self._update_compare_action()
        self._result = None
        self._samples = {}
        self.history.clear()
        self._update_history_actions()
        cleared = self.palette_panel.clear_locks()
        self._original = loaded.pixels
        self._picked = []
        self._member = 0
        self._member_restored = False
        self.set_strip.set_info(loaded.image_set)
        self.export_set_action.setEnabled(False)
        self.sizes.cancel()
        self.sizes_label.setText("")
        self.images.set_original(loaded.pixels)
        self.scatter2d.clear()
        self.scatter3d.clear()
        self.chart.clear()
        message = f"Opened {Path(loaded.path).name} in {loaded.seconds:.2f} s"
        if loaded.image_set is not None:
            message = (f"Opened the set {loaded.image_set.title} ({len(loaded.image_set.names)} "
                       f"images, one palette) in {loaded.seconds:.2f} s")
        if loaded.notes:
            message += " - " + "; ".join(loaded.notes)
        if cleared:
            message += (f" - {cleared} locked colour{'s' if cleared > 1 else ''} of the previous "
                        f"image unlocked")
        self.message.emit(message, 8000)
        for button in (self.export_image_button, self.export_palette_button):
            button.setEnabled(False)
        self.imageLoaded.emit(loaded)
        self.start_run()
        if self.compare_view is not None and self.compare_view.isVisible():
            self.compare_methods()

    # --- running --------------------------------------------------------------------------------

    def settings(self) -> Settings:
        """The run settings the controls show now."""
        return Settings(
            n_colors=self.colors_spin.value(),
            space=self.space_combo.currentData(),
            dither=self.dither_combo.currentData(),
            dither_strength=self.strength_spin.value(),
            random_state=self.seed_spin.value(),
            n_init=self.starts_spin.value(),
            locked=self._locks(),
            order=self.order_combo.currentData(),
        )

    def _locks(self) -> tuple[tuple[int, int, int], ...]:
        """The locked colours of the palette shown, then eyedropper picks still locked (not in
        the palette until their run finishes)."""
        shown = self.palette_panel.locked_colors()
        picks = [c for c in self._picked if self.palette_panel.is_locked(c) and c not in shown]
        return (*shown, *picks)

    def _schedule_run(self) -> None:
        if self._image_path is not None:
            self._debounce.start()

    def _space_changed(self) -> None:
        space = self.space_combo.currentData()
        self.scatter2d.set_space(space)
        self.scatter3d.set_space(space)
        self._schedule_run()

    def _dither_changed(self) -> None:
        self.strength_spin.setEnabled(self.dither_combo.currentData() == "fs")
        self._schedule_run()

    def start_run(self, palette: np.ndarray | None = None, init: np.ndarray | None = None,
                  palette_alpha: np.ndarray | None = None) -> None:
        """Start a run with the current settings (or remap to ``palette``, whose entries may
        carry ``palette_alpha``, or converge from ``init``); newest wins."""
        if self._image_path is None:
            return
        self._debounce.stop()
        self._job += 1
        self._running = True
        self.cancel_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        if palette is None:
            self.chart.clear()
        self.worker.submit(Request(self._job, self.settings(), palette, init,
                                   self.images.importance(), self.images.mask_scale,
                                   palette_alpha))

    def _on_sizes(self, job: int, sizes: dict) -> None:
        """The export sizes of a result: shown if it is still the one on screen."""
        if self._result is None or job != self._result.job:
            return
        parts = [f"{label} {'too large' if size is None else ('' if size[1] else '≈')}"
                 f"{human_size(size[0]) if size is not None else ''}"
                 for label, size in sizes.items()]
        self.sizes_label.setText("Export sizes: " + " · ".join(parts))

    def cancel_run(self) -> None:
        """Stop the running job (Esc); the last finished result stays on screen."""
        if self._running:
            self.worker.cancel()

    def _on_ready(self, seconds: float) -> None:
        # Numba, Qt and pyqtgraph leave hundreds of thousands of long-lived objects; a full
        # garbage collection walking them all held the GIL for 100-200 ms (a frozen window) when
        # the worker happened to trigger it.  Freezing them out of the collector removes that.
        # Only the young generations are collected first: a full collection here was itself
        # the longest freeze of a first start (160 ms, bench_first_run.py --stacks).
        gc.collect(1)
        gc.freeze()
        if self._kernels_here:
            self._kernels_here = False
            self.preparing_label.setText(f"Kernels ready ({seconds:.1f} s)")
            QTimer.singleShot(4000, self.preparing_label.hide)

    def kernels_in_worker(self, what: str) -> None:
        """The worker loads (or compiles) every image kernel itself, not group by group from
        the child: the standalone app's shipped kernels, or the child failed.  ``what`` is
        the status text until the worker is ready."""
        self._kernels_here = True
        self.preparing_label.setText(what)
        self.worker.queue_warm_up()

    def kernel_progress(self, name: str, done: int, total: int, kernels: int) -> None:
        """Kernel group ``name`` is compiled (``done`` of ``total`` groups, ``kernels`` kernels
        so far): the worker loads it if it is an image group; the status bar says how far."""
        if name in IMAGE_GROUPS:
            self.worker.kernels_compiled((name,))
        if done < total:
            self.preparing_label.setText(f"Compiling kernels: {done} of {total} groups ready "
                                         f"({kernels} kernels)")
            return
        self.preparing_label.setText(f"Kernels ready ({kernels})")
        QTimer.singleShot(4000, self.preparing_label.hide)

    def _on_sample(self, sample: Sample) -> None:
        self._samples[sample.space] = sample
        self.scatter2d.set_space(sample.space)
        self.scatter3d.set_space(sample.space)
        self.scatter2d.set_pixels(sample.rgb, sample.coords, sample.total)
        self.scatter3d.set_pixels(sample.rgb, sample.coords, sample.total)

    def _on_frame(self, frame: Frame) -> None:
        try:
            if frame.job != self._job:
                return
            if frame.preview is not None:
                self.images.set_recoloured(frame.preview)
            self.palette_panel.set_palette(frame.palette, None)
            self.scatter2d.set_centers(frame.palette, frame.centers)
            self.scatter3d.set_centers(frame.palette, frame.centers)
            if frame.inertia is not None:
                self.chart.add_point(frame.step, frame.inertia, frame.stage, frame.iteration)
            self.progress_bar.setValue(int(1000 * frame.fraction))
            self.stats_label.setText(f"k={frame.palette.shape[0]}  {frame.stage} "
                                     f"(iteration {frame.iteration})")
        finally:
            self.worker.frame_shown()

    def _on_finished(self, result: Result) -> None:
        if result.job != self._job:
            return
        self._running = False
        self._result = result
        self.history.push(State(result, self.palette_panel.lock_set(), self._member))
        self._update_history_actions()
        self._show_result(result)
        if result.members:
            self.set_strip.set_members(result.members, result.quantized.palette.shape[0])
        self.export_set_action.setEnabled(bool(result.members))
        self.sizes_label.setText("Export sizes: measuring…")
        self.sizes.request(result.job, result.quantized)
        for button in (self.export_image_button, self.export_palette_button):
            button.setEnabled(True)
        for action in (self.copy_css_action, self.copy_hex_action, self.map_action):
            action.setEnabled(True)
        self.runFinished.emit(result)

    def _show_result(self, result: Result) -> None:
        """Every view and the stopped-run controls as they were when ``result`` finished."""
        q = result.quantized
        self.images.set_recoloured(result.image)
        self.palette_panel.set_palette(q.palette, q.counts, q.palette_alpha)
        self.scatter2d.set_centers(q.palette, result.centers)
        self.scatter3d.set_centers(q.palette, result.centers)
        if result.inertia:
            self.chart.set_points(result.inertia, result.stages)
        self.cancel_button.setEnabled(False)
        self.progress_bar.hide()
        estimate = " (sampled)" if result.sampled else ""
        work = f"{int(np.isfinite(result.inertia).sum())} iterations"
        if result.members:
            work = f"one palette for {len(result.members)} images"
        elif result.remapped:
            work = "remapped"
        self.stats_label.setText(
            f"k={q.palette.shape[0]}  {work}  {result.seconds:.2f} s  "
            f"PSNR {result.psnr:.2f} dB  OKLab error {result.oklab_error:.4f}{estimate}")
        if self.error_action.isChecked():  # the error map of this result, from the worker
            self._errorMap.emit(result.job, result.image)

    def _show_settings(self, s: Settings) -> None:
        """Put the controls back to ``s`` without starting a run."""
        self.colors_spin.setValue(s.n_colors)
        self.space_combo.setCurrentIndex(max(self.space_combo.findData(s.space), 0))
        self.dither_combo.setCurrentIndex(max(self.dither_combo.findData(s.dither), 0))
        self.strength_spin.setValue(s.dither_strength)
        self.seed_spin.setValue(s.random_state)
        self.starts_spin.setValue(s.n_init)
        self.order_combo.blockSignals(True)
        self.order_combo.setCurrentIndex(max(self.order_combo.findData(s.order), 0))
        self.order_combo.blockSignals(False)
        self._debounce.stop()  # showing is not a user change

    def _back_to_result(self) -> None:
        """A run that stopped without a result: the controls, the image, the palette, both
        scatters, the chart and the status line return to the last finished result.  Before,
        Esc after raising k to 256 left "256" in the Colours box, 256 cancelled centres in the
        scatter and "k=256 refining (iteration 4)" in the status bar over a 16-colour image."""
        self._running = False
        self.cancel_button.setEnabled(False)
        self.progress_bar.hide()
        result = self._result
        if result is None:  # nothing finished yet for this image
            self.stats_label.setText("")
            self.chart.clear()
            return
        self.palette_panel.set_locked_colors(self._result_locks)  # an edit's lock goes too
        self._show_settings(result.settings)
        sample = self._samples.get(result.settings.space)
        if sample is not None:  # a space change cleared the cloud
            self._on_sample(sample)
        self._show_result(result)

    def _on_failed(self, job: int, message: str) -> None:
        if job == self._job:
            self._back_to_result()
            self.error.emit("Quantization failed", message)

    def _on_cancelled(self, job: int) -> None:
        if job != self._job:
            return  # superseded by a newer run, which is on its way
        self._back_to_result()
        self.message.emit("Cancelled", 3000)

    # --- editing colours ------------------------------------------------------------------------

    def _edit_color(self, index: int, rgb) -> None:
        """The user picked a new colour for a palette entry: lock it (so re-runs keep it until
        the user unlocks it), and remap the image to it at once (Ctrl+Z undoes)."""
        if self._result is None:
            return
        palette = self._result.quantized.palette.copy()
        old = tuple(int(v) for v in palette[index])
        new = tuple(int(v) for v in rgb)
        palette[index] = new
        self.palette_panel.replace_locked(old, new)
        self.palette_panel.set_color_locked(new, True)
        self.start_run(palette, palette_alpha=self._result.quantized.palette_alpha)
        self.message.emit(f"{hex_color(old)} changed to {hex_color(new)} and locked "
                          f"(Ctrl+Z undoes)", 6000)

    # --- importance and the eyedropper (issue 17, item 6) ----------------------------------------

    def _tool_toggled(self, tool: str, on: bool) -> None:
        """One tool at a time: checking one unchecks the others; none checked pans and zooms."""
        if on:
            for other, button in self.tool_buttons.items():
                if other != tool:
                    button.setChecked(False)
            self.images.set_tool(tool)
        elif not any(b.isChecked() for b in self.tool_buttons.values()):
            self.images.set_tool("none")

    def _importance_changed(self) -> None:
        """A stroke ended: the palette re-converges with the painted pixels weighted up."""
        self._schedule_run()

    def pick_colour(self, x: int, y: int) -> None:
        """Eyedropper: the original's colour at (x, y) joins the palette, locked (k + 1)."""
        if self._result is None or self._original is None:
            return
        colour = tuple(int(v) for v in self._original[y, x, :3])
        if self.palette_panel.is_locked(colour):
            self.message.emit(f"{hex_color(colour)} is already locked", 3000)
            return
        k = self.colors_spin.value()
        in_palette = colour in {tuple(c) for c in self._result.quantized.palette.tolist()}
        if not in_palette and k < 256:
            self._set_colours_quietly(k + 1)
        self.palette_panel.set_color_locked(colour, True)
        self._picked.append(colour)
        self.start_run()
        self.message.emit(f"Added {hex_color(colour)} from the image, locked", 5000)

    # --- palette tools (issue 17, item 7) --------------------------------------------------------

    def _order_changed(self) -> None:
        """Put the shown palette in the chosen order at once (a remap keeps the order given);
        later runs sort their palettes the same way."""
        if self._result is None:
            return
        from palettelab.core.color.ordering import palette_order  # not at start-up

        q = self._result.quantized
        perm = palette_order(q.palette, q.counts, self.order_combo.currentData())
        self.start_run(palette=q.palette[perm], palette_alpha=_permuted(q.palette_alpha, perm))

    def _set_colours_quietly(self, k: int) -> None:
        """Show ``k`` in the Colours box and slider without scheduling a run."""
        for widget in (self.colors_spin, self.colors_slider):
            widget.blockSignals(True)
            widget.setValue(k)
            widget.blockSignals(False)

    def _row_of(self, colour) -> int | None:
        """The row of ``colour`` in the result shown, or None (with a message) while a run is
        going or when it is gone."""
        if self._result is None or self._running:
            self.message.emit("Wait for the run to finish", 3000)
            return None
        rows = np.flatnonzero((self._result.quantized.palette == np.asarray(colour)).all(axis=1))
        if not rows.size:
            self.message.emit(f"{hex_color(colour)} is no longer in the palette", 3000)
            return None
        return int(rows[0])

    def delete_colour(self, colour) -> None:
        """Drop ``colour`` from the palette: k - 1 colours, converged again from the others."""
        index = self._row_of(colour)
        palette = None if index is None else self._result.quantized.palette
        if palette is None or palette.shape[0] <= 2:
            return
        gone = tuple(int(v) for v in palette[index])
        self.palette_panel.set_color_locked(gone, False)
        self._set_colours_quietly(palette.shape[0] - 1)
        self.start_run(init=np.delete(palette, index, axis=0))
        self.message.emit(f"Deleted {hex_color(gone)}; {palette.shape[0] - 1} colours "
                          f"re-converging (Ctrl+Z undoes)", 5000)

    def merge_colours(self, colour, other_colour) -> None:
        """Merge two colours into their pixel-weighted mean (in OKLab): k - 1 colours,
        converged again.  A lock on either moves to the merged colour."""
        index, other = self._row_of(colour), self._row_of(other_colour)
        if index is None or other is None or index == other:
            return
        q = self._result.quantized
        if q.palette.shape[0] <= 2:
            return
        from palettelab.core.color.ordering import merged_colour  # not at start-up

        pair = q.palette[[index, other]]
        merged = merged_colour(pair, q.counts[[index, other]].astype(np.float64) + 1e-9)
        locked = any(self.palette_panel.is_locked(c) for c in pair)
        for c in pair:
            self.palette_panel.set_color_locked(c, False)
        palette = np.delete(q.palette, other, axis=0)
        row = index - (other < index)
        if not (palette == merged).all(axis=1).any():  # else it is there already: keep it
            palette[row] = merged
        if locked:
            self.palette_panel.set_color_locked(palette[row], True)
        self._set_colours_quietly(palette.shape[0])
        self.start_run(init=palette)
        self.message.emit(f"Merged {hex_color(pair[0])} and {hex_color(pair[1])} into "
                          f"{hex_color(palette[row])} (Ctrl+Z undoes)", 5000)

    def copy_palette(self, suffix: str) -> None:
        """Copy the palette as CSS custom properties (".css") or a hex list (".txt")."""
        if self._result is None:
            return
        from palettelab.core.formats.palettes import encode_palette

        text = encode_palette(self._result.quantized.palette, suffix,
                              title=self._title()).decode()
        QGuiApplication.clipboard().setText(text)
        kind = "CSS" if suffix == ".css" else "a hex list"
        self.message.emit(f"Copied {self._result.quantized.palette.shape[0]} colours as {kind}",
                          3000)

    def _title(self) -> str:
        """The palette's name in the files that have one: the image's name."""
        return Path(self._image_path or "PaletteLab").stem

    def _ask_open_path(self, title: str, filters: str) -> str:
        return QFileDialog.getOpenFileName(self, title, last_folder(self._settings), filters)[0]

    def map_to_palette_file(self) -> None:
        """Recolour the image with a palette file's colours (the command line's --map)."""
        if self._result is None:
            return
        path = self._ask_open_path("Map to palette file", file_filter(PALETTE_TYPES))
        if not path:
            return
        from palettelab.core.formats.palettes import read_palette

        try:
            colours = read_palette(path).colors
        except InputError as exc:
            self.error.emit("Cannot map to the palette", str(exc))
            return
        self._set_colours_quietly(min(max(colours.shape[0], 2), 256))
        self.start_run(palette=colours)
        self.message.emit(f"Mapped to the {colours.shape[0]} colours of {Path(path).name}", 5000)

    # --- undo and redo --------------------------------------------------------------------------

    @property
    def _result_locks(self) -> frozenset:
        """The locks of the result shown (what a cancelled or failed run returns to)."""
        state = self.history.shown()
        return state.locks if state is not None else frozenset(self._result.settings.locked)

    def _update_history_actions(self) -> None:
        undo, redo = self.history.undo_text(), self.history.redo_text()
        self.undo_action.setEnabled(undo is not None)
        self.undo_action.setText(f"&Undo {undo}" if undo else "&Undo")
        self.redo_action.setEnabled(redo is not None)
        self.redo_action.setText(f"&Redo {redo}" if redo else "&Redo")

    def undo(self) -> None:
        """Show the previous result again, with its controls and locks (Ctrl+Z): nothing runs."""
        text = self.history.undo_text()
        state = self.history.undo()
        if state is not None:
            self._restore(state, f"Undone: {text}")

    def redo(self) -> None:
        """Show the result an undo took back (Ctrl+Shift+Z)."""
        text = self.history.redo_text()
        state = self.history.redo()
        if state is not None:
            self._restore(state, f"Redone: {text}")

    def _restore(self, state: State, message: str) -> None:
        """Show ``state``'s result, controls and locks; a run in progress is dropped."""
        self._debounce.stop()
        if self._running:
            self.worker.cancel()
        self._job += 1  # whatever is still on its way is stale now
        self._result = state.result
        self._update_history_actions()
        self._back_to_result()
        if state.member != self._member:  # a result of another member of the set
            self._member = state.member
            self._member_restored = True
            self.set_strip.show_member(state.member)
            self._selectMember.emit(state.member)
        self.sizes.request(state.result.job, state.result.quantized)
        self.runFinished.emit(state.result)
        self.message.emit(message, 4000)

    # --- exporting ------------------------------------------------------------------------------

    def _ask_save_path(self, title: str, filters: str, suggestion: str) -> tuple[str, str]:
        """The path typed in the save dialog and the filter entry chosen there."""
        path, chosen = QFileDialog.getSaveFileName(self, title, suggestion, filters)
        return path, chosen

    def _save_path(self, title: str, types, suggestion: str) -> str:
        """Ask for a file of one of ``types``; a name without one of their extensions gets the
        chosen type's ("" when the user cancels)."""
        path, chosen = self._ask_save_path(title, file_filter(types), suggestion)
        return with_chosen_extension(path, chosen, types) if path else ""

    def _suggestion(self, suffix: str) -> str:
        stem = Path(self._image_path or "image").stem
        k = self._result.quantized.palette.shape[0] if self._result else 0
        return str(Path(last_folder(self._settings)) / f"{stem}-{k}{suffix}")

    def export_image(self) -> None:
        """Write the recoloured image (indexed PNG by default) in the worker (Ctrl+S)."""
        if self._result is None:
            return
        path = self._save_path("Export recoloured image", IMAGE_TYPES, self._suggestion(".png"))
        if not path:
            return
        q = self._result.quantized
        if Path(path).suffix.lower() == ".gif" and q.palette_alpha is not None:
            self.message.emit(f"GIF: soft edges blended onto the matte {hex_color(self.matte())}",
                              6000)
        self._export.emit(path, "image", (q, self.matte()), False)

    def matte(self) -> tuple[int, int, int]:
        """The GIF matte colour (white until the user picks one; kept across starts)."""
        value = str(self._settings.value("export/matte", "#ffffff"))
        try:
            return parse_color(value)
        except InputError:
            return (255, 255, 255)

    def _choose_matte(self) -> None:
        colour = self._pick_matte(QColor(*self.matte()))
        if colour is not None:
            self._settings.setValue("export/matte", colour.name())
            self._show_matte()

    def _pick_matte(self, initial: QColor) -> QColor | None:
        colour = QColorDialog.getColor(initial, self, "GIF matte colour")
        return colour if colour.isValid() else None

    def _show_matte(self) -> None:
        swatch = QPixmap(14, 14)
        swatch.fill(QColor(*self.matte()))
        with QPainter(swatch) as painter:  # an outline: a white matte on a light button
            painter.setPen(QColor(110, 110, 110))
            painter.drawRect(0, 0, 13, 13)
        self.matte_button.setIcon(QIcon(swatch))

    def export_palette(self) -> None:
        """Write the palette in the format of the chosen extension (Ctrl+E)."""
        if self._result is None:
            return
        path = self._save_path("Export palette", PALETTE_TYPES, self._suggestion(".gpl"))
        if path:
            q = self._result.quantized
            self._export.emit(path, "palette", (q.palette, q.counts, self._title()), False)

    def _on_load_failed(self, message: str) -> None:
        self.error.emit("Cannot open", message)

    def _on_export_failed(self, message: str) -> None:
        self.error.emit("Cannot export", message)

    def _on_export_question(self, path: str, what: str, payload, notes) -> None:
        """The chosen type cannot keep the image as it is: say so plainly, before anything is
        written, and write only if the user goes on."""
        text, details = transparency_question(path, list(notes))
        box = QMessageBox(QMessageBox.Icon.Warning, "Transparency will change", text,
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
                          self)
        box.setDetailedText(details)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.export_question = box  # for tests and screenshots
        try:
            if box.exec() == QMessageBox.StandardButton.Save:
                self._export.emit(path, what, payload, True)
            else:
                self.message.emit(f"Not saved: {Path(path).name}", 4000)
        finally:
            self.export_question = None

    def _on_exported(self, path: str, notes) -> None:
        self._settings.setValue("files/last_folder", str(Path(path).parent))
        message = f"Saved {path}"
        if notes:
            message += " - " + "; ".join(notes)
        self.message.emit(message, 8000)

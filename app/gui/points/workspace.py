"""The student's workspace: watch k-means work on point sets, one half-step at a time.

The widget only shows things and forwards what the user asks for.  Every clustering job, even a
single E-step on 300 points, runs in the :class:`~palettelab.app.gui.points.worker.PointsWorker` in
its own
QThread (see that module for why and for the epoch rules); its signals reach bound methods of
this widget, which lives in the GUI thread, so the slots run here and may touch widgets.

What the GUI does compute is drawing work whose cost does not grow with the data: projecting the
k centres, and the Voronoi shading (nearest centre over a fixed 200 x 200 grid of the view).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from palettelab.app.gui.image.export import file_filter, with_chosen_extension
from palettelab.app.gui.plot_export import PLOT_TYPES, add_export_action
from palettelab.app.gui.points.grid import AxisGrid
from palettelab.app.gui.points.inertia_chart import InertiaChart
from palettelab.app.gui.points.point_cloud import PointCloudItem
from palettelab.app.gui.points.worker import (
    INITS,
    METHODS,
    EditRequest,
    ElbowRequest,
    ElbowResult,
    InitRequest,
    LoadedPoints,
    PointsWorker,
    RunRequest,
    StartsRequest,
    StartsResult,
    State,
)
from palettelab.app.gui.worker_host import shutdown
from palettelab.core.datasets import DATASETS, DEFAULT_SIZES
from palettelab.core.datasets import SETTINGS as DATASET_SETTINGS
from palettelab.core.formats.points import AUTO
from palettelab.core.projection import Projection, column_view
from palettelab.core.voronoi import nearest_centre

OPEN_FILE = "Open file…"
#: the method whose half-steps Assign (E), Update (M) and Play show; mini-batch and spectral
#: clustering run whole (Run to convergence)
STEPPED = "k-means"
#: the first two choices of the Labels box; the file's columns follow them
LABELS_AUTO, LABELS_NONE = "auto", "none"
POINT_FILTER = "Point files (*.csv *.tsv *.txt *.npy *.npz);;All files (*)"
TSNE_VIEW = "t-SNE"
#: the canvas's tools: name, button text, tooltip
CANVAS_TOOLS = (
    ("drag", "Drag", "Drag a centre to another place between two steps"),
    ("add", "Add", "Click to add a point there"),
    ("remove", "Remove", "Click a point to remove it"),
)
#: how near (in screen pixels) a click must be to a centre or point to take it
PICK_PX = 12
LABEL_TYPES = (("CSV", (".csv",)), ("TSV", (".tsv",)), ("Text", (".txt",)))
#: a qualitative palette (Tableau 20 order: ten strong colours, then their light partners)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
UNASSIGNED = "#b0b0b0"
FRAME_PAUSE_MS = 25  # idle time left to the event loop between two live frames
VORONOI_GRID = 200
VORONOI_ALPHA = 50
CENTRE_IMAGE_PX = 48
TEXT_CELLS = 900  # confusion cells that get a count written on them
BARS_TITLE = "Silhouette per cluster (current)"


def cluster_color(index: int) -> QColor:
    """Colour of cluster ``index`` (the palette repeats beyond 20 clusters)."""
    return QColor(PALETTE[index % len(PALETTE)])


def _image_order(item: pg.ImageItem, grid: np.ndarray) -> np.ndarray:
    """``grid`` indexed [y, x] (rows first) in the order ``item`` expects: the app sets
    pyqtgraph's ``imageAxisOrder`` to row-major, but this widget must not depend on that."""
    return grid if item.axisOrder == "row-major" else grid.swapaxes(0, 1)


def _rgba_table(alpha: int) -> np.ndarray:
    return np.array([[*cluster_color(i).getRgb()[:3], alpha] for i in range(len(PALETTE))],
                    dtype=np.uint8)


class _CentresItem(pg.ScatterPlotItem):
    """The centres; in the canvas's Drag mode a centre follows the mouse and is put there
    (between two steps) when the button is released."""

    def __init__(self, workspace: PointsWorkspace, **options) -> None:
        super().__init__(**options)
        self._workspace = workspace
        self._dragged: int | None = None

    def mouseDragEvent(self, ev) -> None:
        ws = self._workspace
        if ws.canvas_tool != "drag" or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self._dragged = ws.centre_at(ev.buttonDownPos())
        if self._dragged is None:
            return
        ws.show_centre_at(self._dragged, ev.pos())
        if ev.isFinish():
            ws.move_centre(self._dragged, ev.pos())
            self._dragged = None


class PointsWorkspace(QWidget):
    """Load a point set, choose k and an initialisation, and step, play or run k-means."""

    # to the worker (queued: they run in its thread)
    _loadPath = Signal(int, str, object)  # epoch, path, label column as in load_points
    _loadDataset = Signal(int, str, object)  # epoch, name, settings (make_dataset's options)
    _initialiseRequest = Signal(object)
    _resetRequest = Signal()
    _stepRequest = Signal(str)
    _runRequest = Signal(object)
    _startsRequest = Signal(object)
    _adoptRequest = Signal(int, int)
    _elbowRequest = Signal(object)
    _exportLabels = Signal(str)
    _embedRequest = Signal(int)  # epoch of the t-SNE view asked for
    _editRequest = Signal(object)  # EditRequest: a canvas edit
    _exportAnimation = Signal(str, object)  # path, the view's columns (None: PCA)
    # for the window, tests and scripts
    dataLoaded = Signal(object)  # LoadedPoints
    fileLoaded = Signal(str)  # path of a point file read (not a sample set): recent files
    initialised = Signal(object)  # State: new starting centres
    stepDone = Signal(object)  # State after an E or M half-step
    resultReady = Signal(object)  # State after a run, spectral, or a chosen start
    startsReady = Signal(object)  # StartsResult
    elbowReady = Signal(object)  # ElbowResult
    exported = Signal(str)  # a file written (labels, an animation)
    embedded = Signal(object)  # Embedding: the t-SNE view is finished
    pointsEdited = Signal(object)  # LoadedPoints: the points after a canvas edit, drawn

    def __init__(self, initial_dataset: str | None = "blobs", parent: QWidget | None = None):
        super().__init__(parent)
        self._epoch = 0
        self._state_epoch = -1  # of the newest command that replaces the clustering state
        self._state_method = STEPPED  # ... and the method whose state it brings
        self._starts_from = ""  # how the newest several starts draw their centres
        self._load_epoch = -1
        self._load_labels: str | int | None = AUTO  # label column of the newest load request
        self._labels_loaded: str | int | None = AUTO  # ... and of the points shown
        self._starts_epoch = -1
        self._elbow_epoch = -1
        self._loaded: LoadedPoints | None = None
        self._state: State | None = None
        self._pending_steps = 0
        self._manual: list[np.ndarray] = []
        self._trail: list[np.ndarray] = []  # (2, 2) segments of projected old -> new centres
        self._tsne_coords: np.ndarray | None = None  # the drawn points in the t-SNE map
        self._embed_epoch = -1  # the t-SNE map asked for
        self._coords = np.zeros((0, 2))
        self.centre_images: list[np.ndarray] = []
        self._build()
        self._start_worker()
        if initial_dataset is not None:
            self.load_dataset(initial_dataset)

    # --- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.data_combo = QComboBox()
        self.data_combo.addItems([*DATASETS, OPEN_FILE])
        self.data_combo.activated.connect(self._data_chosen)
        self.labels_combo = QComboBox()
        self.labels_combo.setToolTip("The column of a point file that holds the ground truth: "
                                     "found by its name (label, class, target), none, or "
                                     "the one chosen here; the file is read again")
        self.labels_combo.currentIndexChanged.connect(self._labels_chosen)
        self.labels_combo.setEnabled(False)  # until a file is loaded
        self.size_spin = QSpinBox()
        self.size_spin.setRange(10, 20_000)
        self.size_spin.setValue(300)
        self.size_spin.setToolTip("Points in a generated data set")
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setRange(0.0, 1.0)
        self.noise_spin.setSingleStep(0.01)
        self.noise_spin.setValue(0.05)
        self.noise_spin.setToolTip("Jitter of the moons and circles (standard deviation)")
        self.spread_spin = QDoubleSpinBox()
        self.spread_spin.setRange(0.1, 5.0)
        self.spread_spin.setSingleStep(0.1)
        self.spread_spin.setValue(1.0)
        self.spread_spin.setToolTip("How spread out the blobs are (a factor on their size)")
        for spin in (self.size_spin, self.noise_spin, self.spread_spin):
            spin.setKeyboardTracking(False)  # one new set when typing is done
            spin.valueChanged.connect(self._settings_changed)
        self.view_combo = QComboBox()
        self.view_combo.addItems(["PCA", "Columns", TSNE_VIEW])
        self.view_combo.setToolTip("PCA: the two directions of most spread; Columns: two "
                                   "columns of the data; t-SNE: a map that keeps neighbours "
                                   "together (computed in the worker, animated as it forms)")
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        for combo in (self.view_combo, self.x_combo, self.y_combo):
            combo.currentIndexChanged.connect(self._view_changed)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 30)
        self.k_spin.setValue(4)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.init_combo = QComboBox()
        self.init_combo.addItems(INITS)
        self.method_combo = QComboBox()
        self.method_combo.addItems(METHODS)
        for widget in (self.k_spin, self.seed_spin):
            widget.valueChanged.connect(self._initialise)
        self.init_combo.currentIndexChanged.connect(self._initialise)
        self.method_combo.currentIndexChanged.connect(self._method_changed)

        self.assign_button = QPushButton("Assign (E)")
        self.assign_button.setToolTip("E-step: give every point the colour of its nearest centre")
        self.update_button = QPushButton("Update (M)")
        self.update_button.setToolTip("M-step: move every centre to the mean of its points")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("E, M, E, … until no point changes its cluster")
        for button in (self.assign_button, self.update_button, self.play_button):
            button.setToolTip(button.toolTip() + " (k-means only: mini-batch and spectral run "
                              "whole, with Run to convergence)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the starting centres")
        self.run_button = QPushButton("Run to convergence")
        self.starts_button = QPushButton("Several starts")
        self.starts_button.setToolTip("Run k-means to convergence from several starting "
                                      "centres drawn by the Init (k-means++ when it is manual: "
                                      "you place one start only)")
        self.starts_spin = QSpinBox()
        self.starts_spin.setRange(2, 100)
        self.starts_spin.setValue(10)
        self.elbow_button = QPushButton("Elbow / silhouette")
        self.k_min_spin, self.k_max_spin = QSpinBox(), QSpinBox()
        for spin, value in ((self.k_min_spin, 2), (self.k_max_spin, 10)):
            spin.setRange(2, 30)
            spin.setValue(value)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(1, 20)  # half-steps a second
        self.speed_slider.setValue(4)
        self.speed_slider.valueChanged.connect(self._speed_changed)
        self.assign_button.clicked.connect(self._assign_clicked)
        self.update_button.clicked.connect(self._update_clicked)
        self.play_button.toggled.connect(self._play_toggled)
        self.reset_button.clicked.connect(self._reset_clicked)
        self.run_button.clicked.connect(self._run_clicked)
        self.starts_button.clicked.connect(self._starts_clicked)
        self.elbow_button.clicked.connect(self._elbow_clicked)
        self.starts_list = QListWidget()
        self.starts_list.currentRowChanged.connect(self._start_chosen)
        self.canvas_buttons: dict[str, QPushButton] = {}
        for tool, label, tip in CANVAS_TOOLS:
            button = QPushButton(label)
            button.setCheckable(True)
            button.setToolTip(tip + " (2-D data in the Columns view)")
            button.toggled.connect(lambda on, t=tool: self._canvas_toggled(t, on))
            self.canvas_buttons[tool] = button
        self.undo_edit_button = QPushButton("Undo edit")
        # no Ctrl+Z here: the window's Edit > Undo has it, and two actions on one key in one
        # window would leave Qt to trigger neither
        self.undo_edit_button.setToolTip("Take back the last canvas edit: a moved centre, "
                                         "added or removed points")
        self.undo_edit_button.clicked.connect(self.undo_edit)
        self.canvas_tool = "none"
        self.export_labels_button = QPushButton("Export labels…")
        self.export_labels_button.setToolTip("Write each point's cluster (CSV: a header "
                                             "'label', one integer a line, in file order)")
        self.export_labels_button.clicked.connect(self.export_labels)
        self.export_animation_button = QPushButton("Export animation…")
        self.export_animation_button.setToolTip("The k-means run from the starting centres "
                                                "as an animated GIF, one frame per step, for "
                                                "slides")
        self.export_animation_button.clicked.connect(self.export_animation)

        self.iteration_label = QLabel("iteration 0")
        self.inertia_label = QLabel("inertia –")
        self.shown_label = QLabel("")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        #: this workspace's figures for the window's status bar (placed there by the window)
        self.stats_label = QLabel("")
        self.accuracy_label = QLabel("")
        self.accuracy_label.setWordWrap(True)
        self.silhouette_note = QLabel("")

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._speed_changed(self.speed_slider.value())

        # the scatter: Voronoi shading, points, trails, centres, manually placed centres
        self.plot_widget = pg.PlotWidget(background="w")
        self.view_box = self.plot_widget.getViewBox()
        self.view_box.setAspectLocked(True)  # equal scales: round clusters look round
        self.grid = AxisGrid(self.plot_widget.getPlotItem())
        self.plot_widget.addItem(self.grid, ignoreBounds=True)
        self.voronoi = pg.ImageItem()
        self.voronoi.setZValue(-10)
        self.plot_widget.addItem(self.voronoi, ignoreBounds=True)
        # the points, a colour per cluster (the last: not assigned yet), drawn by Qt in one
        # call per colour (pyqtgraph's scatter costs a Python record per point)
        self.cloud = PointCloudItem([*map(cluster_color, range(len(PALETTE))),
                                     QColor(UNASSIGNED)])
        self.plot_widget.addItem(self.cloud)
        self.trail = pg.PlotDataItem(pen=pg.mkPen((60, 60, 60, 110), width=1.5), connect="pairs")
        self.plot_widget.addItem(self.trail)
        self._centre_brushes: list[QBrush] = []
        self.centres_item = _CentresItem(self, size=24, symbol="star",
                                         pen=pg.mkPen("k", width=1.5))
        self.centres_item.setZValue(10)
        self.plot_widget.addItem(self.centres_item)
        self.placed_item = pg.ScatterPlotItem(size=18, symbol="x", pen=pg.mkPen("k", width=2),
                                              brush=pg.mkBrush("k"))
        self.placed_item.setZValue(11)
        self.plot_widget.addItem(self.placed_item)
        self.plot_widget.scene().sigMouseClicked.connect(self._plot_clicked)
        self.view_box.sigRangeChanged.connect(self._draw_voronoi)
        self._voronoi_lut = _rgba_table(VORONOI_ALPHA)

        # centres as small images (digits)
        self.centre_strip = QWidget()
        self._strip_layout = QHBoxLayout(self.centre_strip)
        self._strip_layout.setContentsMargins(2, 2, 2, 2)
        self._strip_layout.addStretch(1)
        self.strip_area = QScrollArea()
        self.strip_area.setWidget(self.centre_strip)
        self.strip_area.setWidgetResizable(True)
        self.strip_area.setFixedHeight(CENTRE_IMAGE_PX + 50)
        self.strip_area.hide()

        # the charts
        self.inertia_plot = pg.PlotWidget(background="w")
        self.inertia_plot.setLabel("bottom", "half-step (E, M, E, …) or iteration")
        self.inertia_plot.setLabel("left", "inertia")
        self.inertia_chart = InertiaChart(self.inertia_plot)
        self.inertia_curve = self.inertia_chart.curve
        self.elbow_plot = pg.PlotWidget(background="w", title="Elbow: inertia by k")
        self.elbow_plot.setLabel("bottom", "k")
        self.elbow_curve = self.elbow_plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o")
        self.silhouette_plot = pg.PlotWidget(background="w", title="Mean silhouette by k")
        self.silhouette_plot.setLabel("bottom", "k")
        self.silhouette_curve = self.silhouette_plot.plot(pen=pg.mkPen("#d62728", width=2),
                                                          symbol="s")
        self._elbow_ks: np.ndarray | None = None
        for chart in (self.elbow_plot, self.silhouette_plot):
            chart.setToolTip("Click a k to use it")
            chart.scene().sigMouseClicked.connect(
                lambda event, c=chart: self._chart_clicked(c, event))
        self.bars_plot = pg.PlotWidget(background="w", title=BARS_TITLE)
        self.bars_plot.setLabel("bottom", "silhouette")
        self.bars_plot.setLabel("left", "cluster")
        self.bars_plot.getAxis("left").setTicks([[]])
        self.confusion_plot = pg.PlotWidget(background="w", title="Confusion matrix")
        self.confusion_plot.setLabel("bottom", "cluster")
        self.confusion_plot.setLabel("left", "true class")
        self.confusion_plot.getViewBox().invertY(True)
        self.confusion_image = pg.ImageItem()
        self.confusion_image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.confusion_plot.addItem(self.confusion_image)
        self._confusion_texts: list[pg.TextItem] = []

        elbow_tab = QWidget()
        elbow_layout = QVBoxLayout(elbow_tab)
        elbow_row = QHBoxLayout()
        elbow_row.addWidget(self.elbow_plot)
        elbow_row.addWidget(self.silhouette_plot)
        elbow_row.addWidget(self.bars_plot)
        elbow_layout.addLayout(elbow_row, 1)
        elbow_layout.addWidget(self.silhouette_note)
        truth_tab = QWidget()
        truth_layout = QVBoxLayout(truth_tab)
        truth_layout.addWidget(self.accuracy_label)
        truth_layout.addWidget(self.confusion_plot, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.inertia_plot, "Inertia")
        self.tabs.addTab(elbow_tab, "Elbow / silhouette")
        self.tabs.addTab(truth_tab, "Ground truth")

        # the side panel
        form = QFormLayout()
        form.addRow("Data", self.data_combo)
        form.addRow("Labels", self.labels_combo)
        settings = QHBoxLayout()
        for label, spin in (("n", self.size_spin), ("noise", self.noise_spin),
                            ("spread", self.spread_spin)):
            settings.addWidget(QLabel(label))
            settings.addWidget(spin, 1)
        form.addRow("Settings", settings)
        form.addRow("View", self.view_combo)
        axes = QHBoxLayout()
        axes.addWidget(self.x_combo)
        axes.addWidget(self.y_combo)
        form.addRow("Columns", axes)
        form.addRow("k", self.k_spin)
        form.addRow("Init", self.init_combo)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Method", self.method_combo)
        steps = QHBoxLayout()
        steps.addWidget(self.assign_button)
        steps.addWidget(self.update_button)
        play = QHBoxLayout()
        play.addWidget(self.play_button)
        play.addWidget(self.reset_button)
        form.addRow("Speed", self.speed_slider)
        starts = QHBoxLayout()
        starts.addWidget(self.starts_button)
        starts.addWidget(self.starts_spin)
        elbow = QHBoxLayout()
        elbow.addWidget(self.elbow_button)
        elbow.addWidget(self.k_min_spin)
        elbow.addWidget(QLabel("to"))
        elbow.addWidget(self.k_max_spin)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addLayout(form)
        side_layout.addLayout(steps)
        side_layout.addLayout(play)
        side_layout.addWidget(self.run_button)
        side_layout.addWidget(self.iteration_label)
        side_layout.addWidget(self.inertia_label)
        side_layout.addLayout(starts)
        side_layout.addWidget(self.starts_list, 1)
        side_layout.addLayout(elbow)
        canvas = QHBoxLayout()
        for button in (*self.canvas_buttons.values(), self.undo_edit_button):
            canvas.addWidget(button)
        side_layout.addLayout(canvas)
        exports = QHBoxLayout()
        exports.addWidget(self.export_labels_button)
        exports.addWidget(self.export_animation_button)
        side_layout.addLayout(exports)
        side_layout.addWidget(self.shown_label)
        side_layout.addWidget(self.status_label)
        side.setMinimumWidth(300)
        side.setMaximumWidth(380)

        left = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.plot_widget, 1)
        top_layout.addWidget(self.strip_area)
        left.addWidget(top)
        left.addWidget(self.tabs)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(left, 1)
        layout.addWidget(side)
        for plot in (self.plot_widget, self.inertia_plot, self.elbow_plot, self.silhouette_plot,
                     self.bars_plot, self.confusion_plot):
            add_export_action(plot, self._ask_plot_path, self.show_error)
            # an axis is drawn from a cached pixmap until its range or size changes: stack dumps
            # of the 1M-point freezes showed its Python tick layout in every repaint
            for side in ("left", "bottom"):
                plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._enable_steps()

    def _start_worker(self) -> None:
        self.worker = PointsWorker()
        self._loadPath.connect(self.worker.load_path)
        self._loadDataset.connect(self.worker.load_dataset)
        self._initialiseRequest.connect(self.worker.initialise)
        self._resetRequest.connect(self.worker.reset)
        self._stepRequest.connect(self.worker.step)
        self._runRequest.connect(self.worker.run)
        self._startsRequest.connect(self.worker.several_starts)
        self._adoptRequest.connect(self.worker.adopt)
        self._elbowRequest.connect(self.worker.elbow_silhouette)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.loadFailed.connect(self._on_load_failed)
        self.worker.state.connect(self._on_state)
        self.worker.starts.connect(self._on_starts)
        self.worker.elbow.connect(self._on_elbow)
        self.worker.failed.connect(self._on_failed)
        self._exportLabels.connect(self.worker.export_labels)
        self._embedRequest.connect(self.worker.embed)
        self._editRequest.connect(self.worker.edit)
        self.worker.edited.connect(self._on_edited)
        self.worker.embedding.connect(self._on_embedding)
        self._exportAnimation.connect(self.worker.export_animation)
        self.worker.exported.connect(self._on_exported)
        self.worker.start(self, "PaletteLab points worker", warm=False)

    def close_worker(self) -> None:
        """Stop playing and stop the worker thread (the host's shutdown policy: any long job is
        cancelled, the wait is bounded).

        Safe to call twice: the window and a test fixture may both do it."""
        self._timer.stop()
        shutdown(self.worker)

    # --- public API -----------------------------------------------------------------------------

    def load_dataset(self, name: str) -> None:
        """Load built-in set ``name`` (one of :data:`palettelab.core.datasets.DATASETS`) in the
        worker, a generated one with the Settings boxes."""
        self._enable_settings(name)
        self._load_epoch = self._next_epoch()
        self._load_labels = AUTO
        self._loadDataset.emit(self._load_epoch, name, self._dataset_settings(name))

    def open_path(self, path: str, label_column: str | int | None = AUTO) -> None:
        """Load a point file in the worker, its labels from ``label_column`` (as in
        :func:`~palettelab.core.formats.points.load_points`); the current points stay if it
        cannot be read."""
        self._load_epoch = self._next_epoch()
        self._load_labels = label_column
        self._loadPath.emit(self._load_epoch, str(path), label_column)

    def labels(self) -> np.ndarray | None:
        """Cluster of every point (None before the first E-step)."""
        if self._state is None or self._state.labels is None:
            return None
        return self._state.labels.copy()

    def centers(self) -> np.ndarray | None:
        """Current centres, (k, d), or None before any are chosen."""
        return None if self._state is None else self._state.centers.copy()

    def points(self):
        """The loaded :class:`palettelab.core.formats.points.PointSet`, or None."""
        return None if self._loaded is None else self._loaded.points

    def show_error(self, title: str, message: str) -> None:
        """Tell the user what went wrong (a modal dialog; tests replace it)."""
        QMessageBox.critical(self, title, message)

    def _ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open points", "", POINT_FILTER)
        return path

    def _ask_save_path(self, title: str, types) -> str:
        """A path to save to, with the chosen type's extension when the name has none."""
        path, chosen = QFileDialog.getSaveFileName(self, title, "", file_filter(types))
        return with_chosen_extension(path, chosen, types) if path else ""

    def _ask_plot_path(self, title: str) -> str:
        return self._ask_save_path(title, PLOT_TYPES)

    # --- the canvas (issue 18) ------------------------------------------------------------------

    def _canvas_ok(self) -> bool:
        """Edits need the plot to show the data itself: 2-D points, every one drawn."""
        return (self._loaded is not None and self._loaded.points.X.shape[1] == 2
                and len(self._loaded.shown) == len(self._loaded.points.X))

    def _canvas_toggled(self, tool: str, on: bool) -> None:
        if on:
            for other, button in self.canvas_buttons.items():
                if other != tool:
                    button.setChecked(False)
            self.canvas_tool = tool
        elif not any(b.isChecked() for b in self.canvas_buttons.values()):
            self.canvas_tool = "none"
        painting = self.canvas_tool != "none"
        self.view_box.setMouseEnabled(not painting, not painting)

    def _enable_canvas(self) -> None:
        ok = self._canvas_ok()
        for button in self.canvas_buttons.values():
            if not ok:
                button.setChecked(False)
            button.setEnabled(ok)

    def _data_point(self, scene_pos) -> np.ndarray:
        """The data row (d,) at a scene position of the plot (2-D data: the two columns)."""
        where = self.view_box.mapSceneToView(scene_pos)
        row = np.zeros(self._loaded.points.X.shape[1])
        x_col, y_col = self._columns()
        row[x_col], row[y_col] = where.x(), where.y()
        return row

    def _pick(self, coords: np.ndarray, view_pos) -> int | None:
        """The index of the row of ``coords`` (m, 2) nearest to ``view_pos`` within
        ``PICK_PX`` screen pixels, or None."""
        if not len(coords):
            return None
        per_x, per_y = self.view_box.viewPixelSize()
        d2 = ((coords[:, 0] - view_pos.x()) / per_x) ** 2 + ((coords[:, 1] - view_pos.y())
                                                             / per_y) ** 2
        best = int(np.argmin(d2))
        return best if d2[best] <= PICK_PX**2 else None

    def centre_at(self, item_pos) -> int | None:
        """The centre under a position of the centres' item (their view coordinates)."""
        if self._state is None:
            return None
        return self._pick(self._project(self._state.centers), item_pos)

    def show_centre_at(self, index: int, item_pos) -> None:
        """Draw centre ``index`` at a position while it is dragged."""
        xy = self._project(self._state.centers)
        xy[index] = (item_pos.x(), item_pos.y())
        self._draw_centres(xy)

    def _draw_centres(self, xy: np.ndarray) -> None:
        if len(self._centre_brushes) != len(xy):  # made once per k, not on every frame
            self._centre_brushes = [pg.mkBrush(cluster_color(i)) for i in range(len(xy))]
        self.centres_item.setData(pos=xy, brush=self._centre_brushes)

    def move_centre(self, index: int, item_pos) -> None:
        """Put centre ``index`` where it was dropped (in the worker: undoable)."""
        row = self._state.centers[index].copy()
        x_col, y_col = self._columns()
        row[x_col], row[y_col] = item_pos.x(), item_pos.y()
        self._edit("move", (index, row))

    def _edit(self, kind: str, payload=None) -> None:
        self._stop_play()
        self._state_epoch = self._next_epoch()
        self._editRequest.emit(EditRequest(self._state_epoch, kind, payload))

    def undo_edit(self) -> None:
        """Take back the last canvas edit."""
        if self._loaded is not None:
            self._edit("undo")

    def _canvas_clicked(self, event) -> bool:
        """Add or remove a point where the plot was clicked; whether the click was used."""
        if self.canvas_tool not in ("add", "remove") or not self._canvas_ok():
            return False
        if self.canvas_tool == "add":
            self._edit("add", self._data_point(event.scenePos())[None, :])
        else:
            where = self.view_box.mapSceneToView(event.scenePos())
            hit = self._pick(self._coords, where)
            if hit is None:
                return True
            self._edit("remove", [int(self._loaded.shown[hit])])
        event.accept()
        return True

    def _on_edited(self, loaded: LoadedPoints) -> None:
        """The points after an edit: drawn again, the view kept (the state follows)."""
        if loaded.epoch != self._state_epoch:
            return
        self._loaded = loaded
        self._tsne_coords = None
        n, d = loaded.points.X.shape
        self.shown_label.setText(f"{n:,} points, {d} columns")
        self._update_coords()
        self._enable_canvas()
        self.pointsEdited.emit(loaded)

    # --- exports (issue 18) ---------------------------------------------------------------------

    def export_labels(self) -> None:
        """Write every point's cluster label to a CSV file (in the worker)."""
        path = self._ask_save_path("Export cluster labels", LABEL_TYPES)
        if path:
            self._exportLabels.emit(path)

    def export_animation(self) -> None:
        """Write the k-means run as an animated GIF, in the view shown (in the worker)."""
        path = self._ask_save_path("Export k-means animation", (("GIF animation", (".gif",)),))
        if path:
            columns = None if self._is_pca() else tuple(self._columns())
            self._exportAnimation.emit(path, columns)
            self.status_label.setText("Drawing the animation…")

    def _on_exported(self, path: str) -> None:
        self.status_label.setText(f"Saved {path}")
        self.exported.emit(path)

    # --- commands -------------------------------------------------------------------------------

    def _next_epoch(self) -> int:
        self._epoch += 1
        self.worker.advance(self._epoch)
        return self._epoch

    def _dataset_settings(self, name: str) -> dict:
        """The Size, Noise and Spread boxes as ``make_dataset`` options, for a generated set
        (the bundled iris and digits take none)."""
        if name not in DATASET_SETTINGS:
            return {}
        options = {"n_samples": self.size_spin.value()}
        if "noise" in DATASET_SETTINGS[name]:
            options["noise"] = self.noise_spin.value()
        if "spread" in DATASET_SETTINGS[name]:
            options["spread"] = self.spread_spin.value()
        return options

    def _settings_changed(self) -> None:
        """A data-set setting changed: generate the set shown again with it."""
        name = self.data_combo.currentText()
        if name in DATASET_SETTINGS and self.data_combo.currentData() is None:
            self.load_dataset(name)

    def _enable_settings(self, name: str) -> None:
        generated = name in DATASET_SETTINGS
        self.size_spin.setEnabled(generated)
        self.noise_spin.setEnabled("noise" in DATASET_SETTINGS.get(name, ()))
        self.spread_spin.setEnabled("spread" in DATASET_SETTINGS.get(name, ()))

    def _data_chosen(self, index: int) -> None:
        path = self.data_combo.itemData(index)
        if path is not None:  # the item of the last file opened: read it again if not shown
            if self._loaded is None or path != self._loaded.points.path:
                self.open_path(path)
            return
        text = self.data_combo.itemText(index)
        if text != OPEN_FILE:
            if text in DEFAULT_SIZES:  # another set: its own usual size
                self.size_spin.blockSignals(True)
                self.size_spin.setValue(DEFAULT_SIZES[text])
                self.size_spin.blockSignals(False)
            self.load_dataset(text)
            return
        path = self._ask_open_path()
        if path:
            self.open_path(path)
        else:
            self._select_data_item()

    def _labels_chosen(self, index: int) -> None:
        """Read the loaded file again with the label column picked in the Labels box."""
        if index < 0 or self._loaded is None:
            return
        choice = (AUTO, None)[index] if index < 2 else index - 2
        if choice != self._labels_loaded:
            self.open_path(self._loaded.points.path, choice)

    def _initialise(self) -> None:
        """New starting centres for the current k, init and seed (or wait for clicks)."""
        if self._loaded is None:
            return
        self._stop_play()
        self._manual = []
        self.placed_item.setData([], [])
        k = self.k_spin.value()
        self._state_method = STEPPED
        if self.init_combo.currentText() == "manual":
            self._state_epoch = self._next_epoch()  # drop results of the old centres
            self._state = None
            self._pending_steps = 0
            self._show_state()
            if self._is_pca():
                self.status_label.setText("Manual centres need a two-column view, not PCA.")
            else:
                self.status_label.setText(f"Click on the plot to place {k} centres (0 of {k}).")
            return
        self._state_epoch = self._next_epoch()
        self._pending_steps = 0
        self._initialiseRequest.emit(InitRequest(self._state_epoch, k,
                                                 self.init_combo.currentText(),
                                                 self.seed_spin.value()))

    def _method_changed(self) -> None:
        """Enable what applies to the Method.  Back on k-means while another method's result is
        shown (or coming), new starting centres are placed and the status says so: an E-step
        from spectral clusters' means would silently turn their result into a k-means one."""
        if self.method_combo.currentText() == STEPPED and self._state_method != STEPPED:
            self._initialise()
            return
        if self.method_combo.currentText() != STEPPED:
            self._stop_play()
        self._enable_steps()
        if self._state is not None and self._state.epoch == self._state_epoch:
            self.status_label.setText(self._hint(self._state))

    def _assign_clicked(self) -> None:
        self._request_step("E")

    def _update_clicked(self) -> None:
        self._request_step("M")

    def _request_step(self, half: str) -> None:
        if self._state is None:
            return
        self._pending_steps += 1
        self._stepRequest.emit(half)

    def _reset_clicked(self) -> None:
        self._stop_play()
        self._pending_steps = 0
        self._resetRequest.emit()

    def _run_clicked(self) -> None:
        if self._loaded is None:
            return
        method = self.method_combo.currentText()
        if (self._state is None and method != "spectral"
                and self.init_combo.currentText() == "manual"):  # centres not placed yet
            self.status_label.setText(f"Place the {self.k_spin.value()} starting centres first "
                                      "(click on the plot), or choose another Init.")
            return
        self._stop_play()
        self._state_method = method
        self._state_epoch = self._next_epoch()
        self._pending_steps = 0
        self.status_label.setText(f"Running {self.method_combo.currentText()}…")
        self._runRequest.emit(RunRequest(self._state_epoch, self.method_combo.currentText(),
                                         self.k_spin.value(), self.seed_spin.value()))

    def _starts_clicked(self) -> None:
        if self._loaded is None:
            return
        self._stop_play()
        self._starts_epoch = self._next_epoch()
        self.starts_list.clear()
        # manual init places one start by hand: the session draws the starts with k-means++
        init = self.init_combo.currentText()
        drawn = "k-means++" if init == "manual" else init
        self._starts_from = f"{drawn} centres" + (" (manual init places only one start, by "
                                                  "hand)" if init == "manual" else "")
        self.status_label.setText(f"Running {self.starts_spin.value()} k-means starts from "
                                  f"{self._starts_from}…")
        self._startsRequest.emit(StartsRequest(self._starts_epoch, self.starts_spin.value(),
                                               self.k_spin.value(), drawn,
                                               self.seed_spin.value()))

    def _start_chosen(self, row: int) -> None:
        if row < 0 or self._starts_epoch < 0:
            return
        self._stop_play()
        self._state_method = STEPPED
        self._state_epoch = self._next_epoch()
        self._pending_steps = 0
        self._adoptRequest.emit(self._state_epoch, row)

    def _elbow_clicked(self) -> None:
        if self._loaded is None:
            return
        self._epoch += 1
        self._elbow_epoch = self._epoch
        self.worker.advance_elbow(self._elbow_epoch)
        low, high = sorted((self.k_min_spin.value(), self.k_max_spin.value()))
        self.silhouette_note.setText(f"Computing k = {low}…{high}…")
        self._elbowRequest.emit(ElbowRequest(self._elbow_epoch, low, high, self.seed_spin.value(),
                                             self.labels()))

    # --- play -----------------------------------------------------------------------------------

    def _speed_changed(self, per_second: int) -> None:
        self._timer.setInterval(int(1000 / per_second))

    def _play_toggled(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing and self._state is not None:
            self._timer.start()
        else:
            self._timer.stop()
            if playing:
                self.play_button.setChecked(False)

    def _stop_play(self) -> None:
        self.play_button.setChecked(False)

    def _tick(self) -> None:
        """Next half-step, once the last one is drawn (a slow worker gets fewer requests, not a
        queue of them)."""
        if self._pending_steps or self._state is None:
            return
        next_e = self._state.labels is None or self._state.phase != "E"
        self._request_step("E" if next_e else "M")

    # --- worker results -------------------------------------------------------------------------

    def _on_loaded(self, loaded: LoadedPoints) -> None:
        if loaded.epoch != self._load_epoch:
            return
        self._loaded = loaded
        self._state = None
        self._trail = []
        self._tsne_coords = None
        self.worker.advance_elbow(self._next_epoch())
        self.worker.embed_jobs.cancel()  # a map of the old points is stale
        self._embed_epoch = -1
        points = loaded.points
        n, d = points.X.shape
        self._select_data_item()
        self._labels_loaded = self._load_labels
        self._fill_labels_combo()
        for combo in (self.view_combo, self.x_combo, self.y_combo):
            combo.blockSignals(True)
        self.x_combo.clear()
        self.y_combo.clear()
        self.x_combo.addItems(points.columns)
        self.y_combo.addItems(points.columns)
        self.x_combo.setCurrentIndex(0)
        self.y_combo.setCurrentIndex(min(1, d - 1))
        self.view_combo.setCurrentIndex(0 if d > 2 else 1)
        for combo in (self.view_combo, self.x_combo, self.y_combo):
            combo.blockSignals(False)
        self.view_combo.setEnabled(d > 2)
        self._enable_axes()
        self.shown_label.setText(f"{len(loaded.shown):,} of {n:,} points shown"
                                 if len(loaded.shown) < n else f"{n:,} points, {d} columns")
        self.status_label.setText(f"Loaded {points.path} in {loaded.seconds:.2f} s")
        self.starts_list.clear()
        self._clear_elbow()
        side = math.isqrt(d)
        self.strip_area.setVisible(d >= 16 and side * side == d)
        if points.labels is not None and self.k_spin.value() != len(points.label_names):
            self.k_spin.blockSignals(True)  # start from the number of known classes
            self.k_spin.setValue(min(30, len(points.label_names)))
            self.k_spin.blockSignals(False)
        self._update_coords()
        self._show_state()  # the grey points, so that the view fits them
        self.view_box.autoRange()
        self._enable_canvas()
        self.dataLoaded.emit(loaded)
        if not points.path.startswith("dataset:"):
            self.fileLoaded.emit(points.path)
        self._initialise()

    def _on_load_failed(self, message: str) -> None:
        self._select_data_item()
        self._select_labels_item()
        self.show_error("Could not load the points", message)

    def _on_failed(self, message: str) -> None:
        self._stop_play()
        self.status_label.setText("")
        self.show_error("Clustering failed", message)

    def _on_state(self, state: State) -> None:
        if state.phase == "frame":
            # the next frame may go out once this one is drawn and the event loop has had a
            # moment for input and timers (acknowledged on receipt, frames of a 1M-point run
            # came back to back and kept the window from answering for 200 ms at a time)
            QTimer.singleShot(FRAME_PAUSE_MS, self._frame_done)
        if state.epoch != self._state_epoch:
            return
        if state.phase in ("E", "M") and self._pending_steps:
            self._pending_steps -= 1
        previous = self._state
        self._state = state
        if state.phase in ("init", "result") or previous is None:
            self._trail = []
        if state.previous is not None:
            old, new = self._project(state.previous), self._project(state.centers)
            self._trail.extend(np.stack([old, new], axis=1))
        self._show_state()
        if state.phase != "frame":
            self.status_label.setText(self._hint(state))
        if state.phase == "init":
            self.initialised.emit(state)
        elif state.phase in ("E", "M"):
            if state.converged:
                self._stop_play()
            self.stepDone.emit(state)
        elif state.phase == "result":
            self.resultReady.emit(state)

    def _hint(self, state: State) -> str:
        """The status line for ``state``: what happened and what to press next, for the Method
        chosen now (Assign, Update and Play step k-means only)."""
        stepping = self.method_combo.currentText() == STEPPED
        method = self.method_combo.currentText()
        if state.phase == "result":
            done = f"{state.method}: done."
            if state.method != STEPPED:
                return (f"{done} To step k-means, choose Method k-means: it starts from new "
                        "centres.")
            return done
        if not stepping:
            return (f"{method} runs whole, without E and M steps: press Run to convergence "
                    f"(Assign, Update and Play step k-means).")
        if state.phase == "init":
            return "Starting centres placed: press Assign (E), or Play."
        if state.phase == "edit":
            return "Edited by hand: press Assign (E) to reassign the points (Undo edit takes it "\
                "back)."
        if state.converged:
            return "Converged: no point changed its cluster."
        if state.phase == "E":
            return ("Every point took its nearest centre's colour: press Update (M) to move "
                    "each centre to the mean of its points.")
        return "Centres moved to their points' means: press Assign (E) to reassign the points."

    def _frame_done(self) -> None:
        self.worker.frame_shown()

    def _on_starts(self, result: StartsResult) -> None:
        if result.epoch != self._starts_epoch:
            return
        self.starts_list.blockSignals(True)
        self.starts_list.clear()
        for i, start in enumerate(result.starts):
            best = "  ★ best" if i == result.best else ""
            self.starts_list.addItem(f"start {i + 1}: inertia {start.inertia:.1f} "
                                     f"({start.iterations} it.){best}")
        self.starts_list.blockSignals(False)
        distinct = len({round(s.inertia, 6) for s in result.starts})
        optima = ("all end in the same local optimum" if distinct == 1
                  else f"{distinct} different local optima")
        self.status_label.setText(f"{len(result.starts)} k-means starts from "
                                  f"{self._starts_from}, {optima}: select one to show it.")
        self.startsReady.emit(result)

    def _on_elbow(self, result: ElbowResult) -> None:
        if result.epoch != self._elbow_epoch:
            return
        ks = np.array(result.ks, dtype=float)
        self._elbow_ks = ks
        self.elbow_curve.setData(ks, np.array(result.inertia))
        self.silhouette_curve.setData(ks, np.array(result.silhouette))
        how = ("exact" if result.silhouette_used >= result.n
               else f"sampled (n={result.silhouette_used})")
        self.silhouette_note.setText(f"silhouette: {how}")
        self._draw_silhouette_bars(result.samples, result.sample_labels)
        self.elbowReady.emit(result)

    # --- drawing --------------------------------------------------------------------------------

    def _select_data_item(self) -> None:
        """Point the data combo at what is loaded (after a load, a failed load or a cancelled
        dialog): a sample set by its name, a file by its own item, the last one opened."""
        if self._loaded is None:
            return
        path = self._loaded.points.path
        if path.startswith("dataset:"):
            index = self.data_combo.findText(path.removeprefix("dataset:"))
        else:
            index = self._file_item(path)
        self.data_combo.setCurrentIndex(index)

    def _file_item(self, path: str) -> int:
        """The Data box's item of the last point file opened, just above "Open file…": its
        name, with the path as the item's data and tooltip (made on the first file)."""
        index = len(DATASETS)
        if self.data_combo.itemText(index) == OPEN_FILE:
            self.data_combo.insertItem(index, "")
        self.data_combo.setItemText(index, Path(path).name)
        self.data_combo.setItemData(index, path)
        self.data_combo.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        return index

    def _fill_labels_combo(self) -> None:
        """Offer auto, none and the columns of a loaded file (nothing for a sample set)."""
        columns = self._loaded.points.file_columns
        self.labels_combo.blockSignals(True)
        self.labels_combo.clear()
        if columns:
            self.labels_combo.addItems([LABELS_AUTO, LABELS_NONE, *columns])
        self.labels_combo.blockSignals(False)
        self.labels_combo.setEnabled(bool(columns))
        self._select_labels_item()

    def _select_labels_item(self) -> None:
        """Point the Labels box at the choice the shown points were read with."""
        if self._loaded is None or not self._loaded.points.file_columns:
            return
        choice = self._labels_loaded
        if choice == AUTO:
            index = 0
        elif choice is None:
            index = 1
        else:  # a column the file was read with, so it is there
            columns = self._loaded.points.file_columns
            index = 2 + (choice if isinstance(choice, int) else columns.index(choice))
        self.labels_combo.blockSignals(True)
        self.labels_combo.setCurrentIndex(index)
        self.labels_combo.blockSignals(False)

    def _is_pca(self) -> bool:
        return (self._loaded is not None and self._loaded.points.X.shape[1] > 2
                and self.view_combo.currentText() == "PCA")

    def _is_tsne(self) -> bool:
        return (self._loaded is not None and self._loaded.points.X.shape[1] > 2
                and self.view_combo.currentText() == TSNE_VIEW)

    def _on_embedding(self, embedding) -> None:
        """A frame of the t-SNE map (the next is sent once this one is drawn), or the map."""
        if not embedding.done:
            QTimer.singleShot(FRAME_PAUSE_MS, self._frame_done)
        if embedding.epoch != self._embed_epoch:
            return
        self._tsne_coords = embedding.coords
        if self._is_tsne():
            self._update_coords()
            self._show_state()
            self.view_box.autoRange()
            self.status_label.setText("t-SNE map: neighbours in the data stay together; "
                                      "centres are shown at their points' mean"
                                      if embedding.done else
                                      f"t-SNE: step {embedding.iteration}…")
        if embedding.done:
            self.embedded.emit(embedding)

    def _enable_axes(self) -> None:
        columns = self._loaded is not None and not self._is_pca() and not self._is_tsne()
        self.x_combo.setEnabled(columns)
        self.y_combo.setEnabled(columns)

    def _view_changed(self) -> None:
        if self._loaded is None:
            return
        if self._is_tsne() and self._tsne_coords is None and self._embed_epoch != self._epoch:
            self._embed_epoch = self._epoch
            self.worker.embed_jobs.set(self._embed_epoch)
            self._embedRequest.emit(self._embed_epoch)
            self.status_label.setText("t-SNE: computing the neighbours…")
        self._enable_axes()
        self._update_coords()
        self._trail = []
        self._show_state()
        self.view_box.autoRange()

    def _update_coords(self) -> None:
        loaded = self._loaded
        if self._is_tsne():  # until the map's first frame: the PCA picture
            self._coords = loaded.pca_shown if self._tsne_coords is None else self._tsne_coords
            names = ("t-SNE 1", "t-SNE 2")
        elif self._is_pca():
            self._coords = loaded.pca_shown
            names = ("PCA 1", "PCA 2")
        else:
            self._coords = self._project(loaded.points.X[loaded.shown])
            names = tuple(loaded.points.columns[c] for c in self._columns())
        self.plot_widget.setLabel("bottom", names[0])
        self.plot_widget.setLabel("left", names[1])

    def _columns(self) -> list[int]:
        return [max(0, self.x_combo.currentIndex()), max(0, self.y_combo.currentIndex())]

    def _view(self) -> Projection:
        """The map to the plot's plane: the loaded PCA axes, or the two chosen columns."""
        if self._is_pca():
            return Projection(self._loaded.pca_mean, self._loaded.pca_axes)
        return column_view(self._loaded.points.X.shape[1], *self._columns())

    def _project(self, A: np.ndarray) -> np.ndarray:
        """The view's 2-D coordinates of rows ``A`` (k centres: cheap enough for the GUI).

        A t-SNE map has no formula for a point it was not made from: a centre is shown at
        the mean of its cluster's drawn points, or before any assignment at its nearest drawn
        point."""
        if not self._is_tsne():
            return self._view().project(A)
        shown = self._loaded.points.X[self._loaded.shown]
        state = self._state
        labels = None if state is None or state.labels is None \
            else state.labels[self._loaded.shown]
        out = np.empty((A.shape[0], 2))
        for c, centre in enumerate(A):
            members = None if labels is None else self._coords[labels == c]
            if members is not None and len(members):
                out[c] = members.mean(axis=0)
            else:
                out[c] = self._coords[np.argmin(((shown - centre) ** 2).sum(axis=1))]
        return out

    def _show_state(self) -> None:
        """Redraw points, centres, trail, Voronoi, labels, charts and the centre images."""
        state = self._state
        if self._loaded is not None:
            if state is None or state.labels is None:
                codes = np.full(len(self._loaded.shown), len(PALETTE))
            else:
                codes = state.labels[self._loaded.shown] % len(PALETTE)
            self.cloud.set_points(self._coords, codes)
        if state is None:
            self.centres_item.setData([], [])
            self.trail.setData([], [])
            self.voronoi.clear()
            self.iteration_label.setText("iteration 0")
            self.inertia_label.setText("inertia –")
            self.stats_label.setText("")
            self.inertia_chart.show([], live=False)
            self._show_truth(None)
            self._show_centre_images(None)
            self._enable_steps()
            return
        xy = self._project(state.centers)
        self._draw_centres(xy)
        if self._trail:
            segments = np.concatenate(self._trail)
            self.trail.setData(segments[:, 0], segments[:, 1])
        else:
            self.trail.setData([], [])
        self._draw_voronoi()
        half = {"E": "after E", "M": "after M", "init": "start", "frame": "running",
                "result": "converged", "edit": "edited"}[state.phase]
        self.iteration_label.setText(f"iteration {state.iteration} ({half})")
        self.inertia_label.setText("inertia –" if state.inertia is None
                                   else f"inertia {state.inertia:,.1f}")
        self.stats_label.setText(self._stats(state))
        self.inertia_chart.show(state.history, live=state.phase == "frame")
        self._show_truth(state)
        self._show_centre_images(state.centers, state.confusion)
        self._enable_steps()

    def _stats(self, state: State) -> str:
        """This workspace's figures for the window's status bar."""
        parts = [state.method, f"k={len(state.centers)}", self.iteration_label.text(),
                 self.inertia_label.text()]
        if state.accuracy is not None:
            parts.append(f"accuracy {state.accuracy:.2f}")
        return "  ".join(parts)

    def _enable_steps(self) -> None:
        """Assign, Update and Play step k-means (only when the Method is k-means); Reset goes
        back to starting centres, which a spectral result has none of."""
        state = self._state
        stepping = state is not None and self.method_combo.currentText() == STEPPED
        for button in (self.assign_button, self.update_button, self.play_button):
            button.setEnabled(stepping)
        self.reset_button.setEnabled(state is not None and state.method != "spectral")

    def _draw_voronoi(self) -> None:
        """Shade each cell of a grid over the visible range by its nearest centre (2-D data
        only: in a projection the nearest projected centre is not the nearest centre)."""
        state = self._state
        if (state is None or self._loaded is None or self._loaded.points.X.shape[1] != 2
                or state.method == "spectral" or self._is_tsne()):
            self.voronoi.clear()
            return
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        nearest = nearest_centre(np.linspace(x0, x1, VORONOI_GRID),
                                 np.linspace(y0, y1, VORONOI_GRID),
                                 self._project(state.centers)) % len(PALETTE)
        self.voronoi.setImage(_image_order(self.voronoi, self._voronoi_lut[nearest]),
                              autoLevels=False)
        self.voronoi.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _show_centre_images(self, centers: np.ndarray | None,
                            confusion: np.ndarray | None = None) -> None:
        """Centres of image data (d a perfect square, e.g. 8 x 8 digits) as small pictures,
        each captioned with its cluster's most common true class when the data has one."""
        self.centre_images = []
        self.centre_captions: list[str] = []
        while self._strip_layout.count() > 1:
            item = self._strip_layout.takeAt(0)
            item.widget().deleteLater()
        if centers is None or not self._strip_wanted():
            return
        side = math.isqrt(centers.shape[1])
        X = self._loaded.points.X
        low, high = float(X.min()), float(X.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        for i, centre in enumerate(centers):
            image = np.ascontiguousarray(centre.reshape(side, side))
            self.centre_images.append(image)
            grey = np.ascontiguousarray(255 - np.clip((image - low) * scale, 0, 255)
                                        ).astype(np.uint8)
            qimage = QImage(grey.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(qimage).scaled(
                CENTRE_IMAGE_PX, CENTRE_IMAGE_PX, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation))
            label.setStyleSheet(f"border: 3px solid {cluster_color(i).name()};")
            label.setToolTip(f"centre {i}")
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(label)
            caption = QLabel(self._majority_text(i, confusion))
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column.addWidget(caption)
            self.centre_captions.append(caption.text())
            self._strip_layout.insertWidget(i, cell)

    def _majority_text(self, cluster: int, confusion: np.ndarray | None) -> str:
        """"→ 7 (92%)": the cluster's most common true class and its share, or its number."""
        if confusion is None or cluster >= confusion.shape[1] or not confusion[:, cluster].any():
            return f"#{cluster}"
        column = confusion[:, cluster]
        name = self._loaded.points.label_names[int(column.argmax())]
        return f"→ {name} ({column.max() / column.sum():.0%})"

    def _strip_wanted(self) -> bool:
        d = self._loaded.points.X.shape[1]
        return d >= 16 and math.isqrt(d) ** 2 == d

    def _show_truth(self, state: State | None) -> None:
        """Accuracy and confusion matrix against the file's labels, when it has them."""
        for text in self._confusion_texts:
            self.confusion_plot.removeItem(text)
        self._confusion_texts = []
        if state is None or state.accuracy is None:
            has_truth = self._loaded is not None and self._loaded.points.labels is not None
            self.accuracy_label.setText("" if has_truth else "No ground-truth labels in "
                                        "this data.")
            self.confusion_image.clear()
            return
        self.accuracy_label.setText(f"accuracy {state.accuracy:.2f} (clusters matched to the "
                                    "most common label; columns ordered so that matches fall "
                                    "on the diagonal)")
        from palettelab.core.clustering.metrics import diagonal_order  # Numba: not at start-up

        order = diagonal_order(state.confusion)
        matrix = state.confusion[:, order]
        self.confusion_order = order
        self.confusion_image.setImage(_image_order(self.confusion_image, matrix.astype(float)),
                                      autoLevels=False, levels=(0, max(1, int(matrix.max()))))
        self.confusion_image.setRect(QRectF(-0.5, -0.5, matrix.shape[1], matrix.shape[0]))
        names = self._loaded.points.label_names
        self.confusion_plot.getAxis("left").setTicks(
            [[(i, names[i]) for i in range(matrix.shape[0])]])
        self.confusion_plot.getAxis("bottom").setTicks(
            [[(j, str(int(c))) for j, c in enumerate(order)]])
        if matrix.size <= TEXT_CELLS:
            top = matrix.max()
            for (row, col), count in np.ndenumerate(matrix):
                colour = "k" if count > 0.6 * top else "w"
                text = pg.TextItem(str(count), color=colour, anchor=(0.5, 0.5))
                text.setPos(QPointF(col, row))
                self.confusion_plot.addItem(text)
                self._confusion_texts.append(text)

    def _draw_silhouette_bars(self, samples: np.ndarray | None,
                              labels: np.ndarray | None) -> None:
        """sklearn-style silhouette plot: each cluster's values sorted, stacked as bars.

        Nothing is written inside the plot, where the bars fill the height: the cluster
        numbers are ticks of the left axis and the mean (the dashed line) is in the title (a
        label on the line sat over the bars, issue 13)."""
        self.bars_plot.clear()
        self.bars_plot.setTitle(BARS_TITLE)
        self.bars_plot.getAxis("left").setTicks([[]])
        if samples is None:
            return
        y = 0
        ticks = []
        for c in np.unique(labels):
            values = np.sort(samples[labels == c])
            ys = y + np.arange(len(values))
            self.bars_plot.addItem(pg.BarGraphItem(
                x0=np.zeros(len(values)), width=values, y=ys, height=1.0, pen=None,
                brush=cluster_color(int(c))))
            ticks.append((y + len(values) / 2, str(int(c))))
            y += len(values) + 10
        self.bars_plot.getAxis("left").setTicks([ticks])
        mean = float(samples.mean())
        self.bars_plot.addItem(pg.InfiniteLine(mean, angle=90, pen=pg.mkPen(
            "r", style=Qt.PenStyle.DashLine)))
        self.bars_plot.setTitle(f"Silhouette per cluster, mean {mean:.2f}")
        self.bars_plot.setXRange(min(-0.1, float(samples.min())), 1.0)

    def _chart_clicked(self, chart: pg.PlotWidget, event) -> None:
        """A click on the elbow or silhouette chart uses the k nearest to it."""
        if self._elbow_ks is None or event.button() != Qt.MouseButton.LeftButton:
            return
        where = chart.getViewBox().mapSceneToView(event.scenePos())
        k = int(self._elbow_ks[np.argmin(np.abs(self._elbow_ks - where.x()))])
        self.use_k(k)

    def use_k(self, k: int) -> None:
        """Use ``k`` clusters (from the charts): new starting centres, the status says so."""
        if self.k_spin.value() != k:
            self.k_spin.setValue(k)  # new starting centres for k
        self.status_label.setText(f"k = {k} chosen on the chart: press Run or step through "
                                  f"it.")

    def _clear_elbow(self) -> None:
        self._elbow_ks = None
        self.elbow_curve.setData([], [])
        self.silhouette_curve.setData([], [])
        self._draw_silhouette_bars(None, None)
        self.silhouette_note.setText("")

    # --- manual centres -------------------------------------------------------------------------

    def _plot_clicked(self, event) -> None:
        """In manual init, a left click places the next centre at the clicked data point (the
        other columns, when d > 2, at the data mean); with a canvas tool, adds or removes a
        point."""
        if event.button() == Qt.MouseButton.LeftButton and self._canvas_clicked(event):
            return
        if (self.init_combo.currentText() != "manual" or self._loaded is None
                or self._is_pca() or event.button() != Qt.MouseButton.LeftButton):
            return
        k = self.k_spin.value()
        if len(self._manual) >= k:
            return
        where = self.view_box.mapSceneToView(event.scenePos())
        centre = self._loaded.pca_mean.copy()
        x_col, y_col = self._columns()
        centre[x_col], centre[y_col] = where.x(), where.y()
        self._manual.append(centre)
        placed = np.array(self._manual)[:, [x_col, y_col]]
        self.placed_item.setData(pos=placed)
        self.status_label.setText(f"Click on the plot to place {k} centres "
                                  f"({len(self._manual)} of {k}).")
        event.accept()
        if len(self._manual) == k:
            self.placed_item.setData([], [])
            self._state_epoch = self._next_epoch()
            self._initialiseRequest.emit(InitRequest(self._state_epoch, k, "manual",
                                                     self.seed_spin.value(),
                                                     np.array(self._manual)))

"""The main window: the shell around the two workspaces.

It holds the menus, the status bar, the tabs with the
:class:`~palettelab.app.gui.image.workspace.ImageWorkspace` and the
:class:`~palettelab.app.gui.points.workspace.PointsWorkspace`, the recent files, drag and drop
and the saved settings, and routes every file it is asked to open to the workspace that reads
it.  The workspaces do their own work, each with a worker thread of its own; closing the window
stops both (:func:`~palettelab.app.gui.worker_host.shutdown`).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from palettelab.app.gui.image.worker import Loaded
from palettelab.app.gui.image.workspace import ImageWorkspace, last_folder
from palettelab.app.gui.kernel_builder import KernelBuilder
from palettelab.app.gui.points.workspace import PointsWorkspace
from palettelab.app.gui.worker_host import shutdown
from palettelab.core.kernel_warmup import POINT_GROUPS
from palettelab.core.resources import resource_path

TITLE = "PaletteLab"
POINT_EXTENSIONS = (".csv", ".tsv", ".txt", ".npy", ".npz")  # as formats.points, without numba
IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.gif *.bmp *.tif *.tiff *.webp *.ppm *.pgm *.tga);;"
                "Point files (*.csv *.tsv *.txt *.npy *.npz *.gz);;All files (*)")
MAX_RECENT = 8
INITIAL_DATASET = "blobs"  # the Points workspace's first data set


def _is_point_file(path: str | os.PathLike) -> bool:
    """Point files by extension, gzipped text ones (``.csv.gz``) included."""
    suffixes = [s.lower() for s in Path(path).suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in POINT_EXTENSIONS


def _status_page(*widgets: QWidget) -> QWidget:
    """One workspace's status widgets in a row."""
    page = QWidget()
    row = QHBoxLayout(page)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget)
    return page


class MainWindow(QMainWindow):
    """PaletteLab's window: an Image and a Points workspace in tabs."""

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle(TITLE)
        self.setAcceptDrops(True)
        self._settings = settings or QSettings("PaletteLab", "PaletteLab")
        self.image = ImageWorkspace(self._settings)
        self.image.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.image.error.connect(lambda title, message: self.show_error(title, message))
        self.image.imageLoaded.connect(self._on_image_loaded)
        # the student workspace: its first data set loads (and runs k-means) when the tab is
        # first opened or its kernels are compiled, whichever comes first
        self.points = PointsWorkspace(initial_dataset=None)
        self._points_started = False
        self.points.fileLoaded.connect(self._remember)
        self.workspaces = QTabWidget()
        self.workspaces.addTab(self.image, "Image")
        self.workspaces.addTab(self.points, "Points")
        self.workspaces.currentChanged.connect(self._start_points)
        self.setCentralWidget(self.workspaces)
        self._build_menus()
        self._build_status()
        self._restore_settings()
        self.kernels = KernelBuilder(self)
        self.kernels.groupReady.connect(self._on_kernel_group)
        self.kernels.failed.connect(self._on_kernels_failed)
        self.kernels.inWorkers.connect(self._kernels_in_workers)
        self.kernels.start()

    # --- construction ---------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut=None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        image = self.image
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open Image S&et…", self.open_set_dialog, "Ctrl+Shift+O")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.samples_menu = file_menu.addMenu("&Sample Images")
        for name in ("china.jpg", "flower.jpg"):
            path = resource_path(name)
            self._action(self.samples_menu, name, lambda _=False, p=str(path): self.open_path(p))
        file_menu.addSeparator()
        self.export_image_action = self._action(file_menu, "Export &Image…", image.export_image,
                                                QKeySequence.StandardKey.Save)
        self.export_palette_action = self._action(file_menu, "Export &Palette…",
                                                  image.export_palette, "Ctrl+E")
        file_menu.addAction(image.export_set_action)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(image.undo_action)
        edit_menu.addAction(image.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(image.copy_css_action)
        edit_menu.addAction(image.copy_hex_action)
        edit_menu.addAction(image.map_action)
        view_menu = self.menuBar().addMenu("&View")
        self._action(view_menu, "&Fit to Window", image.images.fit, "Ctrl+0")
        self._action(view_menu, "&Actual Size (1:1)", image.images.actual_size, "Ctrl+1")
        self.compare_action = self._action(view_menu, "&Compare with Original",
                                           image.images.set_compare, "C", checkable=True)
        view_menu.addAction(image.error_action)
        run_menu = self.menuBar().addMenu("&Run")
        self._action(run_menu, "&Re-run", lambda: image.start_run(), "Ctrl+R")
        self._action(run_menu, "&Cancel", image.cancel_run, Qt.Key.Key_Escape)
        run_menu.addSeparator()
        run_menu.addAction(image.compare_action)

    def _build_status(self) -> None:
        """The status bar shows the current tab's own figures: a page of widgets per workspace
        (a widget on a hidden page stays hidden whatever its workspace shows or hides)."""
        self.status_pages = QStackedWidget()
        self.status_pages.addWidget(_status_page(self.image.preparing_label,
                                                 self.image.stats_label, self.image.progress_bar))
        self.status_pages.addWidget(_status_page(self.points.stats_label))
        self.statusBar().addPermanentWidget(self.status_pages)
        self.workspaces.currentChanged.connect(self.status_pages.setCurrentIndex)

    # --- settings -------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self._settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        self._update_recent_menu()

    def _save_settings(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self.image.save_settings()
        self._settings.sync()

    def _recent(self) -> list[str]:
        value = self._settings.value("files/recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, path: str) -> None:
        recent = [p for p in self._recent() if p != path]
        self._settings.setValue("files/recent", [path, *recent][:MAX_RECENT])
        self._settings.setValue("files/last_folder", str(Path(path).parent))
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for path in recent:
            self._action(self.recent_menu, path, lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))

    # --- opening --------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path = self._ask_open_path()
        if path:
            self.open_path(path)

    def open_set_dialog(self) -> None:
        """Open several images (or one animated GIF, APNG or WebP) as one set."""
        paths, _ = QFileDialog.getOpenFileNames(self, "Open image set",
                                                last_folder(self._settings), IMAGE_FILTER)
        if paths:
            self.workspaces.setCurrentWidget(self.image)
            self.image.open_set(paths)

    def _ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", last_folder(self._settings),
                                              IMAGE_FILTER)
        return path

    def open_path(self, path: str | os.PathLike) -> None:
        """Open an image (Image workspace) or a point file (Points workspace), read in that
        workspace's worker; what is shown stays until the new file is read."""
        self.statusBar().showMessage(f"Opening {Path(path).name}…", 3000)
        workspace = self.points if _is_point_file(path) else self.image
        self.workspaces.setCurrentWidget(workspace)
        workspace.open_path(str(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if len(urls) > 1:  # several images dropped: one set
            self.workspaces.setCurrentWidget(self.image)
            self.image.open_set([u.toLocalFile() for u in urls])
            event.acceptProposedAction()
        elif urls:
            self.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    def _on_image_loaded(self, loaded: Loaded) -> None:
        h, w = loaded.pixels.shape[:2]
        name = Path(loaded.path).name
        if loaded.image_set is not None:
            name = f"{loaded.image_set.title} ({len(loaded.image_set.names)} images)"
        self.setWindowTitle(f"{name} ({w} x {h}) - {TITLE}")
        self._remember(loaded.path)

    # --- kernels --------------------------------------------------------------------------------

    def _on_kernel_group(self, name: str, done: int, total: int, kernels: int) -> None:
        self.image.kernel_progress(name, done, total, kernels)
        if name in POINT_GROUPS and self._point_kernels_compiled():
            self.points.worker.queue_warm_up()
            self._start_points()

    def _point_kernels_compiled(self) -> bool:
        return set(POINT_GROUPS) <= set(self.kernels.done)

    def _on_kernels_failed(self, why: str) -> None:
        """Compile in the workers instead (slow to a first result, but never stuck)."""
        self.statusBar().showMessage(f"{why}: compiling the kernels here instead", 8000)
        self.image.kernels_in_worker("Compiling kernels in the app")
        self.points.worker.queue_warm_up()

    def _kernels_in_workers(self) -> None:
        """The standalone app: its workers load the kernels it ships."""
        self.image.kernels_in_worker("Loading kernels")
        self.points.worker.queue_warm_up()

    def _start_points(self) -> None:
        """Load the Points workspace's first data set, once, unless a point file came first."""
        wanted = self.workspaces.currentWidget() is self.points or self._point_kernels_compiled()
        if wanted and not self._points_started:
            self._points_started = True
            if self.points.points() is None:
                self.points.load_dataset(INITIAL_DATASET)

    # --- errors and closing ---------------------------------------------------------------------

    def show_error(self, title: str, message: str) -> None:
        """One-line problems of the Image workspace (bad file, failed run, failed export) in a
        dialog; nothing is lost."""
        self.statusBar().showMessage(message, 8000)
        QMessageBox.critical(self, title, message)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the settings, then stop both workers before the window goes: one bounded wait
        for the two threads together (the host's shutdown policy), then each workspace stops its
        timers (its worker is already stopped)."""
        self._save_settings()
        self.kernels.stop()
        shutdown(self.image.worker, self.points.worker)
        self.image.close_worker()
        self.points.close_worker()
        super().closeEvent(event)

"""Start the desktop application (imported only when the GUI is launched: it needs Qt)."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.resources import resources_dir


def create_app() -> QApplication:
    """The QApplication, with pyqtgraph set to row-major images (numpy's (H, W, C))."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PaletteLab")
    app.setOrganizationName("PaletteLab")
    icon = resources_dir() / "icon.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    pg.setConfigOptions(imageAxisOrder="row-major")
    return app


def run(path: str) -> int:
    """Open the main window on the image ``path`` and run the event loop."""
    app = create_app()
    window = MainWindow()
    window.show()
    window.open_path(path)
    return app.exec()

"""Helpers the window tests share: run the Image workspace and wait for its result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from palettelab.app.gui.main_window import MainWindow

RUN_TIMEOUT = 300_000  # ms: the first run in a fresh checkout compiles every kernel


def open_and_wait(qtbot, win: MainWindow, path: Path):
    """Open ``path`` in the window and return the Image workspace's finished result."""
    with qtbot.waitSignal(win.image.runFinished, timeout=RUN_TIMEOUT) as blocker:
        win.open_path(path)
    return blocker.args[0]


def rerun_and_wait(qtbot, win: MainWindow, action: Callable[[], object]):
    """Do ``action`` (which starts a run) and return the run's finished result."""
    with qtbot.waitSignal(win.image.runFinished, timeout=RUN_TIMEOUT) as blocker:
        action()
    return blocker.args[0]

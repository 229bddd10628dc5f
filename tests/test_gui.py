"""The designer workspace, driven through its real widgets (pytest-qt, offscreen).

Each test opens an image through the window's own open path and waits for the worker's
signals; nothing here runs k-means in the GUI thread.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import RUN_TIMEOUT, next_emission, open_and_wait, rerun_and_wait, worker_signal
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor

from palettelab.app.gui.launch import create_app
from palettelab.app.gui.main_window import MainWindow
from palettelab.core.formats.palettes import read_palette

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "small.png"
    Image.open(ROOT / "resources" / "china.jpg").convert("RGB").resize((160, 107)).save(path)
    return path


@pytest.fixture
def window(qtbot, tmp_path):
    create_app()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    errors: list[tuple[str, str]] = []
    win.show_error = lambda title, message: errors.append((title, message))
    win.errors = errors
    yield win
    if win.isVisible():
        win.close()


def test_open_runs_and_shows_the_palette(qtbot, window, small_image):
    result = open_and_wait(qtbot, window, small_image)
    assert "PaletteLab" in window.windowTitle() and "small.png" in window.windowTitle()
    assert result.quantized.palette.shape == (16, 3)
    np.testing.assert_array_equal(window.image.palette_panel.palette(), result.quantized.palette)
    assert window.image.export_image_button.isEnabled()
    assert "PSNR" in window.image.stats_label.text()


def test_changing_k_reruns(qtbot, window, small_image):
    open_and_wait(qtbot, window, small_image)
    result = rerun_and_wait(qtbot, window, lambda: window.image.colors_spin.setValue(6))
    assert result.quantized.palette.shape == (6, 3)
    assert window.image.palette_panel.palette().shape == (6, 3)


def test_a_newer_run_supersedes_an_older_one(qtbot, window, small_image):
    open_and_wait(qtbot, window, small_image)

    def burst():
        for k in (5, 7, 9, 11):
            window.image.colors_spin.setValue(k)
            window.image.start_run()

    result = rerun_and_wait(qtbot, window, burst)
    assert result.quantized.palette.shape == (11, 3)


def long_run(window: MainWindow) -> None:
    """Settings that make the sample photo take seconds: 16 starts of k=256."""
    window.image.starts_spin.setValue(16)
    window.image.colors_spin.setValue(256)
    window.image._debounce.stop()


@pytest.mark.parametrize("when", ["queued", "running"])
def test_cancel_keeps_the_last_result(qtbot, window, when):
    first = open_and_wait(qtbot, window, ROOT / "resources" / "china.jpg")
    long_run(window)
    with worker_signal(qtbot, window.image.worker.cancelled, 60_000) as blocker:
        window.image.start_run()
        if when == "running":
            next_emission(qtbot, window.image.worker.frame, 30_000)
        window.image.cancel_run()
    assert blocker.args == [window.image._job]
    qtbot.waitUntil(lambda: not window.image._running, timeout=5000)  # the window's slot is queued
    assert not window.image.cancel_button.isEnabled()
    np.testing.assert_array_equal(window.image.palette_panel.palette(), first.quantized.palette)


def test_locked_colour_survives_another_k(qtbot, window, small_image):
    first = open_and_wait(qtbot, window, small_image)
    keep = tuple(int(v) for v in first.quantized.palette[3])
    window.image.palette_panel.set_locked_colors([keep])
    result = rerun_and_wait(qtbot, window, lambda: window.image.colors_spin.setValue(7))
    assert keep in {tuple(c) for c in result.quantized.palette.tolist()}
    assert result.settings.locked == (keep,)


def test_editing_a_colour_remaps_the_image(qtbot, window, small_image, monkeypatch):
    first = open_and_wait(qtbot, window, small_image)
    monkeypatch.setattr(window.image.palette_panel, "_pick_color", lambda initial: QColor(1, 2, 3))
    result = rerun_and_wait(qtbot, window, lambda: window.image.palette_panel.colorEdited.emit(
        0, (1, 2, 3)))
    assert tuple(result.quantized.palette[0]) == (1, 2, 3)
    np.testing.assert_array_equal(result.quantized.palette[1:], first.quantized.palette[1:])
    assert (result.image.reshape(-1, 3) == [1, 2, 3]).all(axis=1).any()


@pytest.mark.parametrize("suffix", [".gpl", ".ase"])
def test_export_palette_reads_back(qtbot, window, small_image, tmp_path, suffix):
    result = open_and_wait(qtbot, window, small_image)
    target = tmp_path / f"palette{suffix}"
    window.image._ask_save_path = lambda *args: (str(target), "")
    with worker_signal(qtbot, window.image.worker.exported, 30_000):
        window.image.export_palette()
    np.testing.assert_array_equal(read_palette(target).colors, result.quantized.palette)


def test_export_image_reads_back(qtbot, window, small_image, tmp_path):
    result = open_and_wait(qtbot, window, small_image)
    target = tmp_path / "out.png"
    window.image._ask_save_path = lambda *args: (str(target), "")
    with worker_signal(qtbot, window.image.worker.exported, 30_000):
        window.image.export_image()
    with Image.open(target) as im:
        assert im.mode == "P"
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), result.image)


def test_corrupt_file_shows_an_error_and_keeps_the_image(qtbot, window, small_image, tmp_path):
    open_and_wait(qtbot, window, small_image)
    bad = tmp_path / "broken.png"
    bad.write_bytes(small_image.read_bytes()[:200])
    with worker_signal(qtbot, window.image.worker.loadFailed, 30_000):
        window.open_path(bad)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)  # the dialog slot is queued
    assert "broken.png" in window.errors[-1][1]
    assert window.image._image_path == str(small_image)
    assert "small.png" in window.windowTitle()


def test_export_failure_shows_an_error(qtbot, window, small_image, tmp_path):
    open_and_wait(qtbot, window, small_image)
    window.image._ask_save_path = lambda *args: (str(tmp_path / "missing-folder" / "out.gpl"), "")
    with worker_signal(qtbot, window.image.worker.exportFailed, 30_000):
        window.image.export_palette()
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)  # the dialog slot is queued
    assert "does not exist" in window.errors[-1][1]


def test_close_during_a_run_stops_the_worker(qtbot, window):
    open_and_wait(qtbot, window, ROOT / "resources" / "china.jpg")
    long_run(window)
    window.image.start_run()
    next_emission(qtbot, window.image.worker.frame, 30_000)
    started = time.perf_counter()
    window.close()
    assert window.image.worker.thread().isFinished()
    assert time.perf_counter() - started < 10


def test_settings_are_kept(qtbot, tmp_path, small_image):
    create_app()
    path = str(tmp_path / "settings.ini")
    first = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.image.colors_spin.setValue(24)
    first.image.space_combo.setCurrentIndex(first.image.space_combo.findData("rgb"))
    first.close()
    second = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.image.colors_spin.value() == 24
    assert second.image.space_combo.currentData() == "rgb"
    second.close()


def test_large_images_are_drawn_at_screen_resolution(qtbot):
    """A 12 MP image is never converted whole in the GUI thread: the views draw the visible part
    at about screen resolution, and at 1:1 every pixel."""
    from palettelab.app.gui.image.views import ImagePair

    create_app()
    pair = ImagePair()
    qtbot.addWidget(pair)
    pair.resize(1000, 500)
    pair.show()
    qtbot.waitExposed(pair)
    big = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    pair.set_original(big)
    pair.set_recoloured(big[::-1])
    width, height, step = pair.shown_resolution(0)
    assert step > 1 and width * height < 1_000_000
    pair.actual_size()
    qtbot.waitUntil(lambda: pair.shown_resolution(1)[2] == 1, timeout=2000)
    assert pair.shown_resolution(1)[0] <= 1000


def test_self_test_command_passes():
    """``palettelab --self-test`` drives the real window and worker offscreen and exits 0."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "palettelab", "--self-test"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "self-test: ok (16 colours" in proc.stdout


def test_point_files_open_in_the_points_workspace(qtbot, window, tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("a,b\n0,0\n0,1\n5,5\n5,6\n9,0\n9,1\n", encoding="utf-8")
    with qtbot.waitSignal(window.points.dataLoaded, timeout=120_000):
        window.open_path(path)
    assert window.workspaces.currentWidget() is window.points
    assert window.points.points().X.shape == (6, 2)


# --- issue 13: the window around the Points workspace -------------------------------------------


def test_each_tab_shows_its_own_status(qtbot, window):
    assert window.image.stats_label.isVisible()
    qtbot.waitUntil(lambda: window.points.centers() is not None, timeout=RUN_TIMEOUT)
    window.workspaces.setCurrentWidget(window.points)
    assert not window.image.stats_label.isVisible()  # "k=16 … PSNR" was shown on Points
    assert window.points.stats_label.isVisible()
    assert window.points.stats_label.text().startswith("k-means  k=4  iteration 0 (start)")
    window.workspaces.setCurrentWidget(window.image)
    assert window.image.stats_label.isVisible() and not window.points.stats_label.isVisible()


def test_point_files_join_the_recent_files(qtbot, window, tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("a,b\n0,0\n0,1\n5,5\n5,6\n", encoding="utf-8")
    with qtbot.waitSignal(window.points.fileLoaded, timeout=RUN_TIMEOUT):
        window.open_path(path)
    assert [a.text() for a in window.recent_menu.actions()] == [str(path)]
    assert window.points.data_combo.currentText() == "pts.csv"


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("notes.dat", b"1 2\n3 4\n", "not an image but text (point files are opened by their "
                                 "extension: .csv, .tsv, .txt, .npy, .npz)"),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(40), "not a readable image: damaged, or not PNG,"),
    ("empty.jpg", b"", "the file is empty"),
])
def test_unreadable_file_says_what_is_wrong_with_it(qtbot, window, tmp_path, name, content,
                                                    problem):
    """The dialog speaks of the user's file, never of the library that read it (issue 13)."""
    path = tmp_path / name
    path.write_bytes(content)
    with worker_signal(qtbot, window.image.worker.loadFailed, 30_000):
        window.open_path(path)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)  # the dialog slot is queued
    message = window.errors[-1][1]
    assert message.startswith(f"{path}: {problem}")
    assert "Pillow" not in message and "\n" not in message

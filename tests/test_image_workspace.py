"""Issue 13, bugs 1-10: what a first-time user hit in the Image workspace, driven through the
real window (pytest-qt, offscreen).  Each test failed before its fix; the bug it covers is in
its name and docstring."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import RUN_TIMEOUT, next_emission, open_and_wait, rerun_and_wait, worker_signal
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRectF, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from palettelab.app.gui.image.scatter_views import horizontal_fov
from palettelab.app.gui.image.workspace import DEBOUNCE_MS
from palettelab.app.gui.launch import create_app
from palettelab.app.gui.main_window import MainWindow
from palettelab.app.gui.worker_host import COMPUTE
from palettelab.core.formats.image_read import load_image
from palettelab.core.formats.palettes import read_palette
from palettelab.core.kernel_warmup import FIRST_STARTS
from palettelab.core.quantization.compare import (
    available_methods,
    error_map,
    heatmap,
    run_method,
)
from palettelab.core.quantization.pipeline import DEFAULT_STARTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "small.png"
    Image.open(ROOT / "resources" / "china.jpg").convert("RGB").resize((160, 107)).save(path)
    return path


def rgba_file(path: Path, soft: bool) -> Path:
    """A 3-colour logo on a transparent background hiding noise; ``soft`` adds a half-
    transparent edge."""
    rng = np.random.default_rng(0)
    img = np.zeros((60, 80, 4), np.uint8)
    img[..., :3] = rng.integers(0, 256, (60, 80, 3))
    colours = np.array([[200, 30, 30], [20, 120, 220], [250, 250, 250]], np.uint8)
    img[15:45, 20:60, :3] = colours[rng.integers(0, 3, (30, 40))]
    img[15:45, 20:60, 3] = 255
    if soft:
        img[14, 20:60, :3] = colours[0]
        img[14, 20:60, 3] = 128
    Image.fromarray(img, "RGBA").save(path)
    return path


@pytest.fixture
def window(qtbot, tmp_path):
    create_app()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    errors: list[tuple[str, str]] = []
    win.show_error = lambda title, message: errors.append((title, message))
    win.errors = errors
    messages: list[str] = []
    win.image.message.connect(lambda text, _ms: messages.append(text))
    win.messages = messages
    yield win
    if win.isVisible():
        win.close()


def menu_action(win: MainWindow, text: str):
    """The window's menu entry called ``text`` (what its shortcut triggers)."""
    for menu_action_ in win.menuBar().actions():
        for action in menu_action_.menu().actions():
            if action.text().replace("&", "") == text:
                return action
    raise LookupError(text)


def palette_set(palette: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(c) for c in palette.tolist()}


# --- 1: quality figures of transparent images ---------------------------------------------------


def test_1_psnr_counts_only_visible_pixels(qtbot, window, tmp_path):
    """A 3-colour logo reproduced exactly scored 7.73 dB: the noise under alpha 0 was counted."""
    result = open_and_wait(qtbot, window, rgba_file(tmp_path / "logo.png", soft=False))
    assert result.psnr == float("inf")
    assert result.oklab_error == 0.0
    assert "PSNR inf dB" in window.image.stats_label.text()


# --- 2: actual size and fit ---------------------------------------------------------------------


def view_widths(win: MainWindow) -> list[float]:
    return [view.sceneBoundingRect().width() for view in win.image.images._views]


def test_2_actual_size_is_exact_and_fit_fits_both_equal_views(qtbot, window, small_image):
    """After Ctrl+1 the views were 612 and 437 px wide, Ctrl+0 then showed a cropped middle on
    the right, and "1:1" was 0.998x."""
    open_and_wait(qtbot, window, small_image)
    images = window.image.images
    left, right = view_widths(window)
    assert left == pytest.approx(right, abs=0.5)
    menu_action(window, "Actual Size (1:1)").trigger()  # Ctrl+1
    view = images._views[0]  # image pixels per screen pixel (a device pixel ratio of 1 here)
    qtbot.waitUntil(lambda: abs(view.viewPixelSize()[0] - 1.0) < 1e-9, timeout=2000)
    assert view.viewPixelSize()[1] == pytest.approx(1.0, abs=1e-9)
    left, right = view_widths(window)
    assert left == pytest.approx(right, abs=0.5)
    menu_action(window, "Fit to Window").trigger()  # Ctrl+0
    whole = QRectF(0, 0, 160, 107)
    for view in images._views:
        assert view.viewRect().contains(whole)
    assert images._views[0].viewRect() == images._views[1].viewRect()
    images.set_compare(True)  # a longer title must not widen its column either
    QApplication.processEvents()
    left, right = view_widths(window)
    assert left == pytest.approx(right, abs=0.5)


def test_the_window_and_the_command_line_default_to_the_same_starts(window):
    """Same settings, same palette: the GUI's Starts box, the kernel warm-up's first run and
    quantize's default agree."""
    assert window.image.starts_spin.value() == DEFAULT_STARTS == FIRST_STARTS


# --- 3: cancel restores everything --------------------------------------------------------------


def test_3_cancel_returns_every_control_and_view_to_the_result(qtbot, window):
    """Esc after k=256 left 256 in the Colours box, 256 centres in the scatter and the run's
    stage in the status bar, over the 16-colour image."""
    image = window.image
    first = open_and_wait(qtbot, window, ROOT / "resources" / "china.jpg")
    image.starts_spin.setValue(16)
    image.colors_spin.setValue(256)
    image.space_combo.setCurrentIndex(image.space_combo.findData("rgb"))
    with worker_signal(qtbot, image.worker.cancelled, 60_000):
        image.start_run()
        next_emission(qtbot, image.worker.frame, 30_000)
        qtbot.waitUntil(lambda: "iteration" in image.stats_label.text(), timeout=30_000)
        menu_action(window, "Cancel").trigger()  # Esc
    qtbot.waitUntil(lambda: not image._running, timeout=5000)
    assert image.colors_spin.value() == 16 and image.colors_slider.value() == 16
    assert image.starts_spin.value() == DEFAULT_STARTS
    assert image.space_combo.currentData() == "oklab"
    assert len(image.scatter2d._center_coords) == 16
    assert image.scatter2d._space == "oklab" and len(image.scatter2d._pixel_coords) > 0
    assert image.stats_label.text().startswith("k=16 ") and "PSNR" in image.stats_label.text()
    assert not image.progress_bar.isVisible()
    np.testing.assert_array_equal(image.palette_panel.palette(), first.quantized.palette)
    assert not image._debounce.isActive()  # putting the controls back starts no run
    shown = sum(int(np.isfinite(np.asarray(curve.getData()[1], dtype=float)).sum())
                for curve in image.chart._curves.values())
    assert shown == int(np.isfinite(first.inertia).sum())  # the chart of the result again


# --- 4 and 5: exports ---------------------------------------------------------------------------


def test_4_export_appends_the_chosen_types_extension(qtbot, window, small_image, tmp_path):
    """A name without an extension failed with "unknown image type (no extension)"."""
    result = open_and_wait(qtbot, window, small_image)
    image = window.image
    image._ask_save_path = lambda *args: (str(tmp_path / "poster"), "PNG, indexed (*.png)")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_image()
    with Image.open(tmp_path / "poster.png") as im:
        assert im.mode == "P"
    image._ask_save_path = lambda *args: (str(tmp_path / "colours"), "JSON (*.json)")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_palette()
    np.testing.assert_array_equal(read_palette(tmp_path / "colours.json").colors,
                                  result.quantized.palette)
    image._ask_save_path = lambda *args: (str(tmp_path / "typed.gif"), "PNG, indexed (*.png)")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_image()  # an extension the user typed wins over the selected type
    assert (tmp_path / "typed.gif").exists() and not (tmp_path / "typed.gif.png").exists()
    assert not window.errors


def answer_export_question(qtbot, window, button) -> list[str]:
    """Wait for the "save anyway?" dialog, note its text, press ``button``."""
    seen: list[str] = []

    def press():
        box = window.image.export_question
        if box is None or not box.isVisible():
            QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(0, press)
    return seen


def test_5_soft_transparency_is_explained_before_writing(qtbot, window, tmp_path):
    """Soft transparency became opaque (GIF) with only a cut-off status line.  A dithered
    image keeps each pixel's alpha (no palette alpha to blend onto the matte): the dialog says
    what a GIF cannot keep before anything is written."""
    open_and_wait(qtbot, window, rgba_file(tmp_path / "soft.png", soft=True))
    image = window.image
    rerun_and_wait(qtbot, window, lambda: image.dither_combo.setCurrentIndex(
        image.dither_combo.findData("fs")))
    target = tmp_path / "out.gif"
    image._ask_save_path = lambda *args: (str(target), "")
    seen = answer_export_question(qtbot, window, QMessageBox.StandardButton.Cancel)
    image.export_image()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert "partly transparent" in seen[0].lower() and target.name in seen[0]
    qtbot.wait(200)
    assert not target.exists()  # cancelled: nothing written
    seen = answer_export_question(qtbot, window, QMessageBox.StandardButton.Save)
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_image()
    assert seen and target.exists()


def test_soft_transparency_exports_an_8_bit_png_with_alpha_in_its_palette(qtbot, window,
                                                                           tmp_path):
    """Issue 17: soft edges were written as a 32-bit RGBA PNG; now as pngquant writes them."""
    result = open_and_wait(qtbot, window, ROOT / "resources" / "logo.png")
    assert result.quantized.palette_alpha is not None
    image = window.image
    image._ask_save_path = lambda *args: (str(tmp_path / "logo-16"), "PNG, indexed (*.png)")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_image()  # nothing is lost: no question
    with Image.open(tmp_path / "logo-16.png") as im:
        assert im.mode == "P" and isinstance(im.info["transparency"], bytes)
        shown = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(shown, result.quantized.image())


def test_gif_export_blends_soft_edges_onto_the_chosen_matte(qtbot, window, tmp_path,
                                                             monkeypatch):
    """Issue 17: GIF export made semi-transparent edges opaque, with no matte colour."""
    image = window.image
    result = open_and_wait(qtbot, window, ROOT / "resources" / "logo.png")
    monkeypatch.setattr(image, "_pick_matte", lambda initial: QColor(200, 0, 200))
    image.matte_button.click()
    assert image.matte() == (200, 0, 200)
    image._ask_save_path = lambda *args: (str(tmp_path / "logo.gif"), "")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_image()  # no question: the matte says what happens to the edges
    with Image.open(tmp_path / "logo.gif") as im:
        shown = np.asarray(im.convert("RGBA"))
    q = result.quantized
    half = (q.palette_alpha >= 128) & (q.palette_alpha < 255)
    j = int(np.flatnonzero(half)[0])  # a half-transparent entry, blended onto magenta
    a = q.palette_alpha[j] / 255.0
    want = np.rint(q.palette[j] * a + np.array([200, 0, 200]) * (1 - a))
    ys, xs = np.nonzero(q.indices == j)
    np.testing.assert_allclose(shown[ys[0], xs[0], :3], want, atol=1)
    assert shown[ys[0], xs[0], 3] == 255
    assert (shown[..., 3][q.palette_alpha[q.indices] < 128] == 0).all()
    assert any("#c800c8" in text for text in window.messages)


def test_transparent_images_are_shown_on_a_checkerboard(qtbot, window, small_image, tmp_path):
    """Issue 17: transparent areas showed the view's dark background, as if black."""
    images = window.image.images
    result = open_and_wait(qtbot, window, ROOT / "resources" / "logo.png")
    assert images.showing_checkerboard(0) and images.showing_checkerboard(1)
    # the palette shows each entry's alpha too: #rrggbbaa, over a checkerboard
    levels = result.quantized.palette_alpha
    rows = window.image.palette_panel._rows
    for row, (r, g, b), a in zip(rows, result.quantized.palette.tolist(), levels.tolist(),
                                 strict=True):
        suffix = f"{a:02x}" if a < 255 else ""
        assert row.hex_label.text() == f"#{r:02x}{g:02x}{b:02x}{suffix}"
        assert row.swatch.color().alpha() == a
    window.image.error_action.setChecked(True)  # the heat map is opaque: no board under it
    qtbot.waitUntil(images.showing_error_map, timeout=30_000)
    assert images.showing_checkerboard(0) and not images.showing_checkerboard(1)
    window.image.error_action.setChecked(False)
    assert images.showing_checkerboard(1)
    open_and_wait(qtbot, window, small_image)
    assert not images.showing_checkerboard(0) and not images.showing_checkerboard(1)


def test_5_nothing_to_lose_asks_nothing(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, rgba_file(tmp_path / "hard.png", soft=False))
    image = window.image
    image._ask_save_path = lambda *args: (str(tmp_path / "out"), "PNG, indexed (*.png)")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_image()
    with Image.open(tmp_path / "out.png") as im:
        assert im.mode == "P" and "transparency" in im.info


# --- 6 and 7: edits and locks -------------------------------------------------------------------


def test_6_an_edited_colour_is_locked_survives_a_rerun_and_undoes(qtbot, window, small_image,
                                                                   monkeypatch):
    """A hand-edited colour was lost on the next re-run."""
    image = window.image
    first = open_and_wait(qtbot, window, small_image)
    old = tuple(int(v) for v in first.quantized.palette[2])
    new = (1, 2, 3)
    monkeypatch.setattr(image.palette_panel, "_pick_color", lambda initial: QColor(*new))
    edited = rerun_and_wait(qtbot, window, lambda: image.palette_panel._edit(2))
    assert new in palette_set(edited.quantized.palette)
    assert image.palette_panel.is_locked(new)
    assert image.undo_action.isEnabled()
    rerun = rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(12))
    assert new in palette_set(rerun.quantized.palette)  # still locked: kept through a re-run
    undo = menu_action(window, "Undo Colours 16 to 12")
    assert undo.shortcut().matches(QKeySequence("Ctrl+Z")) == QKeySequence.SequenceMatch.ExactMatch
    assert rerun_and_wait(qtbot, window, undo.trigger) is edited
    undone = rerun_and_wait(qtbot, window, undo.trigger)  # now "Undo Palette Change"
    assert undone is first
    assert new not in palette_set(undone.quantized.palette)
    assert old in palette_set(undone.quantized.palette)
    assert not image.palette_panel.is_locked(new) and not image.palette_panel.is_locked(old)
    assert not image.undo_action.isEnabled()


# --- undo and redo (issue 17, item 5) ----------------------------------------------------------


def controls(settings):
    """Settings without the locks (an edit's run starts before its lock shows in the palette;
    the locks are checked on the panel)."""
    return dataclasses.replace(settings, locked=())


def _show(qtbot, window, action) -> object:
    """Trigger an undo or redo and return the result it shows (nothing runs)."""
    return rerun_and_wait(qtbot, window, action)


def test_undo_and_redo_walk_every_kind_of_change(qtbot, window, small_image, monkeypatch):
    """k, a lock, the colour space, the dithering, a plain re-run and an edited colour: each is
    one step back and forward, restoring the controls and locks, without running anything."""
    image = window.image
    states = [open_and_wait(qtbot, window, small_image)]
    panel = image.palette_panel
    lock = tuple(int(v) for v in states[0].quantized.palette[0])
    changes = [
        lambda: image.colors_spin.setValue(8),
        lambda: panel.set_color_locked(lock, True) or panel.lockedChanged.emit(),
        lambda: image.space_combo.setCurrentIndex(image.space_combo.findData("rgb")),
        lambda: image.dither_combo.setCurrentIndex(image.dither_combo.findData("fs")),
        lambda: image.start_run(),
    ]
    for change in changes:
        states.append(rerun_and_wait(qtbot, window, change))
    monkeypatch.setattr(panel, "_pick_color", lambda initial: QColor(9, 8, 7))
    states.append(rerun_and_wait(qtbot, window, lambda: panel._edit(1)))
    assert image.undo_action.text() == "&Undo Palette Change"

    runs: list[int] = []
    image.worker.submit = lambda request: runs.append(request.job)  # undo must not run
    for back in reversed(states[:-1]):
        assert _show(qtbot, window, image.undo_action.trigger) is back
        assert controls(image.settings()) == controls(back.settings)
        assert np.array_equal(panel.palette(), back.quantized.palette)
    assert not image.undo_action.isEnabled() and not panel.is_locked(lock)
    assert image.colors_spin.value() == 16 and image.space_combo.currentData() == "oklab"
    for forward in states[1:]:
        assert _show(qtbot, window, image.redo_action.trigger) is forward
        assert controls(image.settings()) == controls(forward.settings)
    assert panel.is_locked(lock) and panel.is_locked((9, 8, 7))
    assert image.dither_combo.currentData() == "fs" and not image.redo_action.isEnabled()
    qtbot.wait(2 * DEBOUNCE_MS)
    assert runs == []
    assert image.redo_action.shortcut().matches(QKeySequence("Ctrl+Shift+Z")) \
        == QKeySequence.SequenceMatch.ExactMatch


def test_a_change_after_an_undo_drops_the_redo(qtbot, window, small_image):
    image = window.image
    open_and_wait(qtbot, window, small_image)
    rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(8))
    _show(qtbot, window, image.undo_action.trigger)
    assert image.redo_action.text() == "&Redo Colours 16 to 8"
    rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(4))
    assert not image.redo_action.isEnabled()
    assert image.undo_action.text() == "&Undo Colours 16 to 4"


def test_undo_during_a_run_drops_the_run(qtbot, window, small_image):
    image = window.image
    first = open_and_wait(qtbot, window, small_image)
    rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(8))
    with COMPUTE:  # hold the worker so the next run is still going when undo comes
        image.colors_spin.setValue(40)
        image.start_run()
        assert _show(qtbot, window, image.undo_action.trigger) is first
    qtbot.wait(500)
    assert image.colors_spin.value() == 16 and image._result is first


def test_7_locks_are_cleared_on_a_new_image_and_the_user_is_told(qtbot, window, small_image,
                                                                 tmp_path):
    """Locks carried over silently into the next image's run."""
    image = window.image
    first = open_and_wait(qtbot, window, small_image)
    keep = tuple(int(v) for v in first.quantized.palette[0])
    image.palette_panel.set_locked_colors([keep])
    second = open_and_wait(qtbot, window, rgba_file(tmp_path / "logo.png", soft=False))
    assert second.settings.locked == ()
    assert not image.palette_panel.is_locked(keep)
    assert any("1 locked colour of the previous image unlocked" in m for m in window.messages)


# --- 8: the status line -------------------------------------------------------------------------


def test_8_the_status_text_is_never_cut_off(qtbot, window):
    """During a run the progress bar cut the status text off ("clustering (iteration 15")."""
    image = window.image
    open_and_wait(qtbot, window, ROOT / "resources" / "china.jpg")
    image.starts_spin.setValue(16)
    image.colors_spin.setValue(256)
    with worker_signal(qtbot, image.worker.cancelled, 60_000):
        image.start_run()
        qtbot.waitUntil(lambda: "iteration" in image.stats_label.text(), timeout=30_000)
        label, bar = image.stats_label, image.progress_bar
        assert bar.minimumWidth() == bar.maximumWidth()  # the bar never grows into the text
        full = label.text()
        assert label.toolTip() == full
        room = label.contentsRect().width()
        assert label.fontMetrics().horizontalAdvance(label.displayed_text()) <= room
        label.resize(label.fontMetrics().horizontalAdvance(full) // 2, label.height())
        shown = label.displayed_text()  # squeezed: elided with "…", whole text in the tooltip
        assert shown.endswith("…") and label.toolTip() == full
        assert label.minimumSizeHint().width() < label.fontMetrics().horizontalAdvance(full)
        image.cancel_run()


# --- 9 and 10: the scatter views and the chart --------------------------------------------------


@pytest.mark.parametrize("space", ["rgb", "oklab", "lab"])
def test_9_the_2d_scatter_fits_its_axes_to_the_data(qtbot, window, small_image, space):
    """In RGB the axes ran from -400 to 700 for a 0-255 cloud."""
    image = window.image
    open_and_wait(qtbot, window, small_image)
    if space != image.space_combo.currentData():
        rerun_and_wait(qtbot, window, lambda: image.space_combo.setCurrentIndex(
            image.space_combo.findData(space)))
    for pair in ("L-a", "a-b", "R-G", "G-B"):
        if image.scatter2d._axes_combo.findText(pair) >= 0:
            image.scatter2d._axes_combo.setCurrentText(pair)
            x, y = image.scatter2d._columns()
            coords = image.scatter2d._pixel_coords
            (x0, x1), (y0, y1) = image.scatter2d._plot.getViewBox().viewRange()
            for lo, hi, values in ((x0, x1, coords[:, x]), (y0, y1, coords[:, y])):
                span = values.max() - values.min()
                assert lo <= values.min() and values.max() <= hi
                assert hi - lo <= span * 1.25


def test_10_the_convergence_chart_names_each_kind_of_segment(qtbot, window, small_image):
    """Two starts showed as five unexplained segments."""
    result = open_and_wait(qtbot, window, small_image)
    chart = window.image.chart
    texts = chart.legend_texts()
    assert texts[0] == "k-means starts" and "polish on exact colours" in texts
    assert chart.segments()["k-means starts"] == result.settings.n_init == DEFAULT_STARTS
    assert sum(chart.segments().values()) == int(np.isnan(result.inertia).sum()) + 1


def test_10_the_3d_view_keeps_60_degrees_across_its_shorter_side(qtbot, window):
    """The cloud was cut off at the top and bottom of the wide, short 3D tab."""
    assert horizontal_fov(400, 400) == pytest.approx(60.0)
    assert horizontal_fov(400, 800) == pytest.approx(60.0)
    assert horizontal_fov(1000, 280) > 120  # 60 degrees high
    view3d = window.image.scatter3d
    if not view3d.available:
        pytest.skip("no OpenGL here (run under xvfb-run to drive the GL view)")
    window.image.tabs.setCurrentWidget(view3d)
    qtbot.waitUntil(lambda: view3d._view.height() > 0)
    gl = view3d._view
    assert gl.opts["fov"] == pytest.approx(horizontal_fov(gl.width(), gl.height()))


# --- issue 17, item 2: the compare view ---------------------------------------------------------


def test_compare_view_shows_every_method_and_continues_from_the_one_clicked(qtbot, window,
                                                                           small_image):
    image = window.image
    action = menu_action(window, "Compare Methods…")
    assert not action.isEnabled()  # no image yet
    open_and_wait(qtbot, window, small_image)
    qtbot.waitUntil(action.isEnabled, timeout=RUN_TIMEOUT)  # both spaces' kernels loaded
    with worker_signal(qtbot, image.worker.compareDone, RUN_TIMEOUT):
        action.trigger()
    view = image.compare_view
    qtbot.waitUntil(lambda: view.complete)  # its own slot, queued after the test's
    assert view.isVisible()
    assert list(view.cards) == available_methods() and len(view.cards) >= 4
    best = view.best()
    assert best.startswith("palettelab") and "★" in view.cards[best].text()
    assert sum("★" in card.text() for card in view.cards.values()) == 1
    pixels = load_image(small_image).pixels
    with COMPUTE:  # Numba's workqueue layer: one thread in parallel kernels at a time
        reference = run_method("median-cut", pixels, 16)  # the core, apart from the view
    entry = view.entries["median-cut"]
    assert entry.psnr == pytest.approx(reference.psnr) and entry.colours == reference.colours
    assert f"PSNR {reference.psnr:.2f} dB" in view.cards["median-cut"].text()

    def icon_corner(name: str) -> tuple[int, int, int]:
        picture = view.cards[name].icon().pixmap(view.cards[name].iconSize()).toImage()
        colour = picture.pixelColor(0, 0)
        return colour.red(), colour.green(), colour.blue()

    assert icon_corner("median-cut") == tuple(entry.thumbnail[0, 0, :3])
    view.heat_box.setChecked(True)  # every card shows its error map
    assert icon_corner("median-cut") == tuple(entry.heat[0, 0])
    assert "★" in view.cards[best].text()

    with qtbot.waitSignal(image.runFinished, timeout=RUN_TIMEOUT) as finished:
        view.cards["median-cut"].click()
    adopted = finished.args[0].quantized
    assert {tuple(c) for c in adopted.palette} == {tuple(c) for c in entry.palette}
    np.testing.assert_array_equal(image.palette_panel.palette(), adopted.palette)
    assert any("median-cut" in text for text in window.messages)
    assert not window.errors
    # a compare pick is one undo step (issue 17, item 5)
    assert image.undo_action.text() == "&Undo Palette Change"
    before = rerun_and_wait(qtbot, window, image.undo_action.trigger)
    assert before.quantized.palette.shape == (16, 3) and not before.remapped
    assert rerun_and_wait(qtbot, window, image.redo_action.trigger).quantized is adopted


def test_a_stale_comparison_stops_between_methods(qtbot, window, small_image):
    """A newer comparison, a new image or closing the view makes the running one stale: the
    worker runs no further method of it."""
    image = window.image
    open_and_wait(qtbot, window, small_image)
    qtbot.waitUntil(image.compare_action.isEnabled, timeout=RUN_TIMEOUT)
    done = []
    image.worker.compareDone.connect(done.append)

    def stale_at_once(entry) -> None:  # runs in the worker as the first method reports
        image.worker.comparisons.cancel()

    image.worker.compared.connect(stale_at_once, Qt.ConnectionType.DirectConnection)
    with worker_signal(qtbot, image.worker.compared, RUN_TIMEOUT):
        image.compare_methods()
    image.worker.compared.disconnect(stale_at_once)
    with qtbot.waitSignal(image.runFinished, timeout=RUN_TIMEOUT):
        image.start_run()  # queued behind the comparison: it has ended
    assert done == [] and len(image.compare_view.cards) == 1
    with worker_signal(qtbot, image.worker.compareDone, RUN_TIMEOUT):
        image.compare_methods()  # a new comparison runs whole
    qtbot.waitUntil(lambda: image.compare_view.complete)
    assert len(image.compare_view.cards) == len(available_methods())
    image.compare_view.close()
    assert image.worker.comparisons.is_stale(image._compare_job)


def test_error_map_shows_the_results_oklab_error_and_follows_new_results(qtbot, window,
                                                                        small_image):
    image = window.image
    first = open_and_wait(qtbot, window, small_image)
    images = image.images
    with worker_signal(qtbot, image.worker.errorMap, RUN_TIMEOUT) as arrived:
        menu_action(window, "Error Map").trigger()  # E
    qtbot.waitUntil(images.showing_error_map)
    job, heat = arrived.args
    assert job == first.job
    with COMPUTE:  # the core's own map of the same result, apart from the window
        expected = heatmap(error_map(load_image(small_image).pixels, first.image))
    np.testing.assert_array_equal(heat, expected)  # a small image: full resolution
    np.testing.assert_array_equal(images._shown[1], heat)
    assert images._titles[1].text.startswith("OKLab error")

    second = rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(4))
    qtbot.waitUntil(lambda: images.showing_error_map() and images._shown[1] is not heat)
    with COMPUTE:
        expected = heatmap(error_map(load_image(small_image).pixels, second.image))
    np.testing.assert_array_equal(images._shown[1], expected)  # the new result's map

    menu_action(window, "Error Map").trigger()  # off: the recoloured image again
    assert not images.showing_error_map()
    np.testing.assert_array_equal(images._shown[1], second.image)
    assert images._titles[1].text == "Recoloured"


# --- palette tools (issue 17, item 7) ----------------------------------------------------------


def test_sorting_the_palette_reorders_it_and_later_runs_keep_the_order(qtbot, window,
                                                                       small_image):
    from palettelab.core.color.spaces import from_srgb

    image = window.image
    first = open_and_wait(qtbot, window, small_image)
    assert (np.diff(first.quantized.counts) <= 0).all()  # by share
    lightness = image.order_combo.findData("lightness")
    sorted_ = rerun_and_wait(qtbot, window, lambda: image.order_combo.setCurrentIndex(lightness))
    assert palette_set(sorted_.quantized.palette) == palette_set(first.quantized.palette)
    assert (np.diff(from_srgb(sorted_.quantized.palette, "oklab")[:, 0]) >= 0).all()
    np.testing.assert_array_equal(sorted_.image, first.image)  # same pixels, new order
    assert image.undo_action.text() == "&Undo Sort by Lightness"
    rerun = rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(10))
    assert (np.diff(from_srgb(rerun.quantized.palette, "oklab")[:, 0]) >= 0).all()


def test_sorting_a_palette_with_alpha_keeps_its_alpha(qtbot, window):
    """A remap (sort, edit, another member) used to drop the palette's alpha."""
    image = window.image
    first = open_and_wait(qtbot, window, ROOT / "resources" / "logo.png")
    hue = image.order_combo.findData("hue")
    sorted_ = rerun_and_wait(qtbot, window, lambda: image.order_combo.setCurrentIndex(hue))
    q = sorted_.quantized
    assert q.palette_alpha is not None
    pairs = {(tuple(c), a) for c, a in zip(q.palette.tolist(), q.palette_alpha.tolist(),
                                           strict=True)}
    assert pairs == {(tuple(c), a) for c, a in zip(first.quantized.palette.tolist(),
                                                   first.quantized.palette_alpha.tolist(),
                                                   strict=True)}
    np.testing.assert_array_equal(sorted_.image, first.image)


def test_delete_and_merge_take_one_colour_and_reconverge(qtbot, window, small_image):
    image = window.image
    first = open_and_wait(qtbot, window, small_image)
    palette = first.quantized.palette
    menu = image.palette_panel.row_menu(3)
    delete = next(a for a in menu.actions() if a.text().startswith("Delete"))
    deleted = rerun_and_wait(qtbot, window, delete.trigger)
    assert deleted.quantized.palette.shape[0] == 15 and image.colors_spin.value() == 15
    assert tuple(palette[3]) not in palette_set(deleted.quantized.palette)
    assert not deleted.remapped  # converged again, not just remapped
    assert deleted.psnr > first.psnr - 0.6
    before = deleted.quantized
    merge_menu = next(a.menu() for a in image.palette_panel.row_menu(0).actions() if a.menu())
    choice = merge_menu.actions()[0]  # the nearest colour
    merged = rerun_and_wait(qtbot, window, choice.trigger)
    assert merged.quantized.palette.shape[0] == 14
    assert image.undo_action.text() == "&Undo Colours 15 to 14"
    assert rerun_and_wait(qtbot, window, image.undo_action.trigger).quantized is before


def test_copy_palette_as_css_and_hex(qtbot, window, small_image):
    image = window.image
    result = open_and_wait(qtbot, window, small_image)
    codes = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in result.quantized.palette.tolist()]
    image.copy_css_action.trigger()
    css = QApplication.clipboard().text()
    assert css.startswith(":root {") and all(f": {code};" in css for code in codes)
    image.copy_hex_action.trigger()
    assert QApplication.clipboard().text().split() == codes


def test_map_to_a_palette_file_from_the_window(qtbot, window, small_image, tmp_path):
    from palettelab.core.formats.palettes import write_palette

    image = window.image
    open_and_wait(qtbot, window, small_image)
    target = np.array([[0, 0, 0], [255, 255, 255], [200, 40, 40]], np.uint8)
    write_palette(tmp_path / "three.gpl", target)
    image._ask_open_path = lambda *args: str(tmp_path / "three.gpl")
    mapped = rerun_and_wait(qtbot, window, image.map_action.trigger)
    np.testing.assert_array_equal(mapped.quantized.palette, target)
    (tmp_path / "bad.gpl").write_text("not a palette")
    image._ask_open_path = lambda *args: str(tmp_path / "bad.gpl")
    image.map_action.trigger()
    assert window.errors and "bad.gpl" in window.errors[-1][1]


def test_exported_palettes_are_named_after_the_image(qtbot, window, small_image, tmp_path):
    image = window.image
    open_and_wait(qtbot, window, small_image)
    image._ask_save_path = lambda *args: (str(tmp_path / "p.gpl"), "")
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_palette()
    assert "Name: small" in (tmp_path / "p.gpl").read_text()


# --- importance and the eyedropper (issue 17, item 6) ------------------------------------------


def test_painting_importance_reconverges_the_palette_for_what_was_painted(qtbot, window):
    from palettelab.core.quantization.quality import psnr

    image = window.image
    path = ROOT / "resources" / "china.jpg"
    original = load_image(path).pixels
    image.colors_spin.setValue(8)
    plain = open_and_wait(qtbot, window, path)
    region = (slice(150, 260), slice(250, 420))
    image.tool_buttons["brush"].click()
    assert image.images.tool == "brush"
    painted = rerun_and_wait(qtbot, window,
                             lambda: image.images.paint_importance(250, 150, 420, 260))
    gain = psnr(original[region], painted.image[region]) - psnr(original[region],
                                                                plain.image[region])
    assert gain > 1.0  # the roof and the tree got colours of their own
    assert painted.quantized.counts.sum() == original.shape[0] * original.shape[1]
    image.tool_buttons["eraser"].click()
    assert image.images.tool == "eraser" and not image.tool_buttons["brush"].isChecked()
    erased = rerun_and_wait(qtbot, window, image.clear_importance_button.click)
    np.testing.assert_array_equal(erased.quantized.palette, plain.quantized.palette)


def test_a_real_brush_stroke_paints_the_mask(qtbot, window, small_image):
    image = window.image
    open_and_wait(qtbot, window, small_image)
    image.brush_spin.setValue(30)
    image.tool_buttons["brush"].click()
    view = image.images._views[0]
    widget = image.images._layout.viewport()
    centre = view.mapViewToScene(view.viewRect().center())
    point = image.images._layout.mapFromScene(centre)
    with qtbot.waitSignal(image.images.importanceChanged, timeout=5000):
        qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=point)
        qtbot.mouseMove(widget, point + QPoint(20, 0))
        qtbot.mouseMove(widget, point + QPoint(40, 5))
        qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=point + QPoint(40, 5))
    mask = image.images.importance()
    assert mask is not None and 100 < mask.sum() < mask.size / 2


def test_the_eyedropper_adds_the_clicked_colour_locked(qtbot, window):
    image = window.image
    path = ROOT / "resources" / "china.jpg"
    original = load_image(path).pixels
    image.colors_spin.setValue(8)
    first = open_and_wait(qtbot, window, path)
    x, y = 330, 200
    assert tuple(int(v) for v in original[y, x, :3]) not in palette_set(first.quantized.palette)
    image.tool_buttons["eyedropper"].click()
    view = image.images._views[0]
    point = image.images._layout.mapFromScene(view.mapViewToScene(QPointF(x + 0.5, y + 0.5)))
    widget = image.images._layout.viewport()
    clicks: list[tuple[int, int]] = []
    image.images.picked.connect(lambda px, py: clicks.append((px, py)))
    picked = rerun_and_wait(qtbot, window, lambda: qtbot.mouseClick(
        widget, Qt.MouseButton.LeftButton, pos=point))
    assert len(clicks) == 1 and abs(clicks[0][0] - x) <= 1 and abs(clicks[0][1] - y) <= 1
    colour = tuple(int(v) for v in original[clicks[0][1], clicks[0][0], :3])
    assert colour in palette_set(picked.quantized.palette)
    assert picked.quantized.palette.shape[0] == 9 and image.palette_panel.is_locked(colour)
    again = rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(10))
    assert colour in palette_set(again.quantized.palette)  # stays until unlocked


# --- export sizes (issue 17, item 8) ----------------------------------------------------------


def test_export_sizes_are_shown_before_saving_and_match_the_files(qtbot, window, small_image,
                                                                  tmp_path):
    from palettelab.app.gui.image.sizes import human_size

    image = window.image
    with qtbot.waitSignal(image.sizes.estimated, timeout=RUN_TIMEOUT) as measured:
        result = open_and_wait(qtbot, window, small_image)
    job, sizes = measured.args
    assert job == result.job and set(sizes) == {"PNG", "GIF", "WebP"}
    text = image.sizes_label.text()
    for label, (size, exact) in sizes.items():
        assert exact and f"{label} {human_size(size)}" in text
    for suffix, label in ((".png", "PNG"), (".gif", "GIF"), (".webp", "WebP")):
        target = tmp_path / f"out{suffix}"
        image._ask_save_path = lambda *args, t=target: (str(t), "")
        with worker_signal(qtbot, image.worker.exported, 30_000):
            image.export_image()
        assert target.stat().st_size == sizes[label][0]
    with qtbot.waitSignal(image.sizes.estimated, timeout=RUN_TIMEOUT):
        rerun_and_wait(qtbot, window, lambda: image.colors_spin.setValue(4))
    assert image.sizes_label.text() != text  # fewer colours, smaller files


def test_human_sizes():
    from palettelab.app.gui.image.sizes import human_size

    assert [human_size(n) for n in (950, 12_345, 4_560_000)] == ["950 B", "12.3 KB", "4.56 MB"]


# --- image sets (issue 17, item 4) -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_images(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("set")
    paths = []
    for name in ("china.jpg", "flower.jpg"):
        path = folder / name.replace(".jpg", ".png")
        Image.open(ROOT / "resources" / name).convert("RGB").resize((160, 107)).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def animation_file(tmp_path_factory) -> Path:
    base = np.asarray(Image.open(ROOT / "resources" / "china.jpg").convert("RGB")
                      .resize((96, 64)))
    frames = [Image.fromarray(np.roll(base, 12 * i, axis=1)) for i in range(4)]
    path = tmp_path_factory.mktemp("anim") / "pan.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[60, 80, 60, 80],
                   loop=0)
    return path


def _open_set(qtbot, window, paths):
    with qtbot.waitSignal(window.image.runFinished, timeout=RUN_TIMEOUT) as done:
        window.image.open_set([str(p) for p in paths])
    return done.args[0]


def test_an_image_set_has_one_palette_a_strip_and_exports_all(qtbot, window, two_images,
                                                              tmp_path):
    from palettelab.core.quantization.pipeline import remap, shared_palette

    image = window.image
    result = _open_set(qtbot, window, two_images)
    pixels = [load_image(p).pixels for p in two_images]
    expected, _ = shared_palette(pixels, 16, n_init=DEFAULT_STARTS)
    np.testing.assert_array_equal(result.quantized.palette, expected)
    np.testing.assert_array_equal(result.image, remap(pixels[0], expected).image())
    strip = image.set_strip
    assert strip.isVisible() and strip.list.count() == 2 and len(result.members) == 2
    assert "50%" in strip.list.item(1).text() and "of 16 colours" in strip.list.item(1).text()
    assert not strip.play_button.isVisible()  # stills: nothing to play
    # click the second image in the strip: it shows, remapped to the same palette
    rect = strip.list.visualItemRect(strip.list.item(1))
    second = rerun_and_wait(qtbot, window, lambda: qtbot.mouseClick(
        strip.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()))
    np.testing.assert_array_equal(second.quantized.palette, expected)
    np.testing.assert_array_equal(second.image, remap(pixels[1], expected).image())
    # undo goes back to the first image's result, and shows that image again
    with qtbot.waitSignal(image.worker.memberSelected, timeout=RUN_TIMEOUT):
        back = rerun_and_wait(qtbot, window, image.undo_action.trigger)
    assert back is result and strip.list.currentRow() == 0
    qtbot.wait(100)
    assert image._original is not None and image._original.shape == pixels[0].shape
    assert np.array_equal(image._original, pixels[0])
    with qtbot.waitSignal(image.worker.memberSelected, timeout=RUN_TIMEOUT):
        rerun_and_wait(qtbot, window, image.redo_action.trigger)
    assert strip.list.currentRow() == 1
    # export all: one palette file named after the set, every image with that palette
    assert image.export_set_action.isEnabled()
    out = tmp_path / "export"
    out.mkdir()
    image._ask_folder = lambda title: str(out)
    with worker_signal(qtbot, image.worker.exported, 30_000):
        image.export_set_action.trigger()
    assert sorted(p.name for p in out.iterdir()) == ["china-16.png", "china-and-1-more-16.gpl",
                                                     "flower-16.png"]
    assert len(read_palette(out / "china-and-1-more-16.gpl").colors) == 16
    for path in (out / "china-16.png", out / "flower-16.png"):
        colours = palette_set(np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3))
        assert colours <= palette_set(expected)


def test_an_animation_opens_as_a_set_and_plays_recoloured(qtbot, window, animation_file,
                                                         small_image):
    image = window.image
    with qtbot.waitSignal(image.runFinished, timeout=RUN_TIMEOUT) as done:
        window.open_path(animation_file)
    result = done.args[0]
    strip = image.set_strip
    assert strip.list.count() == 4 and len(result.members) == 4
    assert strip.play_button.isVisible() and "4 frames" in strip.title.text()
    strip.play_button.click()
    assert strip.playing()
    seen = {strip.shown_frame()}
    qtbot.waitUntil(lambda: seen.add(strip.shown_frame()) or len(seen) == 4, timeout=5000)
    strip.play_button.click()
    assert not strip.playing()
    open_and_wait(qtbot, window, small_image)  # a single image: the strip goes
    assert not strip.isVisible() and not image.export_set_action.isEnabled()

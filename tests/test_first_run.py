"""Issue 15, source install: the original and a preview before any kernel, kernels in groups.

The GUI tests hold compilation back (the window's kernel child is not started) and then
announce the groups by hand, so every check is deterministic: no timing is asserted (timings
belong to ``benchmarks/bench_first_run.py``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from gui_helpers import report_groups, worker_signal
from PySide6.QtCore import QSettings

from palettelab import load_image, quantize
from palettelab.app.gui import kernel_builder
from palettelab.app.gui.image.worker import PREVIEW_STAGE
from palettelab.app.gui.kernel_builder import KernelBuilder
from palettelab.app.gui.launch import create_app
from palettelab.app.gui.main_window import MainWindow
from palettelab.app.gui.worker_host import COMPUTE
from palettelab.core import kernel_warmup
from palettelab.core.color import spaces
from palettelab.core.quantization import preview
from palettelab.core.resources import sample_image

TIMEOUT = 120_000  # ms; generous for a loaded CI machine, never a measurement
pytestmark = pytest.mark.kernel_children  # the window's own kernel children, not conftest's


@pytest.fixture
def held_back(qtbot, tmp_path, monkeypatch):
    """A main window whose kernel child never starts (compilation held back)."""
    monkeypatch.setattr(KernelBuilder, "start", lambda self: None)
    create_app()
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.show_error = lambda title, message: pytest.fail(f"{title}: {message}")
    yield win
    win.close()


def is_preview(frame) -> bool:
    return frame.stage == PREVIEW_STAGE


def announce(win: MainWindow, *names: str) -> None:
    """What the kernel child prints after each group, as the builder reports it."""
    report_groups(win.kernels, names, 1)


def preview_a_dithered_run(qtbot, win: MainWindow):
    """Open the sample with the first group loaded, then ask for dithering, whose group is
    not: the run shows a preview and waits.  Returns the first (undithered) result."""
    image = win.image
    with qtbot.waitSignal(image.runFinished, timeout=TIMEOUT) as first:
        win.open_path(str(sample_image()))
        announce(win, "first picture")
    with worker_signal(qtbot, image.worker.frame, TIMEOUT, check=is_preview):
        image.dither_combo.setCurrentIndex(image.dither_combo.findData("fs"))
    return first.args[0]


def test_original_and_preview_come_before_any_kernel_then_the_real_result(qtbot, held_back):
    win = held_back
    image = win.image
    assert image.preparing_label.text() == "Compiling kernels: 0 of 7 groups ready"
    frames = []
    image.worker.frame.connect(frames.append)
    with qtbot.waitSignal(image.imageLoaded, timeout=TIMEOUT):
        win.open_path(str(sample_image()))
    pixels = load_image(sample_image()).pixels
    assert np.array_equal(image.images._original, pixels)
    qtbot.waitUntil(lambda: any(f.stage == PREVIEW_STAGE for f in frames), timeout=TIMEOUT)
    first = next(f for f in frames if f.stage == PREVIEW_STAGE)
    assert first.palette.shape == (16, 3)
    assert first.preview.shape == pixels.shape
    assert np.array_equal(image.images._recoloured, first.preview)
    assert image.worker._kernels == ()  # the preview needed no kernel group
    assert image._result is None

    with qtbot.waitSignal(image.runFinished, timeout=TIMEOUT) as finished:
        announce(win, "first picture")
    assert image.preparing_label.text().startswith("Compiling kernels: 1 of 7 groups ready")
    result = finished.args[0]
    expected = quantize(pixels, 16)
    assert np.array_equal(result.quantized.palette, expected.palette)
    assert np.array_equal(result.quantized.indices, expected.indices)
    assert np.array_equal(image.images._recoloured, result.image)  # the preview is replaced


def test_a_run_waits_for_its_own_group(qtbot, held_back):
    """Dithering is in a later group: a run with it previews until that group is loaded."""
    win = held_back
    image = win.image
    with qtbot.waitSignal(image.runFinished, timeout=TIMEOUT):
        win.open_path(str(sample_image()))
        announce(win, "first picture")
    finished = []
    image.runFinished.connect(finished.append)
    with worker_signal(qtbot, image.worker.frame, TIMEOUT, check=is_preview):
        image.dither_combo.setCurrentIndex(image.dither_combo.findData("fs"))
    with worker_signal(qtbot, image.worker.kernelsLoaded, TIMEOUT):
        announce(win, "colour spaces")
    qtbot.wait(50)
    assert finished == []
    with qtbot.waitSignal(image.runFinished, timeout=TIMEOUT) as done:
        announce(win, "dithering")
    assert done.args[0].settings.dither == "fs"
    pixels = load_image(sample_image()).pixels
    expected = quantize(pixels, 16, dither="fs")
    assert np.array_equal(done.args[0].quantized.indices, expected.indices)


def test_cancelling_a_run_that_waits_for_its_kernels_restores_the_result(qtbot, held_back):
    """A run shown as a preview while its group compiles is not running: Esc used to leave it
    waiting, with no ``cancelled`` and the controls still showing the cancelled settings."""
    win = held_back
    image = win.image
    first = preview_a_dithered_run(qtbot, win)
    with worker_signal(qtbot, image.worker.cancelled, TIMEOUT):
        image.cancel_run()
    qtbot.waitUntil(lambda: not image._running, timeout=TIMEOUT)
    assert image.dither_combo.currentData() == "none"
    assert np.array_equal(image.images._recoloured, first.image)
    finished = []
    image.runFinished.connect(finished.append)
    with worker_signal(qtbot, image.worker.kernelsLoaded, TIMEOUT):
        announce(win, "colour spaces", "dithering")
    qtbot.wait(100)
    assert finished == []  # the cancelled run does not come back when its kernels arrive


def test_a_waiting_run_cancelled_as_its_kernels_arrive_reports_cancelled(qtbot, held_back):
    """Esc just after its group compiled: the worker loaded the group first, dropped the stale
    waiting run without a word, and the window waited for a ``cancelled`` that never came
    (CI: "Signal not emitted after 60000 ms")."""
    win = held_back
    image = win.image
    preview_a_dithered_run(qtbot, win)
    with worker_signal(qtbot, image.worker.cancelled, TIMEOUT):
        with COMPUTE:  # the worker takes the group's load before the cancel's wake-up
            announce(win, "colour spaces", "dithering")
            image.cancel_run()
    qtbot.waitUntil(lambda: not image._running, timeout=TIMEOUT)
    assert image.dither_combo.currentData() == "none"


def test_the_status_bar_counts_kernel_groups_to_ready(qtbot, held_back):
    win = held_back
    announce(win, *kernel_warmup.NAMES[:3])
    assert win.image.preparing_label.text() == "Compiling kernels: 3 of 7 groups ready (1 kernels)"
    announce(win, *kernel_warmup.NAMES[3:])
    assert win.image.preparing_label.text() == "Kernels ready (1)"
    qtbot.waitUntil(lambda: win.points.points() is not None, timeout=TIMEOUT)  # points started


@pytest.mark.parametrize("space", spaces.SPACES)
def test_numpy_colour_conversion_matches_the_kernels(space):
    rgb = np.random.default_rng(1).integers(0, 256, size=(500, 3), dtype=np.uint8)
    assert np.allclose(preview.from_srgb(rgb, space), spaces.from_srgb(rgb, space),
                       rtol=0, atol=1e-9)


def test_preview_palette_keeps_locked_colours_and_the_count():
    img = np.random.default_rng(2).integers(0, 256, size=(60, 80, 4), dtype=np.uint8)
    img[..., 3] = 255
    img[:5, :, 3] = 0
    palette = preview.preview_palette(img, 8, "lab", locked=((1, 2, 3),), random_state=4)
    assert palette.shape == (8, 3) and tuple(palette[0]) == (1, 2, 3)
    out = preview.recolour(img, palette, "lab")
    assert np.array_equal(out[..., 3], img[..., 3])
    used = {tuple(c) for c in out[..., :3].reshape(-1, 3).tolist()}
    assert used <= {tuple(c) for c in palette.tolist()}
    two = np.zeros((4, 4, 3), dtype=np.uint8)
    two[0, 0] = 255
    assert {tuple(c) for c in preview.preview_palette(two, 16).tolist()} == {(0, 0, 0),
                                                                             (255, 255, 255)}


def test_loading_and_previewing_compile_no_kernel():
    """In a fresh process: decoding the image and the preview leave every kernel uncompiled."""
    code = ("from palettelab.core import kernel_warmup as k\n"
            "from palettelab.core.quantization import preview as p\n"
            "from palettelab.core.quantization import pipeline, quality\n"
            "from palettelab.core.clustering import kmeans\n"
            "pixels = k._sample()\n"
            "pal = p.preview_palette(pixels, 16)\n"
            "p.recolour(pixels, pal)\n"
            "print(k.compiled_kernels())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_group_of_a_run_and_unknown_groups():
    assert kernel_warmup.group_for("oklab", "none", False) == "first picture"
    assert kernel_warmup.group_for("lab", "none", False) == "colour spaces"
    assert kernel_warmup.group_for("oklab", "bayer", False) == "dithering"
    assert kernel_warmup.group_for("rgb", "none", True) == "dithering"
    assert kernel_warmup.NAMES.index("first picture") == 0
    assert kernel_warmup.main(["no such group"]) == 2


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX niceness")
def test_the_windows_children_compile_in_the_background():
    """The window's kernel children run below its priority: on 2 cores, two compiling
    children and the GUI thread contend for the cores."""
    assert "--background" in kernel_builder.CHILD_ARGS
    code = ("import os\n"
            "from palettelab.core import kernel_warmup as k\n"
            "before = os.nice(0)\n"
            "status = k.main(['--background', 'no such group'])\n"
            "print(status, os.nice(0) - before)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before = os.nice(0)
    expected = min(before + kernel_warmup.BACKGROUND_NICE, 19) - before
    assert out.stdout.split() == ["2", str(expected)]


def test_the_standalone_app_loads_its_kernels_in_its_workers(qtbot, monkeypatch):
    """A frozen app's executable is the app itself, not a Python that runs ``-m``: no child,
    and no "failed" message either (it ships its kernels compiled)."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    create_app()
    builder = KernelBuilder()
    failed = []
    builder.failed.connect(failed.append)
    with qtbot.waitSignal(builder.inWorkers, timeout=5000):
        builder.start()
    assert failed == []
    assert builder.running() == 0


def fake_children(monkeypatch, script: str) -> None:
    """Children that run ``script`` (their groups in ``sys.argv[1:]``) instead of compiling."""
    monkeypatch.setattr(kernel_builder, "CHILD_ARGS", ["-c", script])


def test_one_child_a_lane_side_by_side_and_every_group_counted(qtbot, monkeypatch):
    """Each lane's child gets that lane's groups; their reports add up to every group."""
    fake_children(monkeypatch, "import sys, time\n"
                               "for name in sys.argv[1:]:\n"
                               "    print(f'group {name}\\t0.1\\t3', flush=True)\n"
                               "time.sleep(1)\n")
    create_app()
    builder = KernelBuilder()
    reports, failed = [], []
    builder.groupReady.connect(lambda *args: reports.append(args))
    builder.failed.connect(failed.append)
    builder.start()
    assert builder.running() == len(kernel_warmup.LANES) == 2  # both start at once
    qtbot.waitUntil(lambda: len(reports) == len(kernel_warmup.NAMES), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: builder.running() == 0, timeout=TIMEOUT)
    assert sorted(name for name, *_ in reports) == sorted(kernel_warmup.NAMES)
    assert [done for _, done, _, _ in reports] == list(range(1, len(kernel_warmup.NAMES) + 1))
    assert {total for _, _, total, _ in reports} == {len(kernel_warmup.NAMES)}
    assert reports[-1][3] == 3 * len(kernel_warmup.LANES)
    for lane in kernel_warmup.LANES:  # each lane's groups in its own order
        order = [name for name, *_ in reports if name in lane]
        assert order == list(lane)
    assert failed == []


def test_a_child_that_dies_is_reported_once(qtbot, monkeypatch):
    fake_children(monkeypatch, "import sys; sys.exit(3)")
    create_app()
    builder = KernelBuilder()
    failed = []
    builder.failed.connect(failed.append)
    builder.start()
    qtbot.waitUntil(lambda: builder.running() == 0, timeout=TIMEOUT)
    qtbot.wait(100)
    assert failed == ["the kernel compiler stopped (exit status 3)"]


def test_the_lanes_hold_every_group_once_image_groups_first():
    lanes = kernel_warmup.LANES
    assert sorted(name for lane in lanes for name in lane) == sorted(kernel_warmup.NAMES)
    assert lanes[0][:len(kernel_warmup.IMAGE_GROUPS)] == kernel_warmup.IMAGE_GROUPS


def test_the_standalone_app_says_it_loads_its_kernels(qtbot, tmp_path, monkeypatch):
    """The bundle used to say "the standalone app has no separate kernel compiler: compiling
    the kernels here instead", and kept "Compiling kernels: 0 of 5 groups ready" for good."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    create_app()
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    label = win.image.preparing_label
    shown = []  # every text the label gets (kernels already in this process load at once)
    set_text = label.setText
    label.setText = lambda text: (shown.append(text), set_text(text))
    with worker_signal(qtbot, win.image.worker.ready, TIMEOUT):
        win.show()
    qtbot.waitUntil(lambda: label.text().startswith("Kernels ready"), timeout=5000)
    assert "Loading kernels" in shown
    assert shown.index("Loading kernels") < len(shown) - 1
    assert "compiling" not in win.statusBar().currentMessage()
    win.close()


def test_a_group_runs_once_a_process(monkeypatch):
    """Each window's workers ask for every group; a group the process has is not run again,
    but is still reported."""
    calls = []
    monkeypatch.setattr(kernel_warmup, "GROUPS", (("a", lambda: calls.append("a")),
                                                  ("b", lambda: calls.append("b"))))
    monkeypatch.setattr(kernel_warmup, "_LOADED", set())
    out = io.StringIO()
    kernel_warmup.run(("a",), out)
    kernel_warmup.run(("a", "b"), out)
    assert calls == ["a", "b"]
    assert [line.split("\t")[0] for line in out.getvalue().splitlines()] == [
        "group a", "group a", "group b"]


def test_the_preview_imports_no_numba():
    """The numpy preview shows while the kernels compile; importing Numba in the worker then
    (for the colour constants) made the window's first frame 100-150 ms late."""
    code = ("import sys\n"
            "from palettelab.core.formats.image_read import load_image\n"
            "from palettelab.core.quantization.preview import from_srgb, preview_palette\n"
            "from palettelab.core.resources import sample_image\n"
            "for space in ('oklab', 'lab', 'rgb'):\n"
            "    from_srgb(preview_palette(load_image(sample_image()).pixels, 8, space), space)\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr

"""Start the desktop application (imported only when the GUI is launched: it needs Qt)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from palettelab.app.gui.main_window import MainWindow
from palettelab.core.resources import resource_path, sample_image

#: how long a thread running Python code keeps the GIL when another wants it (Python: 5 ms)
GIL_SWITCH_S = 0.0002


def create_app() -> QApplication:
    """The QApplication, with pyqtgraph set to row-major images (numpy's (H, W, C)).

    The GIL switch interval drops to :data:`GIL_SWITCH_S`: a repaint calls back into Python
    dozens of times, and while a worker ran Python code (importing and loading kernels, a
    quantization's bookkeeping) each callback waited up to 5 ms for the GIL, which made
    110 ms freezes of the first start (``bench_first_run.py --stacks``).  At 1 ms, each of the
    GUI thread's numpy calls that let the GIL go could still wait 1 ms to get it back from the
    mini-batch loop: a 200 x 200 Voronoi shading took up to 30 ms of a 1M-point run instead of
    2-3 ms (``bench_points_gui.py``); at 0.2 ms the longest freeze there is 31 ms in five
    runs."""
    sys.setswitchinterval(GIL_SWITCH_S)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PaletteLab")
    app.setOrganizationName("PaletteLab")
    app.setWindowIcon(QIcon(str(resource_path("icon.png"))))
    pg.setConfigOptions(imageAxisOrder="row-major")
    return app


def run(path: str) -> int:
    """Open the main window on the image ``path`` and run the event loop."""
    app = create_app()
    window = MainWindow()
    window.show()
    window.open_path(path)
    return app.exec()


def self_test(timeout_s: float = 900.0) -> int:
    """Open the main window, quantize the bundled sample through the real worker thread, check
    the result; 0 on success, 1 with a one-line message otherwise.

    Works offscreen (``QT_QPA_PLATFORM=offscreen``); the first run in a fresh install also
    compiles the kernels, hence the generous timeout.
    """
    started = time.perf_counter()
    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:  # never touch the user's settings
        window = MainWindow(settings=QSettings(str(Path(tmp) / "self-test.ini"),
                                               QSettings.Format.IniFormat))
        outcome: dict = {}

        def finish(key: str, value) -> None:
            outcome.setdefault(key, value)
            app.quit()

        window.show_error = lambda title, message: finish("error", f"{title}: {message}")
        window.image.runFinished.connect(lambda result: finish("result", result))
        QTimer.singleShot(int(timeout_s * 1000), lambda: finish("error", "timed out"))
        window.show()
        window.open_path(str(sample_image()))
        app.exec()
        window.close()
    problem = outcome.get("error") or _check_result(outcome.get("result"))
    if problem:
        print(f"palettelab self-test: FAILED: {problem}", file=sys.stderr)
        return 1
    result = outcome["result"]
    print(f"palettelab self-test: ok ({result.quantized.palette.shape[0]} colours, "
          f"PSNR {result.psnr:.1f} dB, quantized in {result.seconds:.2f} s, "
          f"{time.perf_counter() - started:.1f} s in all)")
    return 0


def _check_result(result) -> str | None:
    """What is wrong with a self-test result, or None."""
    if result is None:
        return "no result"
    q = result.quantized
    k = q.palette.shape[0]
    if k != 16 or len({tuple(c) for c in q.palette.tolist()}) != 16:
        return f"expected 16 different colours, got {k}"
    if int(q.counts.sum()) != q.indices.size or q.indices.max() >= k:
        return "pixel counts or indices do not match the palette"
    if not result.psnr > 20:
        return f"PSNR {result.psnr:.1f} dB is implausibly low"
    return None

"""How responsive the Points workspace stays with a 1-million-point file (offscreen).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_points_gui.py

A 10 ms QTimer heartbeat runs in the GUI thread; the longest gap between two beats is how long
the window was frozen.  A 1,000,000 x 2 CSV (8 Gaussian blobs, written once in a temporary
folder) is opened through the workspace's own path, then clustered with k-means and with
mini-batch k-means (k=8), as a user would from the Run button.  Printed: load and run times and
the longest freeze in each phase (the window should never stop answering for long: a 50 ms
gap is the limit the designer workspace is held to).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from bench_gui import Heartbeat, settle, wait_for  # noqa: E402

from palettelab.app.gui.launch import create_app  # noqa: E402
from palettelab.app.gui.points.workspace import PointsWorkspace  # noqa: E402


def write_points(path: Path, n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    centres = rng.uniform(-10, 10, size=(8, 2))
    X = centres[rng.integers(0, 8, n)] + rng.normal(size=(n, 2))
    np.savetxt(path, X, delimiter=",", header="x0,x1", comments="", fmt="%.5f")


def main() -> int:
    _app = create_app()  # referenced for the whole run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.csv"
        write_points(path)
        print(f"{path.stat().st_size / 1e6:.0f} MB CSV, 1,000,000 x 2")
        ws = PointsWorkspace(initial_dataset="blobs")
        ws.resize(1400, 900)
        ws.show()
        wait_for(ws.initialised)  # the built-in blobs are up and the kernels are warm
        heart = Heartbeat()
        heart.timer.start()
        settle(0.2)

        print("| phase | seconds | longest GUI freeze |\n| --- | ---: | ---: |")
        start = time.perf_counter()
        ws.open_path(str(path))
        wait_for(ws.initialised)
        loaded = time.perf_counter()
        settle(0.2)
        print(f"| load 1M-point CSV and place k-means++ centres | {loaded - start:.2f} | "
              f"{1000 * heart.longest_gap(start, loaded + 0.2):.0f} ms |")

        for method in ("k-means", "mini-batch"):
            ws.method_combo.setCurrentText(method)
            start = time.perf_counter()
            ws.run_button.click()
            wait_for(ws.resultReady)
            done = time.perf_counter()
            settle(0.2)
            print(f"| run {method}, k={ws.k_spin.value()} | {done - start:.2f} | "
                  f"{1000 * heart.longest_gap(start, done + 0.2):.0f} ms |")
        heart.timer.stop()
        ws.close_worker()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

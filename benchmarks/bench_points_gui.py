"""How responsive the Points workspace stays with a 1-million-point file (offscreen).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_points_gui.py [--beat-ms 2] [--stacks FILE]

A precise QTimer heartbeat runs in the GUI thread, every 2 ms; the longest gap between two beats
is how long the window was frozen, plus at most one beat.  (Until issue 18's last change the
beat was 10 ms, as in ``bench_gui.py``, which adds up to 10 ms to every figure: a 25 ms freeze
read as 25-35 ms, against a target of 33 ms; ``--beat-ms 10`` measures that way.)  A
1,000,000 x 2 CSV (8 Gaussian blobs, written once in a temporary folder) is opened through the
workspace's own path, then clustered with k-means and with mini-batch k-means (k=4), as a user
would from the Run button.  Printed: load and run times and the longest freeze in each phase
(issue 18's target: 33 ms, one frame at 30 per second).  ``--stacks FILE`` writes every
thread's Python stack into FILE whenever the GUI thread is 20 ms late.
"""

from __future__ import annotations

import argparse
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
from bench_gui import settle, wait_for  # noqa: E402
from heartbeat import Heartbeat  # noqa: E402

from palettelab.app.gui.launch import create_app  # noqa: E402
from palettelab.app.gui.points.workspace import PointsWorkspace  # noqa: E402


def write_points(path: Path, n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    centres = rng.uniform(-10, 10, size=(8, 2))
    X = centres[rng.integers(0, 8, n)] + rng.normal(size=(n, 2))
    np.savetxt(path, X, delimiter=",", header="x0,x1", comments="", fmt="%.5f")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beat-ms", type=int, default=2, help="the heartbeat's interval")
    parser.add_argument("--stacks", help="dump the threads' stacks here at each GUI freeze")
    args = parser.parse_args()
    stacks = open(args.stacks, "w") if args.stacks else None  # open for the whole run
    _app = create_app()  # referenced for the whole run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.csv"
        write_points(path)
        print(f"{path.stat().st_size / 1e6:.0f} MB CSV, 1,000,000 x 2")
        ws = PointsWorkspace(initial_dataset="blobs")
        ws.resize(1400, 900)
        ws.show()
        wait_for(ws.initialised)  # the built-in blobs are up and the kernels are warm
        heart = Heartbeat(stacks, interval_ms=args.beat_ms)
        heart.timer.start()
        settle(0.2)

        print(f"| phase | seconds | longest GUI freeze ({args.beat_ms} ms beat) |\n"
              "| --- | ---: | ---: |")
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

"""First run of a source install (issue 15, item 6): how soon does a new user see something?

Starts the real app (MainWindow on the bundled sample, as ``palettelab`` does) in a child
process whose ``NUMBA_CACHE_DIR`` is a new, empty temporary folder, and records, in seconds
from the child's start: the window shown, the original shown, the first quantized picture
(the numpy preview), the first real result, every kernel group compiled; and the longest gap
of a 10 ms QTimer heartbeat in the GUI thread between the window and the last kernel group
(the longest GUI freeze while compiling).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_first_run.py [--shots DIR]
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_first_run.py

``--shots DIR`` saves the window when the original and when the preview first shows.
``--warm`` keeps the default cache (a second start) instead of an empty one.
``--stacks FILE`` writes every thread's Python stack into FILE whenever the GUI thread misses
its heartbeat by more than 50 ms (``faulthandler``, which needs no GIL): what froze it.

The standalone app's half: ``--bundle dist/palettelab-VERSION-linux-x86_64.tar.xz`` (or the
``dist/palettelab`` folder) unpacks (copies) it into a new temporary folder and times its first
``palettelab quantize`` of the bundled sample and its first ``palettelab --self-test``, each with
a new, empty home folder (as a new user on a new machine), and counts the kernels each loaded
from the bundle and compiled (Numba's cache log).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_first_run.py --bundle \\
        dist/palettelab-0.1.0-linux-x86_64.tar.xz
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HEARTBEAT_MS = 10
TIMEOUT_S = 600


def child(shots: str | None, stacks: str | None) -> None:
    """Run the app and print one JSON line of timings (runs in the measured process)."""
    t0 = time.perf_counter()
    from heartbeat import Heartbeat
    from PySide6.QtCore import QTimer

    from palettelab.app.gui.image.worker import PREVIEW_STAGE
    from palettelab.app.gui.launch import create_app
    from palettelab.app.gui.main_window import MainWindow
    from palettelab.core.resources import sample_image

    app = create_app()
    window = MainWindow()
    stack_file = open(stacks, "w") if stacks else None
    times: dict = {}

    def now() -> float:
        return round(time.perf_counter() - t0, 3)

    def mark(key: str, shot: bool = False) -> None:
        if key not in times:
            times[key] = now()
            if shot and shots:
                QTimer.singleShot(0, lambda: window.grab().save(os.path.join(shots, key + ".png")))

    def on_frame(frame) -> None:
        if frame.stage == PREVIEW_STAGE:
            mark("preview", shot=True)

    def on_group(name: str, done: int, total: int, kernels: int) -> None:
        times.setdefault("groups", {})[name] = now()
        times["kernels"] = kernels
        if done == total:
            mark("kernels_all")
            QTimer.singleShot(300, app.quit)

    window.image.imageLoaded.connect(lambda _loaded: mark("original", shot=True))
    window.image.worker.frame.connect(on_frame)
    window.image.runFinished.connect(lambda _result: mark("result", shot=True))
    window.kernels.groupReady.connect(on_group)
    window.kernels.failed.connect(lambda why: (times.setdefault("failed", why), app.quit()))
    heart = Heartbeat(stack_file, stack_after_ms=50, interval_ms=HEARTBEAT_MS)
    heart.timer.start()
    window.show()
    app.processEvents()
    mark("window")
    window.open_path(str(sample_image()))
    QTimer.singleShot(TIMEOUT_S * 1000, app.quit)
    app.exec()
    # freezes until the last kernel group: each gap less the beat's own interval
    gaps = [(round(t - t0, 2), gap - HEARTBEAT_MS / 1000)
            for t, gap in heart.gaps(t0, t0 + times.get("kernels_all", float("inf")))]
    times["max_gui_gap_s"] = round(max([0.0, *(gap for _, gap in gaps)]), 3)
    times["gaps_over_100ms"] = [(t, round(gap, 3)) for t, gap in gaps if gap > 0.1]
    window.close()
    print(json.dumps(times), flush=True)


def unpack(bundle: Path, folder: Path) -> Path:
    """The app's executable after unpacking the archive (or copying the folder) ``bundle``."""
    if bundle.is_dir():
        shutil.copytree(bundle, folder / "PaletteLab", symlinks=True)
    else:
        with tarfile.open(bundle) as archive:
            archive.extractall(folder, filter="data")
    (executable,) = folder.glob("*/palettelab")
    return executable


def first_run(command: list[str], folder: Path, name: str) -> dict:
    """Run ``command`` as a new user (an empty home): seconds, kernels loaded and compiled."""
    home = folder / f"home-{name}"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
               NUMBA_DEBUG_CACHE="1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    for key in ("NUMBA_CACHE_DIR", "PALETTELAB_KERNEL_DIR"):
        env.pop(key, None)
    started = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True, cwd=folder)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{name} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return {"seconds": round(seconds, 2), "kernels_loaded": out.stdout.count("data loaded"),
            "kernels_compiled": out.stdout.count("data saved")}


def bench_bundle(bundle: Path) -> dict:
    """The standalone app's first runs from a new folder (see the module docstring)."""
    from palettelab.core.resources import sample_image

    with tempfile.TemporaryDirectory(prefix="plab-bundle-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        app = str(unpack(bundle.resolve(), folder))
        result = {"unpack_s": round(time.perf_counter() - started, 1)}
        result["quantize"] = first_run([app, "quantize", str(sample_image()), "-k", "16", "-o",
                                        "sample-16.png"], folder, "quantize")
        result["self_test"] = first_run([app, "--self-test"], folder, "self-test")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", help="save screenshots of the window into this folder")
    parser.add_argument("--warm", action="store_true", help="keep the default Numba cache")
    parser.add_argument("--stacks", help="dump the threads' stacks here at each GUI freeze")
    parser.add_argument("--bundle", type=Path,
                        help="time the standalone app (its .tar.xz, or the dist folder) instead")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.shots, args.stacks)
        return 0
    if args.bundle:
        result = bench_bundle(args.bundle)
        result["load_average"] = os.getloadavg()[0]
        print(json.dumps(result, indent=1))
        return 0
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="plab-numba-") as cache:
        if not args.warm:
            env["NUMBA_CACHE_DIR"] = cache
        command = [sys.executable, __file__, "--child"]
        if args.shots:
            os.makedirs(args.shots, exist_ok=True)
            command += ["--shots", os.path.abspath(args.shots)]
        if args.stacks:
            command += ["--stacks", os.path.abspath(args.stacks)]
        started = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(wall, 1)
    result["cache"] = "default (warm)" if args.warm else "empty"
    result["load_average"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

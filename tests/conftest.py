"""Shared test set-up.

Qt must run without a display here and in CI, so the offscreen platform is chosen before any
test module imports Qt.

The suite runs on two processes (pytest-xdist, ``-n auto`` in pyproject.toml) that share one
Numba cache.  Numba saves a kernel by reading its function's cache index, adding the new
signature and rewriting it; two processes saving different signatures of one function at the
same moment could lose one or, worse, pick the same data file.  :func:`pytest_configure`
serialises those saves across the test processes with the file lock the window's compiling
children take too (``kernel_warmup.serialize_cache_saves``).
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session) -> None:
    """Fill the Numba cache with the app's kernels before any test process starts, one child
    per lane of ``kernel_warmup.LANES``, as the window does, and one for the library kernels
    only the tests use (``library_kernels.py``).

    Every process that opens a window loads all the app's kernel groups
    (:func:`kernels_in_this_process`); on a fresh clone each of the two test processes compiled
    all of them itself, side by side: 85 s of each one's time, the same kernels twice.  Here
    the two lanes compile different kernels on the two cores, once, and the test processes
    load them.  (pytest-xdist starts its processes in its own ``pytest_sessionstart``, which
    runs after this one; a test process itself skips this, and so does a run in one process,
    ``-n0``, where the lanes would only add their start-up.)"""
    config = session.config
    if (hasattr(config, "workerinput") or config.option.collectonly
            or not getattr(config.option, "numprocesses", None)):
        return  # a test process; only collecting; or one process, which compiles what it needs
    from palettelab.core.kernel_warmup import LANES

    commands = {" ".join(lane): [sys.executable, "-m", "palettelab.core.kernel_warmup", *lane]
                for lane in LANES}
    # and the library kernels only the tests use, at once: three processes keep both cores
    # busy to the end (following the first lane to finish, it left a core idle for 40 s)
    commands["library kernels"] = [sys.executable,
                                   str(Path(__file__).with_name("library_kernels.py"))]
    children = {name: subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
                for name, command in commands.items()}
    failed = [name for name, child in children.items() if child.wait() != 0]
    if failed:  # the tests compile what they need themselves, and show what fails
        warnings.warn(f"compiling the app's kernels beforehand failed: {failed}", stacklevel=1)


def pytest_configure(config) -> None:
    from palettelab.core.kernel_warmup import serialize_cache_saves

    serialize_cache_saves()


@pytest.fixture(autouse=True)
def kernels_in_this_process(request, monkeypatch):
    """Test windows load their kernel groups in this process instead of starting the kernel
    children (``palettelab.app.gui.kernel_builder``): as the children of a warm cache do, every
    group is reported at once, and the workers load them here, once a process
    (``kernel_warmup.run``).  Each window used to start children that imported Numba and loaded
    every group again, only to be killed when the test closed the window.  Tests of the
    children themselves are marked ``kernel_children``."""
    builder = sys.modules.get("palettelab.app.gui.kernel_builder")
    if builder is None or request.node.get_closest_marker("kernel_children"):
        return
    from gui_helpers import report_groups
    from PySide6.QtCore import QTimer

    from palettelab.core.kernel_warmup import NAMES, compiled_kernels

    def start(self) -> None:
        QTimer.singleShot(0, lambda: report_groups(self, NAMES, compiled_kernels()))

    monkeypatch.setattr(builder.KernelBuilder, "start", start)


@pytest.fixture(autouse=True)
def patient_shutdown(monkeypatch):
    """A window closed in a test waits for its workers as long as they need.  On CI's cold
    cache a worker may be compiling a kernel group (uninterruptible) when a test closes its
    window; the app's policy, exit 3 after 10 s, then ended the whole test session."""
    from palettelab.app.gui import worker_host

    monkeypatch.setattr(worker_host, "SHUTDOWN_WAIT_MS", 600_000)


@pytest.fixture
def run_with_threads():
    """``run(code, n_threads)``: the standard output of Python ``code`` run in a fresh process
    with ``NUMBA_NUM_THREADS=n_threads``, from the repository root (on its import path).

    Numba fixes its thread count at start-up, so checking that results do not depend on it
    needs one process per count.
    """

    def run(code: str, n_threads: int) -> str:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n_threads))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    return run

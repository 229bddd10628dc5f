"""Shared test set-up.

Qt must run without a display here and in CI, so the offscreen platform is chosen before any
test module imports Qt.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]


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

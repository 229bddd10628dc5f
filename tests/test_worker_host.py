"""The one worker host both workspaces use: newest wins, cancel, frame pacing, shutdown.

The host's behaviour is driven through a small worker of its own (a loop that polls its job,
no kernels), so these tests run in a second; the last one closes the real window.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import next_emission, worker_signal
from PySide6.QtCore import QObject, QSettings, Signal, Slot

from palettelab.app.gui import worker_host
from palettelab.app.gui.image import worker as image_worker
from palettelab.app.gui.launch import create_app
from palettelab.app.gui.main_window import MainWindow
from palettelab.app.gui.points import worker as points_worker
from palettelab.app.gui.worker_host import (
    ABANDON_STATUS,
    MAX_FPS,
    SHUTDOWN_WAIT_MS,
    Cancelled,
    FramePacer,
    Newest,
    WorkerHost,
    exclusive,
    shutdown,
)

ROOT = Path(__file__).resolve().parent.parent
GUI = ROOT / "app" / "gui"
TIMEOUT = 300_000  # ms: a fresh checkout compiles every kernel on the first job


class Looper(WorkerHost):
    """A worker whose job ``job`` polls its staleness ``steps`` times, 2 ms apart, and offers a
    frame at every step."""

    started = Signal(int)
    done = Signal(int)
    cancelled = Signal(int)
    frame = Signal(int)

    def __init__(self) -> None:
        super().__init__(lambda: None)

    @Slot(int, int)
    @exclusive
    def work(self, job: int, steps: int) -> None:
        self.started.emit(job)
        self.frames.restart()
        try:
            for _ in range(steps):
                self.jobs.check(job)
                if self.frames.take():
                    self.frame.emit(job)
                time.sleep(0.002)
        except Cancelled:
            self.cancelled.emit(job)
            return
        self.done.emit(job)

    @Slot(float)
    def stall(self, seconds: float) -> None:
        """An uninterruptible step (a kernel compilation, say), reported as job 0."""
        self.started.emit(0)
        time.sleep(seconds)


class Gui(QObject):
    """The GUI side: queues requests to the looper's thread."""

    request = Signal(int, int)
    stall = Signal(float)


@pytest.fixture
def looper(qtbot):
    create_app()
    host, gui = Looper(), Gui()
    gui.request.connect(host.work)
    gui.stall.connect(host.stall)
    with worker_signal(qtbot, host.ready, 5000) as blocker:
        host.start(gui, "test looper")
    assert blocker.args[0] >= 0
    yield host, gui
    shutdown(host)


def _definitions(path: Path) -> set[str]:
    """Classes and module-level names ``path`` defines."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def test_both_workers_use_the_one_host():
    assert issubclass(image_worker.QuantizeWorker, WorkerHost)
    assert issubclass(points_worker.PointsWorker, WorkerHost)
    assert image_worker.Cancelled is points_worker.Cancelled is Cancelled
    for path in GUI.rglob("*.py"):
        if path.name == "worker_host.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert not {"Cancelled", "MAX_FPS", "COMPUTE"} & _definitions(path), path
        assert "QThread(" not in source, f"{path} starts a thread of its own"
    assert not (GUI / "compute_lock.py").exists()


def test_newest_channel():
    newest = Newest()
    newest.set(4)
    assert not newest.is_stale(4) and newest.is_stale(3)
    newest.check(4)
    newest.cancel()
    with pytest.raises(Cancelled):
        newest.check(4)
    newest.set(5)
    assert not newest.is_stale(5)


def test_frame_pacer_waits_for_the_acknowledgement_and_the_interval():
    pacer = FramePacer()
    assert pacer.take()
    assert not pacer.take()  # not shown yet
    pacer.shown()
    assert not pacer.take()  # shown, but within 1 / MAX_FPS
    time.sleep(1.0 / MAX_FPS)
    assert pacer.take()
    pacer.restart()
    assert pacer.take()


def test_frame_pacer_caps_the_rate():
    pacer = FramePacer()
    sent, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.3:
        sent += pacer.take()
        pacer.shown()  # an instant GUI
    assert 2 <= sent <= 0.3 * MAX_FPS + 1


def test_newest_wins_through_the_host(qtbot, looper):
    host, gui = looper
    cancelled, done = [], []
    host.cancelled.connect(cancelled.append)
    host.done.connect(done.append)
    host.jobs.set(1)
    with worker_signal(qtbot, host.started, 5000):
        gui.request.emit(1, 5000)  # 10 s unless cancelled
    host.jobs.set(2)
    gui.request.emit(2, 3)
    with worker_signal(qtbot, host.done, 5000) as blocker:
        pass
    assert blocker.args == [2]
    assert cancelled == [1] and done == [2]


def test_cancel_through_the_host(qtbot, looper):
    host, gui = looper
    host.jobs.set(7)
    with worker_signal(qtbot, host.started, 5000):
        gui.request.emit(7, 5000)
    with worker_signal(qtbot, host.cancelled, 2000) as blocker:
        host.cancel()
    assert blocker.args == [7]


def test_frames_wait_for_the_gui(qtbot, looper):
    host, gui = looper
    frames: list[int] = []
    host.frame.connect(frames.append)
    host.jobs.set(1)
    with worker_signal(qtbot, host.done, 5000):
        gui.request.emit(1, 100)  # about 0.3 s of steps, never acknowledged
    assert frames == [1]
    host.frame.connect(lambda _: host.frame_shown())
    host.jobs.set(2)
    started = time.perf_counter()
    with worker_signal(qtbot, host.done, 5000):
        gui.request.emit(2, 100)
    seconds = time.perf_counter() - started
    assert 2 <= frames.count(2) <= seconds * MAX_FPS + 1


def test_shutdown_cancels_a_running_job_at_once(qtbot, looper):
    host, gui = looper
    host.jobs.set(1)
    with worker_signal(qtbot, host.started, 5000):
        gui.request.emit(1, 5000)
    started = time.perf_counter()
    shutdown(host)
    assert time.perf_counter() - started < 1
    assert host.thread().isFinished() and not host.is_running()
    shutdown(host)  # a second call is harmless


def test_shutdown_ends_the_process_when_a_step_cannot_be_interrupted(qtbot, looper, monkeypatch,
                                                                    capsys):
    host, gui = looper
    statuses: list[int] = []
    monkeypatch.setattr(worker_host.os, "_exit", statuses.append)
    with worker_signal(qtbot, host.started, 5000):
        gui.stall.emit(1.5)
    started = time.perf_counter()
    shutdown(host, wait_ms=200)
    waited = time.perf_counter() - started
    assert statuses == [ABANDON_STATUS]
    assert 0.15 <= waited < 1.0
    assert "test looper still busy" in capsys.readouterr().err
    assert host.thread().wait(5000)  # let the stall end before the thread object goes


def test_closing_the_window_stops_both_threads_within_the_wait(qtbot, tmp_path):
    create_app()
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show_error = lambda title, message: None
    window.show()
    image, points = window.image, window.points
    with qtbot.waitSignal(image.runFinished, timeout=TIMEOUT):
        window.open_path(ROOT / "resources" / "china.jpg")
    many = tmp_path / "many.npy"
    np.save(many, np.random.default_rng(0).normal(size=(50_000, 2)))
    with qtbot.waitSignal(points.initialised, timeout=TIMEOUT):
        window.open_path(many)
    points.k_min_spin.setValue(2)
    points.k_max_spin.setValue(30)
    points.elbow_button.click()  # 29 fits and silhouettes of 50,000 points: seconds of work
    image.starts_spin.setValue(16)
    image.colors_spin.setValue(256)
    image.start_run()
    next_emission(qtbot, image.worker.frame, 30_000)
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < SHUTDOWN_WAIT_MS / 1000
    assert not image.worker.is_running() and not points.worker.is_running()
    assert image.worker.thread().isFinished() and points.worker.thread().isFinished()

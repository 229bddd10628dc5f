"""Helpers the window tests share: run the Image workspace and wait for its result, and wait
for the signals its worker emits in its own thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt

from palettelab.app.gui.main_window import MainWindow

RUN_TIMEOUT = 300_000  # ms: the first run in a fresh checkout compiles every kernel


def open_and_wait(qtbot, win: MainWindow, path: Path):
    """Open ``path`` in the window and return the Image workspace's finished result."""
    with qtbot.waitSignal(win.image.runFinished, timeout=RUN_TIMEOUT) as blocker:
        win.open_path(path)
    return blocker.args[0]


def rerun_and_wait(qtbot, win: MainWindow, action: Callable[[], object]):
    """Do ``action`` (which starts a run) and return the run's finished result."""
    with qtbot.waitSignal(win.image.runFinished, timeout=RUN_TIMEOUT) as blocker:
        action()
    return blocker.args[0]


class Emissions:
    """What a worker-thread signal emitted while watched: each emission's arguments, in order."""

    def __init__(self, check: Callable[..., bool] | None) -> None:
        self.all: list[list] = []
        self._check = check

    def record(self, *args) -> None:  # runs in the worker thread; list.append is atomic
        if self._check is None or self._check(*args):
            self.all.append(list(args))

    @property
    def args(self) -> list | None:
        """The first emission's arguments (as ``qtbot.waitSignal(...).args``)."""
        return self.all[0] if self.all else None


class _Recorder:
    """The slot a watched worker signal calls: it forwards to its :class:`Emissions` until the
    watch ends.  It is never disconnected: disconnecting in the GUI thread while the worker
    emitted the signal again crashed the test process (CI: a segfault in ``record``,
    ``kernelsLoaded`` emitted once per kernel group), and waiting for the worker's compute lock
    first would wait out its job.  So it only lets go of its target, and stays referenced in
    :data:`_RETIRED` (a few bytes) for as long as its signal's object may call it."""

    def __init__(self, target: Emissions) -> None:
        self.target: Emissions | None = target

    def forward(self, *args) -> None:  # runs in the worker thread
        target = self.target
        if target is not None:
            target.record(*args)


#: the recorders of finished watches
_RETIRED: list[_Recorder] = []


@contextmanager
def worker_signal(qtbot, signal, timeout: int,
                  check: Callable[..., bool] | None = None) -> Iterator[Emissions]:
    """Watch ``signal``, a signal a worker emits in its thread, during the block; then wait
    (processing events) until it was emitted (with arguments ``check`` accepts).

    ``qtbot.waitSignal`` calls its slot in the emitting thread for such a signal, where it can
    neither stop its timeout timer nor reliably quit its event loop ("QObject::killTimer: Timers
    cannot be stopped from another thread"): an emission just as the wait began was lost, and
    the test hung for good (seen under pytest-xdist, where the worker answered sooner)."""
    emissions = Emissions(check)
    recorder = _Recorder(emissions)
    signal.connect(recorder.forward, Qt.ConnectionType.DirectConnection)
    try:
        yield emissions
        qtbot.waitUntil(lambda: bool(emissions.all), timeout=timeout)
    finally:
        recorder.target = None
        _RETIRED.append(recorder)


def report_groups(builder, names, kernels: int) -> None:
    """What a kernel child prints after each of the groups ``names``, as ``builder`` (a
    :class:`~palettelab.app.gui.kernel_builder.KernelBuilder`) reports it."""
    from palettelab.core.kernel_warmup import NAMES

    for name in names:
        builder.done.append(name)
        builder.groupReady.emit(name, len(builder.done), len(NAMES), kernels)


def next_emission(qtbot, signal, timeout: int) -> list | None:
    """Wait for the next emission of the worker-thread ``signal``; its arguments."""
    with worker_signal(qtbot, signal, timeout) as emissions:
        pass
    return emissions.args

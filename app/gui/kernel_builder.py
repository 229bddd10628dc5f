"""Compiles the Numba kernels in child processes and reports each group as it lands in the cache.

Why child processes (issue 15): Numba holds a process-wide compiler lock, and the GIL while it
types a function, so compiling in a worker thread of the GUI process starves the GUI thread.
Each child (``python -m palettelab.core.kernel_warmup GROUP ...``) compiles one lane of
:data:`palettelab.core.kernel_warmup.LANES` in order of need into the on-disk cache (the same
``NUMBA_CACHE_DIR``: it inherits the environment) and prints a line per finished group; the
lanes run side by side, one a core. :class:`KernelBuilder` turns each line into
:attr:`KernelBuilder.groupReady`, and the workspaces then load that group from the cache in
their worker threads.

If a child cannot start or dies, :attr:`KernelBuilder.failed` tells the workspaces to compile
in their own workers instead, as before issue 15 (slower to a first result, never stuck). The
standalone (PyInstaller) app has no Python to run ``-m`` with -- its executable is the app
itself -- and needs none: it ships its kernels compiled (``packaging/build.py``), so
:attr:`KernelBuilder.inWorkers` tells the workspaces to load them in their workers at once.
"""

from __future__ import annotations

import sys
from functools import partial

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from palettelab.core.kernel_warmup import LANES, NAMES

#: how a child is started: ``sys.executable`` with these arguments, then the lane's groups
#: (``--background``: at a lower priority than the window)
CHILD_ARGS = ["-m", "palettelab.core.kernel_warmup", "--background"]


class KernelBuilder(QObject):
    """Runs one kernel-compiling child a lane, once, and reports their progress (GUI thread)."""

    groupReady = Signal(str, int, int, int)  # group name, groups done, groups in all, kernels
    failed = Signal(str)  # why a child did not finish
    inWorkers = Signal()  # the standalone app: the workers load its shipped kernels themselves

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.done: list[str] = []
        self._kernels: dict[int, int] = {}  # lane -> kernel signatures its child has so far
        self._buffers: dict[int, bytes] = {}
        self._processes: list[QProcess] = []
        self._failed = False

    def running(self) -> int:
        """How many children are still running."""
        return sum(p.state() != QProcess.ProcessState.NotRunning for p in self._processes)

    def start(self) -> None:
        """Start the children (once); in the standalone app, say at once that there are none."""
        if getattr(sys, "frozen", False):
            QTimer.singleShot(0, self.inWorkers.emit)
            return
        for lane, names in enumerate(LANES):
            process = QProcess(self)
            process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedErrorChannel)
            process.readyReadStandardOutput.connect(partial(self._read, lane, process))
            process.finished.connect(partial(self._finished, lane))
            process.errorOccurred.connect(self._error)
            self._processes.append(process)
            self._buffers[lane] = b""
            process.start(sys.executable, [*CHILD_ARGS, *names])

    def stop(self) -> None:
        """Kill the children still running (the window closes): Numba keeps every kernel they
        finished, so the next start goes on from there."""
        for process in self._processes:
            if process.state() != QProcess.ProcessState.NotRunning:
                process.finished.disconnect()
                process.kill()
                process.waitForFinished(2000)

    def _read(self, lane: int, process: QProcess) -> None:
        self._buffers[lane] += bytes(process.readAllStandardOutput().data())
        *lines, self._buffers[lane] = self._buffers[lane].split(b"\n")
        for line in lines:
            parts = line.decode("utf-8", "replace").split("\t")
            name = parts[0].removeprefix("group ")
            if (parts[0].startswith("group ") and name in LANES[lane] and len(parts) == 3
                    and name not in self.done):
                self.done.append(name)
                self._kernels[lane] = int(parts[2])
                self.groupReady.emit(name, len(self.done), len(NAMES),
                                     sum(self._kernels.values()))

    def _finished(self, lane: int, code: int, status: QProcess.ExitStatus) -> None:
        if not set(LANES[lane]) <= set(self.done):
            self._fail(f"the kernel compiler stopped (exit status {code})")

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._fail("the kernel compiler could not start")

    def _fail(self, why: str) -> None:
        """Say it once: the workspaces then compile everything in their workers."""
        if not self._failed:
            self._failed = True
            self.failed.emit(why)

"""Compiles the Numba kernels in a child process and reports each group as it lands in the cache.

Why a child process (issue 15): Numba holds a process-wide compiler lock, and the GIL while it
types a function, so compiling in a worker thread of the GUI process starves the GUI thread.
The child (``python -m palettelab.core.kernel_warmup``) compiles the groups of
:data:`palettelab.core.kernel_warmup.GROUPS` in order of need into the on-disk cache (the
same ``NUMBA_CACHE_DIR``: it inherits the environment) and prints a line per finished group;
:class:`KernelBuilder` turns each line into :attr:`KernelBuilder.groupReady`, and the
workspaces then load that group from the cache in their worker threads.

If the child cannot start or dies, :attr:`KernelBuilder.failed` tells the workspaces to
compile in their own workers instead, as before issue 15 (slower to a first result, never
stuck). The standalone (PyInstaller) app has no Python to run ``-m`` with -- its executable is
the app itself -- and needs none: it ships its kernels compiled (``packaging/build.py``), so
:attr:`KernelBuilder.inWorkers` tells the workspaces to load them in their workers at once.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from palettelab.core.kernel_warmup import NAMES


class KernelBuilder(QObject):
    """Runs the kernel-compiling child once and reports its progress (GUI thread)."""

    groupReady = Signal(str, int, int, int)  # group name, groups done, groups in all, kernels
    failed = Signal(str)  # why the child did not finish
    inWorkers = Signal()  # the standalone app: the workers load its shipped kernels themselves

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.done: list[str] = []
        self._buffer = b""
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedErrorChannel)
        self._process.readyReadStandardOutput.connect(self._read)
        self._process.finished.connect(self._finished)
        self._process.errorOccurred.connect(self._error)

    def start(self) -> None:
        """Start the child (once); in the standalone app, say at once that there is none."""
        if getattr(sys, "frozen", False):
            QTimer.singleShot(0, self.inWorkers.emit)
            return
        self._process.start(sys.executable, ["-m", "palettelab.core.kernel_warmup"])

    def stop(self) -> None:
        """Kill the child if it still runs (the window closes): Numba keeps every kernel it
        finished, so the next start goes on from there."""
        if self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.finished.disconnect(self._finished)
            self._process.kill()
            self._process.waitForFinished(2000)

    def _read(self) -> None:
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            parts = line.decode("utf-8", "replace").split("\t")
            name = parts[0].removeprefix("group ")
            if parts[0].startswith("group ") and name in NAMES and len(parts) == 3:
                self.done.append(name)
                self.groupReady.emit(name, len(self.done), len(NAMES), int(parts[2]))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if len(self.done) < len(NAMES):
            self.failed.emit(f"the kernel compiler stopped (exit status {code})")

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit("the kernel compiler could not start")

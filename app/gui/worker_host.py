"""The plumbing both workspaces' workers share: their thread, staleness, frame pacing, warm-up.

:class:`~palettelab.app.gui.image.worker.QuantizeWorker` and
:class:`~palettelab.app.gui.points.worker.PointsWorker` **subclass** :class:`WorkerHost`.
Subclassing rather than composition because a worker *is* the QObject that lives in the thread:
its slots, its signals (``ready`` here, the rest in each worker) and the host's bookkeeping
belong to one object, and the workspaces already talk to ``self.worker`` for everything.

* **Thread.**  :meth:`WorkerHost.start` gives the worker its own QThread (a child of the
  workspace) and queues the warm-up; :func:`shutdown` stops one or more of them.
* **Newest wins.**  The GUI numbers its commands; a :class:`Newest` channel remembers the newest
  number, and a job whose number is no longer the newest is stale: long jobs poll
  :meth:`Newest.check`, which raises :class:`Cancelled`.  A worker has one channel
  (``self.jobs``) and may open more (:meth:`WorkerHost.channel`: the points workspace's elbow
  curves are cancelled independently of its clustering).  :meth:`WorkerHost.cancel` makes
  every job of every channel stale.
* **Frames.**  :class:`FramePacer` lets a live frame out at most :data:`MAX_FPS` times a second,
  and only after the GUI acknowledged the previous one (:meth:`WorkerHost.frame_shown`): a slow
  GUI gets fewer, fresher frames, never a queue of stale ones.
* **Warm-up.**  The first queued slot compiles the kernels (or loads them from Numba's cache)
  and reports the seconds it took through ``ready``; the app's workspaces skip it and load
  their kernels group by group once a child process has compiled them (issue 15,
  :mod:`palettelab.app.gui.kernel_builder`).
* **Compute lock.**  Numba's ``workqueue`` threading layer (the one PyPI wheels use) is not safe
  to enter from two Python threads at once, and each workspace has a worker thread: every slot
  that runs kernels is :func:`exclusive`, holding :data:`COMPUTE`; the other worker waits.

Shutdown policy (:func:`shutdown`): cancel every job, ask every thread to quit, and wait for
all of them together at most :data:`SHUTDOWN_WAIT_MS`.  Long jobs poll their channel between
k-means iterations or fits, so a cancelled one ends quickly: closing the window during a
16-start k=256 image run and a 7.7 s elbow sweep of 50,000 points took 5 ms.  What can outlast
the wait is an uninterruptible step, in practice a first-ever kernel compilation (the whole
set: 129 s with an empty cache in docs/PERFORMANCE.md, 290 s measured here while other
processes compiled too; loading it from the cache takes about 1.3 s).  Then the process ends
at once, with status :data:`ABANDON_STATUS` and a line on stderr: settings are saved before
the workers stop, exports are atomic and Numba keeps every kernel it finished, so nothing is
lost.  Waiting without bound instead left a frozen window for minutes; leaving the QThread
running is no option in PySide6 (Qt aborts when a running QThread object is destroyed, which
happens at interpreter exit at the latest).  The status is not 0 so that a script or a test
run that closes a window mid-compile fails visibly rather than stopping as if it had passed.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QDeadlineTimer, QObject, Qt, QThread, Signal, Slot

from palettelab.app.gui import collector

F = TypeVar("F", bound=Callable)

#: live frames per second, at most
MAX_FPS = 30
#: how long :func:`shutdown` waits for the worker threads
SHUTDOWN_WAIT_MS = 10_000
#: exit status of a process that :func:`shutdown` ended without its busy workers
ABANDON_STATUS = 3

#: niceness of the worker threads (and of Numba's pool threads, which the first kernel call
#: starts from a worker thread and which inherit it)
BACKGROUND_NICE = 5

#: re-entrant, so a locked slot may call another locked method of the same worker
COMPUTE = threading.RLock()


class Cancelled(Exception):
    """Raised inside a job that a newer request or the user cancelled."""


def exclusive(method: F) -> F:
    """Run ``method`` holding :data:`COMPUTE`."""

    @functools.wraps(method)
    def locked(*args, **kwargs):
        with COMPUTE:
            return method(*args, **kwargs)

    return locked  # type: ignore[return-value]


class Newest:
    """The newest job number of one channel; any other job of the channel is stale.

    Thread-safe: the GUI thread moves it forward, the worker thread polls it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: int | None = 0

    def set(self, job: int) -> None:
        """Job ``job`` is the newest: every other one is stale."""
        with self._lock:
            self._job = job

    def cancel(self) -> None:
        """Every job so far is stale (until :meth:`set` names a new one)."""
        with self._lock:
            self._job = None

    def is_stale(self, job: int) -> bool:
        with self._lock:
            return job != self._job

    def check(self, job: int) -> None:
        """Raise :class:`Cancelled` if ``job`` is stale."""
        if self.is_stale(job):
            raise Cancelled


class FramePacer:
    """Lets a live frame out at most ``max_fps`` times a second, and only once the GUI has
    acknowledged the previous one."""

    def __init__(self, max_fps: float = MAX_FPS) -> None:
        self._interval = 1.0 / max_fps
        self._shown = True
        self._last = -float("inf")

    def restart(self) -> None:
        """A new run: its first frame may go out at once."""
        self._shown = True
        self._last = -float("inf")

    def take(self) -> bool:
        """True if a frame may go out now; it then counts as sent (and not yet shown)."""
        now = time.perf_counter()
        if not self._shown or now - self._last < self._interval:
            return False
        self._shown = False
        self._last = now
        return True

    def shown(self) -> None:
        """The GUI drew the last frame (a plain flag: safe from any thread under the GIL)."""
        self._shown = True


class WorkerHost(QObject):
    """Base of a worker that lives in its own QThread; see the module docstring."""

    ready = Signal(float)  # seconds the kernels took to compile or load
    _warmUp = Signal()  # queued to the worker's thread

    def __init__(self, warm: Callable[[], None]) -> None:
        """``warm`` compiles (or loads) the kernels the worker's jobs use."""
        super().__init__()
        self._warm = warm
        self._thread: QThread | None = None
        self._channels: list[Newest] = []
        self.jobs = self.channel()
        self.frames = FramePacer()
        self._warmUp.connect(self.warm_up)

    def channel(self) -> Newest:
        """A further job channel, cancelled with the others by :meth:`cancel`."""
        newest = Newest()
        self._channels.append(newest)
        return newest

    def start(self, owner: QObject, name: str, warm: bool = True) -> None:
        """Move to a new QThread named ``name`` (a child of ``owner``), start it, queue the
        warm-up unless ``warm`` is False (the app's workspaces: their kernels come from the
        :class:`~palettelab.app.gui.kernel_builder.KernelBuilder`'s child process, and
        :meth:`queue_warm_up` is the fallback if it fails)."""
        self._thread = QThread(owner)
        self._thread.setObjectName(name)
        self._thread.started.connect(_in_background, Qt.ConnectionType.DirectConnection)
        self.moveToThread(self._thread)
        self._thread.start()
        if warm:
            self._warmUp.emit()

    def queue_warm_up(self) -> None:
        """Queue the warm-up to the worker's thread (thread-safe)."""
        self._warmUp.emit()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    # --- thread-safe, called from the GUI thread ------------------------------------------------

    def cancel(self) -> None:
        """Make every running and queued job of every channel stale."""
        for newest in self._channels:
            newest.cancel()

    def frame_shown(self) -> None:
        """The GUI drew the last frame: the next one may go out."""
        self.frames.shown()

    # --- run in the worker thread ---------------------------------------------------------------

    @Slot()
    @exclusive
    def warm_up(self) -> None:
        """Compile the kernels, or load them from the Numba cache, before the first job."""
        start = time.perf_counter()
        with collector.paused():
            self._warm()
        self.ready.emit(time.perf_counter() - start)


def _in_background() -> None:
    """Lower the calling thread's scheduling priority by :data:`BACKGROUND_NICE` (Linux only:
    there a thread's id names it to ``setpriority``; elsewhere the call would name a process)."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        niceness = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness + BACKGROUND_NICE))
    except OSError:  # refused: the default priority
        pass


def shutdown(*hosts: WorkerHost, wait_ms: int | None = None) -> None:
    """Stop the threads of ``hosts`` (started or not, stopped already or not): cancel every job,
    quit every thread, wait for all of them at most ``wait_ms`` (:data:`SHUTDOWN_WAIT_MS`)
    together; past that, end the process (the policy in the module docstring).  Call it from
    the GUI thread."""
    if wait_ms is None:
        wait_ms = SHUTDOWN_WAIT_MS
    running = [host for host in hosts if host.is_running()]
    for host in running:
        host.cancel()
        host._thread.quit()
    deadline = QDeadlineTimer(wait_ms)
    busy = [host._thread.objectName() for host in running if not host._thread.wait(deadline)]
    if busy:
        _abandon(busy, wait_ms)


def _abandon(busy: list[str], wait_ms: int) -> None:
    print(f"PaletteLab: {', '.join(busy)} still busy {wait_ms / 1000:g} s after closing (an "
          f"uninterruptible kernel compilation?); exiting without waiting for it",
          file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(ABANDON_STATUS)

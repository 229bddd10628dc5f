"""Many images in one ``palettelab quantize`` call: output names, workers, errors, progress.

Rules (docs/DESIGN.md, "Command line"):

* With several inputs, a directory among them, or ``-o`` ending in ``/``, OUT is a directory
  (created if missing) and each input ``DIR/NAME.EXT`` is written as ``OUT/NAME.<format>``.
  Two inputs with one output name, or an output that is one of the inputs, is a usage error
  found before any work.
* Each file is its own transaction: a bad file gets one line ``palettelab: error: FILE: ...``
  and the others are still written; the exit status is 1 if any failed.
* Files run in parallel in a pool of worker processes (``--jobs``, default: every core the
  process may use).  Each worker runs Numba with one thread, so the pool never has more
  busy threads than cores; the results do not depend on the thread count, so the bytes are
  those of a one-by-one run.  Processes rather than threads, because Numba's ``workqueue``
  layer must not be entered from two threads at once.  On Linux the workers are forked from a
  parent that has imported Numba but not started its threads: they start with the imports
  done (measured here: spawned workers each spent 0.5-0.7 s importing).
* Ctrl-C or SIGTERM: the workers are stopped with SIGTERM, which they turn into SystemExit so
  that the file being written loses only its temporary file; one that has not ended within
  :data:`STOP_GRACE_S` seconds (deep in Numba's compiler) is killed and its temporary files
  removed; then ``palettelab: interrupted`` and exit 130, as for one file.  The parent has no
  threads besides the main one, so the signal always interrupts its wait (see
  :class:`_Workers`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from palettelab.app.cli import image_job
from palettelab.app.cli.image_job import Job, Settings
from palettelab.core.errors import InputError

PROG = "palettelab"

def is_batch(inputs: list[str], output: str) -> bool:
    """Whether OUT is a directory: several inputs, a directory input, or a trailing slash."""
    return (len(inputs) > 1 or any(Path(i).is_dir() for i in inputs if i != image_job.STDIO)
            or output.endswith(("/", os.sep)))


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def expand(inputs: list[str]) -> tuple[list[str], list[str]]:
    """Input files, a directory replaced by its image files (sorted, not recursive); and one
    error line for a directory that cannot be read or holds no image."""
    from palettelab.core.formats.image_read import IMAGE_EXTENSIONS

    files: list[str] = []
    errors: list[str] = []
    for given in inputs:
        if given == image_job.STDIO or not Path(given).is_dir():
            files.append(given)
            continue
        try:
            found = sorted(str(p) for p in Path(given).iterdir()
                           if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        except OSError as exc:
            errors.append(f"{given}: cannot list the directory ({exc.strerror or exc})")
            continue
        if not found:
            errors.append(f"{given}: no image files in the directory "
                          f"({', '.join(IMAGE_EXTENSIONS)})")
        files.extend(found)
    return files, errors


def output_name(source: str, folder: Path, ext: str) -> Path:
    """``folder/<stem of source><ext>``; standard input is named ``stdin``."""
    stem = "stdin" if source == image_job.STDIO else Path(source).stem
    return folder / (stem + ext)


def clash(files: list[str], outputs: list[Path]) -> str | None:
    """Why these outputs cannot be written (two inputs, one output; an output that is an
    input), or None."""
    from palettelab.core.formats.atomic import same_file

    seen: dict[str, str] = {}
    for source, out in zip(files, outputs, strict=True):
        key = os.path.normcase(os.path.abspath(out))
        if key in seen:
            return f"{seen[key]!r} and {source!r} would both be written to {str(out)!r}"
        seen[key] = source
        if source != image_job.STDIO and out.exists() and same_file(source, out):
            return f"{str(out)!r} would overwrite its input {source!r}"
    return None


def make_folder(folder: Path) -> None:
    """Create the output directory (and its parents) if missing."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the output directory "
                         f"({exc.strerror or exc})") from None
    if not folder.is_dir():
        raise InputError(f"{folder}: is not a directory")


# ---------------------------------------------------------------------------------------------
# running


@dataclass(frozen=True)
class Outcome:
    """One file's end (the ``index``-th job): ``done`` (a :class:`image_job.Done`) or
    ``error`` (one line)."""

    index: int
    job: Job
    done: image_job.Done | None = None
    error: str | None = None


def _attempt(task: tuple[int, Job, Settings]) -> Outcome:
    index, job, settings = task
    try:
        return Outcome(index, job, done=image_job.run(job, settings))
    except (InputError, OSError) as exc:
        message = str(exc)
        if job.source not in message:
            message = f"{job.source}: {message}"
        return Outcome(index, job, error=message)


#: a worker's exit status after SIGTERM
_SIGTERM_EXIT = 128 + 15


#: set in a worker once SIGTERM came in
_stopping = threading.Event()


def _exit_on_sigterm(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the unwinding
    _stopping.set()
    raise SystemExit(_SIGTERM_EXIT)


def _quiet_unraisable(unraisable) -> None:
    """No traceback for SIGTERM's SystemExit swallowed in a callback (LLVM's, while Numba
    compiles): the worker goes on and the parent kills it after :data:`STOP_GRACE_S`; nor,
    once stopping, for objects the exit left half-built (llvmlite's ``PassBuilder.__del__``
    raising AttributeError)."""
    if not (_stopping.is_set() or isinstance(unraisable.exc_value, SystemExit)):
        sys.__unraisablehook__(unraisable)


def _worker_start() -> None:
    """A worker: Ctrl-C is the parent's to handle; SIGTERM unwinds (temporary files removed)
    and ends the worker quietly; Numba runs one thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sys.unraisablehook = _quiet_unraisable
    import numba

    numba.set_num_threads(1)


def _worker(conn: Connection) -> None:
    """A worker's loop: a task in, ``(True, Outcome)`` or ``(False, exception)`` out, until
    None (or the parent is gone)."""
    _worker_start()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            reply = (True, _attempt(task))
        except Exception as exc:  # a bug: raised again in the parent, as a Pool does
            reply = (False, exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an exception that cannot be pickled
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _context() -> multiprocessing.context.BaseContext:
    """fork on Linux (workers inherit the imports; the parent has started no threads), spawn
    elsewhere (fork is unsafe on macOS, absent on Windows)."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


#: seconds the workers get to unwind after SIGTERM before they are killed
STOP_GRACE_S = 2.0


def run_all(jobs: list[Job], settings: Settings, n_jobs: int) -> Iterator[Outcome]:
    """Each job's outcome, in the order they finish (in input order with one worker)."""
    tasks = [(i, job, settings) for i, job in enumerate(jobs)]
    if n_jobs <= 1 or len(jobs) <= 1:
        yield from map(_attempt, tasks)
        return
    # import what the workers need before forking, so each does not import it again
    from palettelab.core.quantization import pipeline  # noqa: F401

    yield from _Workers(min(n_jobs, len(jobs)), jobs).run(tasks)


class _Workers:
    """Worker processes, each fed one task at a time through its own pipe.

    Not a ``multiprocessing.Pool``: ``Pool.terminate`` SIGTERMs the workers and then waits for
    them without a time limit, holding the task queue's lock.  A worker compiling Numba kernels
    may not end on SIGTERM (the SystemExit raised in a ctypes callback of LLVM's is printed as
    "Exception ignored" and swallowed): it goes on, then blocks on that lock, and the run hangs.
    And a Pool's helper threads may take the Ctrl-C meant for the main thread, which sleeps
    in a lock wait that only the next result ends (minutes while the workers compile).  Here
    the parent has no other thread and waits in ``wait()`` (poll, which the signal
    interrupts); the workers get :data:`STOP_GRACE_S` seconds, then SIGKILL, and the temporary
    files of the workers are removed once they are gone.
    """

    def __init__(self, size: int, jobs: list[Job]):
        self.size = size
        self.context = _context()
        self.started: list[multiprocessing.process.BaseProcess] = []
        self.process: dict[Connection, multiprocessing.process.BaseProcess] = {}
        self.busy: dict[Connection, tuple[int, Job, Settings]] = {}
        self.folders = {Path(os.path.realpath(path)).parent
                        for job in jobs for path in (job.output, job.palette)
                        if path is not None and path != image_job.STDIO}

    def run(self, tasks: list[tuple[int, Job, Settings]]) -> Iterator[Outcome]:
        todo = iter(tasks)
        interrupted = True
        try:
            for _ in range(self.size):
                self._next(None, todo)
            while self.busy:
                ready = set(wait([*self.busy, *(self.process[c].sentinel for c in self.busy)]))
                for conn, task in list(self.busy.items()):
                    if conn not in ready and self.process[conn].sentinel not in ready:
                        continue
                    del self.busy[conn]
                    try:
                        ok, result = conn.recv()
                    except (EOFError, OSError):  # the worker is gone: killed, or a crash
                        ok, result, conn = True, self._lost(conn, task), None
                    if not ok:
                        raise result
                    yield result
                    self._next(conn, todo)
            interrupted = False
        finally:
            self._stop(interrupted)

    def _next(self, conn: Connection | None, todo: Iterator[tuple[int, Job, Settings]]) -> None:
        """Give the worker at ``conn`` (a new one if None) the next task, or tell it to end."""
        task = next(todo, None)
        if task is None:
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.send(None)
            return
        if conn is None:
            here, there = self.context.Pipe()
            process = self.context.Process(target=_worker, args=(there,), daemon=True)
            self.started.append(process)  # before the fork: an interrupt must find it
            process.start()
            there.close()
            conn = here
            self.process[conn] = process
        self.busy[conn] = task
        with contextlib.suppress(OSError):  # a dead worker: its sentinel says so
            conn.send(task)

    def _lost(self, conn: Connection, task: tuple[int, Job, Settings]) -> Outcome:
        """The outcome of a task whose worker ended without an answer."""
        process = self.process.pop(conn)
        conn.close()
        process.join(STOP_GRACE_S)
        if process.exitcode == _SIGTERM_EXIT or process.exitcode == -signal.SIGTERM:
            raise KeyboardInterrupt  # SIGTERM ends the run, whichever process got it
        self._remove_temps(process)
        code = process.exitcode
        how = (f"killed by signal {-code}" if code is not None and code < 0
               else f"exit status {code}")
        index, job, _ = task
        return Outcome(index, job,
                       error=f"{job.source}: the worker process ended unexpectedly ({how})")

    def _stop(self, interrupted: bool) -> None:
        """End every worker within about :data:`STOP_GRACE_S` seconds (SIGTERM if
        ``interrupted``, then SIGKILL) and remove what the killed ones left; Ctrl-C and SIGTERM
        wait until this is done."""
        held = {signal.SIGINT, signal.SIGTERM}
        mask = (signal.pthread_sigmask(signal.SIG_BLOCK, held)
                if hasattr(signal, "pthread_sigmask") else None)
        try:
            started = [p for p in self.started if p.pid is not None]
            if interrupted:
                for process in started:
                    if process.exitcode is None:
                        with contextlib.suppress(OSError):
                            process.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for process in started:
                process.join(max(0.0, deadline - time.monotonic()))
            for process in started:
                if process.exitcode is None:
                    with contextlib.suppress(OSError):
                        process.kill()
            for process in started:
                process.join(STOP_GRACE_S)  # SIGKILL is not refused; this is not a wait
                self._remove_temps(process)
            for conn in self.process:
                conn.close()
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _remove_temps(self, process: multiprocessing.process.BaseProcess) -> None:
        """Remove the temporary files of an ended worker (none if it could unwind)."""
        from palettelab.core.formats.atomic import remove_temps_of

        if process.pid is not None and process.exitcode is not None:
            for folder in self.folders:
                remove_temps_of(folder, process.pid)


class Progress:
    """``palettelab: 3/40 files`` rewritten in place on stderr, when stderr is a terminal."""

    def __init__(self, total: int, quiet: bool):
        self.total = total
        self.done = 0
        self.shown = not quiet and sys.stderr is not None and sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.shown:
            sys.stderr.write(f"\r{PROG}: {self.done}/{self.total} files")
            sys.stderr.flush()

    def line(self, text: str) -> None:
        """Print a whole line (a note or an error) without mixing it into the counter."""
        if self.shown:
            sys.stderr.write("\r\033[K")
        print(text, file=sys.stderr)

    def finish(self) -> None:
        if self.shown and self.done:
            sys.stderr.write("\n")


def report(outcomes: Iterator[Outcome], total: int, quiet: bool,
           on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Consume the outcomes: notes and error lines on stderr as they come, the counter."""
    progress = Progress(total, quiet)
    finished: list[Outcome] = []
    try:
        for outcome in outcomes:
            progress.step()
            if outcome.error is not None:
                progress.line(f"{PROG}: error: {outcome.error}")
            else:
                for note in outcome.done.notes:
                    progress.line(f"{PROG}: note: {note}")
            if on_done is not None:
                on_done(outcome)
            finished.append(outcome)
    finally:
        progress.finish()
    return finished


def json_summary(finished: list[Outcome], listing_errors: list[str], started: float) -> dict:
    """The batch ``--json`` object: one entry per file in input order."""
    files = []
    for outcome in sorted(finished, key=lambda o: o.index):
        entry = {"input": outcome.job.source, "output": outcome.job.output}
        if outcome.error is not None:
            entry["error"] = outcome.error
        else:
            entry.update(outcome.done.summary)
        files.append(entry)
    return {"files": files, "errors": listing_errors,
            "failed": sum(o.error is not None for o in finished) + len(listing_errors),
            "seconds": round(time.perf_counter() - started, 4)}

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
  that the file being written loses only its temporary file; then ``palettelab:
  interrupted`` and exit 130, as for one file.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)


def _worker_start() -> None:
    """A pool worker: Ctrl-C is the parent's to handle; SIGTERM unwinds (temporary files
    removed) and ends the worker quietly; Numba runs one thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    import numba

    numba.set_num_threads(1)


def _context() -> multiprocessing.context.BaseContext:
    """fork on Linux (workers inherit the imports; the parent has started no threads), spawn
    elsewhere (fork is unsafe on macOS, absent on Windows)."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def run_all(jobs: list[Job], settings: Settings, n_jobs: int) -> Iterator[Outcome]:
    """Each job's outcome, in the order they finish (in input order with one worker)."""
    tasks = [(i, job, settings) for i, job in enumerate(jobs)]
    if n_jobs <= 1 or len(jobs) <= 1:
        yield from map(_attempt, tasks)
        return
    # import what the workers need before forking, so each does not import it again
    from palettelab.core.quantization import pipeline  # noqa: F401

    pool = _context().Pool(min(n_jobs, len(jobs)), initializer=_worker_start)
    try:
        yield from pool.imap_unordered(_attempt, tasks)
    except BaseException:
        pool.terminate()  # SIGTERM: each worker removes its temporary file and exits
        raise
    pool.close()
    pool.join()


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

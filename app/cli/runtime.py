"""How a batch command behaves towards its process: signals, warnings, standard output.

* Ctrl-C and SIGTERM: both raise KeyboardInterrupt in the main thread, which unwinds through
  the atomic writers (their temporary files removed, no output touched) to ``main``: one line
  ``palettelab: interrupted``, exit 130.  Kernels that run long return to Python between
  chunks (Floyd-Steinberg in bands), so the reaction comes within a fraction of a second.
  A signal can land inside a ctypes callback (llvmlite's, while Numba loads a cached kernel),
  where Python prints the exception and drops it: the run then went on, wrote its outputs and
  exited 0 (about one run in ten, signalled 0.5 s in).  So the handler also sets a flag, the
  dropped exception is not printed, and :func:`raise_if_interrupted` raises it again before
  any output is committed.
* Warnings never reach the user raw: numpy's floating-point RuntimeWarnings are dropped (the
  results they concern are checked instead, e.g. a non-finite inertia), any other warning is
  one line ``palettelab: warning: ...``.
* Standard output: checked before a run that prints to it (closed: an error, not a summary
  silently lost), written with an error naming it when the write fails, and JSON is strict
  (``allow_nan=False``): a non-finite number becomes ``null`` and the command says so.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

from palettelab.core.errors import InputError

PROG = "palettelab"


_interrupted = threading.Event()  # a signal came in, even if its exception was dropped


@contextlib.contextmanager
def batch_process() -> Iterator[None]:
    """SIGTERM handled like SIGINT and warnings on one line, for the duration of the block."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        warnings.showwarning = _one_line_warning
        with _signals_interrupt():
            yield


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a signal came in, even one whose exception a callback
    dropped: called before outputs are committed."""
    if _interrupted.is_set():
        raise KeyboardInterrupt


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    first = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
    print(f"{PROG}: warning: {first}", file=sys.stderr)


def _raise_interrupt(signum, frame) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


def _quiet_dropped_interrupt(unraisable) -> None:
    """No traceback for a KeyboardInterrupt dropped in a callback (the flag keeps it), nor,
    once a signal came in, for the fallout of objects it left half-built: on a cold cache,
    llvmlite's ``PassBuilder.__del__`` raised AttributeError after an interrupted
    ``__init__``, and a traceback came before "palettelab: interrupted"."""
    if not (_interrupted.is_set() or isinstance(unraisable.exc_value, KeyboardInterrupt)):
        sys.__unraisablehook__(unraisable)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt and set the flag, for the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _interrupted.clear()
    names = [name for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), _raise_interrupt) for name in names}
    hook, sys.unraisablehook = sys.unraisablehook, _quiet_dropped_interrupt
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler if handler is not None else signal.SIG_DFL)


def check_stdout(what: str, binary: bool = False) -> None:
    """InputError if standard output is closed (``>&-``): ``what`` would be lost; and, for
    ``binary`` data (an image), if it is a terminal."""
    stream = sys.stdout
    try:
        if stream is None:  # Python's stdout when file descriptor 1 was closed at start
            raise OSError("closed")
        os.fstat(stream.fileno())
    except io.UnsupportedOperation:  # not a file (captured, a StringIO): it can be written
        return
    except (OSError, ValueError):
        raise InputError(f"standard output is closed; {what} would be lost") from None
    if binary and stream.isatty():
        raise InputError(f"standard output is a terminal; redirect it to write {what} "
                         f"(e.g. > out.png), or name a file with -o")


def write_stdout(text: str, what: str) -> None:
    """Write and flush ``text``; an InputError naming standard output if that fails."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        # keep Python's flush at exit from failing a second time with a traceback
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise InputError(f"standard output: cannot write {what} "
                         f"({exc.strerror or exc})") from None


def write_binary_stdout(data: bytes, what: str) -> None:
    """Write ``data`` to standard output as bytes (an image for ``-o -``)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text stream without bytes (a test's StringIO): nowhere to write
        raise InputError(f"standard output takes no binary data; {what} would be lost")
    try:
        buffer.write(data)
        buffer.flush()
    except OSError as exc:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise InputError(f"standard output: cannot write {what} "
                         f"({exc.strerror or exc})") from None


def print_json(summary: dict) -> None:
    """Print ``summary`` as one line of strict JSON; non-finite numbers become null, with a
    note naming them (a float64 overflow, e.g. the inertia of points near 1e308)."""
    nulled = [key for key, value in summary.items()
              if isinstance(value, float) and not math.isfinite(value)]
    for key in nulled:
        print(f"{PROG}: note: {key} is not a finite number (float64 overflow); written as null",
              file=sys.stderr)
    clean = {key: None if key in nulled else value for key, value in summary.items()}
    write_stdout(json.dumps(clean, allow_nan=False) + "\n", "the JSON summary")

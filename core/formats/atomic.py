"""Atomic file writes: a failed or interrupted write never leaves a partial or damaged file.

Every file PaletteLab writes (images, palettes, label files) is written to a temporary file in
the target's folder and renamed over the target only once it is complete.  A rename within
one folder is atomic on POSIX and Windows, so readers see either the old file or the new one,
never a mixture; on any error the temporary file is removed and an existing target is left
untouched.

Several outputs of one run (an image and its palette) are one transaction:
:func:`atomic_outputs` holds back the renames of every :func:`atomic_write` inside it until all
files are complete, then renames them together.  Should a rename fail, the outputs already
renamed get their previous contents back (a hard link to each is kept until the end; where
the file system has no hard links, the old file is moved aside instead), so a run commits all
of its outputs or none.  SIGINT and SIGTERM are held back during the renames (microseconds).

The overwrite rule (docs/DESIGN.md, "Command line"): an existing regular file is replaced and
keeps its permission bits (and, when running as root, its owner and group); a read-only one
(no write permission for us, or no write bit at all -- root included) is refused, as ``cp``
refuses without ``-f``; anything but a regular file is refused.  A symbolic link is written
through: the file it points to is replaced, the link stays.

Temporary names are ``.<name>.plab<pid>-<random>.part``, shortened (the ``<name>`` part) to
fit the folder's NAME_MAX, so a valid 250-byte output name still works.  A run killed by
SIGKILL or a power cut cannot remove its temporary file; the next write into the same folder
removes those of ours that are stale: our pattern, our user, and either a recorded process id
that is no longer running here and a file untouched for :data:`STALE_AFTER_S` (a live run on
another machine sharing the folder keeps writing to its file), or a file untouched for
:data:`ABANDONED_AFTER_S` whatever the id (ids are reused; Windows gets only this rule).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from palettelab.core.errors import InputError

#: a temporary file of a dead process is removed once untouched this long (seconds)
STALE_AFTER_S = 60.0
#: any temporary file of ours is removed once untouched this long (seconds)
ABANDONED_AFTER_S = 6 * 3600.0

_TEMP_SUFFIX = ".part"
_BACKUP_SUFFIX = ".old"  # the hard link keeping a replaced output until the commit is over
_TEMP_NAME = re.compile(r"\..*\.plab(\d{1,10})-[a-z0-9_]{8}\.(?:part|old)\Z", re.DOTALL)
_RANDOM_CHARS = 8  # tempfile's random part


def check_output_path(path: str | os.PathLike) -> Path:
    """The output path as a Path, or InputError if it cannot be written (missing or read-only
    folder, a directory or other non-regular file, a read-only file)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: output directory {folder} does not exist")
    if target.is_dir():
        raise InputError(f"{target}: is a directory, not a file name")
    if target.exists():
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{target}: is not a regular file; not replaced")
        if not os.access(target, os.W_OK) or not info.st_mode & 0o222:
            raise InputError(f"{target}: is read-only (mode {stat.S_IMODE(info.st_mode):04o}); "
                             f"not replaced (make it writable or choose another name)")
    real_folder = Path(os.path.realpath(target)).parent
    if not os.access(real_folder, os.W_OK | os.X_OK):
        raise InputError(f"{target}: cannot create files in {real_folder} (permission denied)")
    return target


def check_output_suffix(path: str | os.PathLike, allowed: tuple[str, ...], refusal: str,
                        also: str = "") -> str:
    """:func:`check_output_path`, and the path's lower-case extension, which must be one of
    ``allowed``: else InputError "PATH: REFUSAL, not '.ext'; use ALLOWED ALSO"."""
    suffix = check_output_path(path).suffix.lower()
    if suffix not in allowed:
        shown = f"'{suffix}'" if suffix else "no extension"
        raise InputError(f"{os.fspath(path)}: {refusal}, not {shown}; use "
                         f"{', '.join(allowed)}{also}")
    return suffix


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True if ``a`` and ``b`` name one file: the same path once resolved (``./x``, symbolic
    links) or, when both exist, the same inode (hard links)."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def first_repeated(paths: Sequence[str | os.PathLike]) -> tuple[int, int] | None:
    """Indices ``(i, j)``, i < j, of the first two of ``paths`` naming one file, or None."""
    for j in range(len(paths)):
        for i in range(j):
            if same_file(paths[i], paths[j]):
                return i, j
    return None


@dataclass
class _Pending:
    """A complete temporary file waiting for its rename."""

    shown: str  # the output as the caller named it, for messages
    real: Path  # where it lands (symbolic links resolved)
    tmp: Path


@dataclass
class _Transaction:
    pending: list[_Pending] = field(default_factory=list)


_ACTIVE: ContextVar[_Transaction | None] = ContextVar("palettelab_atomic_outputs", default=None)


def _reason(exc: OSError) -> str:
    """An OSError's message without the temporary file's name."""
    return exc.strerror or str(exc)


@contextlib.contextmanager
def atomic_outputs() -> Iterator[None]:
    """Commit every :func:`atomic_write` inside the block together, or none of them.

    Nested blocks join the outer one.  An exception in the block removes every temporary file
    and leaves every output as it was.
    """
    if _ACTIVE.get() is not None:
        yield
        return
    transaction = _Transaction()
    token = _ACTIVE.set(transaction)
    try:
        yield
    except BaseException:
        _remove(p.tmp for p in transaction.pending)
        raise
    finally:
        _ACTIVE.reset(token)
    _commit(transaction.pending)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file next to ``path``; once the block ends, rename it to ``path``
    (at the end of the enclosing :func:`atomic_outputs`, if there is one).

    ``mode`` is ``"wb"`` or ``"w"`` (text, with ``open_kwargs`` such as ``encoding``).  A new
    file gets the usual permissions (umask applied, not mkstemp's 0600); a replaced one keeps
    its own.  Any OSError becomes an InputError naming ``path``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    shown = os.fspath(path)
    check_output_path(path)
    real = Path(os.path.realpath(path))
    transaction = _ACTIVE.get()
    if transaction is not None:
        for other in transaction.pending:
            if same_file(other.real, real):
                raise InputError(f"{shown}: written twice in one run (also as {other.shown})")
    remove_stale_temps(real.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(real), suffix=_TEMP_SUFFIX,
                                        dir=real.parent)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write ({_reason(exc)})") from None
    entry = _Pending(shown, real, Path(tmp_name))
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _copy_permissions(real, entry.tmp)
    except BaseException as exc:
        _remove([entry.tmp])
        if isinstance(exc, OSError):
            raise InputError(f"{shown}: cannot write ({_reason(exc)})") from None
        raise
    if transaction is not None:
        transaction.pending.append(entry)
    else:
        _commit([entry])


def _temp_prefix(real: Path) -> str:
    """``.<name>.plab<pid>-``, the name cut so the whole temporary name fits NAME_MAX."""
    try:
        name_max = os.pathconf(real.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no answer
        name_max = 255
    tag = f".plab{os.getpid()}-"
    room = name_max - len(os.fsencode(f".{tag}")) - _RANDOM_CHARS - len(_TEMP_SUFFIX)
    stem = real.name
    while len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return f".{stem}{tag}"


def _copy_permissions(real: Path, tmp: Path) -> None:
    """Give ``tmp`` the mode (and as root the owner) of the file it replaces, or the mode of a
    new file."""
    try:
        old = real.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(tmp, old.st_uid, old.st_gid)
    os.chmod(tmp, stat.S_IMODE(old.st_mode))


def _commit(pending: list[_Pending]) -> None:
    """Rename every temporary file over its output; on a failure, put back those renamed."""
    with _signals_held():
        renamed = 0
        backups: dict[int, Path] = {}
        try:
            for n, entry in enumerate(pending):
                if n < len(pending) - 1:  # a failed last rename changes nothing: no backup
                    backup = _keep_old(entry)
                    if backup is not None:
                        backups[n] = backup
                try:
                    os.replace(entry.tmp, entry.real)
                except OSError as exc:
                    raise InputError(f"{entry.shown}: cannot write ({_reason(exc)})") from None
                renamed += 1
        except BaseException:
            for n in reversed(range(len(pending))):
                with contextlib.suppress(OSError):
                    if n in backups:
                        os.replace(backups.pop(n), pending[n].real)
                    elif n < renamed:
                        pending[n].real.unlink()
            _remove(p.tmp for p in pending)
            raise
        finally:
            _remove(backups.values())


def _keep_old(entry: _Pending) -> Path | None:
    """A second name for the output about to be replaced (None if there is none yet)."""
    if not entry.real.exists():
        return None
    backup = entry.tmp.with_name(entry.tmp.name[:-len(_TEMP_SUFFIX)] + _BACKUP_SUFFIX)
    try:
        try:
            os.link(entry.real, backup)
        except OSError:  # no hard links here (FAT, some network shares): move it aside
            os.replace(entry.real, backup)
    except OSError as exc:
        raise InputError(f"{entry.shown}: cannot write ({_reason(exc)})") from None
    return backup


def _remove(paths) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block, then deliver the first that came.

    Only the main thread can set handlers (and only it gets KeyboardInterrupt anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    wanted = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


def remove_stale_temps(folder: str | os.PathLike) -> list[str]:
    """Remove our stale temporary files in ``folder`` (see the module notes); their names.

    Never raises: a file that cannot be examined or removed is left alone."""
    removed: list[str] = []
    now = time.time()
    for entry, pid in _temp_files(folder):
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or not _ours(info):
                continue
            idle = now - info.st_mtime
            dead = idle >= STALE_AFTER_S and not _running(pid)
            if dead or idle >= ABANDONED_AFTER_S:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _temp_files(folder: str | os.PathLike) -> list[tuple[os.DirEntry, int]]:
    """Our temporary files in ``folder`` (by name) with the process id each name records;
    none when the folder cannot be listed."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is not None:
            found.append((entry, int(match.group(1))))
    return found


def _ours(info: os.stat_result) -> bool:
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (always True where that cannot be asked
    safely: on Windows ``os.kill`` would terminate it)."""
    if sys.platform == "win32" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (or no such process id)
        return False
    except OSError:  # another user's process, or no answer: assume it runs
        return True
    return True


def remove_temps_of(folder: str | os.PathLike, pid: int) -> list[str]:
    """Remove the temporary files (``.part``) that process ``pid`` left in ``folder``; their
    names.  Only for a process known to have ended (a worker killed before it could remove its
    own).  Never raises."""
    removed: list[str] = []
    for entry, owner in _temp_files(folder):
        if owner != pid or not entry.name.endswith(_TEMP_SUFFIX):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed

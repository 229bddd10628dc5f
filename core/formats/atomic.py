"""Atomic file writes: a failed or interrupted write never leaves a partial or damaged file.

Every file PaletteLab writes (images, palettes, label files) is written to a temporary file in
the target directory and renamed over the target only once it is complete.  A rename within
one directory is atomic on POSIX and Windows, so readers see either the old file or the new
one, never a mixture; on any error the temporary file is removed and an existing target is
left untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from palettelab.core.errors import InputError


def check_output_path(path: str | os.PathLike) -> Path:
    """The output path as a Path, or InputError if its directory does not exist."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: output directory {folder} does not exist")
    if target.is_dir():
        raise InputError(f"{target}: is a directory, not a file name")
    return target


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it to ``path``.

    ``mode`` is ``"wb"`` or ``"w"`` (text, with ``open_kwargs`` such as ``encoding``).  The new
    file gets the usual permissions for a new file (umask applied), not mkstemp's 0600.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    target = check_output_path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent if str(target.parent) else ".")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise

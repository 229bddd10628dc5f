"""Per-user folders of the installed app (no Qt: used before anything heavy is imported).

The standalone app keeps Numba's compiled kernels in a per-user cache folder, so that only the
very first launch compiles them; the bundle's own folder may not be writable, and a one-file
bundle unpacks to a new temporary folder at every start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "PaletteLab"


def cache_dir() -> Path:
    """The per-user cache folder: XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on
    Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / APP / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP.lower()


def numba_cache_dir() -> Path:
    """Where the frozen app's compiled kernels live."""
    return cache_dir() / "numba"


def prepare_frozen_environment() -> None:
    """In a PyInstaller bundle, before Numba is imported: use the kernels the bundle ships for
    this CPU (copied once into the per-user cache, where any kernel they lack is added); on a
    CPU no shipped tier fits, compile into the per-user cache as a source install does.  A
    ``NUMBA_CACHE_DIR`` the user set wins over both."""
    if not getattr(sys, "frozen", False) or "NUMBA_CACHE_DIR" in os.environ:
        return
    from palettelab import __version__
    from palettelab.core.kernel_cache import use_shipped

    folder = numba_cache_dir()
    if use_shipped(folder / "shipped", __version__) is None:
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(folder)

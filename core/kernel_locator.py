"""The Numba cache locator of this package's kernels: see :mod:`palettelab.core.kernel_cache`
(imported by Numba itself, through ``NUMBA_CACHE_LOCATOR_CLASSES``)."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from numba.core.caching import _CacheLocator

from palettelab.core.kernel_cache import KERNEL_DIR_ENV

#: the package's root folder (a kernel folder mirrors its layout)
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@cache
def _source_hash(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class PackageKernelLocator(_CacheLocator):
    """A Numba cache locator for this package's kernels in the folder :data:`KERNEL_DIR_ENV`
    names: one subfolder per package folder, an index stamped with the source's hash."""

    def __init__(self, py_func, py_file: str, relative: Path) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(Path(os.environ[KERNEL_DIR_ENV]) / relative)

    @classmethod
    def from_function(cls, py_func, py_file: str):
        if not os.environ.get(KERNEL_DIR_ENV) or not os.path.exists(py_file):
            return None
        try:
            relative = Path(py_file).resolve().parent.relative_to(PACKAGE_ROOT)
        except ValueError:
            return None  # not one of ours: the next locator
        return cls(py_func, py_file, relative)

    def ensure_cache_path(self) -> None:
        # No write test: a read-only shipped folder still serves every kernel it holds.
        os.makedirs(self._cache_path, exist_ok=True)

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return _source_hash(self._py_file)

    def get_disambiguator(self) -> str:
        return str(self._lineno)

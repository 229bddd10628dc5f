"""Start-up of a batch command: keep Numba from importing what no kernel of ours uses.

When Numba's CPU target loads (the first kernel call, even one served from the cache), it
imports ``numba.np.arraymath``, which probes for BLAS by importing
``scipy.linalg.cython_blas`` -- all of SciPy's linear algebra, and through SciPy's array-API
layer ``numpy.f2py`` and ``numpy.testing``.  None of our kernels calls ``np.dot`` or
``np.linalg`` (those run in plain numpy), and SciPy is not even a dependency of PaletteLab:
it is there only when something else installed it (scikit-learn, in the test environment).
Measured here with it installed (2 cores shared with other jobs, load about 1): importing
``numba.np.arraymath`` took 0.49-0.72 s wall, 0.69-0.88 s CPU and 112 MB with the probe,
0.34-0.43 s, 0.42-0.51 s CPU and 98 MB without it.

:func:`skip_blas_probe` imports ``numba.np.arraymath`` while that one SciPy module is marked
unavailable, so Numba records "no BLAS" (a kernel using ``np.dot`` would then fail to compile,
with Numba's own message); the mark is removed at once, so SciPy stays importable by anyone.
"""

from __future__ import annotations

import sys

_BLAS_MODULE = "scipy.linalg.cython_blas"


def skip_blas_probe() -> None:
    """Import Numba's array maths without its SciPy BLAS probe (once; a no-op after)."""
    if "numba.np.arraymath" in sys.modules or _BLAS_MODULE in sys.modules:
        return
    sys.modules[_BLAS_MODULE] = None  # type: ignore[assignment]  # "import" raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(_BLAS_MODULE, 0) is None:
            del sys.modules[_BLAS_MODULE]

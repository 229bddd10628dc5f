"""Numba settings shared by every kernel module: the threading layer and the fastmath policy.

Every module that defines Numba kernels imports this one explicitly, so the settings hold
whichever kernel runs first (before, only importing the k-means kernels picked the threading
layer, and a colour conversion run on its own launched OpenMP).

Threading layer: workqueue.  Where libgomp is installed numba picks its OpenMP layer, and on
this kind of machine every parallel launch then costs about 8 ms (thread wake-up) against
0.1 ms with workqueue: that alone made a k-means iteration on small data 40x slower.
Workqueue must not be entered from two Python threads at once; only the app's worker thread
runs kernels.  An explicit ``NUMBA_THREADING_LAYER`` from the user still wins.  The layer is
fixed at the first parallel launch, so it is set here, at import, before any kernel exists.

Fastmath: only re-association and contraction (:data:`FASTMATH`, on distance and sum loops),
so that LLVM can vectorise sums over features -- a few ulps -- and never an assumption about
NaN or infinities (input is validated before it reaches a kernel).  Elementwise code that has
no sums to re-associate takes contraction alone (:data:`FASTMATH_ELEMENTWISE`).

Caching: every kernel is compiled with ``cache=True``; the helpers and row functions that only
kernels call are not cached on their own (each kernel's cached code holds what it inlined or
called; cached alone they added about 3 MB to the standalone app's two kernel tiers).  Numba
keys a cached kernel on its own source file only: after changing a constant here, or a helper of
:mod:`palettelab.core.color.codes`, delete the ``__pycache__`` folders (or the
``NUMBA_CACHE_DIR``) so that the kernels using them are recompiled.
"""

from __future__ import annotations

import os

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

#: fastmath flags of the loops that sum (numba wants a ``set``; do not modify it)
FASTMATH = {"reassoc", "contract"}
#: fastmath flags of elementwise arithmetic (fused multiply-adds only)
FASTMATH_ELEMENTWISE = {"contract"}

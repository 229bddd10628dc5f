"""How close a recoloured image is to its original: PSNR and mean OKLab error.

PSNR (over the RGB channels, 8-bit peak) is the usual figure; the mean OKLab distance is closer
to what people see (a distance of about 0.02 is a just-noticeable difference).  Both are
reductions over every pixel, done in fixed row chunks with per-chunk partial sums, so they do not
depend on the thread count and never make a float copy of the image.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core import numba_config  # noqa: F401  (kernel settings, before any kernel)
from palettelab.core.color.spaces import srgb8_to_oklab
from palettelab.core.errors import InputError

_ROWS = 16


@njit(nogil=True, parallel=True, cache=True)
def _squared_error_rows(a, b, partial):
    h, w = a.shape[0], a.shape[1]
    for c in prange(partial.shape[0]):
        acc = 0.0
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                for t in range(3):
                    d = np.float64(a[y, x, t]) - np.float64(b[y, x, t])
                    acc += d * d
        partial[c] = acc


@njit(nogil=True, parallel=True, cache=True)
def _oklab_error_rows(a, b, partial):
    h, w = a.shape[0], a.shape[1]
    for c in prange(partial.shape[0]):
        acc = 0.0
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                u0, u1, u2 = srgb8_to_oklab(a[y, x, 0], a[y, x, 1], a[y, x, 2])
                v0, v1, v2 = srgb8_to_oklab(b[y, x, 0], b[y, x, 1], b[y, x, 2])
                acc += np.sqrt((u0 - v0) ** 2 + (u1 - v1) ** 2 + (u2 - v2) ** 2)
        partial[c] = acc


def _pair(original, recoloured) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(original), np.asarray(recoloured)
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] not in (3, 4) or a.dtype != np.uint8 \
            or b.dtype != np.uint8:
        raise InputError(f"images must be two (H, W, 3|4) uint8 arrays of the same shape, got "
                         f"{a.shape} {a.dtype} and {b.shape} {b.dtype}")
    return a, b


def _partials(h: int) -> np.ndarray:
    return np.empty((h + _ROWS - 1) // _ROWS)


def psnr(original, recoloured) -> float:
    """Peak signal-to-noise ratio in dB over the RGB channels (inf for identical images)."""
    a, b = _pair(original, recoloured)
    partial = _partials(a.shape[0])
    _squared_error_rows(a, b, partial)
    mse = partial.sum() / (a.shape[0] * a.shape[1] * 3)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def mean_oklab_error(original, recoloured) -> float:
    """Mean Euclidean OKLab distance between corresponding pixels (alpha ignored)."""
    a, b = _pair(original, recoloured)
    partial = _partials(a.shape[0])
    _oklab_error_rows(a, b, partial)
    return float(partial.sum() / (a.shape[0] * a.shape[1]))

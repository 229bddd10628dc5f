"""How close a recoloured image is to its original: PSNR and mean OKLab error.

PSNR (over the RGB channels, 8-bit peak) is the usual figure; the mean OKLab distance is closer
to what people see (a distance of about 0.02 is a just-noticeable difference).  Both are
reductions over every pixel, done in fixed row chunks with per-chunk partial sums, so they do not
depend on the thread count and never make a float copy of the image.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core.color.spaces import _OK_M1, _OK_M2, from_srgb
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


@njit(inline="always", cache=True)
def _oklab(lut, m1, m2, img, y, x, out):
    p0 = lut[img[y, x, 0]]
    p1 = lut[img[y, x, 1]]
    p2 = lut[img[y, x, 2]]
    lms = np.empty(3)
    for r in range(3):
        lms[r] = np.cbrt(m1[r, 0] * p0 + m1[r, 1] * p1 + m1[r, 2] * p2)
    for r in range(3):
        out[r] = m2[r, 0] * lms[0] + m2[r, 1] * lms[1] + m2[r, 2] * lms[2]


@njit(nogil=True, parallel=True, cache=True)
def _oklab_error_rows(a, b, lut, m1, m2, partial):
    h, w = a.shape[0], a.shape[1]
    for c in prange(partial.shape[0]):
        acc = 0.0
        u = np.empty(3)
        v = np.empty(3)
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                _oklab(lut, m1, m2, a, y, x, u)
                _oklab(lut, m1, m2, b, y, x, v)
                acc += np.sqrt((u[0] - v[0]) ** 2 + (u[1] - v[1]) ** 2 + (u[2] - v[2]) ** 2)
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
    levels = np.arange(256, dtype=np.float64)[:, None].repeat(3, axis=1)
    lut = from_srgb(levels, "linear")[:, 0]
    partial = _partials(a.shape[0])
    _oklab_error_rows(a, b, lut, _OK_M1, _OK_M2, partial)
    return float(partial.sum() / (a.shape[0] * a.shape[1]))

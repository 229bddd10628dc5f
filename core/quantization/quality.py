"""How close a recoloured image is to its original: PSNR and mean OKLab error.

PSNR (over the RGB channels, 8-bit peak) is the usual figure; the mean OKLab distance is closer
to what people see (a distance of about 0.02 is a just-noticeable difference).  Both are
reductions over every pixel, done in fixed row chunks with per-chunk partial sums, so they do not
depend on the thread count and never make a float copy of the image.

Only what can be seen counts.  An image with alpha is compared as it looks over a background:
each pixel is composited (in sRGB, as browsers do) over black and over white, the two extremes
of any background, and its error is the mean of the two.  So a pixel at alpha 0.1 shows a tenth
of its colour error, a pixel whose alpha changed shows that change against the background, and
fully transparent pixels, whose RGB is arbitrary and often left over from an editor, take no
part.  The means are over the pixels visible in the original, with the errors of every pixel:
a result that puts a faint haze over the transparent background (pngquant maps alpha 0 to an
entry at alpha 4-10) pays for it, without the hazed pixels diluting the mean.  Before issue 13
a logo reproduced exactly scored 7.73 dB, from the colours hidden under alpha 0; before issue 17 the
alpha of the result was not compared at all, so a palette with alpha (pngquant's, ours) could
not be judged.  A recoloured image without alpha is taken to keep the original's.  An opaque
image gives the plain RGB figures; an image with nothing visible has nothing to get wrong: PSNR
inf, error 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core import numba_config  # noqa: F401  (kernel settings, before any kernel)
from palettelab.core.color.spaces import srgb8_to_oklab
from palettelab.core.errors import InputError

_ROWS = 16


@njit(forceinline=True, _nrt=False)
def _alphas(a, b, y, x):
    """(original alpha, recoloured alpha) of a pixel, 0..1: 1 without an alpha channel, and the
    original's for a recoloured image without one."""
    alpha_a = np.float64(a[y, x, 3]) / 255.0 if a.shape[2] == 4 else 1.0
    alpha_b = np.float64(b[y, x, 3]) / 255.0 if b.shape[2] == 4 else alpha_a
    return alpha_a, alpha_b


@njit(forceinline=True, _nrt=False)
def _over(image, y, x, t, alpha, background):
    """Channel t of a pixel composited over a grey ``background`` (0 or 255)."""
    return np.float64(image[y, x, t]) * alpha + background * (1.0 - alpha)


@njit(nogil=True, parallel=True, cache=True)
def _squared_error_rows(a, b, partial):
    """partial[c] = (sum over the pixels of chunk c of the squared RGB differences,
    averaged over black and white backgrounds; pixels visible in the original; in either)."""
    h, w = a.shape[0], a.shape[1]
    for c in prange(partial.shape[0]):
        acc = 0.0
        count = 0.0
        either = 0.0
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                alpha_a, alpha_b = _alphas(a, b, y, x)
                if alpha_a == 0.0 and alpha_b == 0.0:
                    continue
                for background in (0.0, 255.0):
                    for t in range(3):
                        d = _over(a, y, x, t, alpha_a, background) \
                            - _over(b, y, x, t, alpha_b, background)
                        acc += 0.5 * d * d
                count += 1.0 if alpha_a > 0.0 else 0.0
                either += 1.0
        partial[c, 0] = acc
        partial[c, 1] = count
        partial[c, 2] = either


@njit(forceinline=True, _nrt=False)
def _seen_oklab(image, y, x, alpha, background):
    """OKLab of a pixel composited over ``background``, rounded to 8 bits."""
    return srgb8_to_oklab(np.rint(_over(image, y, x, 0, alpha, background)),
                          np.rint(_over(image, y, x, 1, alpha, background)),
                          np.rint(_over(image, y, x, 2, alpha, background)))


@njit(nogil=True, parallel=True, cache=True)
def _oklab_error_rows(a, b, partial):
    """partial[c] = (sum over the pixels of chunk c of the OKLab distances, averaged over
    black and white backgrounds; pixels visible in the original; in either)."""
    h, w = a.shape[0], a.shape[1]
    for c in prange(partial.shape[0]):
        acc = 0.0
        count = 0.0
        either = 0.0
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                alpha_a, alpha_b = _alphas(a, b, y, x)
                if alpha_a == 0.0 and alpha_b == 0.0:
                    continue
                opaque = alpha_a == 1.0 and alpha_b == 1.0  # one background is enough
                for background in (0.0, 255.0):
                    u0, u1, u2 = _seen_oklab(a, y, x, alpha_a, background)
                    v0, v1, v2 = _seen_oklab(b, y, x, alpha_b, background)
                    distance = np.sqrt((u0 - v0) ** 2 + (u1 - v1) ** 2 + (u2 - v2) ** 2)
                    if opaque:
                        acc += distance
                        break
                    acc += 0.5 * distance
                count += 1.0 if alpha_a > 0.0 else 0.0
                either += 1.0
        partial[c, 0] = acc
        partial[c, 1] = count
        partial[c, 2] = either


def _pair(original, recoloured) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(original), np.asarray(recoloured)
    if a.ndim != 3 or b.ndim != 3 or a.shape[:2] != b.shape[:2] or a.shape[2] not in (3, 4) \
            or b.shape[2] not in (3, 4) or a.dtype != np.uint8 or b.dtype != np.uint8:
        raise InputError(f"images must be two (H, W, 3|4) uint8 arrays of the same size, got "
                         f"{a.shape} {a.dtype} and {b.shape} {b.dtype}")
    return a, b


def _partials(h: int) -> np.ndarray:
    return np.empty(((h + _ROWS - 1) // _ROWS, 3))


def _mean(partial: np.ndarray) -> float:
    """The summed error over the pixels visible in the original (in the result when none is:
    an invisible original shown visibly is all error)."""
    error, count, either = partial.sum(axis=0)
    return float(error / (count or either)) if either > 0 else 0.0


def psnr(original, recoloured) -> float:
    """Peak signal-to-noise ratio in dB over the RGB channels of the visible pixels, as seen
    over black and white backgrounds (see the module docstring; inf when they look the
    same)."""
    a, b = _pair(original, recoloured)
    partial = _partials(a.shape[0])
    _squared_error_rows(a, b, partial)
    mse = _mean(partial) / 3.0
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def mean_oklab_error(original, recoloured) -> float:
    """Mean Euclidean OKLab distance between corresponding visible pixels, as seen over black
    and white backgrounds (see the module docstring; 0 when nothing is visible)."""
    a, b = _pair(original, recoloured)
    partial = _partials(a.shape[0])
    _oklab_error_rows(a, b, partial)
    return _mean(partial)

"""Remapping pixels to palette indices: plain (nearest colour), Floyd-Steinberg, or ordered.

Plain remapping is one lookup per pixel in a 16 MB table from 24-bit colour code to palette
index (the nearest entry of every distinct colour is found once, by the caller).  Dithering
reads a pixel's colour in the clustering space through the image's distinct-colour table
(``table[code]`` is the row of the colour in ``values``), so no pixel is converted twice and no
float copy of the whole image is made, and searches the palette per pixel because the diffused
error changes the colour.

* Floyd-Steinberg is serpentine (alternate rows run right to left, which avoids the diagonal
  "worm" artefacts of one-way scanning); ``strength`` scales the diffused error.  The error may
  not push a colour beyond the palette's bounding box (error beyond it cannot be shown and
  would only pile up into streaks); with strength 0 the result is the plain remap.
* Ordered dithering is Thomas Knoll's pattern dithering (the algorithm behind Adobe's): each
  distinct colour gets a list of 16 palette entries whose mix reproduces it, each chosen to
  cancel the error of the ones before (``strength`` scales that error: 0 gives the plain
  remap), sorted by lightness; the 8x8 Bayer matrix picks one per pixel.  It works for any
  palette (not only along grey or lightness), depends only on the colour and the position --
  stable across frames -- and runs in parallel.

Either way the output holds palette indices only.  Fully transparent pixels get index 0 and take
no part in error diffusion.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core import numba_config  # noqa: F401  (kernel settings, before any kernel)
from palettelab.core.buffers import BufferPool
from palettelab.core.quantization.histogram import jit_color_code

#: rows per parallel chunk of the plain and ordered passes
_ROWS = 16
#: pixels per Floyd-Steinberg kernel call (Python runs signal handlers between calls)
FS_BAND_PIXELS = 1 << 18

BAYER8 = np.array([
    [0, 32, 8, 40, 2, 34, 10, 42],
    [48, 16, 56, 24, 50, 18, 58, 26],
    [12, 44, 4, 36, 14, 46, 6, 38],
    [60, 28, 52, 20, 62, 30, 54, 22],
    [3, 35, 11, 43, 1, 33, 9, 41],
    [51, 19, 59, 27, 49, 17, 57, 25],
    [15, 47, 7, 39, 13, 45, 5, 37],
    [63, 31, 55, 23, 61, 29, 53, 21],
], dtype=np.int64)
_LUTS = BufferPool(lambda: np.empty(1 << 24, dtype=np.uint8))

#: palette entries mixed per colour by ordered dithering (levels of the 64-step matrix)
PATTERN_SIZE = 16


@njit(forceinline=True, _nrt=False)
def _row_of(img, y, x, table):
    return table[jit_color_code(img[y, x, 0], img[y, x, 1], img[y, x, 2])]


@njit(forceinline=True, _nrt=False)
def _transparent(img, y, x):
    return img.shape[2] == 4 and img[y, x, 3] == 0


@njit(forceinline=True, _nrt=False)
def _nearest(v0, v1, v2, P):
    best = 0
    best_d = np.inf
    for j in range(P.shape[0]):
        a = v0 - P[j, 0]
        b = v1 - P[j, 1]
        c = v2 - P[j, 2]
        dist = a * a + b * b + c * c
        if dist < best_d:
            best_d = dist
            best = j
    return best


@njit(nogil=True, parallel=True, cache=True)
def _fill_lut(colors, labels, lut):
    """lut[code of colour i] = labels[i]: a 16 MB table that stays in a large L3 cache.

    The colours are distinct, so the chunks write disjoint entries.
    """
    m = colors.shape[0]
    chunk = 16384
    for c in prange((m + chunk - 1) // chunk):
        for i in range(c * chunk, min(m, (c + 1) * chunk)):
            lut[jit_color_code(colors[i, 0], colors[i, 1], colors[i, 2])] = labels[i]


@njit(nogil=True, parallel=True, cache=True)
def _lookup(img, lut, out):
    """out[y, x] = lut[code of the pixel]; 0 where fully transparent."""
    h, w = out.shape
    for c in prange((h + _ROWS - 1) // _ROWS):
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                if _transparent(img, y, x):
                    out[y, x] = 0
                else:
                    out[y, x] = lut[jit_color_code(img[y, x, 0], img[y, x, 1], img[y, x, 2])]


@njit(nogil=True, cache=True)
def _floyd_steinberg(img, table, values, P, strength, err, y0, y1, out):
    """Rows ``y0`` to ``y1`` - 1; ``err`` carries the diffused error from one call to the next
    (this row and the next, one guard column on each side)."""
    w = out.shape[1]
    lo = np.empty(3)
    hi = np.empty(3)
    for t in range(3):
        lo[t] = P[:, t].min()
        hi[t] = P[:, t].max()
    v = np.empty(3)
    for y in range(y0, y1):
        cur = y & 1
        nxt = 1 - cur
        err[nxt, :, :] = 0.0
        forward = y % 2 == 0
        for step in range(w):
            x = step if forward else w - 1 - step
            if _transparent(img, y, x):
                out[y, x] = 0
                continue
            r = _row_of(img, y, x, table)
            for t in range(3):  # the error may not push beyond the palette's box
                c = values[r, t]
                v[t] = min(max(hi[t], c), max(min(lo[t], c), c + err[cur, x + 1, t]))
            j = _nearest(v[0], v[1], v[2], P)
            out[y, x] = j
            ahead = 1 if forward else -1
            for t in range(3):
                e = (v[t] - P[j, t]) * strength
                err[cur, x + 1 + ahead, t] += e * (7.0 / 16.0)
                err[nxt, x + 1 - ahead, t] += e * (3.0 / 16.0)
                err[nxt, x + 1, t] += e * (5.0 / 16.0)
                err[nxt, x + 1 + ahead, t] += e * (1.0 / 16.0)


@njit(nogil=True, parallel=True, cache=True)
def _pattern_candidates(values, P, lightness, strength, out):
    """Knoll's pattern dithering: for every distinct colour, the ``out.shape[1]`` palette entries
    whose mix best reproduces it (each chosen to cancel the error of those before), sorted by
    lightness so that the threshold matrix spreads them evenly."""
    n_cand = out.shape[1]
    for i in prange(values.shape[0]):
        e0 = 0.0
        e1 = 0.0
        e2 = 0.0
        for q in range(n_cand):
            j = _nearest(values[i, 0] + e0 * strength, values[i, 1] + e1 * strength,
                         values[i, 2] + e2 * strength, P)
            out[i, q] = j
            e0 += values[i, 0] - P[j, 0]
            e1 += values[i, 1] - P[j, 1]
            e2 += values[i, 2] - P[j, 2]
        for q in range(1, n_cand):  # insertion sort by lightness (stable)
            j = out[i, q]
            p = q - 1
            while p >= 0 and lightness[out[i, p]] > lightness[j]:
                out[i, p + 1] = out[i, p]
                p -= 1
            out[i, p + 1] = j


@njit(nogil=True, parallel=True, cache=True)
def _ordered(img, table, candidates, thresholds, out):
    """out[y, x] = the candidate of the pixel's colour picked by the 8x8 threshold matrix."""
    h, w = out.shape
    n_cand = candidates.shape[1]
    for c in prange((h + _ROWS - 1) // _ROWS):
        for y in range(c * _ROWS, min(h, (c + 1) * _ROWS)):
            for x in range(w):
                if _transparent(img, y, x):
                    out[y, x] = 0
                else:
                    level = thresholds[y & 7, x & 7] * n_cand // 64
                    out[y, x] = candidates[_row_of(img, y, x, table), level]


def lookup(img: np.ndarray, colors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Palette index of every pixel of (H, W, 3|4) uint8 ``img``, given the index (``labels``)
    of each of its distinct ``colors``."""
    out = np.empty(img.shape[:2], dtype=np.uint8)
    with _LUTS.lend() as lut:  # only the entries of present colours are read: no reset
        _fill_lut(colors, np.ascontiguousarray(labels, dtype=np.uint8), lut)
        _lookup(img, lut, out)
    return out


def floyd_steinberg(img: np.ndarray, table: np.ndarray, values: np.ndarray,
                    palette_values: np.ndarray, strength: float) -> np.ndarray:
    """Serpentine Floyd-Steinberg indices; colours and palette are in the clustering space.

    The image is diffused in bands of about :data:`FS_BAND_PIXELS` pixels, one kernel call
    each, so that Python gets control between bands: Ctrl-C and SIGTERM (and so a cancel) act
    within a band's time instead of at the end of the image.  The error rows pass from band to
    band, so the result is the same as in one call, byte for byte.  Measured here (2 shared
    cores, 60 MP, k=64, ``quantize --dither fs``, SIGINT 1 s into the diffusion): one call
    reacted after 39.7 s, when the image was done; bands of 2**18 pixels print the message
    after 0.02 s and exit after 0.5 s.  Remapping 12 MP with k=64 took 10.5-11.6 s either way.
    """
    h, w = img.shape[:2]
    out = np.empty((h, w), dtype=np.uint8)
    P = np.ascontiguousarray(palette_values, dtype=np.float64)
    err = np.zeros((2, w + 2, 3))
    rows = max(1, FS_BAND_PIXELS // max(w, 1))
    for y0 in range(0, h, rows):
        _floyd_steinberg(img, table, values, P, float(strength), err, y0, min(h, y0 + rows), out)
    return out


def ordered(img: np.ndarray, table: np.ndarray, values: np.ndarray,
            palette_values: np.ndarray, strength: float, lightness: np.ndarray) -> np.ndarray:
    """Ordered (pattern) dithering with the 8x8 Bayer matrix; ``lightness`` of each entry."""
    P = np.ascontiguousarray(palette_values, dtype=np.float64)
    candidates = np.empty((values.shape[0], PATTERN_SIZE), dtype=np.uint8)
    _pattern_candidates(values, P, np.ascontiguousarray(lightness, dtype=np.float64),
                        float(strength), candidates)
    out = np.empty(img.shape[:2], dtype=np.uint8)
    _ordered(img, table, candidates, BAYER8, out)
    return out

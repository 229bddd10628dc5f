"""Colour spaces: sRGB (gamma), linear RGB, OKLab and CIELAB (D65), as Numba kernels.

Clustering happens in the space the user picks; palettes always leave as sRGB uint8.  Units:

* ``"rgb"``: sRGB as stored in image files, 0..255 (floats).  k-means here maximises PSNR.
* ``"linear"``: linear-light RGB, 0..1.
* ``"oklab"``: Björn Ottosson's OKLab, L in 0..1 (a perceptual space with even steps).
* ``"lab"``: CIELAB under D65, L in 0..100.

The constants are the published ones (:mod:`palettelab.core.color.constants`).

Every conversion is elementwise, so the parallel kernels have no reductions: their results are
the same for any thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core.color.constants import (
    _DECODE_LUT,
    _LAB_EPS,
    _LAB_KAPPA,
    _OK_M1,
    _OK_M1_INV,
    _OK_M2,
    _OK_M2_INV,
    _WHITE_D65,
    _XYZ_TO_RGB,
    SPACES,  # noqa: F401  (public here, as before the constants moved)
    _matrices,
    _space_code,
)
from palettelab.core.errors import InputError
from palettelab.core.numba_config import FASTMATH_ELEMENTWISE


@njit(inline="always", cache=True)
def _decode(c):
    """sRGB transfer curve, 0..1 -> linear 0..1."""
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


@njit(inline="always", cache=True)
def _encode(v):
    """Inverse sRGB transfer curve, linear 0..1 -> 0..1 (negative values stay linear)."""
    return v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1.0 / 2.4) - 0.055


@njit(inline="always", cache=True)
def _lab_f(t):
    return np.cbrt(t) if t > _LAB_EPS else t / _LAB_KAPPA + 4.0 / 29.0


@njit(inline="always", cache=True)
def _lab_finv(t):
    return t * t * t if t > 6.0 / 29.0 else _LAB_KAPPA * (t - 4.0 / 29.0)


@njit(inline="always", cache=True)
def _mul3(m, a, b, c, r):
    return m[r, 0] * a + m[r, 1] * b + m[r, 2] * c


#: rows per block of the OKLab conversion, whose cube roots run as one vectorised loop
_BLOCK = 512
#: the bit pattern of x // 3 + this is a float64 within a few per cent of cbrt(x), x > 0
_CBRT_MAGIC = np.int64(0x2A9F7893782DA1CE)
#: below this (and for negative values) the cube root is left to libm
_CBRT_TINY = 1e-200


@njit(inline="always", cache=True, fastmath=FASTMATH_ELEMENTWISE)
def _cbrt_in_place(v, guess):
    """Cube roots of the values of ``v`` (1-D contiguous), in place; ``guess`` is scratch.

    libm's ``cbrt`` is a call per value that does not vectorise and was the largest single cost
    of converting a photo's distinct colours to OKLab.  Here: a bit-level first guess (the
    exponent divided by three), two Halley steps (cubic convergence) and a Newton step, all
    vectorisable: 7x faster, within about 1e-15 relative of libm.
    """
    vi = v.view(np.int64)
    gi = guess.view(np.int64)
    for i in range(v.shape[0]):
        gi[i] = vi[i] // 3 + _CBRT_MAGIC
    for i in range(v.shape[0]):
        x = v[i]
        t = guess[i]
        t3 = t * t * t
        t = t * (t3 + 2.0 * x) / (2.0 * t3 + x)
        t3 = t * t * t
        t = t * (t3 + 2.0 * x) / (2.0 * t3 + x)
        guess[i] = t - (t * t * t - x) / (3.0 * t * t)
    for i in range(v.shape[0]):
        v[i] = guess[i] if v[i] > _CBRT_TINY else np.cbrt(v[i])


@njit(inline="always", cache=True)
def _linear(src, i, lut, use_lut):
    """Row i of sRGB 0..255 as linear RGB 0..1; uint8 input (``use_lut``) through ``lut`` (the
    transfer curve at the 256 levels), much cheaper than a power per channel."""
    if use_lut:
        return lut[np.int64(src[i, 0])], lut[np.int64(src[i, 1])], lut[np.int64(src[i, 2])]
    return (_decode(np.float64(src[i, 0]) / 255.0), _decode(np.float64(src[i, 1]) / 255.0),
            _decode(np.float64(src[i, 2]) / 255.0))


@njit(inline="always", cache=True)
def srgb8_to_oklab(r, g, b):
    """OKLab (L, a, b) of one 8-bit sRGB colour, for other kernels (Numba inlines it).

    One colour at a time, with libm's cube root: :func:`from_srgb` converts arrays faster.
    """
    c0, c1, c2 = _DECODE_LUT[np.int64(r)], _DECODE_LUT[np.int64(g)], _DECODE_LUT[np.int64(b)]
    p0 = np.cbrt(_mul3(_OK_M1, c0, c1, c2, 0))
    p1 = np.cbrt(_mul3(_OK_M1, c0, c1, c2, 1))
    p2 = np.cbrt(_mul3(_OK_M1, c0, c1, c2, 2))
    return _mul3(_OK_M2, p0, p1, p2, 0), _mul3(_OK_M2, p0, p1, p2, 1), _mul3(_OK_M2, p0, p1, p2, 2)


@njit(nogil=True, error_model="numpy")
def _oklab_rows(src, start, stop, m1, m2, lut, use_lut, out):
    """Rows [start, stop) to OKLab: the LMS of the block, their cube roots in one loop, then
    M2."""
    rows = stop - start
    lms = np.empty(3 * rows)
    scratch = np.empty(3 * rows)
    for r in range(rows):
        c0, c1, c2 = _linear(src, start + r, lut, use_lut)
        for t in range(3):
            lms[3 * r + t] = _mul3(m1, c0, c1, c2, t)
    _cbrt_in_place(lms, scratch)
    for r in range(rows):
        p0, p1, p2 = lms[3 * r], lms[3 * r + 1], lms[3 * r + 2]
        for t in range(3):
            out[start + r, t] = _mul3(m2, p0, p1, p2, t)


@njit(nogil=True, error_model="numpy")
def _other_rows(src, start, stop, space, m1, lut, use_lut, out):
    """Rows [start, stop) to RGB floats (0), linear RGB (1) or Lab (3), row by row."""
    for i in range(start, stop):
        if space == 0:
            for t in range(3):
                out[i, t] = np.float64(src[i, t])
            continue
        c0, c1, c2 = _linear(src, i, lut, use_lut)
        if space == 1:
            out[i, 0], out[i, 1], out[i, 2] = c0, c1, c2
            continue
        # Lab: m1 is RGB -> XYZ already divided by the white point
        p0, p1, p2 = _mul3(m1, c0, c1, c2, 0), _mul3(m1, c0, c1, c2, 1), _mul3(m1, c0, c1, c2, 2)
        fx, fy, fz = _lab_f(p0), _lab_f(p1), _lab_f(p2)
        out[i, 0] = 116.0 * fy - 16.0
        out[i, 1] = 500.0 * (fx - fy)
        out[i, 2] = 200.0 * (fy - fz)


# The parallel drivers run blocks of rows, each one call of a row function: with the row code
# written inside the ``prange`` loop (and Numba inlining its helpers there), one signature of
# _from_srgb took 4.8 s to compile.  The row functions take NumPy's error model, as code inside
# a ``prange`` loop does: _cbrt_in_place divides by zero for zero input (its select then takes
# libm's root instead), which Python's model turns into a ZeroDivisionError, and an exception
# in a function called from a ``prange`` body left the output unwritten, silently.


@njit(nogil=True, parallel=True, cache=True)
def _from_srgb(src, space, m1, m2, lut, use_lut, out):
    """sRGB 0..255 rows -> ``space`` (0 rgb, 1 linear, 2 oklab, 3 lab), in blocks of
    :data:`_BLOCK` rows.  Scalars only, no allocation per row."""
    n = src.shape[0]
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        start = b * _BLOCK
        stop = min(n, start + _BLOCK)
        if space == 2:
            _oklab_rows(src, start, stop, m1, m2, lut, use_lut, out)
        else:
            _other_rows(src, start, stop, space, m1, lut, use_lut, out)


@njit(nogil=True, error_model="numpy")
def _to_srgb_rows(src, start, stop, space, m2inv, m1inv, out):
    """Rows [start, stop) of ``space`` -> sRGB 0..255 floats (not rounded or clipped)."""
    for i in range(start, stop):
        v0, v1, v2 = np.float64(src[i, 0]), np.float64(src[i, 1]), np.float64(src[i, 2])
        if space == 0:
            out[i, 0], out[i, 1], out[i, 2] = v0, v1, v2
            continue
        if space == 1:
            l0, l1, l2 = v0, v1, v2
        else:
            if space == 2:
                q0, q1, q2 = (_mul3(m2inv, v0, v1, v2, 0), _mul3(m2inv, v0, v1, v2, 1),
                              _mul3(m2inv, v0, v1, v2, 2))
                p0, p1, p2 = q0 * q0 * q0, q1 * q1 * q1, q2 * q2 * q2
            else:
                fy = (v0 + 16.0) / 116.0
                p0, p1, p2 = _lab_finv(fy + v1 / 500.0), _lab_finv(fy), _lab_finv(fy - v2 / 200.0)
            l0, l1, l2 = (_mul3(m1inv, p0, p1, p2, 0), _mul3(m1inv, p0, p1, p2, 1),
                          _mul3(m1inv, p0, p1, p2, 2))
        out[i, 0] = 255.0 * _encode(l0)
        out[i, 1] = 255.0 * _encode(l1)
        out[i, 2] = 255.0 * _encode(l2)


@njit(nogil=True, parallel=True, cache=True)
def _to_srgb(src, space, m2inv, m1inv, out):
    """``space`` rows -> sRGB 0..255 floats (not rounded or clipped), in blocks of rows."""
    n = src.shape[0]
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        _to_srgb_rows(src, b * _BLOCK, min(n, (b + 1) * _BLOCK), space, m2inv, m1inv, out)


def _rows(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"{name} must have shape (n, 3), got {arr.shape}")
    return np.ascontiguousarray(arr)


def from_srgb(rgb, space: str) -> np.ndarray:
    """sRGB colours (n, 3), uint8 or floats in 0..255, to ``space`` as float64 (n, 3)."""
    code = _space_code(space)
    src = _rows(rgb, "rgb")
    out = np.empty(src.shape, dtype=np.float64)
    m1, m2 = _matrices(code)
    _from_srgb(src, code, m1, m2, _DECODE_LUT, src.dtype == np.uint8, out)
    return out


def to_srgb_float(values, space: str) -> np.ndarray:
    """Colours (n, 3) in ``space`` back to sRGB floats in 0..255 (not rounded or clipped)."""
    code = _space_code(space)
    src = _rows(values, "values")
    out = np.empty(src.shape, dtype=np.float64)
    if code == 3:
        m2inv, m1inv = np.eye(3), _XYZ_TO_RGB * _WHITE_D65[None, :]
    else:
        m2inv, m1inv = _OK_M2_INV, _OK_M1_INV
    _to_srgb(src, code, m2inv, m1inv, out)
    return out


def to_srgb8(values, space: str) -> np.ndarray:
    """Colours (n, 3) in ``space`` to sRGB uint8, rounded and clipped into the gamut."""
    return np.clip(np.rint(to_srgb_float(values, space)), 0, 255).astype(np.uint8)

"""Colour spaces: sRGB (gamma), linear RGB, OKLab and CIELAB (D65), as Numba kernels.

Clustering happens in the space the user picks; palettes always leave as sRGB uint8.  Units:

* ``"rgb"``: sRGB as stored in image files, 0..255 (floats).  k-means here maximises PSNR.
* ``"linear"``: linear-light RGB, 0..1.
* ``"oklab"``: Björn Ottosson's OKLab, L in 0..1 (a perceptual space with even steps).
* ``"lab"``: CIELAB under D65, L in 0..100.

The constants are the published ones: the IEC 61966-2-1 sRGB transfer curve and primaries,
Ottosson's M1/M2 matrices (https://bottosson.github.io/posts/oklab/) and the CIE 1976 L*a*b*
definition with the D65 white point of the sRGB standard.

Every conversion is elementwise, so the parallel kernels have no reductions: their results are
the same for any thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from core.errors import InputError

SPACES = ("rgb", "linear", "oklab", "lab")

# sRGB primaries (D65) -> CIE XYZ, and back
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE_D65 = _RGB_TO_XYZ.sum(axis=1)  # the XYZ of sRGB white: (0.95047, 1.0, 1.08883)

# OKLab: linear sRGB -> LMS (M1), cube root, -> Lab (M2)
_OK_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                   [0.2119034982, 0.6806995451, 0.1073969566],
                   [0.0883024619, 0.2817188376, 0.6299787005]])
_OK_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                   [1.9779984951, -2.4285922050, 0.4505937099],
                   [0.0259040371, 0.7827717662, -0.8086757660]])
_OK_M1_INV = np.linalg.inv(_OK_M1)
_OK_M2_INV = np.linalg.inv(_OK_M2)

_LAB_EPS = (6.0 / 29.0) ** 3
_LAB_KAPPA = 3.0 * (6.0 / 29.0) ** 2


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


@njit(parallel=True, cache=True)
def _from_srgb(src, space, m1, m2, out):
    """sRGB 0..255 rows -> ``space`` (0 rgb, 1 linear, 2 oklab, 3 lab)."""
    for i in prange(src.shape[0]):
        c = np.empty(3)
        for t in range(3):
            c[t] = np.float64(src[i, t])
        if space == 0:
            for t in range(3):
                out[i, t] = c[t]
            continue
        for t in range(3):
            c[t] = _decode(c[t] / 255.0)
        if space == 1:
            for t in range(3):
                out[i, t] = c[t]
            continue
        p = np.empty(3)
        for r in range(3):
            p[r] = m1[r, 0] * c[0] + m1[r, 1] * c[1] + m1[r, 2] * c[2]
        if space == 2:
            for r in range(3):
                p[r] = np.cbrt(p[r])
            for r in range(3):
                out[i, r] = m2[r, 0] * p[0] + m2[r, 1] * p[1] + m2[r, 2] * p[2]
        else:  # m1 is RGB -> XYZ already divided by the white point
            fx = _lab_f(p[0])
            fy = _lab_f(p[1])
            fz = _lab_f(p[2])
            out[i, 0] = 116.0 * fy - 16.0
            out[i, 1] = 500.0 * (fx - fy)
            out[i, 2] = 200.0 * (fy - fz)


@njit(parallel=True, cache=True)
def _to_srgb(src, space, m2inv, m1inv, out):
    """``space`` rows -> sRGB 0..255 floats (not rounded or clipped)."""
    for i in prange(src.shape[0]):
        v = np.empty(3)
        for t in range(3):
            v[t] = np.float64(src[i, t])
        if space == 0:
            for t in range(3):
                out[i, t] = v[t]
            continue
        lin = np.empty(3)
        if space == 1:
            for t in range(3):
                lin[t] = v[t]
        else:
            p = np.empty(3)
            if space == 2:
                for r in range(3):
                    q = m2inv[r, 0] * v[0] + m2inv[r, 1] * v[1] + m2inv[r, 2] * v[2]
                    p[r] = q * q * q
            else:
                fy = (v[0] + 16.0) / 116.0
                p[0] = _lab_finv(fy + v[1] / 500.0)
                p[1] = _lab_finv(fy)
                p[2] = _lab_finv(fy - v[2] / 200.0)
            for r in range(3):
                lin[r] = m1inv[r, 0] * p[0] + m1inv[r, 1] * p[1] + m1inv[r, 2] * p[2]
        for t in range(3):
            out[i, t] = 255.0 * _encode(lin[t])


def _space_code(space: str) -> int:
    if space not in SPACES:
        raise InputError(f"colour space must be one of {', '.join(SPACES)}, got {space!r}")
    return SPACES.index(space)


def _matrices(code: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward matrices (m1, m2) for a space code; for Lab, m1 maps to XYZ / white."""
    if code == 3:
        return _RGB_TO_XYZ / _WHITE_D65[:, None], np.eye(3)
    return _OK_M1, _OK_M2


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
    _from_srgb(src, code, m1, m2, out)
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

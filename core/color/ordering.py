"""Palette tools on a few colours: orders (by share, lightness or hue), nearest entries, merges.

Lightness and hue are OKLab's (L, and the angle of (a, b) in OKLCh), so equal steps look
equal.  Greys have no hue worth the name (an OKLCh chroma below ``GREY_CHROMA``): sorted by
hue, they come first, dark to light, then the colours around the wheel from red.

The conversions are the plain-numpy ones of :mod:`palettelab.core.quantization.preview`, not
the Numba kernels: the window calls these tools in its own thread, and the kernels' thread pool
(workqueue) must never be entered from two threads at once (see
:mod:`palettelab.core.numba_config`).  A palette has at most 256 colours: no kernel is needed.
"""

from __future__ import annotations

import numpy as np

from palettelab.core.errors import InputError
from palettelab.core.quantization.preview import from_srgb, to_srgb8

ORDERS = ("share", "lightness", "hue")
#: OKLCh chroma under which a colour sorts as a grey
GREY_CHROMA = 0.02


def palette_order(palette: np.ndarray, counts: np.ndarray | None, order: str) -> np.ndarray:
    """The permutation putting ``palette`` ((k, 3) uint8) in ``order``: "share" (most used
    first; needs ``counts``), "lightness" (dark to light) or "hue" (greys, then red, yellow,
    green, blue, purple).  Stable: ties keep their order."""
    if order not in ORDERS:
        raise InputError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if order == "share":
        if counts is None:
            raise InputError("sorting by share needs the pixel counts")
        return np.argsort(-np.asarray(counts), kind="stable")
    lab = from_srgb(np.asarray(palette, dtype=np.uint8).reshape(-1, 3), "oklab")
    if order == "lightness":
        return np.argsort(lab[:, 0], kind="stable")
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    hue = np.mod(np.degrees(np.arctan2(lab[:, 2], lab[:, 1])), 360.0)
    grey = chroma < GREY_CHROMA
    return np.lexsort((lab[:, 0], np.where(grey, -1.0, hue), ~grey))


def nearest_entries(palette: np.ndarray, index: int, count: int) -> list[int]:
    """The ``count`` other entries of ``palette`` nearest to entry ``index`` in OKLab, nearest
    first."""
    lab = from_srgb(np.asarray(palette, dtype=np.uint8).reshape(-1, 3), "oklab")
    distance = ((lab - lab[index]) ** 2).sum(axis=1)
    distance[index] = np.inf
    return np.argsort(distance, kind="stable")[:min(count, len(lab) - 1)].tolist()


def merged_colour(colours: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean (in OKLab) of ``colours`` ((m, 3) uint8), as sRGB (3,) uint8."""
    lab = from_srgb(np.asarray(colours, dtype=np.uint8).reshape(-1, 3), "oklab")
    w = np.asarray(weights, dtype=np.float64)
    return to_srgb8((lab * w[:, None]).sum(axis=0)[None] / w.sum(), "oklab")[0]

"""Orders for a palette, as designers sort swatches: by share, lightness or hue.

Lightness and hue are OKLab's (L, and the angle of (a, b) in OKLCh), so equal steps look
equal.  Greys have no hue worth the name (an OKLCh chroma below ``GREY_CHROMA``): sorted by
hue, they come first, dark to light, then the colours around the wheel from red.
"""

from __future__ import annotations

import numpy as np

from palettelab.core.color.spaces import from_srgb
from palettelab.core.errors import InputError

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

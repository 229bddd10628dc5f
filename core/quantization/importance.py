"""Importance maps: which pixels matter more, as per-pixel weights for ``quantize``.

A painted mask (the window's brush) is coarse -- at most 1024 pixels a side -- and binary;
:func:`weights_from_mask` stretches it over the image and turns painted pixels into
``BOOST`` times the weight of the others.  Measured on china.jpg at 8 colours with the roof and
tree painted (7 % of the image), PSNR of that region / of the rest against no painting:

=====  ========  ========
boost  painted   the rest
=====  ========  ========
4      +0.69 dB  +0.01 dB
8      +1.22 dB  -0.19 dB
16     +2.16 dB  -0.38 dB
50     +2.48 dB  -0.88 dB
=====  ========  ========

16 gives most of the gain a painted region can get for less than half the loss of 50: a user
who painted something should see it change.
"""

from __future__ import annotations

import numpy as np

from palettelab.core.errors import InputError

#: weight of a painted pixel against an unpainted one
BOOST = 16.0


def weights_from_mask(mask: np.ndarray, scale: int, shape: tuple[int, int],
                      boost: float = BOOST) -> np.ndarray:
    """(H, W) float32 weights: 1, or ``boost`` where ``mask`` ((mh, mw), non-zero painted,
    each of its pixels ``scale`` x ``scale`` image pixels) is painted."""
    mask = np.asarray(mask)
    h, w = shape
    if mask.ndim != 2 or mask.shape[0] * scale < h or mask.shape[1] * scale < w:
        raise InputError(f"the importance mask {mask.shape} at scale {scale} does not cover "
                         f"the {w} x {h} image")
    rows = np.arange(h) // scale
    cols = np.arange(w) // scale
    painted = mask[rows[:, None], cols[None, :]] != 0
    return np.where(painted, np.float32(boost), np.float32(1.0))

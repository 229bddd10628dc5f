"""The colour spaces' constants and codes, without Numba: the kernels of
:mod:`palettelab.core.color.spaces` and the numpy preview (:mod:`palettelab.core.quantization.
preview`) share them.  Kept apart so that the preview, which a first start shows while the
kernels compile, does not import Numba: importing it in the worker while the window drew its
first frame made that frame 100-150 ms late (``bench_first_run.py --stacks``).

The constants are the published ones: the IEC 61966-2-1 sRGB transfer curve and primaries,
Ottosson's M1/M2 matrices (https://bottosson.github.io/posts/oklab/) and the CIE 1976 L*a*b*
definition with the D65 white point of the sRGB standard.
"""

from __future__ import annotations

import numpy as np

from palettelab.core.errors import InputError

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

_LEVELS = np.arange(256) / 255.0
#: the sRGB transfer curve at the 256 levels of 8-bit input (IEC 61966-2-1)
_DECODE_LUT = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)

_LAB_EPS = (6.0 / 29.0) ** 3
_LAB_KAPPA = 3.0 * (6.0 / 29.0) ** 2


def _space_code(space: str) -> int:
    if space not in SPACES:
        raise InputError(f"colour space must be one of {', '.join(SPACES)}, got {space!r}")
    return SPACES.index(space)


def _matrices(code: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward matrices (m1, m2) for a space code; for Lab, m1 maps to XYZ / white."""
    if code == 3:
        return _RGB_TO_XYZ / _WHITE_D65[:, None], np.eye(3)
    return _OK_M1, _OK_M2

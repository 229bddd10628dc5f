"""Quantizing images with soft transparency: a palette whose entries carry alpha.

An image whose alpha has levels between 0 and 255 (anti-aliased logo edges, drop shadows) is
quantized in four dimensions, as libimagequant does, on each distinct RGBA colour's colour
*premultiplied* by its alpha plus its alpha: what is seen of a pixel at alpha 0.1 is a tenth of
its colour, so it barely pulls a centre, and every fully transparent pixel is the same point,
whatever RGB an editor left under it.  The palette is then (k, 3) sRGB plus (k,) alpha, and a
PNG stores it as an 8-bit image with a tRNS chunk (pngquant's output) instead of a 32-bit RGBA
file.

The rows are chosen so that k-means minimises exactly the error
:mod:`palettelab.core.quantization.quality` reports: a pixel seen over black and over white,
squared differences averaged.  For a colour ``v`` at alpha ``a`` (black ``K`` and white ``W``
in the clustering space, ``M`` their midpoint) that mean is ``|da(v) - (W-K) da/2|^2`` terms
which expand to ``|d(a (v - M))|^2 + |W - K|^2 (da)^2 / 4``; so the row is
``(a (v - M), a |W - K| / 2)``.  Premultiplying about black instead (libimagequant's rows,
this module's first version) left the logo of ``resources/logo.png`` 0.9-1.0 dB of PSNR below
pngquant at 8 and 16 colours while its k-means inertia was lower: it minimised a different
error from the one measured.

When the image has fully transparent pixels, one entry is held at alpha 0 for them.  The
clustering reuses the pipeline's k-means++ starts, swap moves and locked-centre Lloyd steps; on
4-D rows Numba reuses the same compiled kernels (their types do not depend on the row width).

Measured (``benchmarks/bench_quantize.py --alpha``): see docs/PERFORMANCE.md, "Soft
transparency".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from palettelab.core.clustering.kmeans import assign
from palettelab.core.color.spaces import from_srgb, to_srgb_float


@functools.cache
def _geometry(space: str) -> tuple[np.ndarray, float]:
    """(midpoint of black and white, half their distance) in ``space``."""
    black, white = from_srgb(np.array([[0, 0, 0], [255, 255, 255]], np.uint8), space)
    return (black + white) / 2.0, float(np.linalg.norm(white - black)) / 2.0


def has_soft_alpha(img: np.ndarray) -> bool:
    """True when ``img`` has an alpha channel with levels other than 0 and 255."""
    if img.ndim != 3 or img.shape[2] != 4:
        return False
    a = img[..., 3]
    return bool(((a != 0) & (a != 255)).any())


@dataclass(frozen=True)
class RGBAColours:
    """An RGBA image's distinct colours: ``rgba`` (m, 4) uint8 (every fully transparent pixel
    is one entry (0, 0, 0, 0)), pixels of each ``counts`` (m,), and ``inverse`` (H*W,) the row
    of each pixel."""

    rgba: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    @property
    def clear(self) -> bool:
        """Whether the image has fully transparent pixels."""
        return bool(self.rgba.shape[0] and self.rgba[0, 3] == 0)


def distinct_rgba(img: np.ndarray) -> RGBAColours:
    """The distinct RGBA colours of ``img`` ((H, W, 4) uint8) with their counts."""
    codes = np.ascontiguousarray(img).reshape(-1, 4).view("<u4").ravel()
    codes = np.where(img[..., 3].ravel() == 0, np.uint32(0), codes)  # hidden RGB is no colour
    unique, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    rgba = unique.astype("<u4").view(np.uint8).reshape(-1, 4)  # code 0 sorts first
    return RGBAColours(rgba, counts, inverse.ravel())


def features(rgba: np.ndarray, space: str) -> np.ndarray:
    """Rows (m, 4) to cluster: ``(a (v - M), a |W - K| / 2)`` for each colour ``v`` at alpha
    ``a`` (see the module docstring)."""
    mid, half = _geometry(space)
    alpha = rgba[:, 3].astype(np.float64) / 255.0
    values = from_srgb(np.ascontiguousarray(rgba[:, :3]), space)
    return np.ascontiguousarray(np.column_stack([(values - mid) * alpha[:, None],
                                                 alpha * half]))


def _alpha_of(rows: np.ndarray, space: str) -> np.ndarray:
    return np.clip(rows[:, 3] / _geometry(space)[1], 0.0, 1.0)


def colours_of(rows: np.ndarray, space: str) -> np.ndarray:
    """Clustered rows (k, 4) back to their colours in ``space`` (k, 3) (a row at alpha 0 has
    no colour: black)."""
    mid = _geometry(space)[0]
    alpha = _alpha_of(rows, space)
    visible = alpha > 1e-9
    values = rows[:, :3] / np.where(visible, alpha, 1.0)[:, None] + mid
    return np.where(visible[:, None], values, from_srgb(np.zeros((1, 3)), space))


def decode(rows: np.ndarray, space: str) -> tuple[np.ndarray, np.ndarray]:
    """Clustered rows (k, 4) to a palette: sRGB (k, 3) uint8 and alpha (k,) uint8."""
    alpha = np.rint(_alpha_of(rows, space) * 255.0).astype(np.uint8)
    rgb = np.clip(np.rint(to_srgb_float(colours_of(rows, space), space)), 0, 255)
    rgb = np.where(alpha[:, None] == 0, 0, rgb).astype(np.uint8)
    return rgb, alpha


def encode(rgb: np.ndarray, alpha: np.ndarray, space: str) -> np.ndarray:
    """A palette (sRGB (k, 3) uint8, alpha (k,) uint8) as rows to match in."""
    return features(np.column_stack([rgb, alpha]).astype(np.uint8), space)


def nearest(colours: RGBAColours, X: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
            space: str) -> np.ndarray:
    """The palette entry nearest to each distinct colour; fully transparent pixels always
    take a fully transparent entry when the palette has one."""
    labels = assign(X, encode(rgb, alpha, space))[0].astype(np.int64)
    clear = np.flatnonzero(alpha == 0)
    if colours.clear and clear.size:
        labels[0] = clear[0]
    return labels

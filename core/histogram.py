"""Weighted colour histograms: what k-means on an image actually clusters.

A photo has millions of pixels but far fewer distinct colours, and pixels of one colour add
nothing but weight.  So pixels are reduced to fine bins (``bits`` per channel, 6 by default:
262,144 possible bins) that carry their pixel count and the *exact* mean colour of their pixels
(not the bin centre), and k-means runs on the occupied bins weighted by their counts.  Cost then
grows with the number of distinct colours, not with megapixels.

When every occupied bin holds a single colour the histogram is exact (``exact=True``): the rows
are the image's distinct colours.  Images with few colours (logos, pixel art, GIFs) stay
lossless that way.

The pass is parallel over a fixed number of row groups, each with its own tables; the sums are
integers, so merging them gives the same result in any order and for any thread count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from core.errors import InputError

#: row groups of the parallel pass: fixed, so that memory use does not depend on the machine
_GROUPS = 4


@dataclass(frozen=True)
class Histogram:
    """Occupied bins: ``colors`` (m, 3) float64 sRGB 0..255 (exact means), ``counts`` (m,)."""

    colors: np.ndarray
    counts: np.ndarray
    exact: bool

    @property
    def n_pixels(self) -> int:
        return int(self.counts.sum())


@njit(parallel=True, cache=True)
def _bin_groups(pix, bits, counts, sums, first, mixed):
    """Fill per-group tables: pixel count, channel sums, first colour seen and a 'mixed' flag."""
    n = pix.shape[0]
    groups = counts.shape[0]
    shift = 8 - bits
    for g in prange(groups):
        start = g * n // groups
        stop = (g + 1) * n // groups
        for i in range(start, stop):
            r = np.int64(pix[i, 0])
            gr = np.int64(pix[i, 1])
            b = np.int64(pix[i, 2])
            key = (((r >> shift) << bits) | (gr >> shift)) << bits | (b >> shift)
            colour = (r << 16) | (gr << 8) | b
            if counts[g, key] == 0:
                first[g, key] = colour
            elif first[g, key] != colour:
                mixed[g, key] = True
            counts[g, key] += 1
            sums[g, key, 0] += r
            sums[g, key, 1] += gr
            sums[g, key, 2] += b


@njit(cache=True)
def _merge(counts, sums, first, mixed):
    """Sum the group tables; returns (counts, sums, any bin mixed) of the occupied bins."""
    groups, n_bins = counts.shape
    total = np.zeros(n_bins, dtype=np.int64)
    tsums = np.zeros((n_bins, 3), dtype=np.int64)
    colour = np.full(n_bins, -1, dtype=np.int64)
    any_mixed = False
    for g in range(groups):
        for key in range(n_bins):
            c = counts[g, key]
            if c == 0:
                continue
            total[key] += c
            for t in range(3):
                tsums[key, t] += sums[g, key, t]
            if mixed[g, key] or (colour[key] >= 0 and colour[key] != first[g, key]):
                any_mixed = True
            colour[key] = first[g, key]
    keys = np.flatnonzero(total)
    return total[keys], tsums[keys], any_mixed


def color_histogram(pixels, bits: int = 6) -> Histogram:
    """Reduce (n, 3) uint8 sRGB pixels to occupied bins with exact mean colours and counts."""
    pix = np.asarray(pixels)
    if pix.ndim != 2 or pix.shape[1] != 3 or pix.dtype != np.uint8:
        raise InputError(f"pixels must be an (n, 3) uint8 array, got {pix.shape} {pix.dtype}")
    if not 1 <= bits <= 6:  # 7 bits would need 2^21-bin tables per group (over 300 MB)
        raise InputError(f"bits must be between 1 and 6, got {bits}")
    if pix.shape[0] == 0:
        raise InputError("the image has no pixels to cluster (all transparent or empty)")
    pix = np.ascontiguousarray(pix)
    n_bins = 1 << (3 * bits)
    counts = np.zeros((_GROUPS, n_bins), dtype=np.int64)
    sums = np.zeros((_GROUPS, n_bins, 3), dtype=np.int64)
    first = np.zeros((_GROUPS, n_bins), dtype=np.int64)
    mixed = np.zeros((_GROUPS, n_bins), dtype=np.bool_)
    _bin_groups(pix, bits, counts, sums, first, mixed)
    total, tsums, any_mixed = _merge(counts, sums, first, mixed)
    colors = tsums / total[:, None]
    return Histogram(colors=colors, counts=total, exact=not any_mixed)

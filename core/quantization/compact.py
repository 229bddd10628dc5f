"""Distinct colours of a small image by sorting, without the 2**24-entry code tables.

The kernels of :mod:`palettelab.core.quantization.histogram` count colours in a 64 MB table
indexed by 24-bit colour code, and the plain remap looks pixels up in a 16 MB one
(:mod:`palettelab.core.quantization._remap_kernels`).  That is the fastest way for a photo of
megapixels, but for a web-sized image the tables cost more than the work: 80 MB of memory
touched, six more kernels to load from the Numba cache, and their page faults.  Below
:data:`SMALL_PIXELS` visible pixels the colours are found by sorting their codes instead, which
also gives each pixel the row of its colour, so the plain remap is one gather.

The result is the same as the tables': the rows are in increasing code order (what
:class:`~palettelab.core.quantization.histogram.DistinctColors` promises), the counts are the
same integers, so everything downstream -- palette, indices, bytes written -- is identical;
``tests/test_quantize_compact.py`` checks it against the table path.

Measured here (2 cores shared with other jobs, ``palettelab quantize`` of the 0.27 MP
``china.jpg``, warm Numba cache): sorting its 96,615 colours took 21-31 ms, about what loading
the six table kernels from the cache took (4-10 ms each); the wall time of the whole run was
unchanged within the noise, and its peak RSS fell from 248-261 MB to 168 MB.
"""

from __future__ import annotations

import numpy as np

from palettelab.core.quantization.histogram import DistinctColors

#: images with at most this many visible pixels take the sorting path (12 MP photos keep the
#: tables: sorting 12M codes takes about a second, the table pass 30 ms)
SMALL_PIXELS = 1 << 20

#: the empty stand-in for the code table, which the sorting path does not build
_NO_TABLE = np.empty(0, dtype=np.int32)


def _codes(pixels: np.ndarray) -> np.ndarray:
    """24-bit code of each (n, 3) uint8 pixel (the order of
    :func:`palettelab.core.color.codes.color_code`)."""
    return (pixels[:, 0].astype(np.uint32) << 16) | (pixels[:, 1].astype(np.uint32) << 8) \
        | pixels[:, 2]


def _colours(codes: np.ndarray) -> np.ndarray:
    """(m, 3) uint8 colours of 24-bit codes."""
    colors = np.empty((codes.size, 3), dtype=np.uint8)
    colors[:, 0] = codes >> 16
    colors[:, 1] = (codes >> 8) & 255
    colors[:, 2] = codes & 255
    return colors


def distinct_sorted(pixels: np.ndarray) -> tuple[DistinctColors, np.ndarray]:
    """The distinct colours of (n, 3) uint8 pixels with their counts, and each pixel's row.

    The returned ``DistinctColors.table`` is empty: build one with :func:`code_table` where a
    kernel needs it (dithering).
    """
    unique, rows, counts = np.unique(_codes(pixels), return_inverse=True, return_counts=True)
    return (DistinctColors(_colours(unique), counts.astype(np.int64), _NO_TABLE),
            rows.reshape(-1).astype(np.int32))


def code_table(colors: np.ndarray) -> np.ndarray:
    """A (2**24,) int32 table whose entry at each colour's code is its row, as the dithering
    kernels read it.  ``np.zeros`` maps the pages lazily, so only those holding a colour are
    touched."""
    table = np.zeros(1 << 24, dtype=np.int32)
    table[_codes(colors)] = np.arange(colors.shape[0], dtype=np.int32)
    return table


def gather(img: np.ndarray, rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Palette index of every pixel of (H, W, 3|4) uint8 ``img``: ``labels`` of the row of its
    colour (``rows``: one per visible pixel, in raster order); 0 where fully transparent."""
    chosen = np.asarray(labels).astype(np.uint8)[rows]
    if img.shape[2] == 3:
        return chosen.reshape(img.shape[:2])
    out = np.zeros(img.shape[:2], dtype=np.uint8)
    out[img[..., 3] > 0] = chosen
    return out


def merge(colors: list[np.ndarray], counts: list[np.ndarray]) -> DistinctColors:
    """One set of distinct colours (rows in code order, counts summed) from several."""
    unique, rows = np.unique(np.concatenate([_codes(c) for c in colors]), return_inverse=True)
    total = np.bincount(rows.reshape(-1), weights=np.concatenate(counts).astype(np.float64),
                        minlength=unique.size)
    return DistinctColors(_colours(unique), np.rint(total).astype(np.int64), _NO_TABLE)

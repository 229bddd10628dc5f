"""Weighted colour histograms: what k-means on an image actually clusters.

A photo has millions of pixels but far fewer distinct colours, and pixels of one colour add
nothing but weight.  So the pixels are first reduced to their exact distinct colours with their
pixel counts (:func:`distinct_colors`, one pass over the pixels), and those are grouped further
into fine bins (``bits`` per channel: :func:`bin_rows`) that carry their pixel count and the
*exact* mean of their colours, not the bin centre (:func:`group_means`).  k-means then runs on
the occupied bins weighted by their counts: its cost grows with the number of distinct colours,
not with megapixels.

The distinct-colour pass also leaves a table from 24-bit colour code to row, so that remapping
every pixel afterwards is one table lookup per pixel.  The pass splits the *colour codes* (not
the pixels) between threads, so every table entry is written by one thread only; counts are
integers and rows are numbered in colour-code order, so the result is the same for any thread
count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from palettelab.core import numba_config  # noqa: F401  (kernel settings, before any kernel)
from palettelab.core.buffers import BufferPool
from palettelab.core.color.codes import color_code
from palettelab.core.errors import InputError

#: the colour-code table is scanned in blocks of 2**12 codes, skipping blocks no pixel touched
_BLOCK_BITS = 12
_BLOCKS = 1 << (24 - _BLOCK_BITS)

#: :func:`palettelab.core.color.codes.color_code` for kernels (LLVM inlines it): the index of
#: a colour in the code tables here and in the remap kernels
jit_color_code = njit(forceinline=True, _nrt=False)(color_code)


@dataclass(frozen=True)
class DistinctColors:
    """The distinct colours of some pixels, in increasing 24-bit code order.

    ``colors`` (m, 3) uint8 sRGB, ``counts`` (m,) int64 pixels of each, and ``table``: a
    (2**24,) int32 array whose entry at a colour's code (:mod:`palettelab.core.color.codes`) is
    the row of that colour (entries of colours that do not occur are meaningless).
    """

    colors: np.ndarray
    counts: np.ndarray
    table: np.ndarray


@njit(nogil=True, parallel=True, cache=True)
def _count_codes(pix, table, touched, parts):
    """Count every colour code; part p owns the codes whose red value falls in its p-th range.

    ``touched[code >> 12]`` marks the 4096-code blocks that hold any colour, so that the later
    scans skip the (for most images, many) empty blocks of the 2**24-entry table.
    """
    n = pix.shape[0]
    for p in prange(parts):
        for i in range(n):
            r = np.int32(pix[i, 0])
            if (r * parts) >> 8 != p:
                continue
            code = jit_color_code(r, pix[i, 1], pix[i, 2])
            table[code] += 1
            touched[code >> _BLOCK_BITS] = True


@njit(nogil=True, parallel=True, cache=True)
def _occupied_per_block(table, touched, out):
    size = 1 << _BLOCK_BITS
    for b in prange(out.shape[0]):
        c = 0
        if touched[b]:
            for j in range(b * size, (b + 1) * size):
                if table[j] != 0:
                    c += 1
        out[b] = c


@njit(nogil=True, parallel=True, cache=True)
def _number_colours(table, start, per_block, colors, counts):
    """Write each occupied code's colour and count at its row; replace its count by the row."""
    size = 1 << _BLOCK_BITS
    for b in prange(start.shape[0]):
        if per_block[b] == 0:
            continue
        row = start[b]
        for j in range(b * size, (b + 1) * size):
            c = table[j]
            if c != 0:  # j is the colour's code: split it into channels
                colors[row, 0] = j >> 16
                colors[row, 1] = (j >> 8) & 255
                colors[row, 2] = j & 255
                counts[row] = c
                table[j] = row
                row += 1


def _check_pixels(pixels) -> np.ndarray:
    pix = np.asarray(pixels)
    if pix.ndim != 2 or pix.shape[1] != 3 or pix.dtype != np.uint8:
        raise InputError(f"pixels must be an (n, 3) uint8 array, got {pix.shape} {pix.dtype}")
    if pix.shape[0] == 0:
        raise InputError("the image has no pixels to cluster (all transparent or empty)")
    if pix.shape[0] >= 2**31:
        raise InputError(f"too many pixels ({pix.shape[0]}); at most 2**31 - 1 are supported")
    return np.ascontiguousarray(pix)


@njit(nogil=True, parallel=True, cache=True)
def _zero_blocks(table, touched):
    size = 1 << _BLOCK_BITS
    for b in prange(touched.shape[0]):
        if touched[b]:
            table[b * size:(b + 1) * size] = 0
            touched[b] = False


def _new_tables() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(1 << 24, dtype=np.int32), np.zeros(_BLOCKS, dtype=np.bool_)


#: a zeroed code table and its block flags for :func:`distinct_colors`, reused between calls
#: (``with TABLES.lend() as tables:``; the result's ``table`` is valid inside the block only)
TABLES = BufferPool(_new_tables, reset=lambda tables: _zero_blocks(*tables))


def distinct_colors(pixels, tables: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> DistinctColors:
    """Reduce (n, 3) uint8 sRGB pixels to their distinct colours with pixel counts.

    ``tables``: a zeroed (2**24,) int32 table and (4096,) bool block flags to work in, as lent
    by :data:`TABLES` (the result's ``table`` is then valid only while they are lent); by
    default new ones are allocated.
    """
    pix = _check_pixels(pixels)
    table, touched = _new_tables() if tables is None else tables
    _count_codes(pix, table, touched, numba.get_num_threads())
    per_block = np.empty(_BLOCKS, dtype=np.int64)
    _occupied_per_block(table, touched, per_block)
    start = np.zeros(_BLOCKS, dtype=np.int64)
    np.cumsum(per_block[:-1], out=start[1:])
    m = int(per_block.sum())
    colors = np.empty((m, 3), dtype=np.uint8)
    counts = np.empty(m, dtype=np.int64)
    _number_colours(table, start, per_block, colors, counts)
    return DistinctColors(colors=colors, counts=counts, table=table)


@njit(nogil=True, cache=True)
def _group_sums(group, values, weights, n_groups):
    """Per group: the weight and the weighted sum of the value rows (sequential, deterministic)."""
    d = values.shape[1]
    wsum = np.zeros(n_groups)
    sums = np.zeros((n_groups, d))
    for i in range(group.shape[0]):
        g = group[i]
        w = weights[i]
        wsum[g] += w
        for t in range(d):
            sums[g, t] += w * values[i, t]
    return wsum, sums


def group_means(group: np.ndarray, values: np.ndarray, weights: np.ndarray,
                n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of ``values`` rows per group (0..n_groups-1, all non-empty) and its weight."""
    wsum, sums = _group_sums(np.ascontiguousarray(group, dtype=np.int64),
                             np.ascontiguousarray(values, dtype=np.float64),
                             np.ascontiguousarray(weights, dtype=np.float64), n_groups)
    return sums / wsum[:, None], wsum


@njit(nogil=True, cache=True)
def _number_bins(keys, n_bins):
    """Row of each key's bin, bins numbered in increasing key order; and each bin's key."""
    row_of_key = np.full(n_bins, -1, dtype=np.int64)
    for i in range(keys.shape[0]):
        row_of_key[keys[i]] = 0
    m = 0
    for key in range(n_bins):
        if row_of_key[key] == 0:
            row_of_key[key] = m
            m += 1
    key_of_bin = np.empty(m, dtype=np.int64)
    rows = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        rows[i] = row_of_key[keys[i]]
        key_of_bin[rows[i]] = keys[i]
    return rows, key_of_bin


@njit(nogil=True, cache=True)
def _colour_keys(colors, bits):
    shift = 8 - bits
    keys = np.empty(colors.shape[0], dtype=np.int64)
    for i in range(colors.shape[0]):
        keys[i] = ((np.int64(colors[i, 0]) >> shift) << (2 * bits)
                   | (np.int64(colors[i, 1]) >> shift) << bits
                   | (np.int64(colors[i, 2]) >> shift))
    return keys


def bin_rows(colors: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin row of each uint8 colour (bins numbered in key order) and the key of each bin."""
    if not 1 <= bits <= 8:
        raise InputError(f"bits must be between 1 and 8, got {bits}")
    return _number_bins(_colour_keys(colors, bits), 1 << (3 * bits))


def coarser_keys(keys: np.ndarray, bits: int, drop: int) -> np.ndarray:
    """Keys of ``bits``-bit bins in the bins of ``bits - drop`` bits that contain them."""
    mask = (1 << bits) - 1
    r, g, b = keys >> (2 * bits), (keys >> bits) & mask, keys & mask
    fewer = bits - drop
    return ((r >> drop) << (2 * fewer)) | ((g >> drop) << fewer) | (b >> drop)


def renumber(keys: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows for arbitrary bin keys (numbered in key order) and the key of each row."""
    return _number_bins(keys, 1 << (3 * bits))

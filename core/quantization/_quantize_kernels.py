"""Numba kernels of the quantizer: exact Lloyd passes over distinct colours grouped in bins.

A photo's distinct colours (up to millions) are grouped in fine bins.  A bin whose colours all
lie within ``radius`` of its mean, with its nearest centre closer than the second nearest by
more than ``2 * radius``, lies wholly in one Voronoi cell (triangle inequality): all its colours
take that label, and its exact weighted sum and scatter enter the M-step and the inertia at
once.  Only bins straddling a cell boundary are visited colour by colour.  A pass is therefore
exact -- the same labels and sums as a pass over every distinct colour -- at a fraction of the
cost.

Passes are parallel over fixed chunks of bins with per-chunk partial sums reduced in order, so
results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core import numba_config  # noqa: F401  (kernel settings, before any kernel)


@njit(nogil=True, cache=True)
def order_by_bin(row_bin, n_bins):
    """Counting sort of colour rows by bin: (start (n_bins + 1,), members (m,))."""
    start = np.zeros(n_bins + 1, dtype=np.int64)
    for i in range(row_bin.shape[0]):
        start[row_bin[i] + 1] += 1
    for b in range(n_bins):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    members = np.empty(row_bin.shape[0], dtype=np.int64)
    for i in range(row_bin.shape[0]):
        b = row_bin[i]
        members[fill[b]] = i
        fill[b] += 1
    return start, members


@njit(nogil=True, parallel=True, cache=True)
def bin_geometry(values, weights, start, members, means, wsum, radius, scatter):
    """Per bin: weighted mean, weight, radius around the mean and weighted scatter about it."""
    d = values.shape[1]
    for b in prange(start.shape[0] - 1):
        w_b = 0.0
        for t in range(d):
            means[b, t] = 0.0
        for j in range(start[b], start[b + 1]):
            i = members[j]
            w_b += weights[i]
            for t in range(d):
                means[b, t] += weights[i] * values[i, t]
        for t in range(d):
            means[b, t] /= w_b
        wsum[b] = w_b
        r2 = 0.0
        s = 0.0
        for j in range(start[b], start[b + 1]):
            i = members[j]
            dist = 0.0
            for t in range(d):
                diff = values[i, t] - means[b, t]
                dist += diff * diff
            r2 = max(r2, dist)
            s += weights[i] * dist
        radius[b] = np.sqrt(r2)
        scatter[b] = s


@njit(forceinline=True, _nrt=False)
def _sq(x, row, C, j):
    """Squared distance of ``x[row]`` to centre ``C[j]``."""
    dist = 0.0
    for t in range(C.shape[1]):
        diff = x[row, t] - C[j, t]
        dist += diff * diff
    return dist


@njit(forceinline=True, _nrt=False)
def _distances(x, row, C, out):
    """Squared distances of ``x[row]`` to every centre into ``out``; the nearest's index."""
    best = 0
    for j in range(C.shape[0]):
        dist = _sq(x, row, C, j)
        out[j] = dist
        if dist < out[best]:
            best = j
    return best


@njit(forceinline=True, _nrt=False)
def _nearest_of(x, row, C, cand, n_cand):
    """(index, squared distance) of the nearest of the candidate centres ``cand[:n_cand]``."""
    best = cand[0]
    best_d = np.inf
    for q in range(n_cand):
        j = cand[q]
        dist = _sq(x, row, C, j)
        if dist < best_d:
            best_d = dist
            best = j
    return best, best_d


@njit(nogil=True, parallel=True, cache=True)
def lloyd_pass(values, weights, start, members, means, wsum, radius, scatter, C, labels,
               sums, wsums, inertia, changed, chunk):
    """One exact E-step over the distinct colours, with the M-step sums and the inertia.

    ``labels`` (per colour) is updated in place; per chunk of bins: ``sums`` (chunks, k, d),
    ``wsums`` (chunks, k), ``inertia`` (chunks,), ``changed`` (chunks,) labels that changed.
    A colour of a boundary bin is compared only with the centres that can be nearest to some
    point of the bin: those within ``nearest + 2 * radius`` of the bin's mean.
    """
    n_bins = start.shape[0] - 1
    k, d = C.shape
    for c in prange(sums.shape[0]):
        for j in range(k):
            wsums[c, j] = 0.0
            for t in range(d):
                sums[c, j, t] = 0.0
        dist = np.empty(k)
        cand = np.empty(k, dtype=np.int64)
        acc = 0.0
        n_changed = 0
        for b in range(c * chunk, min(n_bins, (c + 1) * chunk)):
            best = _distances(means, b, C, dist)
            reach = np.sqrt(dist[best]) + 2.0 * radius[b]
            n_cand = 0
            for j in range(k):
                if j == best or dist[j] <= reach * reach:
                    cand[n_cand] = j
                    n_cand += 1
            if n_cand == 1:  # the whole bin lies in one Voronoi cell
                wsums[c, best] += wsum[b]
                for t in range(d):
                    sums[c, best, t] += wsum[b] * means[b, t]
                acc += wsum[b] * dist[best] + scatter[b]
                for m in range(start[b], start[b + 1]):
                    i = members[m]
                    if labels[i] != best:
                        labels[i] = best
                        n_changed += 1
                continue
            for m in range(start[b], start[b + 1]):
                i = members[m]
                lab, e1 = _nearest_of(values, i, C, cand, n_cand)
                if labels[i] != lab:
                    labels[i] = lab
                    n_changed += 1
                wsums[c, lab] += weights[i]
                for t in range(d):
                    sums[c, lab, t] += weights[i] * values[i, t]
                acc += weights[i] * e1
        inertia[c] = acc
        changed[c] = n_changed


@njit(nogil=True, parallel=True, cache=True)
def _two_nearest_rows(X, C, labels, d1, d2):
    k = C.shape[0]
    for i in prange(X.shape[0]):
        best = 0
        first = np.inf
        second = np.inf
        for j in range(k):
            dist = _sq(X, i, C, j)
            if dist < first:
                second = first
                first = dist
                best = j
            elif dist < second:
                second = dist
        labels[i] = best
        d1[i] = first
        d2[i] = second


def two_nearest(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest centre of every row, its squared distance and the second-nearest's (rowwise:
    no reduction, so any thread count gives the same result)."""
    n = X.shape[0]
    labels, d1, d2 = np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
    _two_nearest_rows(np.ascontiguousarray(X, dtype=np.float64),
                      np.ascontiguousarray(C, dtype=np.float64), labels, d1, d2)
    return labels, d1, d2

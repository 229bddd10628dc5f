"""Numba kernels of t-SNE (:mod:`palettelab.core.clustering.tsne`).

Every parallel loop runs over rows, and each row's sums are its own (no reduction across
threads), so the embedding does not depend on the thread count.  The repulsion is exact: for
each point, a loop over every other point.  That is O(n^2) a step, which for the data sets the
app embeds (the digits' 1,797 rows, up to ``MAX_POINTS``) beats building a tree each step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core import numba_config  # noqa: F401  (kernel settings, before any kernel)
from palettelab.core.numba_config import FASTMATH

#: binary-search steps for each point's bandwidth, and the entropy tolerance
_SEARCH_STEPS = 100
_SEARCH_TOL = 1e-5


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def nearest_neighbours(X, k, indices, distances):
    """The ``k`` nearest other rows of every row of X: ``indices`` (n, k) int64 and their
    squared distances ``distances`` (n, k), nearest first (exact, brute force)."""
    n, d = X.shape
    for i in prange(n):
        row = np.empty(n)
        for j in range(n):
            s = 0.0
            for t in range(d):
                diff = X[i, t] - X[j, t]
                s += diff * diff
            row[j] = s
        row[i] = np.inf
        order = np.argsort(row, kind="mergesort")[:k]
        for m in range(k):
            indices[i, m] = order[m]
            distances[i, m] = row[order[m]]


@njit(nogil=True, parallel=True, cache=True)
def conditional_affinities(distances, perplexity, P):
    """Row-wise Gaussian affinities P[i, m] (summing to 1) over the neighbours' squared
    ``distances``, each row's bandwidth found by binary search so that its perplexity is
    ``perplexity``."""
    n, k = distances.shape
    target = np.log(perplexity)
    for i in prange(n):
        beta, low, high = 1.0, -np.inf, np.inf
        shift = distances[i, 0]  # the nearest: keeps the exponentials in range
        for _ in range(_SEARCH_STEPS):
            total = 0.0
            weighted = 0.0
            for m in range(k):
                p = np.exp(-(distances[i, m] - shift) * beta)
                P[i, m] = p
                total += p
                weighted += (distances[i, m] - shift) * p
            if total == 0.0:
                total = 1e-300
            entropy = np.log(total) + beta * weighted / total
            if abs(entropy - target) < _SEARCH_TOL:
                break
            if entropy > target:
                low = beta
                beta = beta * 2.0 if high == np.inf else (beta + high) / 2.0
            else:
                high = beta
                beta = beta / 2.0 if low == -np.inf else (beta + low) / 2.0
        for m in range(k):
            P[i, m] /= total


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def gradient(Y, indptr, indices, values, exaggeration, grad, row_z):
    """The t-SNE gradient at Y (n, 2) into ``grad``: attraction along the sparse joint
    affinities (CSR ``indptr``, ``indices``, ``values``) times ``exaggeration``, repulsion from
    every other point.  ``row_z`` (n,) receives each row's share of the normaliser Z.

    The repulsion loop runs over every j, i itself included (it adds exactly 1 to the row's
    Z and nothing to its force; the 1 is taken off after), on the two coordinates as separate
    contiguous arrays: a loop without a branch, which LLVM vectorises (measured on the digits:
    1.9x faster than skipping j == i on interleaved coordinates)."""
    n = Y.shape[0]
    ys0 = np.ascontiguousarray(Y[:, 0])
    ys1 = np.ascontiguousarray(Y[:, 1])
    rep = np.empty((n, 2))
    for i in prange(n):
        yi0, yi1 = ys0[i], ys1[i]
        z = 0.0
        r0 = 0.0
        r1 = 0.0
        for j in range(n):
            d0 = yi0 - ys0[j]
            d1 = yi1 - ys1[j]
            q = 1.0 / (1.0 + d0 * d0 + d1 * d1)
            z += q
            q2 = q * q
            r0 += q2 * d0
            r1 += q2 * d1
        row_z[i] = z - 1.0
        rep[i, 0] = r0
        rep[i, 1] = r1
        a0 = 0.0
        a1 = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            d0 = yi0 - ys0[j]
            d1 = yi1 - ys1[j]
            q = 1.0 / (1.0 + d0 * d0 + d1 * d1)
            a0 += values[e] * q * d0
            a1 += values[e] * q * d1
        grad[i, 0] = a0 * exaggeration
        grad[i, 1] = a1 * exaggeration
    total = 0.0
    for i in range(n):  # in row order: the same sum on any thread count
        total += row_z[i]
    for i in prange(n):
        grad[i, 0] = 4.0 * (grad[i, 0] - rep[i, 0] / total)
        grad[i, 1] = 4.0 * (grad[i, 1] - rep[i, 1] / total)
    return total


@njit(nogil=True, parallel=True, cache=True)
def descend(Y, grad, update, gains, momentum, learning_rate):
    """One step of gradient descent with momentum and per-coordinate gains (delta-bar-delta,
    as van der Maaten's and scikit-learn's t-SNE)."""
    n = Y.shape[0]
    for i in prange(n):
        for t in range(2):
            same = (grad[i, t] > 0.0) == (update[i, t] > 0.0)
            gain = gains[i, t] * 0.8 if same else gains[i, t] + 0.2
            gain = max(gain, 0.01)
            gains[i, t] = gain
            update[i, t] = momentum * update[i, t] - learning_rate * gain * grad[i, t]
            Y[i, t] += update[i, t]


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def kl_divergence(Y, indptr, indices, values, row_z):
    """KL(P || Q) of the embedding, with Q's normaliser summed from ``row_z`` (from
    :func:`gradient` at the same Y)."""
    n = Y.shape[0]
    total = 0.0
    for i in range(n):
        total += row_z[i]
    parts = np.zeros(n)
    for i in prange(n):
        s = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            p = values[e]
            if p > 0.0:
                j = indices[e]
                d0 = Y[i, 0] - Y[j, 0]
                d1 = Y[i, 1] - Y[j, 1]
                q = 1.0 / (1.0 + d0 * d0 + d1 * d1) / total
                s += p * np.log(p / max(q, 1e-300))
        parts[i] = s
    kl = 0.0
    for i in range(n):
        kl += parts[i]
    return kl

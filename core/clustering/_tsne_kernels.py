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


@njit(forceinline=True, _nrt=False)
def _keep_nearest(dist, j, count, best_d, best_j):
    """Insert (dist, j) into the ``count`` nearest so far, sorted by distance and then index
    (j is larger than every index kept); returns the new count (at most ``best_d.shape[0]``)."""
    k = best_d.shape[0]
    if count == k and not dist < best_d[k - 1]:
        return count
    p = min(count, k - 1)
    while p > 0 and best_d[p - 1] > dist:
        best_d[p] = best_d[p - 1]
        best_j[p] = best_j[p - 1]
        p -= 1
    best_d[p] = dist
    best_j[p] = j
    return min(count + 1, k)


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def nearest_neighbours(X, indices, distances):
    """The k nearest other rows of every row of X: ``indices`` (n, k) int64 and their
    squared distances ``distances`` (n, k), nearest first, ties to the lower index (exact,
    brute force).  The k nearest are kept while scanning, as a stable ``argsort`` of the row
    would order them: the same result, without compiling Numba's merge sort (2.3 s)."""
    n, d = X.shape
    for i in prange(n):
        best_d = distances[i]
        best_j = indices[i]
        count = 0
        for j in range(n):
            s = np.inf
            if j != i:
                s = 0.0
                for t in range(d):
                    diff = X[i, t] - X[j, t]
                    s += diff * diff
            count = _keep_nearest(s, j, count, best_d, best_j)


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
def exact_repulsion(Y, rep, row_z):
    """Each row's repulsion from every other point into ``rep`` (n, 2), and its share of the
    normaliser Z into ``row_z`` (n,) (:func:`combine` makes the gradient of them).

    The loop runs over every j, i itself included (it adds exactly 1 to the row's Z and
    nothing to its force; the 1 is taken off after), on the two coordinates as separate
    contiguous arrays: a loop without a branch, which LLVM vectorises (measured on the digits:
    1.9x faster than skipping j == i on interleaved coordinates)."""
    n = Y.shape[0]
    ys0 = np.ascontiguousarray(Y[:, 0])
    ys1 = np.ascontiguousarray(Y[:, 1])
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


def gradient(Y, indptr, indices, values, exaggeration, grad, row_z) -> float:
    """The exact t-SNE gradient at Y into ``grad`` (:func:`exact_repulsion`, then
    :func:`combine`); ``row_z`` receives each row's share of Z, which is returned."""
    rep = np.empty((Y.shape[0], 2))
    exact_repulsion(Y, rep, row_z)
    return combine(Y, indptr, indices, values, exaggeration, rep, row_z, grad)


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


# --- Barnes-Hut: the repulsion of far groups of points through their centre of mass ----------

_LEAF = -1  # a child slot with no node
_MAX_DEPTH = 40  # coincident points share a leaf below this depth


@njit(nogil=True, cache=True)
def build_quadtree(Y, child, mass, com_x, com_y, size, point):
    """A quadtree of the rows of Y (n, 2), built by inserting them in row order (so the same
    tree on any thread count): ``child`` (nodes, 4) child node per quadrant or -1, ``mass``
    points below, their centre of mass (``com_x``, ``com_y``), ``size`` the cell's side,
    ``point`` the row of a leaf holding one (-1 otherwise).  Returns the number of nodes, or
    -1 when the arrays are too small (the caller grows them and builds again)."""
    n = Y.shape[0]
    x0, x1 = Y[:, 0].min(), Y[:, 0].max()
    y0, y1 = Y[:, 1].min(), Y[:, 1].max()
    side = max(x1 - x0, y1 - y0) * 1.0001 + 1e-12
    cx0 = np.empty(child.shape[0])
    cy0 = np.empty(child.shape[0])
    nodes = 1
    child[0, :] = _LEAF
    mass[0], com_x[0], com_y[0], size[0], point[0] = 0.0, 0.0, 0.0, side, -1
    cx0[0], cy0[0] = x0, y0
    for i in range(n):
        px, py = Y[i, 0], Y[i, 1]
        node = 0
        depth = 0
        while True:
            # the node's centre of mass takes the new point
            m = mass[node]
            com_x[node] = (com_x[node] * m + px) / (m + 1.0)
            com_y[node] = (com_y[node] * m + py) / (m + 1.0)
            mass[node] = m + 1.0
            if m == 0.0:  # an empty leaf: the point settles here
                point[node] = i
                break
            if point[node] >= 0:  # a leaf with one point: split it, unless too deep
                if depth >= _MAX_DEPTH:
                    break  # coincident points: the leaf just counts them
                if nodes + 2 > child.shape[0]:
                    return -1
                old = point[node]
                point[node] = -1
                half = size[node] / 2.0
                q = (1 if Y[old, 0] >= cx0[node] + half else 0) \
                    + (2 if Y[old, 1] >= cy0[node] + half else 0)
                c = nodes
                nodes += 1
                child[c, :] = _LEAF
                mass[c], com_x[c], com_y[c] = 1.0, Y[old, 0], Y[old, 1]
                size[c], point[c] = half, old
                cx0[c] = cx0[node] + (half if q & 1 else 0.0)
                cy0[c] = cy0[node] + (half if q & 2 else 0.0)
                child[node, q] = c
            half = size[node] / 2.0
            q = (1 if px >= cx0[node] + half else 0) + (2 if py >= cy0[node] + half else 0)
            if child[node, q] == _LEAF:
                if nodes + 1 > child.shape[0]:
                    return -1
                c = nodes
                nodes += 1
                child[c, :] = _LEAF
                mass[c], com_x[c], com_y[c], size[c], point[c] = 0.0, 0.0, 0.0, half, -1
                cx0[c] = cx0[node] + (half if q & 1 else 0.0)
                cy0[c] = cy0[node] + (half if q & 2 else 0.0)
                child[node, q] = c
            node = child[node, q]
            depth += 1
    return nodes


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def barnes_hut_repulsion(Y, child, mass, com_x, com_y, size, point, theta2, rep, row_z):
    """Each row's repulsion ``rep`` (n, 2) and its share of Z (``row_z``), with a cell of the
    tree taken as one body of its mass where its side over the distance is under theta."""
    n = Y.shape[0]
    for i in prange(n):
        stack = np.empty(4 * _MAX_DEPTH + 8, dtype=np.int64)
        stack[0] = 0
        top = 1
        z = 0.0
        r0 = 0.0
        r1 = 0.0
        while top > 0:
            top -= 1
            node = stack[top]
            m = mass[node]
            if m == 0.0 or point[node] == i:
                continue
            d0 = Y[i, 0] - com_x[node]
            d1 = Y[i, 1] - com_y[node]
            d2 = d0 * d0 + d1 * d1
            leaf = child[node, 0] == _LEAF and child[node, 1] == _LEAF \
                and child[node, 2] == _LEAF and child[node, 3] == _LEAF
            if leaf or size[node] * size[node] < theta2 * d2:
                if leaf and point[node] < 0 and d2 == 0.0:
                    m -= 1.0  # coincident points: this one is among them
                q = 1.0 / (1.0 + d2)
                z += m * q
                q2 = m * q * q
                r0 += q2 * d0
                r1 += q2 * d1
            else:
                for c in range(4):
                    if child[node, c] != _LEAF:
                        stack[top] = child[node, c]
                        top += 1
        row_z[i] = z
        rep[i, 0] = r0
        rep[i, 1] = r1


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def combine(Y, indptr, indices, values, exaggeration, rep, row_z, grad):
    """The t-SNE gradient into ``grad`` from the repulsion (exact or Barnes-Hut: ``rep``,
    ``row_z``) and the attraction along the sparse joint affinities (CSR ``indptr``,
    ``indices``, ``values``) times ``exaggeration``; returns Z."""
    n = Y.shape[0]
    total = 0.0
    for i in range(n):  # in row order: the same sum on any thread count
        total += row_z[i]
    for i in prange(n):
        a0 = 0.0
        a1 = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            d0 = Y[i, 0] - Y[j, 0]
            d1 = Y[i, 1] - Y[j, 1]
            q = 1.0 / (1.0 + d0 * d0 + d1 * d1)
            a0 += values[e] * q * d0
            a1 += values[e] * q * d1
        grad[i, 0] = 4.0 * (exaggeration * a0 - rep[i, 0] / total)
        grad[i, 1] = 4.0 * (exaggeration * a1 - rep[i, 1] / total)
    return total

"""Numba compute kernels behind :mod:`core.kmeans`.

Every parallel kernel walks the rows in fixed-size chunks (``chunk`` rows, chosen by the caller
independently of the thread count) and writes one partial result per chunk; the chunks are then
reduced sequentially in chunk order.  That keeps results bit-identical whatever
``NUMBA_NUM_THREADS`` is, and there is never a racy reduction into a shared array.

Sums of coordinates and weights are accumulated in float64 whatever the input dtype; distances are
computed in float64 from the input values (a float32 array is never up-cast as a whole).

The only ``fastmath`` flags used are re-association and contraction on the distance loops, which
lets LLVM vectorise the sum over features; it changes distances by a few ulps at most (no
assumptions about NaN or infinities are made, input is validated before it gets here).
"""

import os

import numba
import numpy as np
from numba import njit, prange

# Where libgomp is installed numba picks its OpenMP layer, and on this kind of machine every
# parallel launch then costs about 8 ms (thread wake-up) against 0.1 ms with the workqueue layer:
# that alone made an iteration on small data 40x slower.  Workqueue must not be entered from two
# Python threads at once; only the app's worker thread runs kernels.  An explicit
# NUMBA_THREADING_LAYER from the user still wins.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

_FAST = {"reassoc", "contract"}


@njit(inline="always", fastmath=_FAST, cache=True)
def _sqdist(X, i, C, j):
    s = 0.0
    for t in range(X.shape[1]):
        diff = np.float64(X[i, t]) - np.float64(C[j, t])
        s += diff * diff
    return s


@njit(inline="always", cache=True)
def _accumulate(X, w, i, a, sums, wsums):
    wi = np.float64(w[i])
    wsums[a] += wi
    for t in range(X.shape[1]):
        sums[a, t] += wi * np.float64(X[i, t])


@njit(inline="always", cache=True)
def _all_sqdist(X, i, CT, dist):
    """Squared distances from row i to every centre; ``CT`` is the (d, k) float64 transpose.

    The inner loop runs over centres, so it vectorises without re-association.
    """
    k = CT.shape[1]
    x0 = np.float64(X[i, 0])
    for j in range(k):
        diff = x0 - CT[0, j]
        dist[j] = diff * diff
    for t in range(1, X.shape[1]):
        xt = np.float64(X[i, t])
        for j in range(k):
            diff = xt - CT[t, j]
            dist[j] += diff * diff


@njit(inline="always", cache=True)
def _argmin(dist):
    best = 0
    best_d = dist[0]
    for j in range(1, dist.shape[0]):
        if dist[j] < best_d:
            best_d = dist[j]
            best = j
    return best, best_d


@njit(parallel=True, fastmath=_FAST, cache=True)
def lloyd_pass(X, w, CT, labels, sums, wsums, changed, chunk):
    """E-step for every row, fused with the per-chunk sums of the M-step.

    ``sums[c]``/``wsums[c]`` receive the weighted coordinate sums and weights per cluster of
    chunk ``c``; ``changed[c]`` how many labels of that chunk changed.
    """
    n = X.shape[0]
    k = CT.shape[1]
    n_chunks = sums.shape[0]
    for c in prange(n_chunks):
        s = sums[c]
        ws = wsums[c]
        s[:] = 0.0
        ws[:] = 0.0
        dist = np.empty(k)
        n_changed = 0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            _all_sqdist(X, i, CT, dist)
            best, _ = _argmin(dist)
            if labels[i] != best:
                n_changed += 1
                labels[i] = best
            _accumulate(X, w, i, best, s, ws)
        changed[c] = n_changed


@njit(parallel=True, fastmath=_FAST, cache=True)
def hamerly_pass(X, w, C, CT, half_sep, move, labels, upper, lower, sums, wsums, changed, chunk):
    """One Hamerly iteration: the same labels as :func:`lloyd_pass`, fewer distances.

    ``upper[i]`` bounds the distance from row i to its centre from above, ``lower[i]`` the distance
    to every other centre from below.  ``move`` is how far each centre moved in the last M-step
    (zeros, with ``upper = inf``, on the first pass).  A row whose upper bound is below both its
    lower bound and half the distance from its centre to the nearest other centre cannot change
    cluster, so no distance is computed for it.
    """
    n = X.shape[0]
    k = C.shape[0]
    n_chunks = sums.shape[0]
    # the largest and second-largest movement, to lower each row's bound by the largest movement
    # of any *other* centre
    m1 = -1.0
    m2 = -1.0
    m1_idx = -1
    for j in range(k):
        if move[j] > m1:
            m2 = m1
            m1 = move[j]
            m1_idx = j
        elif move[j] > m2:
            m2 = move[j]
    if m2 < 0.0:
        m2 = 0.0
    for c in prange(n_chunks):
        s = sums[c]
        ws = wsums[c]
        s[:] = 0.0
        ws[:] = 0.0
        dist = np.empty(k)
        n_changed = 0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            a = labels[i]
            u = upper[i] + move[a]
            lo = lower[i] - (m2 if a == m1_idx else m1)
            bound = half_sep[a] if half_sep[a] > lo else lo
            if u > bound:
                u = np.sqrt(_sqdist(X, i, C, a))
                if u > bound:
                    _all_sqdist(X, i, CT, dist)
                    d1 = np.inf
                    d2 = np.inf
                    best = 0
                    for j in range(k):
                        if dist[j] < d1:
                            d2 = d1
                            d1 = dist[j]
                            best = j
                        elif dist[j] < d2:
                            d2 = dist[j]
                    u = np.sqrt(d1)
                    lo = np.sqrt(d2)
                    if best != a:
                        n_changed += 1
                        a = best
                        labels[i] = a
            upper[i] = u
            lower[i] = lo
            _accumulate(X, w, i, a, s, ws)
        changed[c] = n_changed


@njit(parallel=True, fastmath=_FAST, cache=True)
def elkan_pass(X, w, C, half_cc, half_sep, cum_move, stamp, it,
               labels, upper, lower, sums, wsums, changed, chunk):
    """One Elkan iteration: a lower bound per row and centre, for higher dimensions.

    Lower bounds are updated lazily: ``cum_move[t, j]`` is the total distance centre j moved up to
    iteration t and ``stamp[i]`` the iteration at which row i's lower bounds were last brought up
    to date, so a row that is skipped costs O(1) instead of O(k).  ``half_cc[j, l]`` is half the
    distance between centres j and l, ``half_sep[j]`` half the distance to j's nearest other
    centre.  On the first pass ``upper`` is inf and every bound is computed.
    """
    n = X.shape[0]
    k = C.shape[0]
    n_chunks = sums.shape[0]
    for c in prange(n_chunks):
        s = sums[c]
        ws = wsums[c]
        s[:] = 0.0
        ws[:] = 0.0
        n_changed = 0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            a = labels[i]
            u = upper[i]
            if u != np.inf:
                u += cum_move[it, a] - cum_move[it - 1, a]
            if u > half_sep[a]:
                t0 = stamp[i]
                for j in range(k):
                    lb = lower[i, j] - (cum_move[it, j] - cum_move[t0, j])
                    lower[i, j] = lb if lb > 0.0 else 0.0
                stamp[i] = it
                tight = False
                for j in range(k):
                    if j == a or u <= lower[i, j] or u <= half_cc[a, j]:
                        continue
                    if not tight:
                        u = np.sqrt(_sqdist(X, i, C, a))
                        lower[i, a] = u
                        tight = True
                        if u <= lower[i, j] or u <= half_cc[a, j]:
                            continue
                    dist = np.sqrt(_sqdist(X, i, C, j))
                    lower[i, j] = dist
                    if dist < u or (dist == u and j < a):
                        u = dist
                        a = j
                if a != labels[i]:
                    n_changed += 1
                    labels[i] = a
            upper[i] = u
            _accumulate(X, w, i, a, s, ws)
        changed[c] = n_changed


@njit(parallel=True, cache=True)
def accumulate_pass(X, w, labels, sums, wsums, chunk):
    """The M-step's per-chunk weighted sums for given labels (no E-step)."""
    n = X.shape[0]
    n_chunks = sums.shape[0]
    for c in prange(n_chunks):
        s = sums[c]
        ws = wsums[c]
        s[:] = 0.0
        ws[:] = 0.0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            _accumulate(X, w, i, labels[i], s, ws)


@njit(cache=True)
def reduce_chunks(sums, wsums, total, wtotal):
    """Sequential sum of the per-chunk partial sums, in chunk order; returns the empty count."""
    n_chunks, k, d = sums.shape
    total[:] = 0.0
    wtotal[:] = 0.0
    for c in range(n_chunks):
        for j in range(k):
            wtotal[j] += wsums[c, j]
            for t in range(d):
                total[j, t] += sums[c, j, t]
    n_empty = 0
    for j in range(k):
        if wtotal[j] == 0.0:
            n_empty += 1
    return n_empty


@njit(cache=True)
def finish_m_step(total, wtotal, old, new, move):
    """New centres as weighted means (an empty cluster keeps its centre), and how far each moved.

    Returns the total squared shift, scikit-learn's convergence measure.
    """
    k, d = old.shape
    shift_sq = 0.0
    for j in range(k):
        sq = 0.0
        for t in range(d):
            if wtotal[j] > 0.0:
                new[j, t] = total[j, t] / wtotal[j]
            else:
                new[j, t] = old[j, t]
            diff = np.float64(new[j, t]) - np.float64(old[j, t])
            sq += diff * diff
        move[j] = np.sqrt(sq)
        shift_sq += sq
    return shift_sq


@njit(cache=True)
def center_geometry(C, CT, half_cc, half_sep):
    """The transpose of the centres, half their pairwise distances and half the nearest gap."""
    k, d = C.shape
    for j in range(k):
        for t in range(d):
            CT[t, j] = C[j, t]
    for j in range(k):
        half_cc[j, j] = 0.0
        for m in range(j + 1, k):
            sq = 0.0
            for t in range(d):
                diff = CT[t, j] - CT[t, m]
                sq += diff * diff
            half_cc[j, m] = 0.5 * np.sqrt(sq)
            half_cc[m, j] = half_cc[j, m]
    for j in range(k):
        best = np.inf
        for m in range(k):
            if m != j and half_cc[j, m] < best:
                best = half_cc[j, m]
        half_sep[j] = best


@njit(parallel=True, cache=True)
def column_variance(X, chunk):
    """Per-feature variance (two passes, per-chunk partial sums, sequential reduction)."""
    n, d = X.shape
    n_chunks = (n + chunk - 1) // chunk
    part = np.zeros((n_chunks, d))
    for c in prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            for t in range(d):
                part[c, t] += X[i, t]
    mean = np.zeros(d)
    for c in range(n_chunks):
        for t in range(d):
            mean[t] += part[c, t]
    for t in range(d):
        mean[t] /= n
    part2 = np.zeros((n_chunks, d))
    for c in prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            for t in range(d):
                diff = X[i, t] - mean[t]
                part2[c, t] += diff * diff
    var = np.zeros(d)
    for c in range(n_chunks):
        for t in range(d):
            var[t] += part2[c, t]
    for t in range(d):
        var[t] /= n
    return var


@njit(parallel=True, fastmath=_FAST, cache=True)
def assign_pass(X, CT, labels, sq_dist, chunk):
    """Nearest centre and squared distance to it for every row (no sums)."""
    n = X.shape[0]
    k = CT.shape[1]
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        dist = np.empty(k)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            _all_sqdist(X, i, CT, dist)
            labels[i], sq_dist[i] = _argmin(dist)


@njit(parallel=True, fastmath=_FAST, cache=True)
def inertia_pass(X, w, C, labels, partial, chunk):
    """Weighted squared distance of every row to its own centre, one partial sum per chunk."""
    n = X.shape[0]
    n_chunks = partial.shape[0]
    for c in prange(n_chunks):
        acc = 0.0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            acc += np.float64(w[i]) * _sqdist(X, i, C, labels[i])
        partial[c] = acc


@njit(parallel=True, fastmath=_FAST, cache=True)
def own_sq_dist(X, C, labels, out, chunk):
    """Squared distance of every row to the centre it is labelled with."""
    n = X.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            out[i] = _sqdist(X, i, C, labels[i])


@njit(parallel=True, fastmath=_FAST, cache=True)
def candidate_potentials(X, w, cand, closest, pot_partial, chunk):
    """k-means++ trials: the weighted potential if candidate row ``cand[t]`` became a centre.

    ``pot_partial[c, t]`` is sum over chunk c of w_i * min(closest_i, |x_i - x_cand[t]|^2).
    """
    n = X.shape[0]
    n_cand = cand.shape[0]
    n_chunks = pot_partial.shape[0]
    for c in prange(n_chunks):
        for t in range(n_cand):
            acc = 0.0
            for i in range(c * chunk, min(n, (c + 1) * chunk)):
                dist = _sqdist(X, i, X, cand[t])
                if closest[i] < dist:
                    dist = closest[i]
                acc += np.float64(w[i]) * dist
            pot_partial[c, t] = acc


@njit(parallel=True, fastmath=_FAST, cache=True)
def update_closest(X, row, closest, chunk):
    """closest_i <- min(closest_i, |x_i - x_row|^2) for every row i."""
    n = X.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            dist = _sqdist(X, i, X, row)
            if dist < closest[i]:
                closest[i] = dist


@njit(cache=True, fastmath=_FAST)
def minibatch_step(X, w, idx, C, counts, labels_buf):
    """One mini-batch update (serial: a batch is small and the result must not depend on threads).

    Each centre moves to the weighted mean of everything it has seen so far (sklearn's
    per-centre learning rate): ``C_j <- (C_j * counts_j + sum_batch) / (counts_j + w_batch)``.
    Returns the batch's weighted inertia before the update.
    """
    k, d = C.shape
    b = idx.shape[0]
    sums = np.zeros((k, d))
    wsum = np.zeros(k)
    inertia = 0.0
    for r in range(b):
        i = idx[r]
        best = 0
        best_d = np.inf
        for j in range(k):
            dist = _sqdist(X, i, C, j)
            if dist < best_d:
                best_d = dist
                best = j
        labels_buf[r] = best
        wi = np.float64(w[i])
        inertia += wi * best_d
        wsum[best] += wi
        for t in range(d):
            sums[best, t] += wi * np.float64(X[i, t])
    for j in range(k):
        if wsum[j] > 0.0:
            total = counts[j] + wsum[j]
            for t in range(d):
                C[j, t] = (np.float64(C[j, t]) * counts[j] + sums[j, t]) / total
            counts[j] = total
    return inertia

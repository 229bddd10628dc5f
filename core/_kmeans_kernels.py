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

import numpy as np
from numba import njit, prange

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


@njit(parallel=True, fastmath=_FAST, cache=True)
def lloyd_pass(X, w, C, labels, sums, wsums, changed, chunk):
    """E-step for every row, fused with the per-chunk sums of the M-step.

    ``sums[c]``/``wsums[c]`` receive the weighted coordinate sums and weights per cluster of
    chunk ``c``; ``changed[c]`` how many labels of that chunk changed.
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
            best = 0
            best_d = np.inf
            for j in range(k):
                dist = _sqdist(X, i, C, j)
                if dist < best_d:
                    best_d = dist
                    best = j
            if labels[i] != best:
                n_changed += 1
                labels[i] = best
            _accumulate(X, w, i, best, s, ws)
        changed[c] = n_changed


@njit(parallel=True, fastmath=_FAST, cache=True)
def hamerly_pass(X, w, C, half_sep, move, labels, upper, lower, sums, wsums, changed, chunk):
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
        n_changed = 0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            a = labels[i]
            u = upper[i] + move[a]
            lo = lower[i] - (m2 if a == m1_idx else m1)
            bound = half_sep[a] if half_sep[a] > lo else lo
            if u > bound:
                u = np.sqrt(_sqdist(X, i, C, a))
                if u > bound:
                    d1 = np.inf
                    d2 = np.inf
                    best = 0
                    for j in range(k):
                        dist = _sqdist(X, i, C, j)
                        if dist < d1:
                            d2 = d1
                            d1 = dist
                            best = j
                        elif dist < d2:
                            d2 = dist
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
def reduce_chunks(sums, wsums):
    """Sequential sum of the per-chunk partial sums, in chunk order."""
    n_chunks, k, d = sums.shape
    total = np.zeros((k, d))
    wtotal = np.zeros(k)
    for c in range(n_chunks):
        for j in range(k):
            wtotal[j] += wsums[c, j]
            for t in range(d):
                total[j, t] += sums[c, j, t]
    return total, wtotal


@njit(parallel=True, fastmath=_FAST, cache=True)
def assign_pass(X, C, labels, sq_dist, chunk):
    """Nearest centre and squared distance to it for every row (no sums)."""
    n = X.shape[0]
    k = C.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            best = 0
            best_d = np.inf
            for j in range(k):
                dist = _sqdist(X, i, C, j)
                if dist < best_d:
                    best_d = dist
                    best = j
            labels[i] = best
            sq_dist[i] = best_d


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

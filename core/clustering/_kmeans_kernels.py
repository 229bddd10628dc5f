"""Numba compute kernels behind :mod:`palettelab.core.clustering.kmeans`.

Every kernel walks the rows in fixed-size chunks (``chunk`` rows, chosen by the caller from n
alone, never from the thread count) and writes one partial result per chunk; the chunks are then
reduced sequentially in chunk order.  That keeps results bit-identical whatever
``NUMBA_NUM_THREADS`` is, and there is never a racy reduction into a shared array.

Each per-chunk body is a jitted function called by its drivers: a ``*_par`` one that spreads
the chunks over the threads with ``prange``, and (except for Elkan) a ``*_ser`` one that loops
over them in the calling thread.  A parallel launch costs about 0.1 ms here, more than a whole
iteration on a small data set, so :mod:`palettelab.core.clustering.kmeans` uses the serial driver
below a work threshold; both give identical results because the chunking is the same.

How the pieces are joined (measured on 1M x 3, k=16 and four other cases, 2026-11-30):

- The small per-row helpers (distances, argmin, adding a row to the sums) are inlined by LLVM
  (``forceinline``) and compiled without reference counting (``_nrt=False``: they never
  allocate).  Inlined by Numba instead (``inline="always"``), every call site's typed IR was
  deep-copied and re-analysed, the parallel drivers' ``prange`` bodies grew to hundreds of
  blocks, and the k-means kernels took 42 s to compile; now 18 s.
- Compiled with reference counting, each call of a helper on arrays from a ``prange`` body
  cost two atomic increments and decrements per row on counters that both threads share:
  Lloyd's parallel pass was 35-45 % slower that way.  Without them the parallel passes match the
  Numba-inlined code (0.90-1.07 of it), and the serial drivers became 1.4-2.7x faster (they had
  paid the counting too).
- The per-chunk bodies are plain calls (one per chunk of 256-4096 rows: no measurable cost),
  shared by the serial and the parallel driver, so each is compiled once.

Sums of coordinates and weights are accumulated in float64 whatever the input dtype; distances are
computed in float64 from the input values (a float32 array is never up-cast as a whole).  The
distance and sum loops take :data:`palettelab.core.numba_config.FASTMATH` (re-association and
contraction only).
"""

import numpy as np
from numba import njit, prange

from palettelab.core.numba_config import FASTMATH


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _sqdist(X, i, C, j):
    s = 0.0
    for t in range(X.shape[1]):
        diff = np.float64(X[i, t]) - np.float64(C[j, t])
        s += diff * diff
    return s


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _sqdist8(X, i, C, j, dist):
    """Squared distances from row i to centres j..j+7: each x value is loaded once for eight
    accumulators, and the sweep over features vectorises."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    s5 = 0.0
    s6 = 0.0
    s7 = 0.0
    for t in range(X.shape[1]):
        x = np.float64(X[i, t])
        e = x - np.float64(C[j, t])
        s0 += e * e
        e = x - np.float64(C[j + 1, t])
        s1 += e * e
        e = x - np.float64(C[j + 2, t])
        s2 += e * e
        e = x - np.float64(C[j + 3, t])
        s3 += e * e
        e = x - np.float64(C[j + 4, t])
        s4 += e * e
        e = x - np.float64(C[j + 5, t])
        s5 += e * e
        e = x - np.float64(C[j + 6, t])
        s6 += e * e
        e = x - np.float64(C[j + 7, t])
        s7 += e * e
    dist[j] = s0
    dist[j + 1] = s1
    dist[j + 2] = s2
    dist[j + 3] = s3
    dist[j + 4] = s4
    dist[j + 5] = s5
    dist[j + 6] = s6
    dist[j + 7] = s7


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _sqdist4(X, i, C, j, dist):
    """Squared distances from row i to centres j..j+3 (see :func:`_sqdist8`)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for t in range(X.shape[1]):
        x = np.float64(X[i, t])
        e = x - np.float64(C[j, t])
        s0 += e * e
        e = x - np.float64(C[j + 1, t])
        s1 += e * e
        e = x - np.float64(C[j + 2, t])
        s2 += e * e
        e = x - np.float64(C[j + 3, t])
        s3 += e * e
    dist[j] = s0
    dist[j + 1] = s1
    dist[j + 2] = s2
    dist[j + 3] = s3


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _all_sqdist(X, i, C, CT, dist):
    """Squared distances from row i to every centre; ``CT`` is the (d, k) float64 transpose.

    For few features the inner loop runs over centres (it vectorises without re-association).
    For d >= 8, blocks of eight centres, then four, then single ones, per sweep over the row
    (benchmarks/bench_kmeans.py cases: 1.1-2x faster than blocks of four at d = 8..64).
    Always the difference form (x - c)^2: the |x|^2 - 2 x.c + |c|^2 form loses every digit
    when the data sit far from the origin, and the bounds of Hamerly and Elkan need distances
    correct to the last bits.
    """
    k = CT.shape[1]
    d = X.shape[1]
    if d >= 8:
        j = 0
        while j + 8 <= k:
            _sqdist8(X, i, C, j, dist)
            j += 8
        if j + 4 <= k:
            _sqdist4(X, i, C, j, dist)
            j += 4
        while j < k:
            dist[j] = _sqdist(X, i, C, j)
            j += 1
        return
    x0 = np.float64(X[i, 0])
    for j in range(k):
        diff = x0 - CT[0, j]
        dist[j] = diff * diff
    for t in range(1, d):
        xt = np.float64(X[i, t])
        for j in range(k):
            diff = xt - CT[t, j]
            dist[j] += diff * diff


@njit(nogil=True, cache=True)
def transpose_centres(C, CT):
    """Fill ``CT`` (d, k) float64 with the transpose of the centres."""
    k, d = C.shape
    for j in range(k):
        for t in range(d):
            CT[t, j] = np.float64(C[j, t])


@njit(forceinline=True, _nrt=False)
def _argmin(dist):
    """Index and value of the smallest entry, ties to the lowest index.

    Written with selects instead of branches: the running minimum changes unpredictably, and
    the branch-free form measured twice as fast.
    """
    best = 0
    best_d = dist[0]
    for j in range(1, dist.shape[0]):
        v = dist[j]
        best = j if v < best_d else best
        best_d = min(best_d, v)
    return best, best_d


@njit(forceinline=True, _nrt=False)
def _argmin2(dist):
    """Like :func:`_argmin`, plus the second-smallest value (equal to the smallest on a tie)."""
    best = 0
    d1 = np.inf
    d2 = np.inf
    for j in range(dist.shape[0]):
        v = dist[j]
        best = j if v < d1 else best
        d2 = min(d2, max(d1, v))
        d1 = min(d1, v)
    return best, d1, d2


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _add_row(X, w, i, a, sign, sums, wsums):
    wi = sign * np.float64(w[i])
    wsums[a] += wi
    for t in range(X.shape[1]):
        sums[a, t] += wi * np.float64(X[i, t])


@njit(forceinline=True, _nrt=False)
def _move_row(X, w, i, old, new, sums, wsums):
    """Book row i's move from cluster ``old`` to ``new`` into change-only sums."""
    _add_row(X, w, i, old, -1.0, sums, wsums)
    _add_row(X, w, i, new, 1.0, sums, wsums)


@njit(forceinline=True, _nrt=False)
def _relabel(X, w, i, old, new, full, labels, sums, wsums):
    """Give row i the label ``new``; with change-only sums, book its move.  Returns 1 if moved."""
    if new == old:
        return 0
    labels[i] = new
    if not full:
        _move_row(X, w, i, old, new, sums, wsums)
    return 1


@njit(nogil=True)
def _add_rows(X, w, labels, sums, wsums, start, stop):
    for i in range(start, stop):
        _add_row(X, w, i, labels[i], 1.0, sums, wsums)


# ---------------------------------------------------------------------------------------------
# one k-means iteration (E-step fused with the M-step's partial sums)


@njit(nogil=True, fastmath=FASTMATH)
def _lloyd_rows(X, w, C, CT, labels, sums, wsums, start, stop):
    """Lloyd: every distance of every row; the sums are always rebuilt from every row."""
    sums[:] = 0.0
    wsums[:] = 0.0
    dist = np.empty(CT.shape[1])
    n_changed = 0
    for i in range(start, stop):
        _all_sqdist(X, i, C, CT, dist)
        a, _ = _argmin(dist)
        if a != labels[i]:
            n_changed += 1
            labels[i] = a
        _add_row(X, w, i, a, 1.0, sums, wsums)
    return n_changed


@njit(nogil=True, fastmath=FASTMATH)
def _hamerly_rows(full, X, w, C, CT, half_sep, cum_move, cum_other, it, labels, upper, lower,
                  sums, wsums, start, stop):
    """Hamerly: one upper bound (own centre) and one lower bound (every other centre) per row.

    The bounds are stored relative to cumulative movements, so that moving them costs no
    write: the current upper bound of a row in cluster a is ``upper[i] + cum_move[it, a]``
    (its centre's movement since the bound was exact is added), the current lower bound
    ``lower[i] - cum_other[it, a]`` (cum_other sums, per update, the largest movement of any
    centre other than a).  A small relative margin keeps the rounding of those sums from ever
    tightening a bound.

    A first, read-only loop lists the rows the bounds cannot settle; the second loop does the
    distance work for those few.  (Written as one loop, LLVM speculated the distance
    computation for every row and the pass ran four times slower.)  Ties are re-examined
    (>=), so exact ties are broken like Lloyd's, by the lowest index.  From d=8 on a row that
    its bounds do not settle gets every distance at once: first tightening its upper bound with
    the distance to its own centre (Hamerly's usual step) settled too few of them to pay for
    itself (benchmark cases d=8 and 64: 0-9 % slower with it, the digits 9 %).
    """
    sums[:] = 0.0
    wsums[:] = 0.0
    k = C.shape[0]
    dist = np.empty(k)
    if it == 0:  # first pass, no bounds yet: a plain scan that also sets them
        for i in range(start, stop):
            _all_sqdist(X, i, C, CT, dist)
            a, d1, d2 = _argmin2(dist)
            labels[i] = a
            upper[i] = np.sqrt(d1)
            lower[i] = np.sqrt(d2)
            _add_row(X, w, i, a, 1.0, sums, wsums)
        return stop - start
    cu = cum_move[it]
    co = cum_other[it]
    todo = np.empty(stop - start, dtype=np.int64)
    n_todo = 0
    for i in range(start, stop):
        a = labels[i]
        su = upper[i]
        sl = lower[i]
        u = su + cu[a] + 1e-12 * (abs(su) + cu[a])
        lo = sl - co[a] - 1e-12 * (abs(sl) + co[a])
        todo[n_todo] = i
        n_todo += u >= (half_sep[a] if half_sep[a] > lo else lo)
    n_changed = 0
    for r in range(n_todo):
        i = todo[r]
        old = labels[i]
        sl = lower[i]
        lo = sl - co[old] - 1e-12 * (abs(sl) + co[old])
        bound = half_sep[old] if half_sep[old] > lo else lo
        if X.shape[1] < 8:  # tighten the upper bound first: one distance may settle the row
            u = np.sqrt(_sqdist(X, i, C, old))
            upper[i] = u - cu[old]
            if u < bound:
                continue
        _all_sqdist(X, i, C, CT, dist)
        a, d1, d2 = _argmin2(dist)
        upper[i] = np.sqrt(d1) - cu[a]
        lower[i] = np.sqrt(d2) + co[a]
        n_changed += _relabel(X, w, i, old, a, full, labels, sums, wsums)
    if full:
        _add_rows(X, w, labels, sums, wsums, start, stop)
    return n_changed


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _elkan_tighten(X, C, half_cc, cum_move, it, lower, i, a, u):
    """Elkan's test for one row whose upper bound ``u`` did not settle it; returns (label, u).

    ``lower[i, j]`` holds the lower bound to centre j *plus* ``cum_move[t, j]`` of the update t
    at which it was computed, so the current bound is ``lower[i, j] - cum_move[it, j]`` with no
    per-iteration write.  The bound is lowered by a relative 1e-12 so that the rounding of that
    difference can never make it exceed the true distance (an exact tie must still be examined).
    """
    k = C.shape[0]
    cm = cum_move[it]
    tight = False
    for j in range(k):
        if j == a:
            continue
        stored = lower[i, j]
        lb = stored - cm[j] - 1e-12 * abs(stored)
        if u < lb or u < half_cc[a, j]:
            continue
        if not tight:
            u = np.sqrt(_sqdist(X, i, C, a))
            lower[i, a] = u + cm[a]
            tight = True
            if u < lb or u < half_cc[a, j]:
                continue
        dj = np.sqrt(_sqdist(X, i, C, j))
        lower[i, j] = dj + cm[j]
        if dj < u or (dj == u and j < a):
            u = dj
            a = j
    return a, u


@njit(nogil=True, fastmath=FASTMATH)
def _elkan_rows(full, X, w, C, CT, half_cc, half_sep, move, cum_move, it, labels, upper, lower,
                sums, wsums, start, stop):
    """Elkan: a lower bound per row and centre, never rewritten just because centres moved.

    ``cum_move[t, j]`` is the total distance centre j moved in the first t updates (see
    :func:`_elkan_tighten`), so a row that its upper bound settles costs O(1), not O(k).  Same
    two-loop shape as Hamerly.
    """
    sums[:] = 0.0
    wsums[:] = 0.0
    k = C.shape[0]
    todo = np.empty(stop - start, dtype=np.int64)
    n_todo = 0
    for i in range(start, stop):
        a = labels[i]
        u = upper[i] + move[a]
        upper[i] = u
        todo[n_todo] = i
        n_todo += u >= half_sep[a]
    dist = np.empty(k)
    n_changed = 0
    for r in range(n_todo):
        i = todo[r]
        old = labels[i]
        a = old
        u = upper[i]
        if u == np.inf:  # never bounded yet (first pass): every distance, in one sweep
            _all_sqdist(X, i, C, CT, dist)
            for j in range(k):
                lower[i, j] = np.sqrt(dist[j]) + cum_move[it, j]
            a, u = _argmin(dist)
            u = np.sqrt(u)
        else:
            a, u = _elkan_tighten(X, C, half_cc, cum_move, it, lower, i, a, u)
        upper[i] = u
        n_changed += _relabel(X, w, i, old, a, full, labels, sums, wsums)
    if full:
        _add_rows(X, w, labels, sums, wsums, start, stop)
    return n_changed


# The drivers: one parallel and one serial per algorithm, calling the same row function.
# Elkan, used from d=128 on where a pass is long anyway, has only the parallel one (every
# compiled driver adds to the first start-up).  Each
# call processes every chunk c of rows [c * chunk, (c + 1) * chunk): new labels, and their
# weighted sums into ``sums[c]``/``wsums[c]`` -- of every row with ``full``, else only the
# change since the last pass -- and ``changed[c]``, how many labels changed; it returns the
# total of ``changed``.


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def lloyd_par(X, w, C, CT, labels, sums, wsums, changed, chunk):
    n = X.shape[0]
    for c in prange(sums.shape[0]):
        changed[c] = _lloyd_rows(X, w, C, CT, labels, sums[c], wsums[c], c * chunk,
                                 min(n, (c + 1) * chunk))
    return changed.sum()


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def lloyd_ser(X, w, C, CT, labels, sums, wsums, changed, chunk):
    n = X.shape[0]
    for c in range(sums.shape[0]):
        changed[c] = _lloyd_rows(X, w, C, CT, labels, sums[c], wsums[c], c * chunk,
                                 min(n, (c + 1) * chunk))
    return changed.sum()


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def hamerly_par(full, X, w, C, CT, half_sep, cum_move, cum_other, it, labels, upper, lower,
                sums, wsums, changed, chunk):
    n = X.shape[0]
    for c in prange(sums.shape[0]):
        changed[c] = _hamerly_rows(full, X, w, C, CT, half_sep, cum_move, cum_other, it, labels,
                                   upper, lower, sums[c], wsums[c], c * chunk,
                                   min(n, (c + 1) * chunk))
    return changed.sum()


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def hamerly_ser(full, X, w, C, CT, half_sep, cum_move, cum_other, it, labels, upper, lower,
                sums, wsums, changed, chunk):
    n = X.shape[0]
    for c in range(sums.shape[0]):
        changed[c] = _hamerly_rows(full, X, w, C, CT, half_sep, cum_move, cum_other, it, labels,
                                   upper, lower, sums[c], wsums[c], c * chunk,
                                   min(n, (c + 1) * chunk))
    return changed.sum()


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def elkan_par(full, X, w, C, CT, half_cc, half_sep, move, cum_move, it, labels, upper, lower,
              sums, wsums, changed, chunk):
    n = X.shape[0]
    for c in prange(sums.shape[0]):
        changed[c] = _elkan_rows(full, X, w, C, CT, half_cc, half_sep, move, cum_move, it,
                                 labels, upper, lower, sums[c], wsums[c], c * chunk,
                                 min(n, (c + 1) * chunk))
    return changed.sum()


# ---------------------------------------------------------------------------------------------
# the serial bookkeeping between passes


@njit(nogil=True, cache=True)
def reduce_chunks(sums, wsums, total, wtotal, full):
    """Sum the per-chunk partial sums in chunk order into (``full``) or onto ``total``/``wtotal``.

    Returns the weight of the lightest cluster (zero or less: a cluster is empty).
    """
    n_chunks, k, d = sums.shape
    if full:
        total[:] = 0.0
        wtotal[:] = 0.0
    for c in range(n_chunks):
        for j in range(k):
            wtotal[j] += wsums[c, j]
            for t in range(d):
                total[j, t] += sums[c, j, t]
    return wtotal.min()


@njit(nogil=True, cache=True)
def finish_m_step(total, wtotal, old, new, move, cum_move, update):
    """New centres as weighted means (an empty cluster keeps its centre), and how far each moved.

    With more than one row in ``cum_move`` (the bounded algorithms), row ``update`` gets the
    running total of the movements.  Returns the total squared shift, scikit-learn's
    convergence measure.
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
    if cum_move.shape[0] > 1:
        for j in range(k):
            cum_move[update, j] = cum_move[update - 1, j] + move[j]
    return shift_sq


@njit(nogil=True, cache=True)
def center_geometry(C, move, CT, half_cc, half_sep, cum_other, it):
    """What the bounds need: the centres' transpose, half their pairwise distances, half the gap
    to the nearest other centre and, when ``cum_other`` has a row ``it`` > 0 (Hamerly), the
    running total of the largest movement of any *other* centre."""
    k, d = C.shape
    transpose_centres(C, CT)
    for j in range(k):
        half_cc[j, j] = 0.0
        for m in range(j + 1, k):
            sq = 0.0
            for t in range(d):
                diff = CT[t, j] - CT[t, m]
                sq += diff * diff
            half_cc[j, m] = 0.5 * np.sqrt(sq)
            half_cc[m, j] = half_cc[j, m]
    m1 = -1.0
    m2 = 0.0
    m1_idx = -1
    for j in range(k):
        best = np.inf
        for m in range(k):
            if m != j and half_cc[j, m] < best:
                best = half_cc[j, m]
        half_sep[j] = best
        if move[j] > m1:
            m2 = m1 if m1 > 0.0 else 0.0
            m1 = move[j]
            m1_idx = j
        elif move[j] > m2:
            m2 = move[j]
    if 0 < it < cum_other.shape[0]:
        for j in range(k):
            cum_other[it, j] = cum_other[it - 1, j] + (m2 if j == m1_idx else m1)


# ---------------------------------------------------------------------------------------------
# single passes


@njit(nogil=True, fastmath=FASTMATH)
def _inertia_chunk(X, w, C, labels, start, stop):
    acc = 0.0
    for i in range(start, stop):
        acc += np.float64(w[i]) * _sqdist(X, i, C, labels[i])
    return acc


@njit(nogil=True, parallel=True, cache=True)
def inertia_par(X, w, C, labels, partial, chunk):
    """Weighted squared distance of every row to its own centre, one partial sum per chunk."""
    n = X.shape[0]
    for c in prange(partial.shape[0]):
        partial[c] = _inertia_chunk(X, w, C, labels, c * chunk, min(n, (c + 1) * chunk))


@njit(nogil=True, cache=True)
def inertia_ser(X, w, C, labels, partial, chunk):
    """Serial driver of the inertia pass."""
    n = X.shape[0]
    for c in range(partial.shape[0]):
        partial[c] = _inertia_chunk(X, w, C, labels, c * chunk, min(n, (c + 1) * chunk))


@njit(nogil=True, parallel=True, cache=True)
def accumulate_pass(X, w, labels, sums, wsums, chunk):
    """The M-step's per-chunk weighted sums for given labels (no E-step)."""
    n = X.shape[0]
    for c in prange(sums.shape[0]):
        s = sums[c]
        ws = wsums[c]
        s[:] = 0.0
        ws[:] = 0.0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            _add_row(X, w, i, labels[i], 1.0, s, ws)


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def assign_pass(X, C, CT, labels, sq_dist, chunk):
    """Nearest centre and squared distance to it for every row (no sums)."""
    n = X.shape[0]
    k = CT.shape[1]
    for c in prange((n + chunk - 1) // chunk):
        dist = np.empty(k)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            _all_sqdist(X, i, C, CT, dist)
            labels[i], sq_dist[i] = _argmin(dist)


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def own_sq_dist(X, C, labels, out, chunk):
    """Squared distance of every row to the centre it is labelled with."""
    n = X.shape[0]
    for c in prange((n + chunk - 1) // chunk):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            out[i] = _sqdist(X, i, C, labels[i])


@njit(nogil=True)
def _column_sums(X, shift, power, start, stop, out):
    """out[t] = sum over rows of (X[i, t] - shift[t]) ** power, power 1 or 2."""
    for i in range(start, stop):
        for t in range(X.shape[1]):
            diff = X[i, t] - shift[t]
            out[t] += diff if power == 1 else diff * diff


@njit(nogil=True, parallel=True, cache=True)
def column_sums_par(X, shift, power, part, chunk):
    """Per-chunk column sums of (X - shift) ** power into ``part`` (n_chunks, d)."""
    n = X.shape[0]
    for c in prange(part.shape[0]):
        part[c] = 0.0
        _column_sums(X, shift, power, c * chunk, min(n, (c + 1) * chunk), part[c])


@njit(nogil=True, cache=True)
def column_sums_ser(X, shift, power, part, chunk):
    """Serial driver of the column sums."""
    n = X.shape[0]
    for c in range(part.shape[0]):
        part[c] = 0.0
        _column_sums(X, shift, power, c * chunk, min(n, (c + 1) * chunk), part[c])


# ---------------------------------------------------------------------------------------------
# k-means++ and mini-batch


@njit(nogil=True, fastmath=FASTMATH)
def _potentials_chunk(X, w, cand, closest, out, start, stop):
    for t in range(cand.shape[0]):
        acc = 0.0
        for i in range(start, stop):
            dist = _sqdist(X, i, X, cand[t])
            if closest[i] < dist:
                dist = closest[i]
            acc += np.float64(w[i]) * dist
        out[t] = acc


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def candidate_potentials_par(X, w, cand, closest, pot_partial, chunk):
    """k-means++ trials: the weighted potential if candidate row ``cand[t]`` became a centre.

    ``pot_partial[c, t]`` is sum over chunk c of w_i * min(closest_i, |x_i - x_cand[t]|^2).
    """
    n = X.shape[0]
    for c in prange(pot_partial.shape[0]):
        _potentials_chunk(X, w, cand, closest, pot_partial[c], c * chunk, min(n, (c + 1) * chunk))


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def candidate_potentials_ser(X, w, cand, closest, pot_partial, chunk):
    """Serial driver of the k-means++ trials (a parallel launch costs more on small data)."""
    n = X.shape[0]
    for c in range(pot_partial.shape[0]):
        _potentials_chunk(X, w, cand, closest, pot_partial[c], c * chunk, min(n, (c + 1) * chunk))


@njit(nogil=True, fastmath=FASTMATH)
def _closest_chunk(X, row, closest, start, stop):
    for i in range(start, stop):
        dist = _sqdist(X, i, X, row)
        if dist < closest[i]:
            closest[i] = dist


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def update_closest_par(X, row, closest, chunk):
    """closest_i <- min(closest_i, |x_i - x_row|^2) for every row i."""
    n = X.shape[0]
    for c in prange((n + chunk - 1) // chunk):
        _closest_chunk(X, row, closest, c * chunk, min(n, (c + 1) * chunk))


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def update_closest_ser(X, row, closest, chunk):
    """Serial driver of :func:`update_closest_par`."""
    n = X.shape[0]
    for c in range((n + chunk - 1) // chunk):
        _closest_chunk(X, row, closest, c * chunk, min(n, (c + 1) * chunk))


@njit(nogil=True, cache=True, fastmath=FASTMATH)
def minibatch_step(X, w, idx, C, CT, counts):
    """One mini-batch update (serial: a batch is small and the result must not depend on threads).

    Each centre moves to the weighted mean of everything it has seen so far (scikit-learn's
    per-centre learning rate): ``C_j <- (C_j * counts_j + sum_batch) / (counts_j + w_batch)``.
    ``CT`` must hold the transpose of ``C`` (:func:`transpose_centres`) and is kept up to
    date.  Returns the batch's weighted inertia (before the update) and its total weight.
    """
    k, d = C.shape
    sums = np.zeros((k, d))
    wsum = np.zeros(k)
    dist = np.empty(k)
    inertia = 0.0
    wbatch = 0.0
    for r in range(idx.shape[0]):
        i = idx[r]
        _all_sqdist(X, i, C, CT, dist)
        best, best_d = _argmin(dist)
        wi = np.float64(w[i])
        inertia += wi * best_d
        wbatch += wi
        _add_row(X, w, i, best, 1.0, sums, wsum)
    for j in range(k):
        if wsum[j] > 0.0:
            total = counts[j] + wsum[j]
            for t in range(d):
                C[j, t] = (CT[t, j] * counts[j] + sums[j, t]) / total
            counts[j] = total
    transpose_centres(C, CT)
    return inertia, wbatch

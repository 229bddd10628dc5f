"""How good a clustering is: silhouette, agreement with known classes, and the elbow curve.

The silhouette is exact: every pairwise distance is needed, so it is O(n² d) work, done by a
parallel Numba kernel over tiles of rows (never an n x n matrix, so 50 000 points need no more
memory than 500).  Each row's sums run over the other rows in a fixed order inside one thread,
so the values are bit-identical whatever ``NUMBA_NUM_THREADS`` is.  Distances use the difference
form (x - y)², accumulated in float64 from the input values: scikit-learn's |x|² - 2 x.y + |y|²
loses digits for data far from the origin, ours does not.

The label-agreement scores (:func:`matched_accuracy`, :func:`adjusted_rand_index`) work from the
non-zero cells of the contingency table only, so two labellings with thousands of distinct
labels each cost O(n log n), not a table of millions of cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numba import njit, prange

from palettelab.core.checks import check_int, check_random_state, is_integer
from palettelab.core.clustering.kmeans import KMeans, check_data
from palettelab.core.errors import InputError
from palettelab.core.numba_config import FASTMATH

_TILE_ROWS = 8  # rows whose sums are built together: each block of other rows is read once
_TILE_COLS = 512  # other rows per block: 512 x 64 float64 is 256 KiB, it stays in L2


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _dist(X, i, j):
    s = 0.0
    for t in range(X.shape[1]):
        diff = np.float64(X[i, t]) - np.float64(X[j, t])
        s += diff * diff
    return np.sqrt(s)


@njit(forceinline=True, _nrt=False, fastmath=FASTMATH)
def _add_block(X, codes, i, i2, j0, j1, sums0, sums1):
    """Add the distances from rows i and i2 to rows j0..j1-1 onto their per-cluster sums.

    Two rows against four columns at a time: eight accumulators, each loaded value used four or
    two times (measured 1.3x faster at d=64 than one row against four columns).
    """
    j = j0
    while j + 4 <= j1:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        b0 = 0.0
        b1 = 0.0
        b2 = 0.0
        b3 = 0.0
        for t in range(X.shape[1]):
            x = np.float64(X[i, t])
            y = np.float64(X[i2, t])
            c0 = np.float64(X[j, t])
            c1 = np.float64(X[j + 1, t])
            c2 = np.float64(X[j + 2, t])
            c3 = np.float64(X[j + 3, t])
            a0 += (x - c0) * (x - c0)
            a1 += (x - c1) * (x - c1)
            a2 += (x - c2) * (x - c2)
            a3 += (x - c3) * (x - c3)
            b0 += (y - c0) * (y - c0)
            b1 += (y - c1) * (y - c1)
            b2 += (y - c2) * (y - c2)
            b3 += (y - c3) * (y - c3)
        sums0[codes[j]] += np.sqrt(a0)
        sums0[codes[j + 1]] += np.sqrt(a1)
        sums0[codes[j + 2]] += np.sqrt(a2)
        sums0[codes[j + 3]] += np.sqrt(a3)
        sums1[codes[j]] += np.sqrt(b0)
        sums1[codes[j + 1]] += np.sqrt(b1)
        sums1[codes[j + 2]] += np.sqrt(b2)
        sums1[codes[j + 3]] += np.sqrt(b3)
        j += 4
    for jj in range(j, j1):
        sums0[codes[jj]] += _dist(X, i, jj)
        sums1[codes[jj]] += _dist(X, i2, jj)


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def _silhouette_tile(X, codes, counts, start, rows, out):
    """:func:`_silhouette_kernel` for the rows [start, start + rows) (NumPy's error model, as
    inside the parallel loop: an empty cluster's mean distance is inf, not an exception)."""
    n = X.shape[0]
    k = counts.shape[0]
    sums = np.zeros((rows + 1, k))
    for j0 in range(0, n, _TILE_COLS):
        j1 = min(n, j0 + _TILE_COLS)
        for r in range(0, rows, 2):
            i2 = start + r + 1 if r + 1 < rows else start + r
            _add_block(X, codes, start + r, i2, j0, j1, sums[r], sums[r + 1])
    for r in range(rows):
        i = start + r
        own = codes[i]
        if counts[own] < 2:
            out[i] = 0.0
            continue
        a = sums[r, own] / (counts[own] - 1)
        b = np.inf
        for c in range(k):
            if c != own:
                b = min(b, sums[r, c] / counts[c])
        m = max(a, b)
        out[i] = 0.0 if m == 0.0 else (b - a) / m


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def _silhouette_kernel(X, codes, counts, out):
    """Silhouette of every row, tile by tile.

    For a tile of rows, ``sums[r, c]`` collects the distances from row r to every row of cluster
    c, one block of other rows at a time (the block stays in cache for all rows of the tile).
    Rows go in pairs; an odd last row is paired with itself into a spare row of ``sums``.
    Then a = mean distance to the rest of its own cluster, b = smallest mean distance to another
    cluster, s = (b - a) / max(a, b), and 0 for a singleton or when a = b = 0 (scikit-learn's
    convention for both).
    """
    n = X.shape[0]
    for tile in prange((n + _TILE_ROWS - 1) // _TILE_ROWS):
        start = tile * _TILE_ROWS
        _silhouette_tile(X, codes, counts, start, min(_TILE_ROWS, n - start), out)


# ---------------------------------------------------------------------------------------------
# validation


def _labels(labels, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of labels, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty")
    if n is not None and arr.shape[0] != n:
        raise InputError(f"{name} has {arr.shape[0]} entries but X has {n} rows")
    return arr


def _pair(a, b, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    a = _labels(a, name_a)
    b = _labels(b, name_b)
    if a.shape[0] != b.shape[0]:
        raise InputError(f"{name_a} has {a.shape[0]} entries but {name_b} has {b.shape[0]}")
    return a, b


def _silhouette_input(X, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X as checked data, labels as codes 0..k-1 and the size of each cluster."""
    X = check_data(X)
    n = X.shape[0]
    _, codes, counts = np.unique(_labels(labels, "labels", n), return_inverse=True,
                                 return_counts=True)
    k = counts.shape[0]
    if not 2 <= k <= n - 1:
        raise InputError(f"the silhouette needs between 2 and n - 1 = {n - 1} clusters, got {k}")
    return X, codes.astype(np.int64), counts.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# silhouette


def silhouette_samples(X, labels) -> np.ndarray:
    """Silhouette coefficient of every point (Euclidean), as scikit-learn defines it.

    s = (b - a) / max(a, b) with a the mean distance to the other points of its cluster and b
    the smallest mean distance to the points of another cluster; 0 for a point alone in its
    cluster.  Exact, O(n² d) time and O(n + tile x k) memory.
    """
    X, codes, counts = _silhouette_input(X, labels)
    out = np.empty(X.shape[0])
    _silhouette_kernel(X, codes, counts, out)
    return out


def _subset(n: int, sample_size: int, random_state) -> np.ndarray:
    """scikit-learn's subset: the first ``sample_size`` of a permutation.

    With an int (or None) seed this is a legacy ``RandomState`` on purpose: it reproduces the
    very subset ``sklearn.metrics.silhouette_score`` draws for the same ``random_state``, so the
    two sampled scores can be compared.  A ``numpy.random.Generator`` is used as it is.
    """
    rng = check_random_state(random_state)  # the shared check of what random_state may be
    if random_state is None or is_integer(random_state):
        return np.random.RandomState(random_state).permutation(n)[:sample_size]
    return rng.permutation(n)[:sample_size]


def silhouette_score(X, labels, *, sample_size: int | None = None, random_state=0) -> float:
    """Mean silhouette coefficient; on a random subset of ``sample_size`` points when given.

    The subset is drawn as scikit-learn draws it (see :func:`_subset`), and the score is the
    exact silhouette of that subset.  A ``sample_size`` of n or more means every point.
    """
    if sample_size is not None:
        sample_size = check_int(sample_size, "sample_size", low=1)
        X = check_data(X)
        labels = _labels(labels, "labels", X.shape[0])
        if sample_size < X.shape[0]:
            idx = _subset(X.shape[0], sample_size, random_state)
            X, labels = X[idx], labels[idx]
    return float(np.mean(silhouette_samples(X, labels)))


def silhouette_auto(X, labels, *, exact_limit: int = 5000, sample_size: int = 5000,
                    random_state=0) -> tuple[float, int]:
    """The silhouette at a bounded cost: exact up to ``exact_limit`` points, else on a sample.

    The exact score is quadratic in n (5000 x 64 takes a fraction of a second, 100 000 points
    400 times as long), so larger inputs are scored on ``sample_size`` random points.  Returns
    ``(score, number of points used)`` so that a caller can say which it was.
    """
    exact_limit = check_int(exact_limit, "exact_limit", low=1)
    sample_size = check_int(sample_size, "sample_size", low=1)
    X = check_data(X)
    n = X.shape[0]
    if n <= exact_limit:
        return silhouette_score(X, labels), n
    used = min(n, sample_size)
    return silhouette_score(X, labels, sample_size=used, random_state=random_state), used


# ---------------------------------------------------------------------------------------------
# agreement with known classes


def _contingency(a, b, name_a: str, name_b: str):
    """Non-zero cells of the contingency table of two labellings.

    Returns (row codes, column codes, counts) of those cells, with the row and column totals.
    """
    a, b = _pair(a, b, name_a, name_b)
    _, ca = np.unique(a, return_inverse=True)
    _, cb = np.unique(b, return_inverse=True)
    n_cols = int(cb.max()) + 1
    cells, counts = np.unique(ca.astype(np.int64) * n_cols + cb, return_counts=True)
    return (cells // n_cols, cells % n_cols, counts.astype(np.int64),
            np.bincount(ca).astype(np.int64), np.bincount(cb).astype(np.int64))


def confusion_matrix(truth, labels) -> np.ndarray:
    """Counts of (true class, cluster) pairs: rows are the true classes in sorted order, columns
    the clusters in sorted order; int64."""
    rows, cols, counts, row_totals, col_totals = _contingency(truth, labels, "truth", "labels")
    out = np.zeros((row_totals.shape[0], col_totals.shape[0]), dtype=np.int64)
    out[rows, cols] = counts
    return out


def diagonal_order(confusion) -> np.ndarray:
    """The order of a confusion matrix's columns (clusters) that puts the matches on its
    diagonal: each cluster under its most common class, the clusters of one class side by
    side, the largest first (with as many clusters as classes, one-to-one, a diagonal)."""
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[1] == 0:
        raise InputError(f"a confusion matrix must be 2-D with columns, got {confusion.shape}")
    return np.lexsort((-confusion.max(axis=0), confusion.argmax(axis=0)))


def matched_accuracy(labels, truth) -> float:
    """Fraction of points whose cluster's most common true class is their own class.

    Several clusters may map to the same class (it rewards over-segmentation, unlike ARI), which
    is what a person reading a k-means result against known classes usually wants to know.
    """
    _, cols, counts, _, col_totals = _contingency(truth, labels, "truth", "labels")
    best = np.zeros(col_totals.shape[0], dtype=np.int64)
    np.maximum.at(best, cols, counts)
    return float(best.sum() / col_totals.sum())


def adjusted_rand_index(a, b) -> float:
    """Adjusted Rand index of two labellings, as ``sklearn.metrics.adjusted_rand_score``.

    Computed from the pair-confusion counts, in Python integers for the products (they overflow
    int64 from about 55 000 points on), with scikit-learn's formula so the floats agree too.
    """
    rows, cols, counts, row_totals, col_totals = _contingency(a, b, "a", "b")
    n = int(row_totals.sum())
    sum_sq = int((counts * counts).sum())
    fp = int((counts * col_totals[cols]).sum()) - sum_sq
    fn = int((counts * row_totals[rows]).sum()) - sum_sq
    tp = sum_sq - n
    tn = n * n - fp - fn - sum_sq
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


# ---------------------------------------------------------------------------------------------
# elbow


def elbow_fits(X, k_values: Iterable[int], *, random_state=0,
               n_init: int = 1) -> Iterator[KMeans]:
    """The fitted :class:`palettelab.core.clustering.kmeans.KMeans` of every k in ``k_values``,
    one at a time (a caller can score each, or stop between two).

    Every k is fitted independently from the same seed, so one k's result does not depend on
    which other k were asked for.  The arguments are checked at the call, before any fit.
    """
    X = check_data(X)
    ks = list(k_values)
    if not ks:
        raise InputError("k_values is empty; give at least one number of clusters")
    return (KMeans(k, n_init=n_init, random_state=random_state).fit(X) for k in ks)


def elbow(X, k_values: Iterable[int], *, random_state=0, n_init: int = 1) -> list[float]:
    """k-means inertia for every k in ``k_values`` (each run from the same seed), for a plot:
    the ``inertia_`` of each of :func:`elbow_fits`."""
    return [float(model.inertia_)
            for model in elbow_fits(X, k_values, random_state=random_state, n_init=n_init)]


def labelling_inertia(X, labels) -> float:
    """The k-means objective of a labelling, whatever made it: the squared distances of the
    rows to the mean of their own cluster, summed over the clusters in sorted label order."""
    X = check_data(X)
    labels = _labels(labels, "labels", X.shape[0])
    total = 0.0
    for j in np.unique(labels):
        rows = X[labels == j]
        total += float(((rows - rows.mean(axis=0)) ** 2).sum())
    return total

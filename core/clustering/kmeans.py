"""k-means estimators: a thin, validating layer over the chunked kernels in ``_kmeans_kernels``.

The surface follows scikit-learn (``n_clusters``, ``init``, ``n_init``, ``max_iter``, ``tol``,
``random_state``, ``sample_weight``) so that people and scripts can move between the two, and the
results match scikit-learn's Lloyd iteration from the same start: ``tol`` is relative to the mean
feature variance and applies to the squared centre shift, iteration also stops when no label
changes, and the final labels are the assignment to the final centres.

``algorithm`` picks how the E-step avoids distance computations; all of them give the labels and
centres Lloyd gives from the same start (they only skip distances that cannot change a label):

* ``"lloyd"``: every distance, every iteration.
* ``"hamerly"``: one upper and one lower bound per row; best in low dimensions.
* ``"elkan"``: one lower bound per row and centre; best when d is large enough that a distance is
  expensive (k x n bounds in memory).
* ``"kdtree"``: Kanungo et al.'s filtering algorithm (``_kdtree_kernels``): a tree of boxes over
  the rows, built once per run, lets whole boxes go to a centre without visiting their rows;
  best with many rows in few features.
* ``"auto"``: Lloyd for k=1, Elkan from d=128 on (when its n x k bounds fit in
  ``_ELKAN_MAX_BYTES``), the tree from 300,000 rows in at most 3 features and 12 clusters,
  Hamerly otherwise.
  Measured here (docs/PERFORMANCE.md): Hamerly beat Elkan at d=3, 8, 16 and 32, they were about
  equal at d=64, and Elkan won at d=256; the tree beat Hamerly by up to 2.5x on a million rows
  in 2 or 3 features, and was no faster below a few hundred thousand.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from palettelab.core.checks import check_int, check_random_state
from palettelab.core.clustering import _kdtree_kernels as kd
from palettelab.core.clustering import _kmeans_kernels as kern
from palettelab.core.errors import InputError

_ALGORITHMS = ("auto", "lloyd", "hamerly", "elkan", "kdtree")
_ELKAN_MIN_DIM = 128
_ELKAN_MAX_BYTES = 1 << 30
# "auto" uses the filtering tree from this many rows in at most this many features, for at
# least this many clusters: below, building the tree costs more than Hamerly's bounds lose
# (measured: at 200,000 rows either could win; with k=8 the two were even at a million rows)
_TREE_MAX_DIM = 3
_TREE_MIN_ROWS = 300_000
_TREE_MIN_CLUSTERS = 12


@dataclass(frozen=True)
class Step:
    """One k-means iteration, for live views: the assignment and the centres it moved to.

    ``labels`` come from the E-step against the previous centres, ``centers`` from the M-step on
    those labels, ``inertia`` is the weighted sum of squared distances of that pair.  The final
    step (``converged`` or the last allowed iteration) carries the labels of the final centres,
    exactly what ``fit`` reports.
    """

    iteration: int
    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    converged: bool


class _MiniBatchStep(Step):
    """A mini-batch step whose ``labels`` and ``inertia`` (one pass over every row) are computed
    when first read: a live view that shows a frame every few hundred steps should not pay for
    a pass per step (a million rows: 5 s of passes for 0.3 s of mini-batches)."""

    def __init__(self, iteration: int, centers: np.ndarray, converged: bool, X, w):
        for name, value in (("iteration", iteration), ("centers", centers),
                            ("converged", converged), ("_X", X), ("_w", w)):
            object.__setattr__(self, name, value)

    @functools.cached_property
    def _assignment(self) -> tuple[np.ndarray, float]:
        labels, d2 = assign(self._X, self.centers)
        return labels, float(d2 @ self._w)

    @property
    def labels(self) -> np.ndarray:  # type: ignore[override]
        return self._assignment[0]

    @property
    def inertia(self) -> float:  # type: ignore[override]
        return self._assignment[1]


# ---------------------------------------------------------------------------------------------
# validation


def check_data(X, name: str = "X") -> np.ndarray:
    """Return X as a writable C-contiguous float32/float64 (n, d) array, or raise InputError.

    float32 and float64 are kept as they are (never up-cast); anything else numeric becomes
    float64.
    """
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{name} is not a numeric array: {exc}") from None
    if arr.dtype not in (np.float32, np.float64):
        if arr.dtype.kind not in "biuf":
            raise InputError(f"{name} must be numeric, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if arr.ndim != 2:
        raise InputError(
            f"{name} must be a 2-D array (n_samples, n_features), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {arr.shape})")
    arr = np.ascontiguousarray(arr)
    if not arr.flags.writeable:
        # Numba compiles (or loads) separate kernels for read-only arrays: one copy is far
        # cheaper than a second set of kernels, compiled in the middle of a run
        arr = arr.copy()
    # a finite sum proves every value finite (scikit-learn's shortcut); only when it is not
    # (NaN, inf, or an overflow of large values) is every value examined
    if np.isfinite(arr.sum()):
        return arr
    finite = np.isfinite(arr)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise InputError(
            f"{name} contains NaN or infinity (first at row {row}, column {col}); "
            "remove or impute those values"
        )
    return arr


def _check_weight(sample_weight, n: int) -> np.ndarray:
    """Weights as float64 whatever X's dtype: float32 cannot count past 2**24 pixels."""
    if sample_weight is None:
        return np.ones(n)
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("sample_weight must be numeric") from None
    if w.ndim != 1 or w.shape[0] != n:
        raise InputError(f"sample_weight must have shape ({n},), got {w.shape}")
    if not np.isfinite(w).all():
        raise InputError("sample_weight contains NaN or infinity")
    if (w < 0).any():
        raise InputError("sample_weight must not be negative")
    if not (w > 0).any():
        raise InputError("sample_weight is zero everywhere; at least one weight must be positive")
    with np.errstate(over="ignore"):
        total = w.sum()
    if not np.isfinite(total):  # 1e308 each: k-means++ divided by an infinite total
        raise InputError("sample_weight is too large: the weights add up to more than a "
                         "float64 can hold; scale them down")
    return np.ascontiguousarray(w)


def _check_n_clusters(n_clusters, n_samples: int) -> int:
    k = check_int(n_clusters, "n_clusters", low=1)
    if k > n_samples:
        raise InputError(f"n_clusters={k} is more than the number of points ({n_samples})")
    return k


def _check_tol(tol) -> float:
    if not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol < 0:
        raise InputError(f"tol must be a non-negative number, got {tol!r}")
    return float(tol)


def _tolerance(X: np.ndarray, tol: float) -> float:
    """scikit-learn's tolerance: ``tol`` times the mean variance of the features."""
    if tol == 0:
        return 0.0
    # numpy's var along axis 0 is slow for few columns (46 ms for 1M x 2) and single-threaded
    n, d = X.shape
    chunk = chunk_size(n)
    part = np.empty(((n + chunk - 1) // chunk, d))
    driver = kern.column_sums_par if n * d >= 1 << 20 else kern.column_sums_ser
    driver(X, np.zeros(d), 1, part, chunk)
    mean = part.sum(axis=0) / n
    driver(X, mean, 2, part, chunk)
    return float(np.mean(part.sum(axis=0) / n)) * tol


def _check_centers(centers, n_clusters: int | None, d: int, dtype, name: str) -> np.ndarray:
    C = check_data(centers, name)
    if C.shape[1] != d:
        raise InputError(f"{name} has {C.shape[1]} features but the data has {d}")
    if n_clusters is not None and C.shape[0] != n_clusters:
        raise InputError(f"{name} has {C.shape[0]} rows but n_clusters is {n_clusters}")
    return np.ascontiguousarray(C, dtype=dtype)


def chunk_size(n: int) -> int:
    """Rows per chunk of the parallel kernels for n rows.

    A function of n alone, never of the thread count, so that results are identical whatever
    ``NUMBA_NUM_THREADS`` is; small inputs still get a few chunks to spread over the threads.
    """
    return int(min(4096, max(256, n // 16)))


def _n_chunks(n: int) -> int:
    return (n + chunk_size(n) - 1) // chunk_size(n)


# ---------------------------------------------------------------------------------------------
# the E-step and M-step on their own


def assign(X, centers) -> tuple[np.ndarray, np.ndarray]:
    """The E-step alone: nearest centre of every row and the squared distance to it.

    Returns ``(labels, sq_dist)``: int32 labels and squared distances in float64.  Ties go to the
    lowest centre index.
    """
    X = check_data(X)
    C = _check_centers(centers, None, X.shape[1], X.dtype, "centers")
    labels = np.empty(X.shape[0], dtype=np.int32)
    sq_dist = np.empty(X.shape[0], dtype=np.float64)
    kern.assign_pass(X, C, _transposed(C), labels, sq_dist, chunk_size(X.shape[0]))
    return labels, sq_dist


def update(X, labels, n_clusters: int, sample_weight=None, old_centers=None) -> np.ndarray:
    """The M-step alone: the weighted mean of the rows of each cluster.

    An empty cluster is re-seeded at the row farthest from its centre (``old_centers`` when given,
    otherwise the new means), as scikit-learn does; that row's weight moves with it.
    """
    X = check_data(X)
    n, d = X.shape
    k = _check_n_clusters(n_clusters, n)
    w = _check_weight(sample_weight, n)
    lab = np.asarray(labels)
    if lab.shape != (n,) or lab.dtype.kind not in "iu":
        raise InputError(f"labels must be {n} integers, got shape {lab.shape} dtype {lab.dtype}")
    if lab.min() < 0 or lab.max() >= k:
        raise InputError(f"labels must lie in 0..{k - 1}")
    lab = np.ascontiguousarray(lab, dtype=np.int32)
    sums = np.empty((_n_chunks(n), k, d))
    wsums = np.empty((_n_chunks(n), k))
    kern.accumulate_pass(X, w, lab, sums, wsums, chunk_size(n))
    total, wtotal = np.empty((k, d)), np.empty(k)
    kern.reduce_chunks(sums, wsums, total, wtotal, True)
    if old_centers is not None:
        ref = _check_centers(old_centers, k, d, X.dtype, "old_centers")
    else:
        ref = _means(total, wtotal, np.zeros((k, d), dtype=X.dtype), X.dtype)
    if (wtotal == 0).any():
        _relocate_empty(X, w, lab, ref, total, wtotal)
    return _means(total, wtotal, ref, X.dtype)


def inertia(X, centers, labels, sample_weight=None) -> float:
    """The k-means objective of ``labels`` against ``centers``: the weighted squared distance of
    every row to the centre it is labelled with, summed (one parallel pass, no (n, d) array)."""
    X = check_data(X)
    n = X.shape[0]
    C = _check_centers(centers, None, X.shape[1], X.dtype, "centers")
    w = _check_weight(sample_weight, n)
    lab = np.asarray(labels)
    if lab.shape != (n,) or lab.dtype.kind not in "iu":
        raise InputError(f"labels must be {n} integers, got shape {lab.shape} dtype {lab.dtype}")
    if lab.min() < 0 or lab.max() >= C.shape[0]:
        raise InputError(f"labels must lie in 0..{C.shape[0] - 1}")
    return _inertia(X, w, C, np.ascontiguousarray(lab, dtype=np.int32))


def _transposed(C: np.ndarray) -> np.ndarray:
    """The (d, k) float64 transpose the distance kernels read."""
    CT = np.empty((C.shape[1], C.shape[0]))
    kern.transpose_centres(C, CT)
    return CT


def _means(total: np.ndarray, wtotal: np.ndarray, fallback: np.ndarray, dtype) -> np.ndarray:
    """Weighted means; a cluster with no weight at all keeps its ``fallback`` centre."""
    C = np.array(fallback, dtype=dtype, copy=True)
    nz = wtotal > 0
    C[nz] = total[nz] / wtotal[nz, None]
    return C


def _relocate_empty(X, w, labels, centers, total, wtotal) -> None:
    """Move each empty cluster onto a far row, in place on the sums (scikit-learn's rule).

    Rows are taken farthest from their centre first (ties by row index).  A row is skipped when
    it has no weight, when taking it would empty the cluster it comes from, or when it already
    sits on its centre up to rounding: moving a duplicate of a centre would only make the two
    clusters trade the same rows back and forth.  With no row left, the cluster stays empty and
    keeps its centre.
    """
    empty = np.flatnonzero(wtotal <= 0)
    n = X.shape[0]
    d2 = np.empty(n)
    kern.own_sq_dist(X, centers, labels, d2, chunk_size(n))
    m = min(n, 4 * empty.size + 64)
    cand = np.argpartition(-d2, m - 1)[:m] if m < n else np.arange(n)
    cand = cand[np.lexsort((cand, -d2[cand]))]
    eps = 64 * np.finfo(X.dtype).eps
    pos = 0
    for j in empty:
        while pos < cand.size:
            p = cand[pos]
            pos += 1
            donor = labels[p]
            wp = float(w[p])
            xp = X[p].astype(np.float64)
            if d2[p] <= eps * eps * max(float(xp @ xp), np.finfo(np.float64).tiny):
                return  # every remaining row is at least as close to its centre
            if wp > 0 and wtotal[donor] - wp > 0:
                total[donor] -= wp * xp
                wtotal[donor] -= wp
                total[j] = wp * xp
                wtotal[j] = wp
                break


# ---------------------------------------------------------------------------------------------
# initialisation


def _kmeans_plusplus(X, w, k, rng, fixed=None) -> np.ndarray:
    """Greedy k-means++ (2 + ln k local trials per centre), weighted by ``w``, as scikit-learn.

    ``fixed`` (j, d) centres, when given, are the first j centres and the seeding continues
    from them (quantizing with locked colours: the free centres go where the locked ones are
    not).
    """
    n = X.shape[0]
    n_trials = 2 + int(np.log(k))
    wf = w.astype(np.float64)
    parallel = _parallel(n, n_trials, X.shape[1])
    update_closest = kern.update_closest_par if parallel else kern.update_closest_ser
    potentials = kern.candidate_potentials_par if parallel else kern.candidate_potentials_ser
    centers = np.empty((k, X.shape[1]), dtype=X.dtype)
    if fixed is not None and len(fixed):
        n_fixed = len(fixed)
        centers[:n_fixed] = fixed
        closest = assign(X, centers[:n_fixed])[1]
    else:
        n_fixed = 1
        first = rng.choice(n, p=wf / wf.sum())
        centers[0] = X[first]
        closest = np.full(n, np.inf)
        update_closest(X, first, closest, chunk_size(n))
    pot_partial = np.empty((_n_chunks(n), n_trials))
    for c in range(n_fixed, k):
        cum = np.cumsum(wf * closest)
        pot = cum[-1]
        if pot > 0:
            cand = np.searchsorted(cum, rng.uniform(size=n_trials) * pot)
            np.minimum(cand, n - 1, out=cand)
        else:  # every row already sits on a centre: any weighted row will do
            cand = rng.choice(n, size=n_trials, p=wf / wf.sum())
        cand = cand.astype(np.int64)
        potentials(X, w, cand, closest, pot_partial, chunk_size(n))
        best = cand[int(np.argmin(pot_partial.sum(axis=0)))]
        update_closest(X, best, closest, chunk_size(n))
        centers[c] = X[best]
    return centers


def kmeans_plusplus(X, n_clusters: int, *, sample_weight=None, fixed=None,
                    random_state=None) -> np.ndarray:
    """k-means++ starting centres (the ``init="k-means++"`` of the estimators), as an array.

    ``fixed``: centres that must be among the result (they come first); the others are seeded
    around them.
    """
    X = check_data(X)
    k = _check_n_clusters(n_clusters, X.shape[0])
    w = _check_weight(sample_weight, X.shape[0])
    if fixed is not None:
        fixed = np.asarray(fixed, dtype=X.dtype)
        if fixed.ndim != 2 or fixed.shape[1] != X.shape[1] or fixed.shape[0] > k:
            raise InputError(f"fixed centres must have shape (j <= {k}, {X.shape[1]}), "
                             f"got {fixed.shape}")
    return _kmeans_plusplus(X, w, k, check_random_state(random_state), fixed)


def _initial_centers(X, w, k, init, rng) -> np.ndarray:
    if isinstance(init, str):
        if init == "k-means++":
            return _kmeans_plusplus(X, w, k, rng)
        if init == "random":
            wf = w.astype(np.float64)
            n_pos = int((wf > 0).sum())
            if n_pos >= k:
                rows = rng.choice(X.shape[0], size=k, replace=False, p=wf / wf.sum())
            else:
                rows = rng.choice(X.shape[0], size=k, replace=False)
            return X[np.sort(rows)].copy()
    return _check_centers(init, k, X.shape[1], X.dtype, "init")


def _check_init(init) -> None:
    if isinstance(init, str):
        if init not in ("k-means++", "random"):
            raise InputError(f"init must be 'k-means++', 'random' or an array, got {init!r}")
    elif callable(init):
        raise InputError("init must be 'k-means++', 'random' or an array of shape (k, d)")


# ---------------------------------------------------------------------------------------------
# the iteration


def _pick_algorithm(algorithm: str, n: int, d: int, k: int) -> str:
    if algorithm != "auto":
        return algorithm
    if k == 1:
        return "lloyd"
    if d >= _ELKAN_MIN_DIM and n * k * 8 <= _ELKAN_MAX_BYTES:
        return "elkan"
    if d <= _TREE_MAX_DIM and n >= _TREE_MIN_ROWS and k >= _TREE_MIN_CLUSTERS:
        return "kdtree"
    return "hamerly"


class _Engine:
    """State of one k-means run: centres, labels, the algorithm's bounds and chunk buffers.

    All per-iteration bookkeeping (chunk reduction, means, centre geometry) runs in small serial
    kernels, so an iteration on a small data set costs microseconds of Python.
    """

    def __init__(self, X, w, centers, algorithm: str, max_iter: int,
                 parallel: bool | None = None):
        self.X, self.w = X, w
        n, d = X.shape
        k = centers.shape[0]
        self.chunk = chunk_size(n)
        self.centers = np.array(centers, dtype=X.dtype, order="C", copy=True)
        self.algorithm = _pick_algorithm(algorithm, n, d, k)
        # serial or parallel pass kernels: chosen from the work unless forced (warm_up does both)
        self.parallel = _parallel(n, k, d) if parallel is None else parallel
        self._labels = np.zeros(n, dtype=np.int32)  # in X's order (see labels)
        self.tree_labels = None  # with the tree: the labels its passes keep, in tree order
        self.total = np.zeros((k, d))
        self.wtotal = np.zeros(k)
        self.move = np.zeros(k)
        self.CT = np.empty((d, k))
        self.half_cc = np.empty((k, k))
        self.half_sep = np.empty(k)
        self.n_updates = 0
        self.full = True  # the next pass must rebuild the sums from every row
        self.w_eps = 1e-9 * float(w.sum(dtype=np.float64))
        bounded = self.algorithm in ("hamerly", "elkan")
        self.upper = np.full(n if bounded else 0, np.inf)
        self.lower1 = np.zeros(n if self.algorithm == "hamerly" else 0)
        elkan = self.algorithm == "elkan"
        self.lower2 = np.zeros((n, k) if elkan else (0, 0))
        # cumulative movements behind the lazily moved bounds (one row per update)
        self.cum_move = np.zeros((max_iter + 1 if bounded else 1, k))
        self.cum_other = np.zeros((max_iter + 1 if self.algorithm == "hamerly" else 1, k))
        if self.algorithm == "kdtree":
            self.tree = kd.build_tree(X, w)
            self.tree_labels = np.zeros(n, dtype=np.int32)
            self.n_passes = self._labels_pass = 0
            n_parts = self.tree.tasks.shape[0]
        else:
            n_parts = (n + self.chunk - 1) // self.chunk
        self.sums = np.empty((n_parts, k, d))
        self.wsums = np.empty((n_parts, k))
        self.changed = np.empty(n_parts, dtype=np.int64)
        serial = not self.parallel and self.algorithm != "elkan"
        module, name = (kd, "filter") if self.algorithm == "kdtree" else (kern, self.algorithm)
        self.driver = getattr(module, f"{name}_{'ser' if serial else 'par'}")
        self.out = (self.sums, self.wsums, self.changed, self.chunk)

    @property
    def labels(self) -> np.ndarray:
        """The current labels, in X's order (the engine's own array: copy to keep)."""
        if self.tree_labels is not None and self._labels_pass != self.n_passes:
            kd.from_tree_order(self.tree.perm, self.tree_labels, self._labels)
            self._labels_pass = self.n_passes
        return self._labels

    def _pass(self) -> int:
        """E-step against the current centres, with the chunk sums for the M-step."""
        it = self.n_updates
        if self.algorithm == "lloyd":  # Lloyd needs no bounds, only the transposed centres
            kern.transpose_centres(self.centers, self.CT)
            return self.driver(self.X, self.w, self.centers, self.CT, self._labels, *self.out)
        if self.algorithm == "kdtree":
            self.n_passes += 1
            t = self.tree
            return self.driver(self.centers.astype(np.float64), self.n_passes - 1, t.tasks,
                               t.paths, t.links, t.records, t.Xs, t.ws, self.tree_labels,
                               self.sums, self.wsums, self.changed)
        kern.center_geometry(self.centers, self.move, self.CT, self.half_cc, self.half_sep,
                             self.cum_other, it)
        if self.algorithm == "hamerly":
            return self.driver(self.full, self.X, self.w, self.centers, self.CT, self.half_sep,
                               self.cum_move, self.cum_other, it, self._labels, self.upper,
                               self.lower1, *self.out)
        return self.driver(self.full, self.X, self.w, self.centers, self.CT, self.half_cc,
                           self.half_sep, self.move, self.cum_move, it, self._labels, self.upper,
                           self.lower2, *self.out)

    def iterate(self) -> tuple[int, float]:
        """One E-step and M-step; returns (labels changed, squared centre shift)."""
        n_changed = self._pass()
        full = self.full or self.algorithm in ("lloyd", "kdtree")
        old = self.centers
        self.full = False
        lightest = kern.reduce_chunks(self.sums, self.wsums, self.total, self.wtotal, full)
        if not full and lightest <= self.w_eps:
            # updated sums drift by rounding, so a cluster that has just lost its last rows
            # shows a tiny weight instead of zero: rebuild its sums exactly from the labels
            kern.accumulate_pass(self.X, self.w, self.labels, self.sums, self.wsums, self.chunk)
            lightest = kern.reduce_chunks(self.sums, self.wsums, self.total, self.wtotal, True)
        if lightest <= 0.0:
            _relocate_empty(self.X, self.w, self.labels, old, self.total, self.wtotal)
            self.full = True  # the labels do not show the relocation: rebuild the sums next
        new = np.empty_like(old)
        self.n_updates += 1
        shift_sq = kern.finish_m_step(self.total, self.wtotal, old, new, self.move, self.cum_move,
                                      self.n_updates)
        self.centers = new
        return int(n_changed), shift_sq

    def relabel(self) -> None:
        """Labels against the current centres (the sums computed on the way are not used)."""
        self._pass()

    def inertia(self) -> float:
        return _inertia(self.X, self.w, self.centers, self.labels)


def _parallel(n: int, k: int, d: int) -> bool:
    """Whether a pass is worth a parallel launch (about 0.1 ms) rather than the calling thread."""
    return n * k * d >= 1 << 21


def _inertia(X, w, C, labels) -> float:
    n = X.shape[0]
    chunk = chunk_size(n)
    partial = np.empty((n + chunk - 1) // chunk)
    driver = kern.inertia_par if _parallel(n, C.shape[0], X.shape[1]) else kern.inertia_ser
    driver(X, w, C, labels, partial, chunk)
    return float(partial.sum())


def _run(X, w, centers, max_iter, tol_abs, algorithm, with_inertia) -> Iterator[tuple]:
    """Iterate from ``centers``; yields (iteration, engine, converged, inertia) per iteration.

    The yielded engine is live state, not a copy.  ``inertia`` is None unless ``with_inertia``,
    except on the last item, which always carries the final inertia.
    """
    eng = _Engine(X, w, centers, algorithm, max_iter)
    for it in range(1, max_iter + 1):
        n_changed, shift_sq = eng.iterate()
        strict = it > 1 and n_changed == 0
        converged = strict or shift_sq <= tol_abs
        last = converged or it == max_iter
        if last:
            if not strict:
                eng.relabel()
            yield it, eng, converged, eng.inertia()
            return
        yield it, eng, False, eng.inertia() if with_inertia else None


# ---------------------------------------------------------------------------------------------
# estimators


class _BaseKMeans:
    """Shared surface of the estimators: validation, predict, fit_predict."""

    def __init__(self, n_clusters, init, n_init, max_iter, tol, random_state):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _validate(self, X, sample_weight):
        X = check_data(X)
        k = _check_n_clusters(self.n_clusters, X.shape[0])
        _check_init(self.init)
        if not isinstance(self.init, str):
            _check_centers(self.init, k, X.shape[1], X.dtype, "init")
        n_init = check_int(self.n_init, "n_init", low=1)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        tol = _check_tol(self.tol)
        w = _check_weight(sample_weight, X.shape[0])
        if not isinstance(self.init, str):
            n_init = 1
        return X, w, k, n_init, max_iter, tol

    def _check_fitted(self):
        if getattr(self, "cluster_centers_", None) is None:
            raise InputError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def predict(self, X) -> np.ndarray:
        """Index of the nearest fitted centre for every row of X."""
        self._check_fitted()
        X = check_data(X)
        if X.shape[1] != self.cluster_centers_.shape[1]:
            raise InputError(
                f"X has {X.shape[1]} features but the model was fitted with "
                f"{self.cluster_centers_.shape[1]}"
            )
        return assign(X, self.cluster_centers_.astype(X.dtype, copy=False))[0]

    def fit_predict(self, X, sample_weight=None) -> np.ndarray:
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_


class KMeans(_BaseKMeans):
    """k-means clustering (Lloyd's iteration, accelerated by bounds or by a tree of boxes).

    Parameters follow scikit-learn's ``KMeans``; ``algorithm`` is ``"auto"``, ``"lloyd"``,
    ``"hamerly"``, ``"elkan"`` or ``"kdtree"``.  After ``fit``: ``cluster_centers_`` (in X's dtype),
    ``labels_`` (int32), ``inertia_`` and ``n_iter_``.
    """

    def __init__(self, n_clusters: int = 8, *, init="k-means++", n_init: int = 1,
                 max_iter: int = 300, tol: float = 1e-4, random_state=None,
                 algorithm: str = "auto"):
        super().__init__(n_clusters, init, n_init, max_iter, tol, random_state)
        self.algorithm = algorithm
        self.cluster_centers_ = None

    def _prepare(self, X, sample_weight):
        X, w, k, n_init, max_iter, tol = self._validate(X, sample_weight)
        if self.algorithm not in _ALGORITHMS:
            raise InputError(f"algorithm must be one of {', '.join(_ALGORITHMS)}, "
                             f"got {self.algorithm!r}")
        return X, w, k, n_init, max_iter, _tolerance(X, tol), check_random_state(self.random_state)

    def fit(self, X, sample_weight=None) -> KMeans:
        """Run ``n_init`` times from different starts and keep the lowest inertia."""
        X, w, k, n_init, max_iter, tol_abs, rng = self._prepare(X, sample_weight)
        best = None
        for _ in range(n_init):
            C0 = _initial_centers(X, w, k, self.init, rng)
            start = C0.copy()
            *_, (it, eng, _conv, inertia) = _run(X, w, C0, max_iter, tol_abs, self.algorithm,
                                                 False)
            if best is None or inertia < best[0]:
                best = (inertia, eng.centers, eng.labels, it, start)
        self.inertia_, self.cluster_centers_, self.labels_, self.n_iter_, self.initial_centers_ \
            = best
        return self

    def steps(self, X, sample_weight=None) -> Iterator[Step]:
        """Run one start (the first of ``n_init``) and yield every iteration, for live views.

        When the generator is exhausted the estimator is fitted as by ``fit`` with ``n_init=1``.
        """
        X, w, k, _n_init, max_iter, tol_abs, rng = self._prepare(X, sample_weight)
        C0 = _initial_centers(X, w, k, self.init, rng)
        for it, eng, conv, inertia in _run(X, w, C0, max_iter, tol_abs, self.algorithm, True):
            yield Step(it, eng.centers.copy(), eng.labels.copy(), inertia, conv)
        self.inertia_, self.cluster_centers_, self.labels_, self.n_iter_ = (
            inertia, eng.centers, eng.labels, it)


class MiniBatchKMeans(_BaseKMeans):
    """k-means on random mini-batches, for millions of rows (e.g. every pixel of a photo).

    Each step assigns ``batch_size`` rows drawn at random and moves every centre to the running
    weighted mean of the rows it has been given (scikit-learn's per-centre learning rate).  The
    run stops when the smoothed batch inertia has not improved for ``max_no_improvement`` steps,
    when the squared centre shift of a step falls to ``tol`` (relative to the feature variance,
    off when 0), or after ``max_iter`` passes over the data.  The start is chosen on a random
    subset of ``init_size`` rows (default ``3 * batch_size``), best of ``n_init`` by inertia on that
    subset.  ``labels_`` and ``inertia_`` are then computed on all rows in one parallel pass.
    """

    def __init__(self, n_clusters: int = 8, *, batch_size: int = 4096, init="k-means++",
                 n_init: int = 1, max_iter: int = 100, tol: float = 0.0, random_state=None,
                 max_no_improvement: int = 10, init_size: int | None = None):
        super().__init__(n_clusters, init, n_init, max_iter, tol, random_state)
        self.batch_size = batch_size
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.cluster_centers_ = None

    def _batches(self, X, sample_weight) -> Iterator[tuple]:
        """Yields (step, centres, X, w, converged) after every batch (live centres)."""
        X, w, k, n_init, max_iter, tol = self._validate(X, sample_weight)
        batch = check_int(self.batch_size, "batch_size", low=1)
        patience = check_int(self.max_no_improvement, "max_no_improvement", low=1)
        init_size = (3 * batch if self.init_size is None
                     else check_int(self.init_size, "init_size", low=1))
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        tol_abs = _tolerance(X, tol)
        init_size = min(n, max(init_size, k))
        # the start: best of n_init on one random subset
        sub = np.sort(rng.choice(n, size=init_size, replace=False)) if init_size < n else None
        Xs = X if sub is None else np.ascontiguousarray(X[sub])
        ws = w if sub is None else np.ascontiguousarray(w[sub])
        best = None
        for _ in range(n_init):
            C0 = _initial_centers(Xs, ws, k, self.init, rng)
            _, d2 = assign(Xs, C0)
            inertia = float(d2 @ ws)
            if best is None or inertia < best[0]:
                best = (inertia, C0)
        C = np.array(best[1], dtype=X.dtype)
        CT = _transposed(C)
        counts = np.zeros(k)
        batch = min(batch, n)
        alpha = min(1.0, max(2.0 * batch / (n + 1), 0.02))
        ewa = None
        ewa_min = np.inf
        no_improvement = 0
        total_steps = max_iter * max(1, n // batch)
        for step in range(1, total_steps + 1):
            idx = rng.integers(0, n, size=batch)
            old = C.copy()
            batch_inertia, batch_weight = kern.minibatch_step(X, w, idx, C, CT, counts)
            batch_inertia /= max(batch_weight, 1e-300)
            ewa = batch_inertia if ewa is None else ewa * (1 - alpha) + batch_inertia * alpha
            shift_sq = float(((C.astype(np.float64) - old) ** 2).sum())
            if ewa < ewa_min:
                ewa_min = ewa
                no_improvement = 0
            else:
                no_improvement += 1
            converged = (tol_abs > 0 and shift_sq <= tol_abs) or no_improvement >= patience
            yield step, C, X, w, converged
            if converged:
                return

    def fit(self, X, sample_weight=None) -> MiniBatchKMeans:
        """Fit on mini-batches, then label every row against the final centres."""
        *_, (step, C, Xc, w, _converged) = self._batches(X, sample_weight)
        self._finish(Xc, w, C, step)
        return self

    def _finish(self, X, w, C, n_steps) -> None:
        labels, d2 = assign(X, C)
        self.cluster_centers_ = C.copy()
        self.labels_ = labels
        self.inertia_ = float(d2 @ w)
        self.n_steps_ = n_steps
        # passes over the data begun, as scikit-learn counts n_iter_ for mini-batches
        self.n_iter_ = -(-n_steps * min(self.batch_size, X.shape[0]) // X.shape[0])

    def steps(self, X, sample_weight=None) -> Iterator[Step]:
        """Yield every mini-batch step; its ``labels`` and ``inertia`` (of all rows, one pass)
        are computed when first read."""
        for step, C, Xc, w, converged in self._batches(X, sample_weight):
            yield _MiniBatchStep(step, C.copy(), converged, Xc, w)
        self._finish(Xc, w, C, step)


#: the algorithms :func:`warm_up` compiles by default (every one)
ALGORITHMS = ("lloyd", "hamerly", "elkan", "kdtree")


@functools.cache  # once per process: both GUI workers ask for it at start-up
def warm_up(dtypes: tuple = (np.float32, np.float64), algorithms: tuple = ALGORITHMS,
            others: bool = True) -> None:
    """Compile (or load from the numba cache) every kernel for the floating ``dtypes``: the
    iteration kernels of ``algorithms``, and with ``others`` the rest (inits, inertia,
    mini-batch, update).

    The app's points are always float64 (``load_points``, the datasets), so the GUI's kernel
    groups (:mod:`palettelab.core.kernel_warmup`) ask for float64 alone: half the bill.
    """
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        X = rng.normal(size=(64, 3)).astype(dtype)
        w = np.ones(64)
        for algorithm in algorithms:
            for parallel in (True, False):
                eng = _Engine(X, w, X[:3], algorithm, 3, parallel=parallel)
                eng.iterate()
                eng.iterate()
        if not others:
            continue
        for driver in (kern.inertia_par, kern.inertia_ser):
            driver(X, w, X[:3], np.zeros(64, dtype=np.int32), np.empty(1), 64)
        for driver in (kern.column_sums_par, kern.column_sums_ser):
            driver(X, np.zeros(3), 1, np.empty((1, 3)), 64)
        for driver in (kern.update_closest_par, kern.update_closest_ser):
            driver(X, 0, np.full(64, np.inf), 64)
        for driver in (kern.candidate_potentials_par, kern.candidate_potentials_ser):
            driver(X, w, np.zeros(2, dtype=np.int64), np.full(64, np.inf), np.empty((1, 2)), 64)
        KMeans(3, random_state=0, max_iter=3).fit(X)
        MiniBatchKMeans(3, batch_size=16, random_state=0, max_iter=1).fit(X)
        update(X, np.zeros(64, dtype=np.int32), 2)

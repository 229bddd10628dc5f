"""Tests of the k-means core (``palettelab.core.clustering.kmeans``) against its contract in
docs/DESIGN.md "Python API".

What is checked:

* exact agreement with scikit-learn's Lloyd k-means from the same explicit start (labels,
  centres, inertia, ``n_iter_``; ``tol``/``max_iter`` semantics), float64 and float32,
  weighted and unweighted, for every ``algorithm``;
* Hamerly / Elkan / auto give Lloyd's answer exactly;
* ``n_init`` keeps the best start and escapes a known bad local optimum;
* degenerate data (k=1, k=n, duplicate rows, all-equal rows);
* the same ``random_state`` gives bit-identical results for 1 and 2 numba threads;
* ``steps()`` (numbering, monotone inertia, convergence flag, same end as ``fit``, copies);
* ``assign`` / ``update`` against brute-force numpy, including empty-cluster re-seeding;
* ``MiniBatchKMeans`` quality against full k-means;
* every ``InputError``.
"""

from __future__ import annotations

import hashlib
import sys
import textwrap
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.cluster import KMeans as SKKMeans

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # so that plain `pytest` (not only `python -m pytest`) works
    sys.path.insert(0, str(REPO))

from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans, Step, assign, update  # noqa: E402
from palettelab.core.errors import InputError  # noqa: E402

ALGORITHMS = ["lloyd", "hamerly", "elkan", "kdtree", "auto"]
ACCELERATED = ["hamerly", "elkan", "kdtree", "auto"]


# ---------------------------------------------------------------------------------------------
# helpers


@cache
def _blobs_cached(n, d, n_centers, spread, seed):
    rng = np.random.default_rng(seed)
    if d == 1:
        # on a line, random centres would collide; space them out instead
        centers = (np.arange(n_centers, dtype=np.float64) * 8.0 + rng.uniform(-1, 1, n_centers))
        centers = centers[:, None]
    else:
        centers = rng.uniform(-spread, spread, (n_centers, d))
    X = centers[rng.integers(0, n_centers, n)] + rng.normal(0.0, 1.0, (n, d))
    X.setflags(write=False)
    return X


def blobs(n=3000, d=2, n_centers=10, spread=20.0, seed=0):
    """Gaussian blobs (unit spread) around ``n_centers`` random centres; float64, fresh copy."""
    return _blobs_cached(n, d, n_centers, spread, seed).copy()


def init_rows(X, k, seed=1):
    """k distinct rows of X, chosen by a seeded rng: an explicit start both libraries accept."""
    rng = np.random.default_rng(seed)
    return X[rng.choice(X.shape[0], size=k, replace=False)].copy()


def weights(n, seed=2):
    return np.random.default_rng(seed).uniform(0.5, 2.0, n)


def brute_sq_dists(X, C):
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


def brute_assign(X, C):
    D = brute_sq_dists(X, C)
    labels = D.argmin(axis=1)
    return labels, D[np.arange(X.shape[0]), labels]


def brute_inertia(X, C, labels, w=None):
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    d2 = ((X - C[labels]) ** 2).sum(axis=1)
    return float(d2.sum() if w is None else d2 @ w)


def brute_means(X, labels, k, w=None):
    w = np.ones(X.shape[0]) if w is None else w
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X * w[:, None])
    wsum = np.bincount(labels, weights=w, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty clusters give NaN rows
        return sums / wsum[:, None]


def scale_of(X):
    return max(1.0, float(np.abs(X).max()))


def sk_fit(X, C0, w=None, *, max_iter=300, tol=1e-4):
    return SKKMeans(n_clusters=C0.shape[0], init=C0, n_init=1, algorithm="lloyd",
                    max_iter=max_iter, tol=tol).fit(X, sample_weight=w)


def check_self_consistent(km, X, w=None, rtol=1e-9):
    """Fitted attributes agree with each other: labels are the nearest final centres, inertia is
    their weighted sum of squared distances, nothing is NaN."""
    C = km.cluster_centers_
    assert C.shape == (km.n_clusters, X.shape[1])
    assert np.all(np.isfinite(C))
    assert km.labels_.shape == (X.shape[0],)
    assert np.issubdtype(km.labels_.dtype, np.integer)
    assert km.labels_.min() >= 0 and km.labels_.max() < km.n_clusters
    assert np.isfinite(km.inertia_)
    ref = brute_inertia(X, C, km.labels_, w)
    assert km.inertia_ == pytest.approx(ref, rel=rtol, abs=1e-12 * scale_of(X) ** 2)


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# 1. agreement with scikit-learn from the same explicit start


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("d", [1, 2, 3, 8, 64])
def test_matches_sklearn_float64(d, weighted, algorithm):
    X = blobs(3000, d)
    w = weights(X.shape[0]) if weighted else None
    C0 = init_rows(X, 8)
    ref = sk_fit(X, C0, w)
    km = KMeans(8, init=C0, n_init=1, algorithm=algorithm, max_iter=300, tol=1e-4)
    assert km.fit(X, sample_weight=w) is km
    assert km.cluster_centers_.dtype == np.float64
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                               atol=1e-9 * scale_of(X))
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    assert km.n_iter_ == ref.n_iter_
    check_self_consistent(km, X, w)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "tol,max_iter",
    [(0.0, 300), (1e-2, 300), (0.1, 300), (1e-4, 1), (1e-4, 2), (0.0, 4)],
)
def test_matches_sklearn_tol_and_max_iter(tol, max_iter, algorithm):
    """tol is relative to the mean feature variance, on the summed squared centre shift; stopping
    early (by tol or max_iter) still reports labels of the *final* centres, as sklearn does."""
    X = blobs(4000, 3, n_centers=12, spread=8.0, seed=5)  # overlapping: many iterations
    w = weights(X.shape[0], seed=6)
    C0 = init_rows(X, 10, seed=7)
    ref = sk_fit(X, C0, w, max_iter=max_iter, tol=tol)
    km = KMeans(10, init=C0, algorithm=algorithm, max_iter=max_iter, tol=tol).fit(X, w)
    assert km.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                               atol=1e-9 * scale_of(X))
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    # labels_ are the assignment to the final centres even when stopped early
    np.testing.assert_array_equal(km.labels_, assign(X, km.cluster_centers_)[0])


def test_tol_cases_really_differ():
    """Guard for the test above: the chosen tolerances do stop sklearn at different points."""
    X = blobs(4000, 3, n_centers=12, spread=8.0, seed=5)
    w = weights(X.shape[0], seed=6)
    C0 = init_rows(X, 10, seed=7)
    n_iters = {tol: sk_fit(X, C0, w, tol=tol).n_iter_ for tol in (0.0, 1e-2, 0.1)}
    assert len(set(n_iters.values())) == 3, n_iters


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("d", [2, 3, 8])
def test_matches_sklearn_float32(d, weighted, algorithm):
    """float32 stays float32 and lands on sklearn's answer.

    sklearn's own float32 run drifts from its float64 run on the same values (it expands
    ||x - c||^2 in float32: 99.3% label agreement for d=8 here), so labels and centres are held
    to sklearn in float64 on the very same float32 values, inertia to both."""
    X = blobs(3000, d).astype(np.float32)
    w = weights(X.shape[0]).astype(np.float32) if weighted else None
    C0 = init_rows(X, 8)
    ref32 = sk_fit(X, C0, w)
    ref = sk_fit(X.astype(np.float64), C0.astype(np.float64),
                 None if w is None else w.astype(np.float64))
    km = KMeans(8, init=C0, algorithm=algorithm).fit(X, sample_weight=w)
    assert km.cluster_centers_.dtype == np.float32
    assert np.mean(km.labels_ == ref.labels_) >= 0.999
    assert np.mean(km.labels_ == ref32.labels_) >= 0.99
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-4)
    assert km.inertia_ == pytest.approx(ref32.inertia_, rel=1e-4)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-3,
                               atol=1e-4 * scale_of(X))
    check_self_consistent(km, X, w, rtol=1e-4)


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_input_untouched(cls, dtype):
    X = blobs(3000, 3).astype(dtype)
    X_before = X.copy()
    w = weights(X.shape[0])
    w_before = w.copy()
    km = cls(5, random_state=0).fit(X, sample_weight=w)
    assert km.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(w, w_before)
    labels = km.predict(X)
    np.testing.assert_array_equal(labels, assign(X, km.cluster_centers_)[0])
    agree = np.mean(km.labels_ == labels)
    assert agree == 1.0 if dtype == np.float64 else agree >= 0.9999


@pytest.mark.parametrize("layout", ["fortran", "strided", "list"])
def test_non_contiguous_input_same_result(layout):
    X = blobs(2000, 4)
    C0 = init_rows(X, 6)
    ref = KMeans(6, init=C0).fit(X)
    if layout == "fortran":
        Xv = np.asfortranarray(X)
    elif layout == "strided":
        wide = np.zeros((X.shape[0], 8))
        wide[:, ::2] = X
        Xv = wide[:, ::2]
    else:
        Xv = X.tolist()
    km = KMeans(6, init=C0).fit(Xv)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)


# ---------------------------------------------------------------------------------------------
# 2. accelerated algorithms == Lloyd


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("algorithm", ACCELERATED)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("d,k", [(1, 5), (2, 20), (3, 8), (8, 30), (32, 12), (64, 3)])
def test_accelerated_equals_lloyd(d, k, weighted, algorithm, dtype):
    X = blobs(4000, d, n_centers=15, spread=10.0, seed=d).astype(dtype)
    w = weights(X.shape[0]).astype(dtype) if weighted else None
    C0 = init_rows(X, k, seed=k)
    lloyd = KMeans(k, init=C0, algorithm="lloyd").fit(X, w)
    fast = KMeans(k, init=C0, algorithm=algorithm).fit(X, w)
    if dtype == np.float64:
        np.testing.assert_array_equal(fast.labels_, lloyd.labels_)
        np.testing.assert_allclose(fast.cluster_centers_, lloyd.cluster_centers_, rtol=1e-10,
                                   atol=1e-12 * scale_of(X))
        assert fast.inertia_ == pytest.approx(lloyd.inertia_, rel=1e-10)
        assert fast.n_iter_ == lloyd.n_iter_
    else:
        assert np.mean(fast.labels_ == lloyd.labels_) >= 0.999
        assert fast.inertia_ == pytest.approx(lloyd.inertia_, rel=1e-4)
    assert fast.cluster_centers_.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("algorithm", ACCELERATED)
@pytest.mark.parametrize("seed", range(3))
def test_accelerated_equals_lloyd_with_coincident_centres(seed, algorithm, dtype):
    """More clusters than distinct rows: some final centres coincide, so distances tie exactly.
    Every algorithm must break the tie the same way as Lloyd and ``assign`` (so that labels_ is
    the assignment to the final centres and equals predict(X)).  The bounds algorithms sum the
    rows in Lloyd's order, so their centres are bit-identical; the tree adds its boxes' sums,
    so its centres may differ in the last bits (and must then still tie among themselves)."""
    rng = np.random.default_rng(9)
    X = np.repeat(rng.normal(size=(5, 3)) * 10, 100, axis=0)[rng.permutation(500)]
    X = X.astype(dtype)
    C0 = X[np.random.default_rng(seed).choice(500, 8, replace=False)]
    lloyd = KMeans(8, init=C0, algorithm="lloyd").fit(X)
    fast = KMeans(8, init=C0, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(lloyd.labels_, assign(X, lloyd.cluster_centers_)[0])
    np.testing.assert_array_equal(fast.labels_, assign(X, fast.cluster_centers_)[0])
    if algorithm == "kdtree":
        np.testing.assert_allclose(fast.cluster_centers_, lloyd.cluster_centers_,
                                   rtol=64 * np.finfo(dtype).eps)
    else:
        np.testing.assert_array_equal(fast.cluster_centers_, lloyd.cluster_centers_)
    np.testing.assert_array_equal(fast.labels_, lloyd.labels_)


# ---------------------------------------------------------------------------------------------
# 3. n_init and random_state


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_same_random_state_same_result(cls, init):
    X = blobs(5000, 3)
    a = cls(7, init=init, random_state=42).fit(X)
    b = cls(7, init=init, random_state=42).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_
    # random_state=None must work too
    c = cls(7, init=init, random_state=None).fit(X)
    check_self_consistent(c, X, rtol=1e-6)


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("seed", range(5))
def test_n_init_never_worse_than_one(init, seed):
    X = blobs(3000, 2, n_centers=12, spread=12.0, seed=11)
    one = KMeans(9, init=init, n_init=1, random_state=seed).fit(X)
    five = KMeans(9, init=init, n_init=5, random_state=seed).fit(X)
    assert five.inertia_ <= one.inertia_ * (1 + 1e-12)
    check_self_consistent(five, X)


def _square():
    rng = np.random.default_rng(3)
    corners = np.array([[0.0, 0.0], [0.0, 10.0], [10.0, 0.0], [10.0, 10.0]])
    X = np.concatenate([c + rng.normal(0.0, 0.5, (250, 2)) for c in corners])
    return X, corners


def test_n_init_escapes_bad_local_optimum():
    X, corners = _square()
    best = KMeans(4, init=corners).fit(X).inertia_
    assert best == pytest.approx(SKKMeans(4, init=corners, n_init=1).fit(X).inertia_, rel=1e-9)
    singles = [KMeans(4, init="random", random_state=s).fit(X).inertia_ for s in range(20)]
    assert max(singles) > 1.5 * best, "data should have a bad local optimum for random starts"
    for seed in range(5):
        km = KMeans(4, init="random", n_init=10, random_state=seed).fit(X)
        assert km.inertia_ == pytest.approx(best, rel=1e-9)
        check_self_consistent(km, X)


# ---------------------------------------------------------------------------------------------
# sample_weight semantics


def test_integer_weights_equal_repeated_rows():
    X = blobs(1500, 3)
    reps = np.random.default_rng(4).integers(1, 4, X.shape[0])
    C0 = init_rows(X, 6)
    # tol=0: stop on unchanged labels only (tol depends on the unweighted variance)
    a = KMeans(6, init=C0, tol=0.0).fit(X, sample_weight=reps.astype(np.float64))
    b = KMeans(6, init=C0, tol=0.0).fit(np.repeat(X, reps, axis=0))
    np.testing.assert_array_equal(np.repeat(a.labels_, reps), b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-10)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_weight_scale_invariance(algorithm):
    X = blobs(2000, 2)
    w = weights(X.shape[0])
    C0 = init_rows(X, 7)
    a = KMeans(7, init=C0, algorithm=algorithm).fit(X, w)
    b = KMeans(7, init=C0, algorithm=algorithm).fit(X, w * 1000.0)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert b.inertia_ == pytest.approx(1000.0 * a.inertia_, rel=1e-10)
    ones = KMeans(7, init=C0, algorithm=algorithm).fit(X, np.ones(X.shape[0]))
    none = KMeans(7, init=C0, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(ones.labels_, none.labels_)
    assert ones.inertia_ == pytest.approx(none.inertia_, rel=1e-12)


def test_zero_weight_points_do_not_pull_centres():
    X = blobs(2000, 2)
    w = weights(X.shape[0])
    w[::3] = 0.0
    C0 = init_rows(X[w > 0], 5)
    km = KMeans(5, init=C0).fit(X, w)
    np.testing.assert_allclose(km.cluster_centers_, brute_means(X, km.labels_, 5, w),
                               rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# 4. degenerate data


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_k_equals_one_is_weighted_mean(cls, weighted):
    X = blobs(3000, 3)
    w = weights(X.shape[0]) if weighted else None
    km = cls(1, random_state=0).fit(X, w)
    mean = np.average(X, axis=0, weights=w)
    assert np.all(km.labels_ == 0)
    optimum = brute_inertia(X, mean[None, :], np.zeros(X.shape[0], dtype=int), w)
    if cls is KMeans:
        np.testing.assert_allclose(km.cluster_centers_[0], mean, rtol=1e-9, atol=1e-9)
        assert km.inertia_ == pytest.approx(optimum, rel=1e-9)
    else:  # a running mean over random batches: close to the mean, not equal to it
        np.testing.assert_allclose(km.cluster_centers_[0], mean, atol=0.02 * X.std())
        assert optimum <= km.inertia_ <= optimum * (1 + 1e-3)
        check_self_consistent(km, X, w)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_k_equals_n(init, algorithm):
    X = np.random.default_rng(8).normal(size=(60, 3))
    km = KMeans(60, init=init, random_state=0, algorithm=algorithm).fit(X)
    assert km.inertia_ == pytest.approx(0.0, abs=1e-20)
    assert len(np.unique(km.labels_)) == 60
    np.testing.assert_array_equal(km.cluster_centers_[km.labels_], X)


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("k", [3, 5, 8])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_duplicate_rows(cls, init, k, dtype):
    rng = np.random.default_rng(9)
    distinct = rng.normal(size=(5, 3)) * 10
    X = np.repeat(distinct, 100, axis=0)[rng.permutation(500)].astype(dtype)
    km = cls(k, init=init, random_state=0).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert km.cluster_centers_.shape == (k, 3)
    assert np.isfinite(km.inertia_)
    check_self_consistent(km, X, rtol=1e-4)
    if k >= 5 and cls is KMeans:
        assert km.inertia_ <= 1e-9 * np.abs(X).max() ** 2 * X.shape[0]
        assert len(np.unique(km.labels_)) == 5
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("seed", range(3))
def test_duplicate_rows_converge_like_sklearn(seed, algorithm):
    """k > distinct rows: once every distinct row has its own centre the labels stop changing, so
    the run must stop (sklearn: 2-4 iterations), not re-seed empty clusters back and forth."""
    rng = np.random.default_rng(9)
    X = np.repeat(rng.normal(size=(5, 3)) * 10, 100, axis=0)[rng.permutation(500)]
    C0 = X[np.random.default_rng(seed).choice(500, 8, replace=False)]
    ref = SKKMeans(8, init=C0, n_init=1, algorithm="lloyd").fit(X)
    km = KMeans(8, init=C0, algorithm=algorithm).fit(X)
    assert km.inertia_ <= 1e-20
    assert km.n_iter_ <= ref.n_iter_ + 5, (km.n_iter_, ref.n_iter_)


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("k", [1, 3])
def test_all_equal_rows(cls, init, k):
    X = np.full((200, 4), 3.7)
    km = cls(k, init=init, random_state=0).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    np.testing.assert_allclose(km.cluster_centers_, 3.7, rtol=1e-12)
    assert km.inertia_ == pytest.approx(0.0, abs=1e-20)
    assert np.all(km.predict(X) < k)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_all_equal_rows_steps(algorithm):
    X = np.zeros((50, 2))
    steps = list(KMeans(2, random_state=0, algorithm=algorithm).steps(X))
    assert steps and steps[-1].converged
    assert np.all(np.isfinite(steps[-1].centers))


# ---------------------------------------------------------------------------------------------
# 5. determinism across thread counts

_DETERMINISM_SCRIPT = textwrap.dedent("""
    import hashlib
    import numba
    import numpy as np
    from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans, assign, update

    def h(a):
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:20]

    print("threads", numba.get_num_threads())
    rng = np.random.default_rng(123)
    C = rng.uniform(-10, 10, (12, 3))
    X = C[rng.integers(0, 12, 30000)] + rng.normal(0, 2.0, (30000, 3))
    w = rng.uniform(0.5, 2.0, 30000)
    for dtype in ("float64", "float32"):
        Xd = X.astype(dtype)
        wd = w.astype(dtype)
        for algo in ("lloyd", "hamerly", "elkan", "kdtree"):
            for ww in (None, wd):
                km = KMeans(8, random_state=0, algorithm=algo).fit(Xd, sample_weight=ww)
                print(dtype, algo, ww is None, h(km.cluster_centers_),
                      h(km.labels_.astype(np.int64)), repr(km.inertia_), km.n_iter_)
        km = KMeans(8, init="random", n_init=3, random_state=1).fit(Xd)
        print(dtype, "random", h(km.cluster_centers_), repr(km.inertia_))
        mb = MiniBatchKMeans(8, batch_size=1024, random_state=0).fit(Xd, sample_weight=wd)
        print(dtype, "minibatch", h(mb.cluster_centers_), h(mb.labels_.astype(np.int64)),
              repr(mb.inertia_))
        labels, d2 = assign(Xd, mb.cluster_centers_)
        print(dtype, "assign", h(labels.astype(np.int64)), h(d2))
        print(dtype, "update", h(update(Xd, labels, 8, sample_weight=wd)))
    import palettelab.core.clustering.kmeans
    # the parallel drivers even on these few rows
    palettelab.core.clustering.kmeans._parallel = lambda n, k, d: True
    for algo in ("lloyd", "hamerly", "kdtree"):
        km = KMeans(8, random_state=0, algorithm=algo).fit(X, sample_weight=w)
        print("parallel", algo, h(km.cluster_centers_), h(km.labels_.astype(np.int64)),
              repr(km.inertia_), km.n_iter_)
""")


def _determinism_lines(run_with_threads, n_threads):
    lines = run_with_threads(_DETERMINISM_SCRIPT, n_threads).splitlines()
    assert lines[0] == f"threads {n_threads}"
    return lines[1:]


def test_same_result_for_any_thread_count_subprocess(run_with_threads):
    one = _determinism_lines(run_with_threads, 1)
    two = _determinism_lines(run_with_threads, 2)
    assert len(one) > 10
    for a, b in zip(one, two, strict=True):
        assert a == b


def test_same_result_for_any_thread_count_in_process():
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(25000, 5)) * rng.uniform(1, 5, 5)
    w = rng.uniform(0.5, 2.0, X.shape[0])
    saved = numba.get_num_threads()
    results = []
    try:
        for n_threads in (1, 2):
            numba.set_num_threads(n_threads)
            out = []
            for algo in ("lloyd", "hamerly", "elkan", "kdtree"):
                km = KMeans(10, random_state=3, algorithm=algo).fit(X, w)
                out += [digest(km.cluster_centers_), digest(km.labels_), repr(km.inertia_)]
            mb = MiniBatchKMeans(10, batch_size=2048, random_state=3).fit(X, w)
            out += [digest(mb.cluster_centers_), digest(mb.labels_), repr(mb.inertia_)]
            results.append(out)
    finally:
        numba.set_num_threads(saved)
    assert results[0] == results[1]


# ---------------------------------------------------------------------------------------------
# 6. steps()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_steps_match_fit(algorithm, weighted):
    X = blobs(3000, 2, n_centers=12, spread=8.0, seed=5)
    w = weights(X.shape[0]) if weighted else None
    C0 = init_rows(X, 9)
    ref = KMeans(9, init=C0, algorithm=algorithm).fit(X, w)
    assert ref.n_iter_ < 300, "test data should converge before max_iter"
    steps = list(KMeans(9, init=C0, algorithm=algorithm).steps(X, sample_weight=w))
    assert [s.iteration for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == ref.n_iter_
    assert steps[-1].converged
    assert not any(s.converged for s in steps[:-1])
    inertias = np.array([s.inertia for s in steps], dtype=np.float64)
    assert np.all(np.diff(inertias) <= 1e-12 * inertias[:-1])
    for s in steps:
        assert s.centers.shape == (9, 2)
        assert s.labels.shape == (X.shape[0],)
        assert s.labels.min() >= 0 and s.labels.max() < 9
    np.testing.assert_array_equal(steps[-1].centers, ref.cluster_centers_)
    np.testing.assert_array_equal(steps[-1].labels, ref.labels_)
    assert steps[-1].inertia == pytest.approx(ref.inertia_, rel=1e-9)


def test_steps_stopped_by_max_iter():
    X = blobs(3000, 2, n_centers=12, spread=8.0, seed=5)
    C0 = init_rows(X, 9)
    steps = list(KMeans(9, init=C0, max_iter=3).steps(X))
    assert [s.iteration for s in steps] == [1, 2, 3]
    ref = KMeans(9, init=C0, max_iter=3).fit(X)
    np.testing.assert_array_equal(steps[-1].centers, ref.cluster_centers_)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_step_arrays_are_copies(algorithm):
    X = blobs(3000, 2, n_centers=12, spread=8.0, seed=5)
    C0 = init_rows(X, 9)
    # 1) arrays kept from earlier steps are not overwritten by later iterations
    kept, snapshots = [], []
    for s in KMeans(9, init=C0, algorithm=algorithm).steps(X):
        kept.append(s)
        snapshots.append((s.centers.copy(), s.labels.copy()))
    assert len(kept) >= 3
    for s, (c, lab) in zip(kept, snapshots, strict=True):
        np.testing.assert_array_equal(s.centers, c)
        np.testing.assert_array_equal(s.labels, lab)
    # 2) scribbling on a step's arrays does not change the run
    last = None
    for s in KMeans(9, init=C0, algorithm=algorithm).steps(X):
        last = (s.centers.copy(), s.labels.copy(), s.inertia)
        if s.centers.flags.writeable:
            s.centers[...] = 1e6
        if s.labels.flags.writeable:
            s.labels[...] = 0
    np.testing.assert_array_equal(last[0], snapshots[-1][0])
    np.testing.assert_array_equal(last[1], snapshots[-1][1])
    assert last[2] == kept[-1].inertia


def test_steps_with_init_array_not_modified():
    X = blobs(2000, 2)
    C0 = init_rows(X, 5)
    C0_before = C0.copy()
    KMeans(5, init=C0).fit(X)
    list(KMeans(5, init=C0).steps(X))
    np.testing.assert_array_equal(C0, C0_before)


def test_minibatch_steps_surface():
    X = blobs(20000, 3).astype(np.float32)
    mb = MiniBatchKMeans(6, batch_size=1024, random_state=0, max_iter=2)
    steps = list(mb.steps(X))
    assert [s.iteration for s in steps] == list(range(1, len(steps) + 1))
    assert steps[-1].centers.shape == (6, 3)
    assert steps[-1].labels.shape == (X.shape[0],)
    ref = MiniBatchKMeans(6, batch_size=1024, random_state=0, max_iter=2).fit(X)
    np.testing.assert_array_equal(steps[-1].centers, ref.cluster_centers_)
    np.testing.assert_array_equal(steps[-1].labels, ref.labels_)
    assert steps[-1].inertia == pytest.approx(ref.inertia_, rel=1e-12)


def test_minibatch_step_labels_belong_to_that_steps_centres():
    """Labels and inertia are computed when read (possibly after later steps have run): they
    must still be those of the step's own centres."""
    X = blobs(5000, 2)
    steps = list(MiniBatchKMeans(4, batch_size=256, random_state=1, max_iter=1).steps(X))
    assert len(steps) > 3
    for step in (steps[0], steps[len(steps) // 2]):
        labels, sq = assign(X, step.centers)
        np.testing.assert_array_equal(step.labels, labels)
        assert step.inertia == pytest.approx(float(sq.sum()), rel=1e-12)
    assert isinstance(steps[0], Step)


# ---------------------------------------------------------------------------------------------
# 7. assign / update


@pytest.mark.parametrize("d,k", [(1, 4), (3, 7), (16, 20), (64, 5)])
def test_assign_brute_force_float64(d, k):
    rng = np.random.default_rng(d + k)
    X = rng.normal(size=(2500, d)) * 3 + 100.0  # offset: catches ||x||^2 - 2xc + ||c||^2
    C = X[rng.choice(2500, k, replace=False)] + rng.normal(size=(k, d)) * 0.1
    labels, sq = assign(X, C)
    ref_labels, ref_sq = brute_assign(X, C)
    assert labels.shape == (2500,) and sq.shape == (2500,)
    assert np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(sq, ref_sq, rtol=1e-9, atol=1e-9 * d)
    assert np.all(sq >= 0)


@pytest.mark.parametrize("d,k", [(3, 7), (16, 20)])
def test_assign_brute_force_float32(d, k):
    rng = np.random.default_rng(d + k)
    X = (rng.normal(size=(2500, d)) * 3).astype(np.float32)
    C = X[rng.choice(2500, k, replace=False)]
    labels, sq = assign(X, C)
    ref_labels, ref_sq = brute_assign(X, C)
    assert np.mean(labels == ref_labels) >= 0.999
    np.testing.assert_allclose(sq, ref_sq, rtol=1e-4, atol=1e-4)
    assert np.all(sq >= 0)


def test_assign_exact_zero_for_centre_rows():
    X = blobs(500, 3)
    C = X[[3, 10, 200]].copy()
    labels, sq = assign(X, C)
    assert list(labels[[3, 10, 200]]) == [0, 1, 2]
    assert np.all(sq[[3, 10, 200]] == 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_update_brute_force(weighted, dtype):
    X = blobs(3000, 5).astype(dtype)
    w = weights(X.shape[0]).astype(dtype) if weighted else None
    labels = np.random.default_rng(3).integers(0, 9, X.shape[0])
    assert len(np.unique(labels)) == 9
    C = update(X, labels, 9, sample_weight=w)
    assert C.shape == (9, 5)
    assert C.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(C, brute_means(X, labels, 9, w), rtol=rtol,
                               atol=rtol * scale_of(X))
    # int32 labels too
    C32 = update(X, labels.astype(np.int32), 9, sample_weight=w)
    np.testing.assert_allclose(C32, C, rtol=rtol, atol=rtol * scale_of(X))


@pytest.mark.parametrize("n_empty", [1, 2])
def test_update_reseeds_empty_cluster_at_farthest_point(n_empty):
    X = blobs(3000, 3)
    k = 8
    old = init_rows(X, k)
    labels, _ = assign(X, old)
    empty = list(range(k - n_empty, k))
    for e in empty:  # move their members to cluster 0: clusters e become empty
        labels[labels == e] = 0
    dist = ((X - old[labels]) ** 2).sum(axis=1)
    farthest = np.argsort(dist)[::-1][:n_empty]
    C = update(X, labels, k, old_centers=old)
    assert np.all(np.isfinite(C))
    got = {tuple(C[e]) for e in empty}
    assert got == {tuple(X[i]) for i in farthest}
    # clusters that neither were empty nor gave away a point are plain means
    means = brute_means(X, labels, k)
    donors = set(labels[farthest])
    for j in range(k - n_empty):
        if j not in donors:
            np.testing.assert_allclose(C[j], means[j], rtol=1e-10, atol=1e-10)
    for j in donors:  # with or without the relocated point (scikit-learn removes it)
        keep = labels == j
        keep[farthest] = False
        without = X[keep].mean(axis=0)
        assert np.allclose(C[j], means[j], rtol=1e-10) or np.allclose(C[j], without, rtol=1e-10)


def test_update_reseeds_without_old_centers():
    X = blobs(2000, 2)
    labels = np.random.default_rng(0).integers(0, 4, X.shape[0])  # clusters 4, 5 empty
    C = update(X, labels, 6)
    assert np.all(np.isfinite(C))
    for e in (4, 5):
        assert np.any(np.all(X == C[e], axis=1)), "re-seeded centre should be a row of X"
    assert not np.array_equal(C[4], C[5])
    # donors may lose the relocated point (as in scikit-learn); only the re-seeds are checked


def test_update_does_not_modify_inputs():
    X = blobs(1000, 2)
    w = weights(1000)
    labels = assign(X, init_rows(X, 4))[0]
    old = init_rows(X, 4)
    copies = [a.copy() for a in (X, w, labels, old)]
    update(X, labels, 4, sample_weight=w, old_centers=old)
    for a, b in zip((X, w, labels, old), copies, strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# 8. MiniBatchKMeans


@lru_cache(maxsize=1)
def _grid_blobs():
    # 16 well-separated blobs: the global optimum is clear, so inertias compare cleanly
    g = np.stack(np.meshgrid(np.arange(4), np.arange(2), np.arange(2), indexing="ij"), -1)
    centers = g.reshape(-1, 3) * 6.0
    rng = np.random.default_rng(0)
    X = (centers[rng.integers(0, 16, 200_000)] + rng.normal(0, 1.0, (200_000, 3)))
    X = X.astype(np.float32)
    X.setflags(write=False)
    return X


def test_minibatch_close_to_full_kmeans():
    X = _grid_blobs()
    # n_init=5 for both so neither is stuck with two centres in one blob
    full = KMeans(16, n_init=5, random_state=0).fit(X)
    mb = MiniBatchKMeans(16, batch_size=4096, n_init=5, random_state=0).fit(X)
    assert mb.cluster_centers_.dtype == np.float32
    assert mb.inertia_ <= 1.02 * full.inertia_
    assert full.inertia_ <= 1.02 * mb.inertia_
    # reported inertia/labels are those of the final centres on all rows
    labels, sq = assign(X, mb.cluster_centers_)
    np.testing.assert_array_equal(mb.predict(X), labels)
    assert np.mean(mb.labels_ == labels) >= 0.9999
    assert mb.inertia_ == pytest.approx(float(sq.astype(np.float64).sum()), rel=1e-4)
    # mini-batch centres are close to a Lloyd fixed point
    polished = KMeans(16, init=mb.cluster_centers_).fit(X)
    assert mb.inertia_ <= 1.02 * polished.inertia_


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_minibatch_small_data(weighted):
    X = blobs(3000, 2)
    w = weights(3000) if weighted else None
    mb = MiniBatchKMeans(10, batch_size=256, random_state=0).fit(X, w)
    check_self_consistent(mb, X, w, rtol=1e-9)
    full = KMeans(10, n_init=3, random_state=0).fit(X, w)
    assert mb.inertia_ <= 1.25 * full.inertia_
    np.testing.assert_array_equal(mb.fit_predict(X, w), mb.labels_)


# ---------------------------------------------------------------------------------------------
# predict / fit_predict


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_predict_and_fit_predict(algorithm):
    X = blobs(3000, 3)
    km = KMeans(6, random_state=0, algorithm=algorithm)
    labels = km.fit_predict(X)
    np.testing.assert_array_equal(labels, km.labels_)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    Y = blobs(500, 3, seed=99)
    np.testing.assert_array_equal(km.predict(Y), brute_assign(Y, km.cluster_centers_)[0])
    np.testing.assert_array_equal(km.predict(Y.astype(np.float32)),
                                  assign(Y.astype(np.float32), km.cluster_centers_)[0])


# ---------------------------------------------------------------------------------------------
# 9. InputError

_X = blobs(200, 3)


def _with(value, at):
    X = _X.copy()
    X[at] = value
    return X


_COMMON_PARAM_ERRORS = [
    ("n_clusters=0", dict(n_clusters=0), "n_clusters"),
    ("n_clusters<0", dict(n_clusters=-2), "n_clusters"),
    ("n_clusters>n", dict(n_clusters=201), "n_clusters"),
    ("n_clusters float", dict(n_clusters=2.5), "n_clusters"),
    ("n_clusters str", dict(n_clusters="3"), "n_clusters"),
    ("n_clusters None", dict(n_clusters=None), "n_clusters"),
    ("init unknown", dict(init="kmeans++"), "init"),
    ("init too many rows", dict(n_clusters=4, init=np.zeros((5, 3))), "init"),
    ("init too few rows", dict(n_clusters=4, init=np.zeros((3, 3))), "init"),
    ("init wrong dims", dict(n_clusters=4, init=np.zeros((4, 2))), "init"),
    ("init 1-D", dict(n_clusters=4, init=np.zeros(4)), "init"),
    ("init NaN", dict(n_clusters=2, init=np.array([[0.0, 0, 0], [np.nan, 0, 0]])), "init"),
    ("max_iter=0", dict(max_iter=0), "max_iter"),
    ("max_iter<0", dict(max_iter=-1), "max_iter"),
    ("tol<0", dict(tol=-1e-4), "tol"),
    ("tol NaN", dict(tol=float("nan")), "tol"),
    ("n_init=0", dict(n_init=0), "n_init"),
]

_DATA_ERRORS = [
    ("NaN", _with(np.nan, (5, 1)), "(?i)nan|finite"),
    ("inf", _with(np.inf, (7, 2)), "(?i)inf|finite"),
    ("-inf", _with(-np.inf, (0, 0)), "(?i)inf|finite"),
    ("1-D", _X[:, 0].copy(), "(?i)2-?d|2 dim|two.dim|dimension|shape|ndim"),
    ("3-D", _X.reshape(100, 2, 3), "(?i)2-?d|2 dim|two.dim|dimension|shape|ndim"),
    ("empty", np.zeros((0, 3)), "(?i)empty|no rows|sample|row|point"),
    ("no features", np.zeros((10, 0)), "(?i)empty|feature|column|dimension"),
    ("strings", np.array([["a", "b"], ["c", "d"]]), "(?i)numeric|number|float|dtype|X"),
]

_WEIGHT_ERRORS = [
    ("too short", np.ones(199)),
    ("too long", np.ones(201)),
    ("2-D", np.ones((200, 1))),
    ("negative", np.r_[np.ones(199), -1.0]),
    ("all zero", np.zeros(200)),
    ("NaN", np.r_[np.ones(199), np.nan]),
    ("inf", np.r_[np.ones(199), np.inf]),
]

ESTIMATORS = [KMeans, MiniBatchKMeans]


def _raises(fn, match):
    with pytest.raises(InputError, match=match) as info:
        fn()
    assert "\n" not in str(info.value), "InputError messages are one line"
    return info


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("params,match", [c[1:] for c in _COMMON_PARAM_ERRORS],
                         ids=[c[0] for c in _COMMON_PARAM_ERRORS])
def test_bad_parameters(cls, params, match):
    params = dict(params)
    params.setdefault("n_clusters", 4)
    n_clusters = params.pop("n_clusters")
    _raises(lambda: cls(n_clusters, **params).fit(_X), match)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_bad_parameters_in_steps(cls):
    _raises(lambda: list(cls(0).steps(_X)), "n_clusters")
    _raises(lambda: list(cls(3, max_iter=0).steps(_X)), "max_iter")


def test_unknown_algorithm():
    _raises(lambda: KMeans(4, algorithm="full").fit(_X), "algorithm")
    _raises(lambda: KMeans(4, algorithm=None).fit(_X), "algorithm")


def test_bad_batch_size():
    _raises(lambda: MiniBatchKMeans(4, batch_size=0).fit(_X), "batch_size")


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("X,match", [c[1:] for c in _DATA_ERRORS],
                         ids=[c[0] for c in _DATA_ERRORS])
def test_bad_data(cls, X, match):
    _raises(lambda: cls(2).fit(X), match)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("w", [c[1] for c in _WEIGHT_ERRORS], ids=[c[0] for c in _WEIGHT_ERRORS])
def test_bad_sample_weight(cls, w):
    _raises(lambda: cls(3).fit(_X, sample_weight=w), "sample_weight")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_bad_predict(cls):
    _raises(lambda: cls(3).predict(_X), "(?i)fit")
    km = cls(3, random_state=0).fit(_X)
    _raises(lambda: km.predict(_X[:, :2]), "(?i)feature|dimension|column|shape")
    _raises(lambda: km.predict(_X[:, 0]), "(?i)2-?d|2 dim|two.dim|dimension|shape|ndim")
    _raises(lambda: km.predict(_with(np.nan, (0, 0))), "(?i)nan|finite")


def test_bad_assign_and_update():
    C = _X[:3]
    _raises(lambda: assign(_X, C[:, :2]), "(?i)feature|dimension|column|shape|center")
    _raises(lambda: assign(_with(np.nan, (1, 1)), C), "(?i)nan|finite")
    labels = assign(_X, C)[0]
    _raises(lambda: update(_X, labels[:-1], 3), "(?i)label|length|shape|sample")
    _raises(lambda: update(_X, labels, 3, sample_weight=-np.ones(200)), "sample_weight")
    _raises(lambda: update(_X, labels, 0), "n_clusters")


def test_numpy_integer_parameters_accepted():
    km = KMeans(np.int64(3), n_init=np.int32(2), max_iter=np.int64(50), random_state=0).fit(_X)
    assert km.cluster_centers_.shape == (3, 3)
    mb = MiniBatchKMeans(np.int64(3), batch_size=np.int64(64), max_no_improvement=np.uint8(3),
                         random_state=0).fit(_X)
    assert mb.cluster_centers_.shape == (3, 3)


def test_numpy_bool_is_not_an_integer():
    _raises(lambda: KMeans(np.True_).fit(_X), "n_clusters must be a positive integer")


# ---------------------------------------------------------------------------------------------
# data far from the origin (cancellation in |x|^2 - 2x.c + |c|^2 would break labels and bounds)


@pytest.mark.parametrize("offset", [1e4, 1e5])
@pytest.mark.parametrize("d", [3, 8, 64])
def test_far_from_origin_matches_lloyd_and_sklearn(offset, d):
    rng = np.random.default_rng(11)
    X = rng.uniform(size=(4000, d)) + offset
    C0 = X[rng.choice(len(X), 6, replace=False)]
    lloyd = KMeans(6, init=C0, algorithm="lloyd").fit(X)
    ref = SKKMeans(6, init=C0 - offset, n_init=1, algorithm="lloyd").fit(X - offset)
    assert np.mean(lloyd.labels_ == ref.labels_) >= 0.999
    for algorithm in ("hamerly", "elkan"):
        fast = KMeans(6, init=C0, algorithm=algorithm).fit(X)
        np.testing.assert_array_equal(fast.labels_, lloyd.labels_)


# --- argument checks shared with scikit-learn's conventions (issue 14) ---------------------------

BAD_SEEDS = [-1, 2**32, "a", 1.5, True, [1, 2]]


@pytest.mark.parametrize("seed", BAD_SEEDS)
@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
def test_bad_random_state_is_an_input_error(cls, seed):
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(InputError, match=r"^random_state must be None, an integer from 0 to "
                                         r"4,294,967,295 or a numpy Generator, got "):
        cls(2, random_state=seed).fit(X)


def test_kmeans_plusplus_checks_random_state():
    from palettelab.core.clustering.kmeans import kmeans_plusplus

    with pytest.raises(InputError, match="random_state must be"):
        kmeans_plusplus(np.zeros((5, 2)), 2, random_state=-1)


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
def test_random_state_takes_what_scikit_learn_takes(cls):
    X = np.random.default_rng(0).normal(size=(200, 2))
    by_int = cls(3, random_state=7).fit(X).cluster_centers_
    np.testing.assert_array_equal(cls(3, random_state=np.uint32(7)).fit(X).cluster_centers_,
                                  by_int)
    np.testing.assert_array_equal(
        cls(3, random_state=np.random.default_rng(7)).fit(X).cluster_centers_, by_int)
    a = cls(3, random_state=np.random.RandomState(5)).fit(X).cluster_centers_
    b = cls(3, random_state=np.random.RandomState(5)).fit(X).cluster_centers_
    np.testing.assert_array_equal(a, b)
    assert cls(3, random_state=2**32 - 1).fit(X).cluster_centers_.shape == (3, 2)
    assert cls(3, random_state=None).fit(X).cluster_centers_.shape == (3, 2)


def test_huge_sample_weights_are_an_input_error():
    """1e308 each used to reach k-means++ as "Probabilities do not sum to 1"."""
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(InputError, match="sample_weight is too large"):
        KMeans(3).fit(X, sample_weight=np.full(50, 1e308))


@pytest.mark.parametrize("init_size", [-5, 0, 2.5, "10", True])
def test_bad_init_size_is_an_input_error(init_size):
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(InputError, match=r"^init_size must be a positive integer, got "):
        MiniBatchKMeans(2, init_size=init_size).fit(X)
    assert MiniBatchKMeans(2, init_size=None, random_state=0).fit(X).n_iter_ >= 1

"""Tests of spectral clustering (``palettelab.core.clustering.spectral``).

What is checked:

* two moons and two concentric circles, which k-means cannot separate, are recovered
  (ARI >= 0.95 where our KMeans scores < 0.7);
* the neighbour graph equals scikit-learn's ``kneighbors_graph(include_self=True)`` symmetrised;
* the LOBPCG solver used above ``_DENSE_LIMIT`` finds the same eigenspace as ``eigh`` and the
  same clustering, also on disconnected graphs;
* disconnected graphs: k components become the k clusters, more components never split one;
* the result does not depend on the numba thread count (subprocesses);
* the fitted attributes, reproducibility, float32 input, and every ``InputError``.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import kneighbors_graph

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # so that plain `pytest` (not only `python -m pytest`) works
    sys.path.insert(0, str(REPO))

from palettelab.core.clustering import spectral  # noqa: E402
from palettelab.core.clustering.kmeans import KMeans  # noqa: E402
from palettelab.core.clustering.spectral import SpectralClustering  # noqa: E402
from palettelab.core.errors import InputError  # noqa: E402

# ---------------------------------------------------------------------------------------------
# data


def moons(n=200, noise=0.05, seed=0):
    """Two interleaved half circles, like sklearn.datasets.make_moons."""
    rng = np.random.default_rng(seed)
    n1 = n // 2
    a = np.linspace(0, np.pi, n1)
    b = np.linspace(0, np.pi, n - n1)
    X = np.vstack([np.c_[np.cos(a), np.sin(a)], np.c_[1 - np.cos(b), 0.5 - np.sin(b)]])
    return X + rng.normal(0.0, noise, X.shape), np.repeat([0, 1], [n1, n - n1])


def circles(n=300, factor=0.5, noise=0.05, seed=0):
    """Two concentric rings, like sklearn.datasets.make_circles."""
    rng = np.random.default_rng(seed)
    n1 = n // 2
    a = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    b = np.linspace(0, 2 * np.pi, n - n1, endpoint=False)
    X = np.vstack([np.c_[np.cos(a), np.sin(a)], factor * np.c_[np.cos(b), np.sin(b)]])
    return X + rng.normal(0.0, noise, X.shape), np.repeat([0, 1], [n1, n - n1])


def far_blobs(n_blobs, per_blob, seed=0):
    """Tight blobs 100 apart: a kNN graph with few neighbours has one component per blob."""
    rng = np.random.default_rng(seed)
    centers = np.c_[np.arange(n_blobs) * 100.0, np.zeros(n_blobs)]
    labels = np.repeat(np.arange(n_blobs), per_blob)
    return centers[labels] + rng.normal(0.0, 1.0, (labels.size, 2)), labels


def ari(a, b):
    return adjusted_rand_score(a, b)


@pytest.fixture
def iterative(monkeypatch):
    """Use the LOBPCG solver from 100 points on, so that small tests exercise it."""
    monkeypatch.setattr(spectral, "_DENSE_LIMIT", 100)


# ---------------------------------------------------------------------------------------------
# non-convex clusters


def test_two_moons():
    X, y = moons(200, 0.05, seed=0)
    labels = SpectralClustering(2, random_state=0).fit_predict(X)
    assert ari(y, labels) >= 0.95
    assert ari(y, KMeans(2, n_init=10, random_state=0).fit(X).labels_) < 0.7


def test_concentric_circles():
    X, y = circles(300, seed=1)
    labels = SpectralClustering(2, random_state=0).fit_predict(X)
    assert ari(y, labels) >= 0.95
    assert ari(y, KMeans(2, n_init=10, random_state=0).fit(X).labels_) < 0.7


def test_moons_with_the_iterative_solver(iterative):
    X, y = moons(600, 0.05, seed=2)
    assert ari(y, SpectralClustering(2, random_state=0).fit_predict(X)) >= 0.95


def test_three_blobs_and_more_neighbours():
    X, y = far_blobs(3, 60, seed=3)
    X = X / 40.0  # blobs 2.5 apart at unit-ish spread: one connected graph with 30 neighbours
    labels = SpectralClustering(3, n_neighbors=30, random_state=0).fit_predict(X)
    assert ari(y, labels) == 1.0


# ---------------------------------------------------------------------------------------------
# the graph and the eigen-solver


def test_graph_matches_sklearn_kneighbors_graph():
    X, _ = moons(150, 0.1, seed=4)  # continuous data: no distance ties
    for n_neighbors in (2, 5, 10):
        indptr, indices, data, degree = spectral._graph(X, n_neighbors)
        A = np.zeros((150, 150))
        A[np.repeat(np.arange(150), np.diff(indptr)), indices] = data
        C = kneighbors_graph(X, n_neighbors, include_self=True).toarray()
        np.testing.assert_array_equal(A, 0.5 * (C + C.T))
        np.testing.assert_array_equal(degree, A.sum(axis=1))


def test_neighbour_ties_go_to_the_lower_index():
    X = np.array([[0.0], [1.0], [-1.0], [2.0], [-2.0]])
    neighbours = np.empty((5, 2), dtype=np.int64)
    spectral._knn_kernel(X, neighbours)
    assert sorted(neighbours[0]) == [1, 2]  # both at distance 1
    neighbours = np.empty((5, 1), dtype=np.int64)
    spectral._knn_kernel(X, neighbours)
    assert neighbours[0, 0] == 1  # 1 and 2 tie: the lower index wins
    assert neighbours[3, 0] == 1 and neighbours[4, 0] == 2


def _operator(X, n_neighbors):
    indptr, indices, data, degree = spectral._graph(X, n_neighbors)
    n = X.shape[0]
    M = np.zeros((n, n))
    M[np.repeat(np.arange(n), np.diff(indptr)), indices] = data
    scale = 1.0 / np.sqrt(degree)
    M *= scale[:, None] * scale[None, :]

    def matvec(V):
        out = np.empty_like(V)
        spectral._affinity_times(indptr, indices, data, scale, V, out)
        return out

    return M, matvec


def _sin_angle(U, V):
    """Sine of the largest principal angle between the spans of two orthonormal bases."""
    s = np.linalg.svd(U.T @ V, compute_uv=False)
    return float(np.sqrt(max(0.0, 1.0 - s.min() ** 2)))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_lobpcg_finds_the_eigh_subspace(k):
    X, _ = circles(400, noise=0.08, seed=5)
    M, matvec = _operator(X, 8)
    np.testing.assert_allclose(matvec(np.eye(400)[:, :7]), M[:, :7], atol=1e-15)
    values, vectors = np.linalg.eigh(M)
    V = spectral._leading_eigenvectors(matvec, 400, k, np.random.default_rng(0))
    assert V.shape == (400, k)
    np.testing.assert_allclose(V.T @ V, np.eye(k), atol=1e-10)
    gap = values[-k] - values[-k - 1]
    assert gap > 1e-4  # else the subspace would not be well defined
    assert _sin_angle(vectors[:, ::-1][:, :k], V) < 1e-8 / gap * 10


def test_lobpcg_on_a_disconnected_graph():
    """Three components: eigenvalue 1 three times, and the solver must find that eigenspace."""
    X, _ = far_blobs(3, 50, seed=6)
    M, matvec = _operator(X, 5)
    values, vectors = np.linalg.eigh(M)
    np.testing.assert_allclose(values[-3:], 1.0, atol=1e-12)
    V = spectral._leading_eigenvectors(matvec, 150, 3, np.random.default_rng(1))
    assert _sin_angle(vectors[:, -3:], V) < 1e-6


def test_lobpcg_block_as_large_as_the_data():
    """k + spare vectors >= n: the basis saturates and Rayleigh-Ritz is then exact."""
    X, _ = moons(12, 0.1, seed=7)
    M, matvec = _operator(X, 3)
    values, vectors = np.linalg.eigh(M)
    assert values[-5] - values[-6] > 1e-3
    V = spectral._leading_eigenvectors(matvec, 12, 5, np.random.default_rng(2))
    assert V.shape == (12, 5)
    assert _sin_angle(vectors[:, ::-1][:, :5], V) < 1e-6


def test_dense_and_iterative_paths_agree(monkeypatch):
    X, _ = circles(500, noise=0.06, seed=8)
    dense = SpectralClustering(2, random_state=3).fit(X)
    monkeypatch.setattr(spectral, "_DENSE_LIMIT", 100)
    iterative = SpectralClustering(2, random_state=3).fit(X)
    assert ari(dense.labels_, iterative.labels_) == 1.0
    # the same subspace: the unit rows agree up to a rotation of the embedding
    R, *_ = np.linalg.lstsq(iterative.embedding_, dense.embedding_, rcond=None)
    np.testing.assert_allclose(iterative.embedding_ @ R, dense.embedding_, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# disconnected graphs


@pytest.mark.parametrize("solver", ["dense", "iterative"])
def test_k_components_are_the_k_clusters(solver, monkeypatch):
    if solver == "iterative":
        monkeypatch.setattr(spectral, "_DENSE_LIMIT", 100)
    X, y = far_blobs(4, 40, seed=9)
    sc = SpectralClustering(4, n_neighbors=5, random_state=0).fit(X)
    assert ari(y, sc.labels_) == 1.0


@pytest.mark.parametrize("solver", ["dense", "iterative"])
def test_more_components_than_clusters_never_splits_one(solver, monkeypatch):
    if solver == "iterative":
        monkeypatch.setattr(spectral, "_DENSE_LIMIT", 100)
    X, y = far_blobs(6, 30, seed=10)
    sc = SpectralClustering(2, n_neighbors=5, random_state=0).fit(X)
    assert np.all(np.isfinite(sc.embedding_))
    assert set(np.unique(sc.labels_)) <= {0, 1}
    for blob in range(6):
        assert np.unique(sc.labels_[y == blob]).size == 1


def test_duplicate_points():
    X = np.repeat([[0.0, 0.0], [5.0, 5.0]], 30, axis=0)
    labels = SpectralClustering(2, n_neighbors=4, random_state=0).fit_predict(X)
    assert ari(np.repeat([0, 1], 30), labels) == 1.0


# ---------------------------------------------------------------------------------------------
# attributes, reproducibility, threads


def test_fitted_attributes():
    X, _ = moons(120, 0.05, seed=11)
    sc = SpectralClustering(3, random_state=0)
    assert sc.fit(X) is sc
    assert sc.labels_.shape == (120,) and np.issubdtype(sc.labels_.dtype, np.integer)
    assert set(np.unique(sc.labels_)) == {0, 1, 2}
    assert sc.embedding_.shape == (120, 3)
    np.testing.assert_allclose(np.linalg.norm(sc.embedding_, axis=1), 1.0)
    np.testing.assert_array_equal(SpectralClustering(3, random_state=0).fit_predict(X),
                                  sc.labels_)


def test_one_cluster():
    X, _ = moons(50, 0.05, seed=12)
    assert np.all(SpectralClustering(1).fit_predict(X) == 0)


def test_float32_and_lists():
    X, y = moons(200, 0.05, seed=0)
    assert ari(y, SpectralClustering(2, random_state=0).fit_predict(X.astype(np.float32))) >= 0.95
    ref = SpectralClustering(2, random_state=0).fit_predict(X)
    np.testing.assert_array_equal(SpectralClustering(2, random_state=0).fit_predict(X.tolist()),
                                  ref)


_THREADS_SCRIPT = textwrap.dedent("""
    import hashlib
    import numba
    import numpy as np
    from palettelab.core.clustering import spectral

    spectral._DENSE_LIMIT = 100  # the LOBPCG path: the dense one is LAPACK's business
    rng = np.random.default_rng(31)
    t = rng.uniform(0, 2 * np.pi, 1500)
    r = np.where(rng.random(1500) < 0.5, 1.0, 0.5)
    X = np.c_[r * np.cos(t), r * np.sin(t)] + rng.normal(0, 0.05, (1500, 2))
    sc = spectral.SpectralClustering(2, random_state=0).fit(X)
    h = hashlib.sha256(sc.embedding_.tobytes() + sc.labels_.astype(np.int64).tobytes())
    print(numba.get_num_threads(), h.hexdigest())
""")


def _spectral_hash(run_with_threads, n_threads: int) -> str:
    threads, digest = run_with_threads(_THREADS_SCRIPT, n_threads).split()
    assert threads == str(n_threads)
    return digest


def test_iterative_path_same_bits_for_any_thread_count(run_with_threads):
    assert _spectral_hash(run_with_threads, 1) == _spectral_hash(run_with_threads, 2)


# ---------------------------------------------------------------------------------------------
# errors


X5 = np.arange(10.0).reshape(5, 2)


@pytest.mark.parametrize(("kwargs", "X", "match"), [
    ({"n_clusters": 0}, X5, "n_clusters must be a positive integer, got 0"),
    ({"n_clusters": 2.0}, X5, "n_clusters must be a positive integer, got 2.0"),
    ({"n_clusters": True}, X5, "n_clusters must be a positive integer, got True"),
    ({"n_clusters": 6}, X5, "n_clusters=6 is more than the number of points"),
    ({"n_neighbors": 1}, X5, "n_neighbors must be an integer of at least 2, got 1"),
    ({"n_neighbors": "10"}, X5, "n_neighbors must be an integer"),
    ({"n_neighbors": 6}, X5, "n_neighbors=6 is more than the number of points"),
    ({"n_init": 0}, X5, "n_init must be a positive integer"),
    ({}, np.empty((0, 2)), "X is empty"),
    ({}, np.arange(5.0), "X must be a 2-D array"),
    ({}, [[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0]], "NaN or infinity"),
    ({}, [["a", "b"], ["c", "d"]], "X must be numeric"),
    ({}, np.zeros((spectral.MAX_POINTS + 1, 1)), "supports up to 10000 points"),
])
def test_input_errors(kwargs, X, match):
    with pytest.raises(InputError, match=match) as info:
        SpectralClustering(**kwargs).fit(X)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("seed", [-1, "a", 2**32])
def test_bad_random_state_is_an_input_error(seed):
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(InputError, match="random_state must be None, an integer"):
        SpectralClustering(2, random_state=seed).fit(X)


def test_random_state_may_be_a_generator():
    X = np.random.default_rng(0).normal(size=(60, 2))
    a = SpectralClustering(2, random_state=np.random.default_rng(3)).fit(X).labels_
    b = SpectralClustering(2, random_state=3).fit(X).labels_
    np.testing.assert_array_equal(a, b)

"""The Points workflow without Qt (``palettelab.core.points_session``, ``inits``, ``projection``).

What is checked:

* an E-step then an M-step is one Lloyd iteration, and stepping to a fixed point is Lloyd's
  result (scikit-learn's KMeans from the same start); a run follows ``KMeans.steps``;
* the farthest-point start: a seeded first row, then always the row farthest from the centres;
* several starts: each is a k-means run from its seed's start, the best is the lowest inertia,
  adopting one makes it the state, and cancelling through ``progress`` keeps the old state;
* the sweep's inertia is ``metrics.elbow``'s and its silhouettes ``silhouette_auto``'s;
* spectral clustering as a method separates the moons where k-means cannot;
* ``fit`` is the estimators' own fit (what ``palettelab cluster`` runs);
* manual centres and every other input are validated with ``InputError``;
* the PCA view is numpy's SVD and scikit-learn's PCA up to sign, on a sample when large;
* importing the session loads neither Qt nor Numba (a subprocess).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from palettelab import PointsSession
from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans, assign, update
from palettelab.core.clustering.metrics import (
    adjusted_rand_index,
    confusion_matrix,
    elbow,
    labelling_inertia,
    matched_accuracy,
    silhouette_auto,
    silhouette_samples,
)
from palettelab.core.clustering.spectral import SpectralClustering
from palettelab.core.datasets import make_dataset
from palettelab.core.errors import InputError
from palettelab.core.inits import farthest_point_centers, initial_centers
from palettelab.core.projection import column_view, pca, sample_rows


def overlapping(n=600, d=2, seed=0) -> np.ndarray:
    """Blobs close enough that Lloyd needs several iterations."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(5, d))
    return centres[rng.integers(5, size=n)] + rng.normal(size=(n, d))


def rows(X: np.ndarray, k: int, seed: int = 1) -> np.ndarray:
    return X[np.random.default_rng(seed).choice(X.shape[0], k, replace=False)].copy()


# ---------------------------------------------------------------------------------------------
# stepping


def test_e_then_m_is_one_lloyd_iteration():
    sklearn = pytest.importorskip("sklearn.cluster")
    X = overlapping()
    C0 = rows(X, 4)
    s = PointsSession(X).initialise("manual", centers=C0)
    assert s.k == 4 and s.labels is None and s.inertia is None and s.iteration == 0
    np.testing.assert_array_equal(s.centers, C0)

    s.assign()
    labels, sq_dist = assign(X, C0)
    np.testing.assert_array_equal(s.labels, labels)
    np.testing.assert_array_equal(s.centers, C0)  # E leaves the centres alone
    assert s.inertia == float(sq_dist.sum()) and not s.converged and s.previous is None

    s.update()
    ref = sklearn.KMeans(4, init=C0, n_init=1, max_iter=1, tol=0.0, algorithm="lloyd").fit(X)
    np.testing.assert_allclose(s.centers, ref.cluster_centers_, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s.centers, update(X, labels, 4, old_centers=C0))
    np.testing.assert_array_equal(s.previous, C0)
    np.testing.assert_array_equal(s.labels, labels)  # M leaves the labels alone
    assert s.iteration == 1
    assert s.inertia == pytest.approx(float(((X - s.centers[labels]) ** 2).sum()), rel=1e-12)

    s.assign()  # scikit-learn's final labels are those of the centres it stopped at
    np.testing.assert_array_equal(s.labels, ref.labels_)
    assert s.inertia == pytest.approx(ref.inertia_, rel=1e-10)
    assert len(s.history) == 3


def test_stepping_to_a_fixed_point_is_lloyds_result():
    sklearn = pytest.importorskip("sklearn.cluster")
    X = overlapping(seed=3)
    C0 = rows(X, 5, seed=4)
    s = PointsSession(X, k=5).initialise("manual", centers=C0).assign()
    while not s.converged:
        s.update().assign()
    ref = sklearn.KMeans(5, init=C0, n_init=1, tol=0.0, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(s.labels, ref.labels_)
    np.testing.assert_allclose(s.centers, ref.cluster_centers_, rtol=1e-10, atol=1e-12)
    assert s.iteration + 1 == ref.n_iter_  # scikit-learn counts the iteration that stops it
    assert s.iteration > 3  # the data made Lloyd work
    history = np.array(s.history)  # k-means never goes uphill (up to rounding)
    assert (np.diff(history) <= 1e-12 * history[1:]).all()


def test_reset_goes_back_to_the_start():
    X = overlapping()
    s = PointsSession(X, k=3, init="random", seed=2).initialise()
    start = s.centers.copy()
    s.assign().update().assign()
    s.reset()
    np.testing.assert_array_equal(s.centers, start)
    assert s.labels is None and s.iteration == 0 and s.history == [] and s.inertia is None


def test_run_follows_kmeans_steps_and_takes_only_what_it_is_given():
    X = overlapping(seed=5)
    s = PointsSession(X, k=4, init="farthest point", seed=7).initialise()
    C0 = s.initial.copy()
    steps = s.steps()
    first = next(steps)
    assert s.labels is None  # nothing taken yet
    s.take(first)
    np.testing.assert_array_equal(s.centers, first.centers)
    assert s.iteration == 1 and s.inertia == first.inertia
    for _ in steps:
        pass
    ref = KMeans(4, init=C0).fit(X)
    np.testing.assert_array_equal(s.labels, ref.labels_)
    np.testing.assert_array_equal(s.centers, ref.cluster_centers_)
    assert s.inertia == ref.inertia_ and s.n_iter == ref.n_iter_ == s.iteration
    assert len(s.history) == ref.n_iter_ and s.history[-1] == ref.inertia_
    assert s.converged and s.method == "k-means"
    np.testing.assert_array_equal(s.initial, C0)  # the start stays for reset


def test_run_without_a_start_for_k_draws_one():
    X = overlapping()
    s = PointsSession(X, k=3, init="random", seed=4).initialise()
    s.run(k=5, init="k-means++")  # the start has 3 centres: a k-means++ one for k = 5
    np.testing.assert_array_equal(s.initial, initial_centers(s.X, 5, "k-means++", 4))
    assert s.k == 5 and s.init == "k-means++" and s.centers.shape == (5, 2)
    s.run()  # now there is one for k = 5: used again, same result
    np.testing.assert_array_equal(s.initial, initial_centers(s.X, 5, "k-means++", 4))


def test_mini_batch_run_charts_the_frames_it_shows():
    X = overlapping(n=5000)
    s = PointsSession(X, k=4, seed=1).initialise()
    taken = 0
    for step in s.steps("mini-batch"):
        if step.iteration % 3 == 0 and not step.converged:
            s.take(step)
            taken += 1
    ref = MiniBatchKMeans(4, init=s.initial, random_state=1, batch_size=1024).fit(X)
    np.testing.assert_array_equal(s.centers, ref.cluster_centers_)
    np.testing.assert_array_equal(s.labels, ref.labels_)
    assert s.method == "mini-batch" and s.n_iter == ref.n_iter_
    assert len(s.history) == taken + 1 and s.history[-1] == ref.inertia_


# ---------------------------------------------------------------------------------------------
# starts


def test_farthest_point_start():
    X = np.random.default_rng(0).normal(size=(400, 3))
    C = farthest_point_centers(X, 8, seed=5)
    first = np.random.default_rng(5).integers(400)
    np.testing.assert_array_equal(C[0], X[first])
    picked = [int(np.flatnonzero((X == c).all(axis=1))[0]) for c in C]
    assert len(set(picked)) == 8  # distinct rows of X
    for j in range(1, 8):  # each the row farthest from its nearest earlier centre
        nearest = ((X[:, None, :] - C[None, :j, :]) ** 2).sum(axis=2).min(axis=1)
        assert nearest[picked[j]] == nearest.max()
    # the spread beats random rows: the smallest gap between two centres is larger
    gap = lambda A: min(np.linalg.norm(a - b) for i, a in enumerate(A) for b in A[i + 1:])  # noqa: E731
    assert gap(C) > gap(X[:8])
    np.testing.assert_array_equal(farthest_point_centers(X, 8, seed=5), C)  # reproducible
    assert sorted(map(tuple, farthest_point_centers(X[:6], 6, 1))) == sorted(map(tuple, X[:6]))
    s = PointsSession(X, k=8, init="farthest point", seed=5).initialise()
    np.testing.assert_array_equal(s.centers, C)


def test_random_and_kmeanspp_starts():
    X = overlapping()
    C = initial_centers(X, 4, "random", 3)
    expected = X[np.sort(np.random.default_rng(3).choice(600, 4, replace=False))]
    np.testing.assert_array_equal(C, expected)
    # k-means++ is the start KMeans(random_state=seed) draws first
    C = initial_centers(X, 4, "k-means++", 3)
    np.testing.assert_array_equal(KMeans(4, init=C).fit(X).cluster_centers_,
                                  KMeans(4, random_state=3).fit(X).cluster_centers_)


def test_several_starts_keep_the_lowest_inertia():
    points = make_dataset("varied")
    s = PointsSession(points, k=3, init="random", seed=10).initialise().assign()
    before = s.labels.copy()
    result = s.several_starts(8)
    assert [start.seed for start in result.starts] == list(range(10, 18))
    inertias = [start.inertia for start in result.starts]
    assert result.best == int(np.argmin(inertias))
    assert len({round(v, 6) for v in inertias}) > 1  # local optima differ: the point of it
    for start in result.starts[:3]:
        np.testing.assert_array_equal(start.initial,
                                      initial_centers(s.X, 3, "random", start.seed))
        ref = KMeans(3, init=start.initial).fit(s.X)
        assert start.inertia == ref.inertia_ and start.iterations == ref.n_iter_
        np.testing.assert_array_equal(start.labels, ref.labels_)
    np.testing.assert_array_equal(s.labels, before)  # the state stays until one is adopted
    s.adopt(result.best)
    best = result.starts[result.best]
    np.testing.assert_array_equal(s.centers, best.centers)
    np.testing.assert_array_equal(s.labels, best.labels)
    assert s.inertia == best.inertia == min(inertias) and s.history == [best.inertia]
    assert s.converged and s.iteration == best.iterations
    with pytest.raises(InputError, match="no start 8"):
        s.adopt(8)


def test_several_starts_stop_when_progress_raises():
    s = PointsSession(overlapping(), k=3)
    first = s.several_starts(2)
    calls = []

    def progress(done, total):
        calls.append((done, total))
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        s.several_starts(5, progress=progress)
    assert calls == [(0, 5), (1, 5), (2, 5)]
    assert s.starts == first.starts  # the finished batch is kept, not a partial one


def test_manual_init_has_one_start_so_several_use_kmeanspp():
    X = overlapping()
    s = PointsSession(X).initialise("manual", centers=rows(X, 3))
    result = s.several_starts(2)
    np.testing.assert_array_equal(result.starts[1].initial,
                                  initial_centers(s.X, 3, "k-means++", 1))


# ---------------------------------------------------------------------------------------------
# choosing k, spectral, accuracy


def test_sweep_is_the_elbow_and_silhouette_auto():
    points = make_dataset("blobs")
    s = PointsSession(points, seed=2)
    sweep = s.sweep(range(2, 7))
    assert sweep.ks == (2, 3, 4, 5, 6) and sweep.n == 300 and sweep.silhouette_used == 300
    assert list(sweep.inertia) == elbow(points.X, range(2, 7), random_state=2)
    for k, score in zip(sweep.ks, sweep.silhouette, strict=True):
        labels = KMeans(k, n_init=1, random_state=2).fit(points.X).labels_
        assert score == silhouette_auto(points.X, labels)[0]
    assert int(np.argmax(sweep.silhouette)) == 2  # four blobs
    assert s.labels is None  # the state stays
    assert s.sweep([2, 400, 3]).ks == (2, 3)  # k above n left out
    assert s.sweep([]).ks == ()


def test_sweep_stops_when_progress_raises():
    s = PointsSession(make_dataset("blobs"))

    def progress(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        s.sweep(range(2, 6), progress=progress)


def test_silhouettes_of_the_labels_on_a_sample():
    X = overlapping(n=1200)
    s = PointsSession(X, k=3).run()
    values, labels = s.silhouettes()
    np.testing.assert_array_equal(values, silhouette_samples(X, s.labels))
    values, labels = s.silhouettes(limit=500, seed=4)
    picked = sample_rows(1200, 500, 4)
    np.testing.assert_array_equal(labels, s.labels[picked])
    np.testing.assert_array_equal(values, silhouette_samples(X[picked], s.labels[picked]))
    assert s.silhouettes(np.zeros(1200, dtype=int)) is None  # one cluster
    assert PointsSession(X).silhouettes() is None  # no labels


def test_spectral_method_separates_the_moons():
    points = make_dataset("moons")
    s = PointsSession(points, k=2)
    kmeans = s.run("k-means").accuracy()
    s.run("spectral")
    assert s.method == "spectral" and s.initial is None and s.converged
    assert s.accuracy() > kmeans + 0.15 and s.accuracy() >= 0.98
    assert adjusted_rand_index(s.labels, points.labels) >= 0.95
    np.testing.assert_array_equal(
        s.labels, SpectralClustering(2, random_state=0).fit(points.X).labels_)
    np.testing.assert_allclose(s.centers, [points.X[s.labels == j].mean(axis=0)
                                           for j in range(2)])
    assert s.inertia == pytest.approx(labelling_inertia(points.X, s.labels), rel=1e-12)
    assert s.history == [s.inertia] and s.n_iter is None
    s.assign()  # stepping on from the cluster means is k-means again
    assert s.labels is not None


def test_accuracy_and_confusion_against_the_truth():
    points = make_dataset("iris")
    s = PointsSession(points, k=3).run()
    assert s.accuracy() == matched_accuracy(s.labels, points.labels)
    np.testing.assert_array_equal(s.confusion(), confusion_matrix(points.labels, s.labels))
    names = np.array(points.label_names)[points.labels]  # text labels give the same codes
    t = PointsSession(points.X, k=3, truth=names).run()
    assert t.accuracy() == s.accuracy()
    plain = PointsSession(points.X, k=3).run()
    assert plain.truth is None and plain.accuracy() is None and plain.confusion() is None
    assert PointsSession(points).accuracy() is None  # no labels yet


@pytest.mark.parametrize("method, init, n_init", [
    ("k-means", "k-means++", 3), ("k-means", "random", 2), ("mini-batch", "k-means++", 2),
    ("mini-batch", "random", 1)])
def test_fit_is_the_estimators_fit(method, init, n_init):
    X = make_dataset("varied").X
    s = PointsSession(X, k=3, init=init, seed=5).fit(method, n_init=n_init)
    cls = KMeans if method == "k-means" else MiniBatchKMeans
    ref = cls(3, init=init, n_init=n_init, random_state=5).fit(X)
    np.testing.assert_array_equal(s.labels, ref.labels_)
    assert s.inertia == ref.inertia_ and s.n_iter == ref.n_iter_ and s.method == method


def test_fit_spectral_and_the_other_inits():
    points = make_dataset("moons")
    s = PointsSession(points, k=2, seed=3).fit("spectral", n_init=2)
    ref = SpectralClustering(2, n_init=2, random_state=3).fit(points.X)
    np.testing.assert_array_equal(s.labels, ref.labels_)
    assert s.labelling_inertia() == labelling_inertia(points.X, ref.labels_)
    s.fit("k-means", init="farthest point", n_init=3)
    best = min((KMeans(2, init=farthest_point_centers(s.X, 2, 3 + i)).fit(s.X)
                for i in range(3)), key=lambda m: m.inertia_)
    assert s.inertia == best.inertia_
    C0 = rows(s.X, 2)
    s.initialise("manual", centers=C0).fit(init="manual")
    np.testing.assert_array_equal(s.labels, KMeans(2, init=C0).fit(s.X).labels_)
    with pytest.raises(InputError, match="manual init needs 3 centres"):
        s.fit(k=3, init="manual")


# ---------------------------------------------------------------------------------------------
# validation


X_SMALL = np.arange(20.0).reshape(10, 2)


@pytest.mark.parametrize("centers, k, match", [
    (np.zeros((3, 2)), 4, "3 centres were given for k=4"),
    (np.zeros((3, 3)), 3, "3 columns but the data has 2"),
    (np.zeros(2), None, r"\(k, d\) array"),
    ([[0.0, np.nan]], None, "NaN or infinity"),
    ([["a", "b"]], None, "array of numbers"),
    ([[0.0, 1.0], [2.0]], None, "array of numbers"),
    (np.zeros((11, 2)), None, "n_clusters=11 is more than the number of points"),
])
def test_manual_centres_are_checked(centers, k, match):
    s = PointsSession(X_SMALL)
    with pytest.raises(InputError, match=match):
        s.initialise("manual", k=k, centers=centers)
    assert s.centers is None


def test_manual_centres_are_taken_as_given():
    s = PointsSession(X_SMALL).initialise("manual", centers=[[1, 2], [3, 4]])
    assert s.k == 2 and s.centers.dtype == np.float64
    np.testing.assert_array_equal(s.centers, [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("call, match", [
    (lambda s: s.initialise("manual", k=2), "manual init needs the centres"),
    (lambda s: s.initialise("random", k=2, centers=X_SMALL[:2]), "only with manual init"),
    (lambda s: s.initialise("kmeans++", k=2), "init must be one of"),
    (lambda s: s.initialise(k=0), "n_clusters must be a positive integer"),
    (lambda s: s.initialise(k=2.0), "n_clusters must be a positive integer"),
    (lambda s: s.initialise(), "k .* is not set"),
    (lambda s: s.initialise(k=2, seed=-1), "seed must be an integer between 0 and"),
    (lambda s: s.assign(), "no centres"),
    (lambda s: s.initialise(k=2).update(), "no labels yet"),
    (lambda s: s.reset(), "no starting centres"),
    (lambda s: s.steps("dbscan", k=2), "method must be one of"),
    (lambda s: s.fit("k-means", k=2, n_init=0), "n_init must be a positive integer"),
    (lambda s: s.several_starts(0, k=2), "n must be a positive integer"),
    (lambda s: s.adopt(0), "no start 0"),
    (lambda s: s.labelling_inertia(), "no labels yet"),
    (lambda s: s.silhouettes(np.zeros(3)), "labels must have shape"),
    (lambda s: s.projection((0, 2)), "y must be an integer between 0 and 1"),
])
def test_input_errors(call, match):
    with pytest.raises(InputError, match=match):
        call(PointsSession(X_SMALL))


@pytest.mark.parametrize("data, options, match", [
    (np.zeros(5), {}, "2-D array"),
    (np.array([[1.0, np.inf]]), {}, "NaN or infinity"),
    (X_SMALL, {"k": 11}, "n_clusters=11 is more than the number of points"),
    (X_SMALL, {"init": "best"}, "init must be one of"),
    (X_SMALL, {"truth": [0, 1]}, "one label per point"),
])
def test_bad_sessions(data, options, match):
    with pytest.raises(InputError, match=match):
        PointsSession(data, **options)


def test_load_reads_a_point_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("a,b,class\n0,0,7\n0,1,7\n5,5,9\n5,6,9\n")
    s = PointsSession.load(path, k=2).run()
    assert s.points.columns == ("a", "b") and s.accuracy() == 1.0
    assert PointsSession.load(path, label_column=None).d == 3


# ---------------------------------------------------------------------------------------------
# the 2-D view


def test_pca_view_is_the_svd_and_sklearns_pca_up_to_sign():
    X = make_dataset("digits").X
    s = PointsSession(X)
    view = s.projection()
    assert view is s.pca and view.columns is None  # 64 columns: PCA
    Y = view.project(X)
    centred = X - X.mean(axis=0)
    U, S, _ = np.linalg.svd(centred, full_matrices=False)
    for got, want in zip(Y.T, (U[:, :2] * S[:2]).T, strict=True):
        assert np.allclose(got, want) or np.allclose(got, -want)
    decomposition = pytest.importorskip("sklearn.decomposition")
    ref = decomposition.PCA(2, svd_solver="full").fit_transform(X)
    for got, want in zip(Y.T, ref.T, strict=True):
        assert np.allclose(got, want, atol=1e-8) or np.allclose(got, -want, atol=1e-8)
    C = X[:5]  # centres project with the same map
    np.testing.assert_allclose(view.project(C), Y[:5])


def test_pca_on_a_sample_of_large_data():
    X = np.random.default_rng(0).normal(size=(3000, 4)) * [5.0, 3.0, 1.0, 0.5]
    view = pca(X, max_rows=500, seed=2)
    sample = X[sample_rows(3000, 500, 2)]
    _, _, Vt = np.linalg.svd(sample - sample.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(np.abs(view.axes), np.abs(Vt[:2]))
    np.testing.assert_allclose(view.mean, sample.mean(axis=0))
    assert abs(view.axes[0, 0]) > 0.99  # the widest column leads
    assert view.project(X).shape == (3000, 2)


def test_column_views_and_one_column_data():
    X = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(column_view(3, 2, 0).project(X), X[:, [2, 0]])
    s = PointsSession(X[:, :2])
    assert s.projection().columns == (0, 1)
    np.testing.assert_array_equal(s.projection().project(s.X), s.X)
    one = PointsSession(X[:, :1])
    assert one.projection().columns == (0, 0)
    np.testing.assert_array_equal(one.pca.project(one.X)[:, 1], 0.0)  # plotted against zero
    assert len(one.sample(2)) == 2 and list(one.sample(10)) == [0, 1, 2, 3]


# ---------------------------------------------------------------------------------------------
# the layering


def test_importing_the_session_loads_no_qt_and_no_numba():
    code = ("import sys, palettelab.core.points_session\n"
            "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_kmeans_inertia_of_labels_against_centres():
    from palettelab.core.clustering.kmeans import inertia

    X = overlapping(n=300)
    C = rows(X, 3)
    labels = np.arange(300) % 3
    w = np.linspace(0.5, 2.0, 300)
    expected = float((w * ((X - C[labels]) ** 2).sum(axis=1)).sum())
    assert inertia(X, C, labels, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InputError, match=r"labels must lie in 0\.\.2"):
        inertia(X, C, labels + 1)
    with pytest.raises(InputError, match="labels must be 300 integers"):
        inertia(X, C, labels[:5])


@pytest.mark.parametrize("seed", [-1, 2**32, "a"])
def test_seed_is_a_random_state_scikit_learn_takes(seed):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(InputError, match=r"^seed must be an integer between 0 and "
                                         r"4,294,967,295, got "):
        PointsSession(X, k=2, seed=seed)
    with pytest.raises(InputError, match=r"^seed must be an integer between 0 and"):
        PointsSession(X, k=2).initialise(seed=seed)


def test_canvas_edits_and_their_undo():
    from palettelab.core.datasets import make_dataset

    s = PointsSession(make_dataset("blobs"), k=4, seed=2)
    s.initialise("k-means++")
    s.assign()
    X, truth, centres = s.X.copy(), s.truth.copy(), s.centers.copy()
    s.move_centre(1, [0.0, 0.0])
    assert s.inertia is None and (s.centers[1] == 0).all()
    s.add_points([[100.0, 100.0]])
    assert s.n == len(X) + 1 and s.truth is None and s.labels.shape == (s.n,)
    s.remove_points([0, 1])
    assert s.n == len(X) - 1
    assert s.undo() and s.undo() and s.undo() and not s.undo()
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.truth, truth)
    np.testing.assert_array_equal(s.centers, centres)
    with pytest.raises(InputError, match="fewer points"):
        s.remove_points(np.arange(s.n - 1))

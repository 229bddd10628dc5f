"""Tests of the clustering metrics (``palettelab.core.clustering.metrics``).

What is checked:

* ``silhouette_samples`` / ``silhouette_score`` equal scikit-learn's within 1e-6 on blobs,
  moons, d=1, d=64, with singletons, duplicate points, arbitrary label values and float32;
* the sampled score is the exact score of scikit-learn's subset (so it equals scikit-learn's
  sampled score for the same seed); ``silhouette_auto`` picks exact or sampled by size;
* the silhouette is bit-identical for 1 and 2 numba threads (subprocesses);
* ``adjusted_rand_index`` equals ``adjusted_rand_score`` on random labelings, large ones too;
* ``matched_accuracy`` and ``confusion_matrix`` on hand-made cases;
* ``elbow`` decreases on blobs and matches ``KMeans`` run by hand;
* every ``InputError``.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import metrics as skm

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # so that plain `pytest` (not only `python -m pytest`) works
    sys.path.insert(0, str(REPO))

from palettelab.core.clustering.kmeans import KMeans  # noqa: E402
from palettelab.core.clustering.metrics import (  # noqa: E402
    adjusted_rand_index,
    confusion_matrix,
    elbow,
    matched_accuracy,
    silhouette_auto,
    silhouette_samples,
    silhouette_score,
)
from palettelab.core.errors import InputError  # noqa: E402

# ---------------------------------------------------------------------------------------------
# data


def blobs(n, d, k, seed, spread=6.0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-spread, spread, (k, d))
    labels = rng.integers(0, k, n)
    return centers[labels] + rng.normal(0.0, 1.0, (n, d)), labels


def moons(n, noise, seed):
    """Two interleaved half circles, like sklearn.datasets.make_moons."""
    rng = np.random.default_rng(seed)
    n1 = n // 2
    a = np.linspace(0, np.pi, n1)
    b = np.linspace(0, np.pi, n - n1)
    X = np.vstack([np.c_[np.cos(a), np.sin(a)], np.c_[1 - np.cos(b), 0.5 - np.sin(b)]])
    return X + rng.normal(0.0, noise, X.shape), np.repeat([0, 1], [n1, n - n1])


def with_singletons(n=120, seed=4):
    X, labels = blobs(n, 3, 4, seed)
    labels = labels.copy()
    labels[[5, 17, 60]] = [10, 11, 12]  # three clusters of one point each
    return X, labels


def with_duplicates():
    """Clusters of identical points: a = b = 0 for some, so s = 0/0, which sklearn makes 0."""
    X = np.repeat(np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 1.0], [5.0, 5.0]]), 5, axis=0)
    labels = np.repeat([0, 1, 2, 2], 5)
    return X, labels


CASES = {
    "blobs-2d": lambda: blobs(301, 2, 4, 0),
    "moons": lambda: moons(200, 0.05, 1),
    "d1": lambda: blobs(157, 1, 3, 2),
    "d64": lambda: blobs(403, 64, 5, 3),
    "singletons": with_singletons,
    "duplicates": with_duplicates,
    "two-points-per-side": lambda: (np.array([[0.0], [1.0], [5.0], [7.0]]), [0, 0, 1, 1]),
}


# ---------------------------------------------------------------------------------------------
# silhouette against scikit-learn


@pytest.mark.parametrize("case", list(CASES))
def test_silhouette_samples_match_sklearn(case):
    X, labels = CASES[case]()
    ours = silhouette_samples(X, labels)
    ref = skm.silhouette_samples(X, labels)
    assert ours.shape == (len(labels),) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)
    assert silhouette_score(X, labels) == pytest.approx(skm.silhouette_score(X, labels), abs=1e-6)


def test_silhouette_singletons_and_duplicates_are_zero():
    X, labels = with_singletons()
    assert np.all(silhouette_samples(X, labels)[[5, 17, 60]] == 0.0)
    X, labels = with_duplicates()
    s = silhouette_samples(X, labels)
    assert np.all(s[:10] == 0.0)  # two clusters of the same point
    assert np.all(np.isfinite(s))


def test_silhouette_label_values_do_not_matter():
    X, labels = blobs(200, 3, 4, 5)
    names = np.array(["red", "green", "blue", "grey"])[labels]
    ref = silhouette_samples(X, labels)
    np.testing.assert_array_equal(silhouette_samples(X, names), ref)
    np.testing.assert_array_equal(silhouette_samples(X, labels * 7 - 3), ref)
    np.testing.assert_array_equal(silhouette_samples(X.tolist(), labels.tolist()), ref)


def test_silhouette_float32_input():
    X, labels = blobs(250, 8, 3, 6)
    X32 = X.astype(np.float32)
    ours = silhouette_samples(X32, labels)
    np.testing.assert_allclose(ours, skm.silhouette_samples(X32.astype(np.float64), labels),
                               atol=1e-6)


def test_silhouette_far_from_origin_is_exact():
    """Difference-form distances keep their digits when the data sit far from the origin."""
    X, labels = blobs(150, 3, 3, 7)
    ref = silhouette_samples(X, labels)
    np.testing.assert_allclose(silhouette_samples(X + 1e7, labels), ref, atol=1e-8)


def test_silhouette_brute_force_reference():
    """An independent O(n² ) numpy reference, straight from the definition."""
    X, labels = blobs(90, 2, 3, 8)
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    expected = np.empty(len(X))
    for i in range(len(X)):
        own = labels == labels[i]
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, labels == c].mean() for c in set(labels) if c != labels[i])
        expected[i] = (b - a) / max(a, b)
    np.testing.assert_allclose(silhouette_samples(X, labels), expected, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# sampled and automatic silhouette


def test_sampled_score_is_exact_score_of_sklearns_subset():
    X, labels = blobs(700, 4, 5, 9)
    subset = np.random.RandomState(3).permutation(700)[:150]
    sampled = silhouette_score(X, labels, sample_size=150, random_state=3)
    assert sampled == silhouette_score(X[subset], labels[subset])
    assert sampled == pytest.approx(
        skm.silhouette_score(X, labels, sample_size=150, random_state=3), abs=1e-6)
    assert sampled != silhouette_score(X, labels, sample_size=150, random_state=4)


def test_sampled_score_with_a_generator():
    X, labels = blobs(500, 2, 3, 10)
    subset = np.random.default_rng(5).permutation(500)[:100]
    got = silhouette_score(X, labels, sample_size=100, random_state=np.random.default_rng(5))
    assert got == silhouette_score(X[subset], labels[subset])


def test_sample_size_of_n_or_more_is_exact():
    X, labels = blobs(300, 3, 3, 11)
    exact = silhouette_score(X, labels)
    assert silhouette_score(X, labels, sample_size=300) == exact
    assert silhouette_score(X, labels, sample_size=10_000) == exact


def test_silhouette_auto():
    X, labels = blobs(400, 3, 4, 12)
    assert silhouette_auto(X, labels) == (silhouette_score(X, labels), 400)
    assert silhouette_auto(X, labels, exact_limit=400) == (silhouette_score(X, labels), 400)
    score, used = silhouette_auto(X, labels, exact_limit=399, sample_size=120, random_state=2)
    assert used == 120
    assert score == silhouette_score(X, labels, sample_size=120, random_state=2)
    score, used = silhouette_auto(X, labels, exact_limit=100, sample_size=1000)
    assert (score, used) == (pytest.approx(silhouette_score(X, labels), abs=1e-12), 400)


# ---------------------------------------------------------------------------------------------
# determinism across thread counts

_THREADS_SCRIPT = textwrap.dedent("""
    import hashlib
    import numba
    import numpy as np
    from palettelab.core.clustering.metrics import silhouette_samples

    rng = np.random.default_rng(21)
    X = rng.normal(size=(2003, 8)) + rng.integers(0, 4, (2003, 1)) * 3.0
    labels = rng.integers(0, 5, 2003)
    s = silhouette_samples(X, labels)
    print(numba.get_num_threads(), hashlib.sha256(s.tobytes()).hexdigest())
""")


def _silhouette_hash(run_with_threads, n_threads: int) -> str:
    threads, digest = run_with_threads(_THREADS_SCRIPT, n_threads).split()
    assert threads == str(n_threads)
    return digest


def test_silhouette_same_bits_for_any_thread_count(run_with_threads):
    assert _silhouette_hash(run_with_threads, 1) == _silhouette_hash(run_with_threads, 2)


# ---------------------------------------------------------------------------------------------
# agreement with known classes


@pytest.mark.parametrize("seed", range(12))
def test_ari_matches_sklearn_on_random_labelings(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    a = rng.integers(0, int(rng.integers(1, 12)), n)
    b = rng.integers(0, int(rng.integers(1, 12)), n)
    if seed % 3 == 0:  # a noisy copy, so that scores near 1 are covered too
        b = np.where(rng.random(n) < 0.1, b, a)
    assert adjusted_rand_index(a, b) == pytest.approx(skm.adjusted_rand_score(a, b), abs=1e-12)


def test_ari_special_cases():
    a = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(a, a) == 1.0
    assert adjusted_rand_index(a, 5 - a) == 1.0  # renamed clusters
    assert adjusted_rand_index(["x", "x", "y", "y", "z", "z"], a) == 1.0
    for b in ([0] * 6, list(range(6)), [0, 1, 0, 1, 0, 1]):
        assert adjusted_rand_index(a, b) == pytest.approx(skm.adjusted_rand_score(a, b))
    assert adjusted_rand_index([3], [4]) == skm.adjusted_rand_score([3], [4])
    assert adjusted_rand_index([0, 0, 0], [1, 1, 1]) == 1.0


def test_ari_large_labelings_no_overflow():
    rng = np.random.default_rng(13)
    n = 200_000  # pair counts past int64 when multiplied
    a = rng.integers(0, 3000, n)
    b = np.where(rng.random(n) < 0.7, a, rng.integers(0, 3000, n))
    assert adjusted_rand_index(a, b) == pytest.approx(skm.adjusted_rand_score(a, b), abs=1e-12)


def test_confusion_matrix_hand_made():
    truth = ["b", "a", "a", "c", "b", "b"]
    labels = [7, 2, 2, 2, 7, 5]
    cm = confusion_matrix(truth, labels)
    # rows a, b, c; columns 2, 5, 7
    expected = np.array([[2, 0, 0],
                         [0, 1, 2],
                         [1, 0, 0]])
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, skm.confusion_matrix(
        np.unique(truth, return_inverse=True)[1], np.unique(labels, return_inverse=True)[1]))


def test_confusion_matrix_is_not_square_when_counts_differ():
    cm = confusion_matrix([0, 0, 1, 1], [0, 1, 2, 3])
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [0, 0, 1, 1]])


def test_matched_accuracy_hand_made():
    labels = [0, 0, 1, 1, 1, 2]
    truth = ["a", "a", "b", "b", "a", "c"]
    # cluster 0 -> a (2/2), cluster 1 -> b (2/3), cluster 2 -> c (1/1)
    assert matched_accuracy(labels, truth) == pytest.approx(5 / 6)
    assert matched_accuracy([5, 5, 9, 9], [1, 1, 0, 0]) == 1.0  # names do not matter
    assert matched_accuracy([0, 0, 0, 0], [0, 1, 1, 2]) == 0.5  # one cluster: majority class
    assert matched_accuracy([0, 1, 2, 3], [0, 0, 1, 1]) == 1.0  # over-segmenting is not punished
    assert matched_accuracy([0, 0, 1, 1], [0, 1, 0, 1]) == 0.5  # a tie still counts once


# ---------------------------------------------------------------------------------------------
# elbow


def test_elbow_decreases_on_blobs():
    X, _ = blobs(600, 2, 4, 14, spread=15.0)
    ks = range(1, 8)
    curve = elbow(X, ks, n_init=3)
    assert len(curve) == 7 and all(isinstance(v, float) for v in curve)
    assert np.all(np.diff(curve) <= 0)
    drops = -np.diff(curve)
    assert drops[:3].min() > 5 * drops[3:].max()  # the elbow is at k = 4
    assert curve[2] == KMeans(3, n_init=3, random_state=0).fit(X).inertia_


def test_elbow_fits_are_the_elbows_models():
    from palettelab.core.clustering.metrics import elbow_fits

    X, _ = blobs(400, 3, 3, 2)
    fits = elbow_fits(X, [2, 3, 4], random_state=5)
    models = list(fits)
    assert [m.n_clusters for m in models] == [2, 3, 4]
    assert [m.inertia_ for m in models] == elbow(X, [2, 3, 4], random_state=5)
    with pytest.raises(InputError, match="k_values is empty"):  # checked at the call
        elbow_fits(X, [])


def test_labelling_inertia_is_the_within_cluster_sum_of_squares():
    from palettelab.core.clustering.metrics import labelling_inertia

    X, labels = blobs(300, 2, 3, 9)
    expected = sum(((X[labels == j] - X[labels == j].mean(axis=0)) ** 2).sum()
                   for j in range(3))
    assert labelling_inertia(X, labels) == pytest.approx(expected, rel=1e-12)
    assert labelling_inertia(X, labels + 10) == labelling_inertia(X, labels)  # any values
    km = KMeans(3, random_state=0, tol=0.0).fit(X)  # at a fixed point: the k-means inertia
    assert labelling_inertia(X, km.labels_) == pytest.approx(km.inertia_, rel=1e-10)
    with pytest.raises(InputError, match="labels has 2 entries"):
        labelling_inertia(X, [0, 1])


# ---------------------------------------------------------------------------------------------
# errors


X4 = np.arange(8.0).reshape(4, 2)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: silhouette_samples(X4, [0, 0, 0, 0]), "between 2 and n - 1 = 3 clusters, got 1"),
    (lambda: silhouette_samples(X4, [0, 1, 2, 3]), "between 2 and n - 1 = 3 clusters, got 4"),
    (lambda: silhouette_samples(X4, [0, 1, 1]), "labels has 3 entries but X has 4 rows"),
    (lambda: silhouette_samples(X4, [[0, 1, 1, 0]]), "labels must be a 1-D array"),
    (lambda: silhouette_samples(np.empty((0, 2)), []), "X is empty"),
    (lambda: silhouette_samples([1.0, 2.0, 3.0], [0, 1, 1]), "X must be a 2-D array"),
    (lambda: silhouette_samples([[1.0], [np.nan], [2.0]], [0, 1, 1]), "NaN or infinity"),
    (lambda: silhouette_score(X4, [0, 1, 1, 0], sample_size=0), "sample_size must be"),
    (lambda: silhouette_score(X4, [0, 1, 1, 0], sample_size=2.5), "sample_size must be"),
    (lambda: silhouette_score(X4, [0, 1, 1, 0], sample_size=3, random_state="x"),
     "random_state must be"),
    (lambda: silhouette_score(X4, [0, 1, 1, 0], sample_size=3, random_state=-1),
     "random_state must be"),
    (lambda: silhouette_score(X4, [0, 1, 1], sample_size=3), "labels has 3 entries"),
    (lambda: silhouette_score(np.arange(20.0)[:, None], [0] * 10 + [1] * 10, sample_size=1),
     "clusters, got 1"),
    (lambda: silhouette_auto(X4, [0, 1, 1, 0], exact_limit=0), "exact_limit must be"),
    (lambda: silhouette_auto(X4, [0, 1, 1, 0], sample_size=True), "sample_size must be"),
    (lambda: adjusted_rand_index([0, 1], [0, 1, 1]), "a has 2 entries but b has 3"),
    (lambda: adjusted_rand_index([], []), "a is empty"),
    (lambda: confusion_matrix([0, 1, 1], [0, 1]), "truth has 3 entries but labels has 2"),
    (lambda: confusion_matrix([0, 1], []), "labels is empty"),
    (lambda: matched_accuracy([0, 1], [[0, 1]]), "truth must be a 1-D array"),
    (lambda: elbow(X4, []), "k_values is empty"),
    (lambda: elbow(X4, [2, 5]), "n_clusters=5 is more than the number of points"),
    (lambda: elbow(np.empty((0, 3)), [1]), "X is empty"),
])
def test_input_errors(call, match):
    with pytest.raises(InputError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_silhouette_timing_digits_like(record_property):
    """5000 x 64 (digits-sized) must stay far below a second once compiled; recorded, and only
    a generous bound is asserted, since CI machines vary."""
    X, labels = blobs(5000, 64, 10, 15)
    silhouette_samples(X[:50], labels[:50])  # compile or load from the cache
    t0 = time.perf_counter()
    silhouette_samples(X, labels)
    elapsed = time.perf_counter() - t0
    record_property("silhouette_5000x64_s", elapsed)
    assert elapsed < 5.0


def test_kmeans_on_the_digits_matches_the_seed_accuracy():
    """The issue's target: k=10, k-means++ with 10 starts, accuracy >= 0.78 (about 0.79)."""
    from palettelab.core.clustering.kmeans import KMeans
    from palettelab.core.datasets import make_dataset

    digits = make_dataset("digits")
    km = KMeans(10, n_init=10, random_state=0).fit(digits.X)
    assert matched_accuracy(km.labels_, digits.labels) >= 0.78

"""The filtering tree behind ``KMeans(algorithm="kdtree")``: its structure, and runs on data that
stress it (equal rows, values over many orders of magnitude, far outliers, empty clusters).

Agreement with Lloyd and scikit-learn on ordinary data is in test_kmeans.py, where "kdtree" is
one of the algorithms every comparison runs.
"""

import itertools

import numpy as np
import pytest

from palettelab.core.clustering import _kdtree_kernels as kd
from palettelab.core.clustering.kmeans import KMeans, _pick_algorithm


def _subtree_rows(links, node):
    return links[node, 0], links[node, 1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_tree_partitions_rows_and_summarises_them(d, dtype):
    rng = np.random.default_rng(d)
    centres = rng.uniform(-50, 50, (6, d))
    X = (centres[rng.integers(0, 6, 6000)] + rng.normal(0, 3, (6000, d))).astype(dtype)
    X[:200] = X[200]  # a block of equal rows: one grid cell that cannot be split
    w = rng.uniform(0.0, 2.0, 6000)
    tree = kd.build_tree(X, w)
    n = X.shape[0]
    np.testing.assert_array_equal(np.sort(tree.perm), np.arange(n))
    np.testing.assert_array_equal(tree.Xs, X[tree.perm])
    np.testing.assert_array_equal(tree.ws, w[tree.perm])
    links, records = tree.links, tree.records
    leaves = np.flatnonzero(links[:, 2] < 0)
    # the leaves, in node order, cover the rows once each and in order
    np.testing.assert_array_equal(links[leaves, 0], np.r_[0, links[leaves[:-1], 1]])
    assert links[leaves[-1], 1] == n
    assert np.all(links[leaves, 1] - links[leaves, 0] >= 1)
    for node in range(links.shape[0]):
        s, e = _subtree_rows(links, node)
        rows = tree.Xs[s:e].astype(np.float64)
        np.testing.assert_array_equal(records[node, :d], rows.min(axis=0))
        np.testing.assert_array_equal(records[node, d:2 * d], rows.max(axis=0))
        np.testing.assert_allclose(records[node, 2 * d:3 * d], tree.ws[s:e] @ rows,
                                   rtol=1e-9, atol=1e-9)
        assert records[node, 3 * d] == pytest.approx(tree.ws[s:e].sum(), rel=1e-12)
        right = links[node, 2]
        if right >= 0:  # two non-empty children: the next node, then the right one
            assert links[node + 1, 0] == s and links[node + 1, 1] == links[right, 0]
            assert links[right, 1] == e and links[node + 1, 1] > s and links[right, 0] < e
    # the tasks' subtrees cover the rows once each; their paths are their ancestors
    spans = sorted(_subtree_rows(links, t) for t in tree.tasks)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    for task, path in zip(tree.tasks, tree.paths, strict=True):
        s, e = _subtree_rows(links, task)
        for anc in path[path >= 0]:
            assert links[anc, 0] <= s and e <= links[anc, 1] and links[anc, 2] >= 0


def _same_as_lloyd(X, C0, w=None):
    lloyd = KMeans(C0.shape[0], init=C0, algorithm="lloyd").fit(X, w)
    tree = KMeans(C0.shape[0], init=C0, algorithm="kdtree").fit(X, w)
    np.testing.assert_array_equal(tree.labels_, lloyd.labels_)
    np.testing.assert_allclose(tree.cluster_centers_, lloyd.cluster_centers_, rtol=1e-12,
                               atol=1e-12 * np.abs(X).max())
    assert tree.inertia_ == pytest.approx(lloyd.inertia_, rel=1e-10, abs=1e-300)
    assert tree.n_iter_ == lloyd.n_iter_
    return tree


def test_all_equal_rows():
    X = np.full((3000, 2), 7.25)
    tree = _same_as_lloyd(X, np.array([[7.25, 7.25], [0.0, 1.0]]))
    assert tree.inertia_ == 0.0


def test_values_over_many_orders_of_magnitude():
    """Rows from 1e-9 to 1e9: the grid's cells are far too coarse for the small ones, which the
    tree then splits by value (down to its depth limit, where a leaf just holds more rows)."""
    rng = np.random.default_rng(1)
    X = np.sign(rng.normal(size=(4000, 3))) * 10.0 ** rng.uniform(-9, 9, (4000, 3))
    C0 = X[rng.choice(4000, 6, replace=False)]
    _same_as_lloyd(X, C0)


def test_data_far_from_the_origin():
    """Coordinates near 1e6 with unit spread: the pruning margin must follow the rounding of
    these large values, and so must the row-by-row comparisons."""
    rng = np.random.default_rng(6)
    centres = rng.uniform(-5, 5, (8, 2))
    X = 1e6 + centres[rng.integers(0, 8, 8000)] + rng.normal(0, 0.7, (8000, 2))
    _same_as_lloyd(X, X[rng.choice(8000, 8, replace=False)])


def test_far_outlier_and_duplicates():
    rng = np.random.default_rng(2)
    X = np.repeat(rng.normal(size=(40, 2)), 50, axis=0)
    X = np.vstack([X, [[1e7, -1e7]]])
    C0 = X[rng.choice(X.shape[0], 5, replace=False)]
    _same_as_lloyd(X, C0, rng.uniform(0.5, 1.5, X.shape[0]))


def test_empty_cluster_is_reseeded_like_lloyd():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 2))
    C0 = np.vstack([X[:3], [[500.0, 500.0]]])  # the last centre owns no row
    _same_as_lloyd(X, C0)


def test_zero_weights():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5000, 3))
    w = rng.uniform(0, 1, 5000)
    w[::3] = 0.0
    _same_as_lloyd(X, X[:7].copy(), w)


def test_steps_labels_are_in_row_order():
    """The tree keeps labels in its own order; every step must report them in X's order."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20000, 2)) * [3.0, 1.0]
    C0 = X[:9].copy()
    tree_steps = list(KMeans(9, init=C0, algorithm="kdtree").steps(X))
    lloyd_steps = list(KMeans(9, init=C0, algorithm="lloyd").steps(X))
    assert len(tree_steps) == len(lloyd_steps) > 3
    for a, b in zip(tree_steps, lloyd_steps, strict=True):
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.inertia == pytest.approx(b.inertia, rel=1e-10)


def test_auto_picks_the_tree_for_many_rows_in_few_features():
    assert _pick_algorithm("auto", 300_000, 3, 16) == "kdtree"
    assert _pick_algorithm("auto", 2_000_000, 1, 12) == "kdtree"
    assert _pick_algorithm("auto", 2_000_000, 2, 11) == "hamerly"
    assert _pick_algorithm("auto", 299_999, 3, 16) == "hamerly"
    assert _pick_algorithm("auto", 1_000_000, 4, 16) == "hamerly"
    assert _pick_algorithm("auto", 1_000_000, 2, 1) == "lloyd"
    assert _pick_algorithm("hamerly", 1_000_000, 2, 8) == "hamerly"

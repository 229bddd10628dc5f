"""t-SNE (issue 18, item 1): checked against scikit-learn's TSNE, and k-means in its map of the
digits against the seed's 0.92."""

from __future__ import annotations

import json

import numpy as np
import pytest

from palettelab.app.cli.main import main
from palettelab.core.clustering.kmeans import KMeans
from palettelab.core.clustering.metrics import matched_accuracy
from palettelab.core.clustering.tsne import TSNE, joint_affinities
from palettelab.core.datasets import make_dataset
from palettelab.core.errors import InputError


@pytest.fixture(scope="module")
def digits():
    return make_dataset("digits")


@pytest.fixture(scope="module")
def subset(digits):
    rows = np.random.default_rng(0).choice(len(digits.X), 600, replace=False)
    return np.asarray(digits.X[rows], dtype=np.float64), digits.labels[rows]


def test_affinities_are_a_symmetric_distribution(subset):
    X, _ = subset
    indptr, indices, values = joint_affinities(X, 30.0)
    n = X.shape[0]
    P = np.zeros((n, n))
    for i in range(n):
        P[i, indices[indptr[i]:indptr[i + 1]]] = values[indptr[i]:indptr[i + 1]]
    assert values.sum() == pytest.approx(1.0) and (values > 0).all()
    np.testing.assert_allclose(P, P.T, atol=1e-15)
    assert not np.diag(P).any()


def test_matches_scikit_learn_kl_and_trustworthiness(subset):
    manifold = pytest.importorskip("sklearn.manifold")
    X, _ = subset
    ours = TSNE(random_state=0)
    Y = ours.fit_transform(X)
    theirs = manifold.TSNE(random_state=0, init="pca")
    Z = theirs.fit_transform(X)
    assert ours.kl_divergence_ <= theirs.kl_divergence_ * 1.05
    trust = manifold.trustworthiness(X, Y, n_neighbors=5)
    assert trust >= manifold.trustworthiness(X, Z, n_neighbors=5) - 0.01


@pytest.mark.parametrize("method", ["exact", "barnes_hut"])
def test_same_embedding_on_any_thread_count(subset, method):
    import numba

    X, _ = subset
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = TSNE(max_iter=300, method=method).fit_transform(X)
        numba.set_num_threads(before)
        many = TSNE(max_iter=300, method=method).fit_transform(X)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)


def test_barnes_hut_approximates_the_exact_gradient_and_map(subset):
    from palettelab.core.clustering import _tsne_kernels as kernels
    from palettelab.core.clustering.tsne import _Tree

    X, _ = subset
    n = X.shape[0]
    Y = np.random.default_rng(1).normal(size=(n, 2)) * 5
    indptr, indices, values = joint_affinities(X, 30.0)
    exact, tree = np.empty((n, 2)), np.empty((n, 2))
    kernels.gradient(Y, indptr, indices, values, 1.0, exact, np.empty(n))
    _Tree(n).gradient(Y, indptr, indices, values, 1.0, 0.5, tree, np.empty(n))
    assert np.linalg.norm(tree - exact) / np.linalg.norm(exact) < 0.05  # theta 0.5

    close_grad = np.empty((n, 2))
    _Tree(n).gradient(Y, indptr, indices, values, 1.0, 0.1, close_grad, np.empty(n))
    assert np.linalg.norm(close_grad - exact) < np.linalg.norm(tree - exact)
    ours = TSNE(method="barnes_hut").fit(X)
    assert ours.kl_divergence_ <= TSNE(method="exact").fit(X).kl_divergence_ * 1.05


def test_kmeans_in_the_map_of_the_digits_beats_the_raw_pixels(digits):
    Y = TSNE().fit_transform(digits.X)
    labels = KMeans(10, n_init=10, random_state=0).fit(Y).labels_
    raw = KMeans(10, n_init=10, random_state=0).fit(digits.X).labels_
    assert matched_accuracy(labels, digits.labels) >= 0.92  # the seed's figure; here 0.94
    assert matched_accuracy(raw, digits.labels) < 0.85  # about 0.79


def test_cli_embed_tsne_on_shuffled_digits_with_a_text_label_header(digits, tmp_path, capsys):
    order = np.random.default_rng(5).permutation(len(digits.X))
    names = np.array([f"digit-{n}" for n in digits.label_names])
    path = tmp_path / "digits.csv"
    with open(path, "w") as out:
        out.write(",".join([*(f"p{i}" for i in range(64)), "class"]) + "\n")
        for row, label in zip(digits.X[order], names[digits.labels[order]], strict=True):
            out.write(",".join(str(int(v)) for v in row) + f",{label}\n")
    assert main(["cluster", str(path), "-k", "10", "--embed", "tsne", "--n-init", "10",
                 "-o", str(tmp_path / "labels.csv"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["accuracy"] >= 0.92 and summary["embed"] == "tsne"
    assert 0 < summary["embed_seconds"] <= summary["seconds"]
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert lines[0] == "label" and len(lines) == len(order) + 1  # input order, every row


def test_bad_parameters_are_one_line(subset):
    X, _ = subset
    for bad, match in ((dict(perplexity=10_000), "perplexity"), (dict(n_components=3), "2"),
                       (dict(learning_rate=-1), "learning_rate")):
        with pytest.raises(InputError, match=match):
            TSNE(**bad).fit(X)

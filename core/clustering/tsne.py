"""t-SNE: a 2-D embedding that keeps neighbours together, for clustering what k-means cannot
separate in the raw space (issue 18).

The Python Data Science Handbook's digits: k-means on the 64 raw pixels matches about 0.79 of
the labels, in a t-SNE embedding about 0.92.  This is van der Maaten's t-SNE with scikit-learn's
defaults and parameter names (``perplexity``, ``early_exaggeration``, ``learning_rate="auto"``,
``max_iter``, ``init="pca"``, ``random_state``), written with Numba rather than taken from
openTSNE, which needs SciPy and scikit-learn at run time: about 100 MB more in a bundle that is
already over its size budget.

* **Affinities.**  Each point's ``3 * perplexity`` nearest neighbours (exact), a Gaussian
  bandwidth per point found by binary search for the perplexity, then symmetrised:
  ``P = (P + P.T) / 2n``, sparse.
* **Optimisation.**  Gradient descent with momentum (0.5, then 0.8) and per-coordinate gains;
  the first 250 steps with the affinities exaggerated.  The repulsion
  (:mod:`palettelab.core.clustering._tsne_kernels`) is exact up to ``EXACT_LIMIT`` points --
  O(n^2) a step, but a branch-free vectorised loop -- and Barnes-Hut above (a quadtree built
  each step, ``angle`` 0.5 as scikit-learn's), up to ``MAX_POINTS``.  On the digits
  Barnes-Hut's gradient is within 2.4 % of the exact one and its map's KL divergence 0.764
  against the exact 0.738 (scikit-learn's Barnes-Hut: 0.753).
* **Start.**  The first two principal components, scaled to a standard deviation of 1e-4
  (scikit-learn's "pca" init): no random start, so the same data gives the same embedding.

Measured against scikit-learn's ``TSNE`` (Barnes-Hut): docs/PERFORMANCE.md, "t-SNE".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from palettelab.core.checks import check_int
from palettelab.core.clustering import _tsne_kernels as kernels
from palettelab.core.clustering.kmeans import check_data
from palettelab.core.errors import InputError

#: the most points embedded
MAX_POINTS = 100_000
#: up to this many points the repulsion is exact (O(n^2) a step, vectorised: faster than a
#: tree there); above, Barnes-Hut with ``theta``
EXACT_LIMIT = 5_000
#: steps with exaggerated affinities, and the momentum before and after them
EXAGGERATION_STEPS = 250
_MOMENTUM = (0.5, 0.8)


@dataclass(frozen=True)
class TSNEStep:
    """An embedding on its way: ``iteration`` done, ``embedding`` (n, 2) there (a copy)."""

    iteration: int
    embedding: np.ndarray


class TSNE:
    """t-SNE into two dimensions (scikit-learn's names and defaults).

    After ``fit``: ``embedding_`` (n, 2) float64, ``kl_divergence_`` and ``n_iter_``.
    """

    def __init__(self, n_components: int = 2, *, perplexity: float = 30.0,
                 early_exaggeration: float = 12.0, learning_rate="auto", max_iter: int = 1000,
                 init: str = "pca", random_state=None, method: str = "auto",
                 angle: float = 0.5):
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.init = init
        self.random_state = random_state  # the start is PCA: kept for scikit-learn's surface
        self.method = method  # "auto", "exact" or "barnes_hut" (scikit-learn's names)
        self.angle = angle  # Barnes-Hut's theta

    def _check(self, X) -> tuple[np.ndarray, int]:
        if self.n_components != 2:
            raise InputError(f"n_components must be 2, got {self.n_components!r}")
        if self.init != "pca":
            raise InputError(f"init must be 'pca', got {self.init!r}")
        X = np.ascontiguousarray(check_data(X), dtype=np.float64)
        n = X.shape[0]
        if n > MAX_POINTS:
            raise InputError(f"t-SNE takes at most {MAX_POINTS:,} points, got {n:,} "
                             f"(use the PCA view, or sample the data)")
        if not 0 < float(self.perplexity) < n:
            raise InputError(f"perplexity must be between 0 and the number of points ({n}), "
                             f"got {self.perplexity}")
        if self.method not in ("auto", "exact", "barnes_hut"):
            raise InputError(f"method must be 'auto', 'exact' or 'barnes_hut', got "
                             f"{self.method!r}")
        if not 0.0 < float(self.angle) <= 1.0:
            raise InputError(f"angle must be in (0, 1], got {self.angle}")
        if not float(self.early_exaggeration) >= 1:
            raise InputError(f"early_exaggeration must be at least 1, got "
                             f"{self.early_exaggeration}")
        return X, check_int(self.max_iter, "max_iter", low=EXAGGERATION_STEPS + 1)

    def _rate(self, n: int) -> float:
        if self.learning_rate == "auto":  # scikit-learn's
            return max(n / float(self.early_exaggeration) / 4.0, 50.0)
        rate = float(self.learning_rate)
        if not rate > 0:
            raise InputError(f"learning_rate must be 'auto' or positive, got "
                             f"{self.learning_rate!r}")
        return rate

    def steps(self, X, every: int = 10) -> Iterator[TSNEStep]:
        """Optimise, yielding the embedding every ``every`` steps and at the end (for a view
        that animates); exhausted, the estimator is fitted as by :meth:`fit`."""
        X, max_iter = self._check(X)
        n = X.shape[0]
        indptr, indices, values = joint_affinities(X, float(self.perplexity))
        Y = _pca_start(X)
        grad, update, gains = np.zeros((n, 2)), np.zeros((n, 2)), np.ones((n, 2))
        row_z = np.empty(n)
        rate = self._rate(n)
        exact = self.method == "exact" or (self.method == "auto" and n <= EXACT_LIMIT)
        tree = None if exact else _Tree(n)
        for it in range(1, max_iter + 1):
            early = it <= EXAGGERATION_STEPS
            exaggeration = float(self.early_exaggeration) if early else 1.0
            if exact:
                kernels.gradient(Y, indptr, indices, values, exaggeration, grad, row_z)
            else:
                tree.gradient(Y, indptr, indices, values, exaggeration, float(self.angle),
                              grad, row_z)
            kernels.descend(Y, grad, update, gains, _MOMENTUM[0] if early else _MOMENTUM[1],
                            rate)
            if it % every == 0 or it == max_iter:
                yield TSNEStep(it, Y.copy())
        kernels.gradient(Y, indptr, indices, values, 1.0, grad, row_z)
        self.kl_divergence_ = float(kernels.kl_divergence(Y, indptr, indices, values, row_z))
        self.embedding_, self.n_iter_ = Y, max_iter

    def fit(self, X) -> TSNE:
        for _ in self.steps(X, every=self.max_iter if isinstance(self.max_iter, int) else 1):
            pass
        return self

    def fit_transform(self, X) -> np.ndarray:
        """Fit, then return ``embedding_``."""
        return self.fit(X).embedding_


class _Tree:
    """Barnes-Hut's quadtree arrays, built again each step (grown when a build needs more)."""

    def __init__(self, n: int) -> None:
        self._grow(8 * n + 64)
        self._rep = np.empty((n, 2))

    def _grow(self, nodes: int) -> None:
        self.child = np.empty((nodes, 4), dtype=np.int64)
        self.mass, self.com_x, self.com_y = np.empty(nodes), np.empty(nodes), np.empty(nodes)
        self.size = np.empty(nodes)
        self.point = np.empty(nodes, dtype=np.int64)

    def gradient(self, Y, indptr, indices, values, exaggeration, theta, grad, row_z) -> None:
        while kernels.build_quadtree(Y, self.child, self.mass, self.com_x, self.com_y,
                                     self.size, self.point) < 0:
            self._grow(2 * self.child.shape[0])
        kernels.barnes_hut_repulsion(Y, self.child, self.mass, self.com_x, self.com_y,
                                     self.size, self.point, theta * theta, self._rep, row_z)
        kernels.combine(Y, indptr, indices, values, exaggeration, self._rep, row_z, grad)


def joint_affinities(X: np.ndarray, perplexity: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric joint affinities of X's rows as CSR (indptr, indices, values), summing to 1."""
    n = X.shape[0]
    k = min(n - 1, int(3 * perplexity + 1))
    neighbours = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k))
    kernels.nearest_neighbours(X, neighbours, distances)
    conditional = np.empty((n, k))
    kernels.conditional_affinities(distances, perplexity, conditional)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = neighbours.ravel()
    # P + P.T: every (i, j) with its transpose, duplicates summed
    keys = np.concatenate([rows * n + cols, cols * n + rows])
    both = np.concatenate([conditional.ravel(), conditional.ravel()])
    unique, inverse = np.unique(keys, return_inverse=True)
    values = np.bincount(inverse, weights=both) / (2.0 * n)
    values /= values.sum()
    indices = unique % n
    indptr = np.searchsorted(unique // n, np.arange(n + 1))
    return indptr.astype(np.int64), indices.astype(np.int64), values


def _pca_start(X: np.ndarray) -> np.ndarray:
    """The first two principal components, scaled to a standard deviation of 1e-4 on the
    first (scikit-learn's "pca" start); the signs fixed so the start is reproducible."""
    centred = X - X.mean(axis=0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2] if vt.shape[0] >= 2 else np.vstack([vt, np.zeros_like(vt)])
    signs = np.sign(axes[np.arange(axes.shape[0]), np.argmax(np.abs(axes), axis=1)])
    Y = centred @ (axes * np.where(signs == 0, 1.0, signs)[:, None]).T
    std = Y[:, 0].std()
    return np.ascontiguousarray(Y / (std if std > 0 else 1.0) * 1e-4)

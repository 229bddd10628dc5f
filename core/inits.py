"""Starting centres for k-means: k-means++, random rows, farthest point, or given (manual).

Each is a function of the data, k and a seed, so a start can be drawn again exactly:

* ``"k-means++"``: :func:`palettelab.core.clustering.kmeans.kmeans_plusplus` (greedy, as
  scikit-learn), the start ``KMeans(init="k-means++", random_state=seed)`` draws first.
* ``"random"``: k distinct rows chosen uniformly, in row order.
* ``"farthest point"``: Gonzalez's heuristic (:func:`farthest_point_centers`).
* ``"manual"``: centres the caller gives (clicked in the GUI), checked by :func:`check_centers`.

This module loads no Numba: the engine is imported when k-means++ is first asked for, so the
GUI can take :data:`INITS` from here at start-up.
"""

from __future__ import annotations

import numpy as np

from palettelab.core.checks import SEED_LIMIT, check_int
from palettelab.core.errors import InputError

#: the ways to choose starting centres, in the order the GUI offers them
INITS = ("k-means++", "random", "farthest point", "manual")


def check_k(k, n: int) -> int:
    """``k`` as an int from 1 to the number of points ``n``, else :class:`InputError` (worded as
    the k-means engine words it)."""
    k = check_int(k, "n_clusters", low=1)
    if k > n:
        raise InputError(f"n_clusters={k} is more than the number of points ({n})")
    return k


def check_centers(centers, k: int | None, d: int, dtype=np.float64) -> np.ndarray:
    """Given centres as a (k, d) array of ``dtype`` (a new array), or :class:`InputError`:
    numeric, finite, d columns, and k rows when ``k`` is given."""
    try:
        C = np.array(centers, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("centres must be a (k, d) array of numbers") from None
    if C.ndim != 2 or C.shape[0] == 0:
        raise InputError(f"centres must be a (k, d) array, got shape {C.shape}")
    if C.shape[1] != d:
        raise InputError(f"centres have {C.shape[1]} columns but the data has {d}")
    if k is not None and C.shape[0] != k:
        raise InputError(f"{C.shape[0]} centres were given for k={k}")
    if not np.isfinite(C).all():
        raise InputError("centres contain NaN or infinity")
    return C.astype(dtype, copy=False)


def farthest_point_centers(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """First centre a seeded random row, then repeatedly the row farthest from its nearest
    centre (Gonzalez's heuristic): it spreads the centres out, outliers first.  Ties go to
    the lowest row, so once every distinct row is a centre (duplicate rows) centres repeat."""
    rng = np.random.default_rng(seed)
    rows = [int(rng.integers(X.shape[0]))]
    nearest = ((X - X[rows[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        rows.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, ((X - X[rows[-1]]) ** 2).sum(axis=1))
    return X[rows].copy()


def random_centers(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k distinct rows drawn uniformly from a seeded generator, in row order."""
    rng = np.random.default_rng(seed)
    return X[np.sort(rng.choice(X.shape[0], size=k, replace=False))].copy()


def initial_centers(X: np.ndarray, k: int, init: str, seed: int = 0,
                    centers=None) -> np.ndarray:
    """Starting centres, (k, d) in X's dtype, for ``init`` (one of :data:`INITS`).

    ``centers`` is required for ``"manual"`` and refused otherwise; ``seed`` is a non-negative
    integer.  ``X`` must be a validated (n, d) float array (see
    :func:`palettelab.core.clustering.kmeans.check_data`).
    """
    if not isinstance(init, str) or init not in INITS:
        raise InputError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    k = check_k(k, X.shape[0])
    seed = check_int(seed, "seed", low=0, high=SEED_LIMIT - 1)
    if init == "manual":
        if centers is None:
            raise InputError("manual init needs the centres")
        return check_centers(centers, k, X.shape[1], X.dtype)
    if centers is not None:
        raise InputError(f"centres are given only with manual init, not {init!r}")
    if init == "random":
        return random_centers(X, k, seed)
    if init == "farthest point":
        return farthest_point_centers(X, k, seed)
    from palettelab.core.clustering.kmeans import kmeans_plusplus

    return np.asarray(kmeans_plusplus(X, k, random_state=seed), dtype=X.dtype)

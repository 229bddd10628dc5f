"""Spectral clustering: k-means on the leading eigenvectors of a k-nearest-neighbour graph.

k-means can only cut space into convex cells, so it splits two interleaved moons or two
concentric rings wrongly whatever its start.  Spectral clustering first maps every point to its
row of the k eigenvectors of the normalised graph Laplacian with the smallest eigenvalues: points
joined by chains of near neighbours land close together there, and k-means on that embedding
separates the chains (Ng, Jordan and Weiss, 2001).

The steps:

1. The graph.  Each point is joined to itself and to its ``n_neighbors - 1`` nearest other points
   (Euclidean; ties to the lower index), C[i, j] = 1, and symmetrised as A = (C + Cᵀ) / 2 --
   scikit-learn's ``affinity="nearest_neighbors"``.  The search is exact and brute force, O(n² d)
   in a parallel Numba kernel over tiles of rows, with no n x n array.
2. The embedding.  L = I - D^-1/2 A D^-1/2 (D the degrees; never 0 thanks to the self loop);
   its smallest eigenvalues are the largest of M = D^-1/2 A D^-1/2.  Up to ``_DENSE_LIMIT``
   points the k eigenvectors come from ``numpy.linalg.eigh`` on the dense M: exact, and as quick
   as iterating at that size (2000 points: about 1 s either way on 2 cores).  Above it a dense
   eigh costs O(n³) time and n² memory (3000 points took 10 s, 10 000 would need minutes and
   800 MB), so LOBPCG (:func:`_leading_eigenvectors`) works on the neighbour lists instead:
   about 2 s for 4000 points and 7 s for 10 000 on two interleaved moons, where eigenvalues
   crowd near 1 and convergence is slow; better separated data converge faster.  Its kernels
   reduce in fixed chunks, so this path gives the same bits for any ``NUMBA_NUM_THREADS``; the
   dense path is as reproducible as the LAPACK underneath.
3. Each row of the embedding is scaled to unit length, then clustered by
   :class:`palettelab.core.clustering.kmeans.KMeans` with ``n_init`` starts.

At most ``MAX_POINTS`` points: the exact neighbour search is quadratic (10 000 points at d = 64
is 6.4 billion multiply-adds, a few seconds); subsample larger data first.

A disconnected graph is fine: each connected component contributes an eigenvalue 0, whose
eigenvectors are constant (up to the degree scaling) on components.  With exactly k components
every component becomes one cluster.  With more than k, the k vectors are one basis of a larger
zero eigenspace, so which components are merged is decided by the solver, not by the data; a
point whose row is then zero stays at the origin of the embedding.  Raise ``n_neighbors`` if
that happens.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from palettelab.core.checks import check_int, check_random_state
from palettelab.core.clustering.kmeans import KMeans, check_data
from palettelab.core.errors import InputError
from palettelab.core.numba_config import FASTMATH

MAX_POINTS = 10_000
_DENSE_LIMIT = 2000  # up to this many points, numpy.linalg.eigh on the dense matrix
_TILE_ROWS = 8  # query rows that share one pass over a block of candidate rows
_TILE_COLS = 512

_CHUNK = 1024  # rows per chunk of the solver's kernels (a constant: thread-count independent)
_EXTRA = 8  # LOBPCG block size = k + this
_MAX_ITER = 1000
_TOL = 1e-8  # residual norm |M v - θ v| of each wanted unit Ritz vector
_DROP = 1e-12  # Gram eigenvalue (unit columns) below which a direction counts as dependent


@njit(forceinline=True, _nrt=False)
def _after(d1, j1, d2, j2):
    """Whether candidate (d1, j1) ranks after (d2, j2): by distance, then by index."""
    return d1 > d2 or (d1 == d2 and j1 > j2)


@njit(forceinline=True, _nrt=False)
def _heap_push(hd, hj, dist, j):
    """Put (dist, j) in place of the last-ranked entry of the max-heap if it ranks before it.

    Ranking pairs rather than distances alone keeps the lower index among equal distances, so
    the neighbour set is unique whatever the order of the scan.
    """
    if _after(dist, j, hd[0], hj[0]):
        return
    m = hd.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= m:
            break
        if child + 1 < m and _after(hd[child + 1], hj[child + 1], hd[child], hj[child]):
            child += 1
        if not _after(hd[child], hj[child], dist, j):
            break
        hd[pos] = hd[child]
        hj[pos] = hj[child]
        pos = child
    hd[pos] = dist
    hj[pos] = j


@njit(nogil=True, fastmath=FASTMATH, error_model="numpy")
def _knn_tile(X, start, rows, neighbours):
    """:func:`_knn_kernel` for the rows [start, start + rows)."""
    n, d = X.shape
    m = neighbours.shape[1]
    hd = np.full((rows, m), np.inf)
    hj = np.full((rows, m), n, dtype=np.int64)
    for j0 in range(0, n, _TILE_COLS):
        j1 = min(n, j0 + _TILE_COLS)
        for r in range(rows):
            i = start + r
            for j in range(j0, j1):
                if j == i:
                    continue
                s = 0.0
                for t in range(d):
                    diff = np.float64(X[i, t]) - np.float64(X[j, t])
                    s += diff * diff
                _heap_push(hd[r], hj[r], s, j)
    for r in range(rows):  # a loop: a row copy would compile Numba's shape-error messages
        for q in range(m):
            neighbours[start + r, q] = hj[r, q]


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def _knn_kernel(X, neighbours):
    """The ``neighbours.shape[1]`` nearest other rows of every row (squared Euclidean).

    Every row's search is independent and scans the candidates in index order, so the result
    does not depend on the thread count.  Each tile of rows is one call (a function called from
    a ``prange`` loop compiles far faster than the same code written inside it).
    """
    n = X.shape[0]
    for tile in prange((n + _TILE_ROWS - 1) // _TILE_ROWS):
        start = tile * _TILE_ROWS
        _knn_tile(X, start, min(_TILE_ROWS, n - start), neighbours)


def _graph(X: np.ndarray, n_neighbors: int):
    """The symmetric kNN affinity as CSR arrays (indptr, indices, data), with its degrees."""
    n = X.shape[0]
    neighbours = np.empty((n, n_neighbors - 1), dtype=np.int64)
    _knn_kernel(X, neighbours)
    rows = np.repeat(np.arange(n, dtype=np.int64), n_neighbors - 1)
    cols = neighbours.ravel()
    self_loops = np.arange(n, dtype=np.int64)
    # A = (C + Cᵀ) / 2 with C's self loops: 1 on the diagonal, 1/2 per directed edge, so a
    # mutual pair gets 1
    keys = np.concatenate([self_loops * (n + 1), rows * n + cols, cols * n + rows])
    weights = np.concatenate([np.ones(n), np.full(2 * cols.shape[0], 0.5)])
    cells, inverse = np.unique(keys, return_inverse=True)
    data = np.bincount(inverse, weights=weights)
    indices = cells % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells // n, minlength=n), out=indptr[1:])
    degree = np.add.reduceat(data, indptr[:-1])
    return indptr, indices, data, degree


# ---------------------------------------------------------------------------------------------
# the eigen-solver for large graphs: LOBPCG on tall, thin blocks
#
# Its linear algebra is products of an (n, p) block with a (p, q) matrix or with another (n, q)
# block, p and q a few dozen.  Numba does them in fixed row chunks: through numpy they went to
# multithreaded OpenBLAS, which spends longer waking its threads than computing such thin
# products -- 20x longer on a 2-core machine with the other core busy -- and whose rounding
# can depend on the thread count.


@njit(nogil=True, parallel=True, cache=True)
def _affinity_times(indptr, indices, data, scale, V, out):
    """out = D^-1/2 A D^-1/2 V, A given as CSR arrays and D^-1/2 as ``scale``."""
    n, b = V.shape
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            for q in range(b):
                out[i, q] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                w = data[p] * scale[j]
                for q in range(b):
                    out[i, q] += w * V[j, q]
            for q in range(b):
                out[i, q] *= scale[i]


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def _gram_chunks(A, B, partial):
    """partial[c] = Aᵀ B over the rows of chunk c."""
    n, p = A.shape
    q = B.shape[1]
    for c in prange(partial.shape[0]):
        acc = partial[c]
        acc[:] = 0.0
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            for a in range(p):
                x = A[i, a]
                for e in range(q):
                    acc[a, e] += x * B[i, e]


@njit(nogil=True, parallel=True, fastmath=FASTMATH, cache=True)
def _times_small(A, C, out):
    """out = A C for a tall A and a small C."""
    n, p = A.shape
    q = C.shape[1]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            for e in range(q):
                out[i, e] = 0.0
            for a in range(p):
                x = A[i, a]
                for e in range(q):
                    out[i, e] += x * C[a, e]


def _gram(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Aᵀ B, summed chunk by chunk in chunk order (the same bits for any thread count)."""
    partial = np.empty(((A.shape[0] + _CHUNK - 1) // _CHUNK, A.shape[1], B.shape[1]))
    _gram_chunks(np.ascontiguousarray(A), np.ascontiguousarray(B), partial)
    return partial.sum(axis=0)


def _times(A: np.ndarray, C: np.ndarray) -> np.ndarray:
    out = np.empty((A.shape[0], C.shape[1]))
    _times_small(np.ascontiguousarray(A), np.ascontiguousarray(C), out)
    return out


def _orthonormal(W: np.ndarray, X: np.ndarray | None = None) -> np.ndarray:
    """Orthonormal basis of the part of span(W) orthogonal to the orthonormal columns of X.

    Two passes of: project out X, scale the columns to unit length, and rotate by the
    eigenvectors of the Gram matrix, dropping directions whose eigenvalue is below ``_DROP``
    (SVQB, Stathopoulos and Wu 2002).  Dropping handles the dependent directions LOBPCG meets
    near convergence, where a QR would return arbitrary columns; the second pass removes what
    the first left through rounding.  May return fewer columns than W, or none.
    """
    for _ in range(2):
        if X is not None:
            W = W - _times(X, _gram(X, W))
        G = _gram(W, W)
        norms = np.sqrt(np.diag(G))
        live = norms > 0
        if not live.any():
            return W[:, :0]
        G = G[np.ix_(live, live)] / np.outer(norms[live], norms[live])
        s2, U = np.linalg.eigh(G)
        keep = s2 > _DROP
        W = _times(W[:, live], U[:, keep] / np.sqrt(s2[keep]) / norms[live][:, None])
    return W


def _rayleigh_ritz(S, AS, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Ritz values (descending) and coefficients of the b largest in the basis S."""
    G = _gram(S, AS)
    theta, C = np.linalg.eigh(0.5 * (G + G.T))
    return theta[::-1][:b], C[:, ::-1][:, :b]


def _leading_eigenvectors(matvec, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Orthonormal (n, k) basis of the eigenvectors of the k largest eigenvalues of a symmetric
    operator, by LOBPCG (Knyazev 2001) without preconditioner.

    A block of ``k + _EXTRA`` vectors X (the spare ones speed up convergence when eigenvalues
    crowd, as they do near 1 for well-separated clusters) is improved by Rayleigh-Ritz on
    [X, residuals, previous step], kept orthonormal by :func:`_orthonormal`; each iteration
    costs one product of the operator with at most 2 (k + _EXTRA) vectors, and the basis never
    grows.  It stops when the k wanted Ritz vectors have residuals |M v - θ v| below ``_TOL``, or
    after ``_MAX_ITER`` iterations: then the eigenvalues are so close that the exact vectors do
    not matter to the clustering, and the best basis found is returned.
    """
    X = _orthonormal(rng.standard_normal((n, min(n, k + _EXTRA))))
    b = X.shape[1]
    AX = matvec(X)
    theta, C = _rayleigh_ritz(X, AX, b)
    X, AX = _times(X, C), _times(AX, C)
    P = X[:, :0]
    for _ in range(_MAX_ITER):
        R = AX - X * theta
        if np.linalg.norm(R[:, :k], axis=0).max() <= _TOL:
            break
        W = _orthonormal(np.hstack([R, P]), X)
        if W.shape[1] == 0:  # X already spans an invariant subspace
            break
        S, AS = np.hstack([X, W]), np.hstack([AX, matvec(W)])
        theta, C = _rayleigh_ritz(S, AS, b)
        X, AX, P = _times(S, C), _times(AS, C), _times(W, C[b:])
    return X[:, :k]


def _embedding(indptr, indices, data, degree, k: int, rng: np.random.Generator) -> np.ndarray:
    """The k leading eigenvectors of M = D^-1/2 A D^-1/2 (dense eigh or LOBPCG by size)."""
    n = degree.shape[0]
    scale = 1.0 / np.sqrt(degree)
    if n <= _DENSE_LIMIT:
        M = np.zeros((n, n))
        M[np.repeat(np.arange(n), np.diff(indptr)), indices] = data
        M *= scale[:, None] * scale[None, :]
        return np.linalg.eigh(M)[1][:, ::-1][:, :k]  # eigh sorts ascending

    def matvec(V: np.ndarray) -> np.ndarray:
        out = np.empty_like(V)
        _affinity_times(indptr, indices, data, scale, V, out)
        return out

    return _leading_eigenvectors(matvec, n, k, rng)


class SpectralClustering:
    """Spectral clustering on a k-nearest-neighbour graph (normalised Laplacian, Ng-Jordan-Weiss).

    After ``fit``: ``labels_`` (int32) and ``embedding_``, the (n, n_clusters) unit-length rows
    that were clustered (useful to plot).  ``random_state`` seeds the k-means starts and, above
    the dense size, the start of the eigen-solver.  See the module docstring for the method and
    its limits (at most ``MAX_POINTS`` points).
    """

    def __init__(self, n_clusters: int = 2, *, n_neighbors: int = 10, n_init: int = 10,
                 random_state=None):
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X) -> SpectralClustering:
        """Build the graph, embed every point and cluster the embedding."""
        X = check_data(X)
        n = X.shape[0]
        k = check_int(self.n_clusters, "n_clusters", low=1)
        n_neighbors = check_int(self.n_neighbors, "n_neighbors", low=2)
        n_init = check_int(self.n_init, "n_init", low=1)
        if n > MAX_POINTS:
            raise InputError(f"spectral clustering supports up to {MAX_POINTS} points (the "
                             f"neighbour search is quadratic), got {n}; cluster a sample")
        if k > n:
            raise InputError(f"n_clusters={k} is more than the number of points ({n})")
        if n_neighbors > n:
            raise InputError(f"n_neighbors={n_neighbors} is more than the number of points ({n})")
        rng = check_random_state(self.random_state)
        vectors = _embedding(*_graph(X, n_neighbors), k, rng)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.embedding_ = vectors / np.where(norms > 0, norms, 1.0)
        km = KMeans(k, n_init=n_init, random_state=rng).fit(self.embedding_)
        self.labels_ = km.labels_
        return self

    def fit_predict(self, X) -> np.ndarray:
        """Fit, then return ``labels_``."""
        return self.fit(X).labels_

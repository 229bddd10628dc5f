"""The 2-D view of point data: two chosen columns, or the first two principal axes (PCA).

A :class:`Projection` maps rows of the data space to the plane of a scatter plot, and the same
map serves the data and the k centres.  The Points workspace shows two chosen columns when the
data has at most two, and PCA when it has more (the user may switch to columns there too).

Decisions:

* **PCA by SVD** of the centred rows (``numpy.linalg.svd``): the axes are the first two right
  singular vectors, as scikit-learn's ``PCA(2)`` finds them.  Their signs are LAPACK's (no
  flipping), so only the orientation of the view may differ from scikit-learn's.
* **A sample for the axes.**  The axes and the mean come from at most :data:`PCA_ROWS` rows, a
  seeded random sample beyond that: a million rows cost a full SVD of a million x d matrix for
  axes that 50,000 rows give as well.  Projecting still maps every row.
* **One column** is plotted against zero (the second axis is zero), so 1-D data still has a
  plane to be drawn in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from palettelab.core.checks import check_int
from palettelab.core.errors import InputError

#: rows of the sample the PCA axes are computed on
PCA_ROWS = 50_000


@dataclass(frozen=True, eq=False)
class Projection:
    """A linear map to the plane: ``project(A) = (A - mean) @ axes.T``.

    ``mean`` is (d,), ``axes`` (2, d).  ``columns`` is the pair of column indices when the view
    shows two columns of the data (then ``project`` picks them exactly), else None (PCA).
    """

    mean: np.ndarray
    axes: np.ndarray
    columns: tuple[int, int] | None = None

    @property
    def d(self) -> int:
        """Number of columns of the data space."""
        return self.mean.shape[0]

    def project(self, A) -> np.ndarray:
        """The 2-D coordinates, (m, 2) float64, of rows ``A`` (m, d): data rows or centres."""
        A = np.asarray(A)
        if A.ndim != 2 or A.shape[1] != self.d:
            raise InputError(f"rows to project must have shape (m, {self.d}), got {A.shape}")
        if self.columns is not None:
            return A[:, list(self.columns)].astype(np.float64)
        return (A - self.mean) @ self.axes.T


def _data(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0 or X.dtype.kind not in "biuf":
        raise InputError(f"X must be a non-empty numeric (n, d) array, got {X.dtype} {X.shape}")
    return X


def sample_rows(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Indices of at most ``limit`` of ``n`` rows: all of them up to ``limit``, else a seeded
    random sample in increasing order (the rows a scatter draws, or the PCA fits on)."""
    n = check_int(n, "n", low=0)
    limit = check_int(limit, "limit", low=1)
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def pca(X, *, max_rows: int = PCA_ROWS, seed: int = 0) -> Projection:
    """The first two principal axes of ``X`` (n, d), fitted on at most ``max_rows`` rows.

    The mean and axes are float64.  With one column the second axis is zero.
    """
    X = _data(X)
    rows = X[sample_rows(X.shape[0], max_rows, seed)] if X.shape[0] > max_rows else X
    rows = np.asarray(rows, dtype=np.float64)
    mean = rows.mean(axis=0)
    if X.shape[1] >= 2:
        axes = np.linalg.svd(rows - mean, full_matrices=False)[2][:2]
    else:  # one column: plot it against zero
        axes = np.array([[1.0], [0.0]])
    return Projection(mean, axes)


def column_view(d: int, x: int, y: int) -> Projection:
    """The view that shows column ``x`` across and column ``y`` up (they may be the same)."""
    d = check_int(d, "d", low=1)
    x = check_int(x, "x", low=0, high=d - 1)
    y = check_int(y, "y", low=0, high=d - 1)
    axes = np.zeros((2, d))
    axes[0, x] = axes[1, y] = 1.0
    return Projection(np.zeros(d), axes, (x, y))

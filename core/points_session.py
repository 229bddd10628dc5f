"""The Points workflow without Qt: point data, its 2-D view, starting centres and k-means state.

A :class:`PointsSession` is what the Points workspace's worker drives -- one E-step, one M-step,
a run to convergence with live frames, several starts, the elbow and silhouette sweep, spectral
clustering -- and what ``palettelab cluster`` fits with, so both show the same numbers and the
workflow is tested without a window::

    from palettelab import PointsSession, make_dataset

    s = PointsSession(make_dataset("blobs"), k=4, init="farthest point", seed=1)
    s.initialise().assign().update()        # one E-step and one M-step: a Lloyd iteration
    s.run()                                 # from that start to convergence (KMeans.steps)
    s.accuracy(), s.confusion()             # against the data's labels, when it has them
    s.several_starts(10).best               # the start with the lowest inertia
    s.sweep(range(2, 11)).silhouette        # elbow and silhouette curves over k

**State.**  The attributes below describe the current clustering; read them, and change them
only through the methods (each returns the session, so calls chain):

* ``k``, ``init``, ``seed``, ``method``: the settings the state was made with;
* ``initial``: the starting centres (None after spectral clustering or an engine-drawn start);
* ``centers`` (k, d) and ``labels`` (n,) int32: None before :meth:`initialise` (centres) or the
  first E-step (labels);
* ``iteration``: M-steps since the start (a live mini-batch run counts its batches);
* ``inertia``: the k-means objective of the labels against the centres as they stood when it
  was computed (the E-step's squared distances, or the M-step's pair), None at the start;
* ``converged``: the last E-step changed no label, or a run finished; ``previous``: the centres
  before the last M-step (None after anything else), for drawing their trails;
* ``history``: the inertia after every half-step of stepping, every iteration of a k-means
  run, every shown frame of a mini-batch run (see :meth:`take`);
* ``n_iter``: the estimator's own ``n_iter_`` after :meth:`run`, :meth:`fit` or :meth:`adopt`
  (iterations; passes over the data for mini-batch), None otherwise.

**Live runs.**  :meth:`steps` yields the engine's :class:`~palettelab.core.clustering.kmeans.Step`
items; the state moves to a step only when the caller :meth:`take` s it (a GUI takes the frames
it draws) and to the result when the generator is exhausted.  Abandoning the generator midway
keeps the last taken step.  Long jobs (:meth:`several_starts`, :meth:`sweep`) call an optional
``progress(done, total)`` before each unit of work; an exception it raises (to cancel)
propagates and leaves the state as it was.

The data is held as :func:`~palettelab.core.clustering.kmeans.check_data` makes it: a read-only
:class:`~palettelab.core.formats.points.PointSet` array is copied once, here, rather than by
every kernel call.  The engine (Numba) is imported on first use, so the GUI thread can import
:data:`METHODS` and :data:`INITS` from here at start-up without loading any kernel module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from palettelab.core.checks import SEED_LIMIT, check_int
from palettelab.core.errors import InputError
from palettelab.core.formats.points import PointSet, load_points
from palettelab.core.inits import INITS, check_k, farthest_point_centers, initial_centers
from palettelab.core.projection import Projection, column_view, pca, sample_rows

if TYPE_CHECKING:
    from palettelab.core.clustering.kmeans import Step

__all__ = ["INITS", "METHODS", "SILHOUETTE_LIMIT", "PointsSession", "Start", "Starts", "Sweep"]

#: the clustering methods, in the order the GUI offers them
METHODS = ("k-means", "mini-batch", "spectral")
#: points the per-point silhouettes use (exact up to this, a seeded sample above)
SILHOUETTE_LIMIT = 5000
#: mini-batch size of a live run: small batches move the centres visibly between frames
LIVE_BATCH = 1024
#: canvas edits kept for undo
MAX_EDITS = 100

#: ``progress(done, total)``, called before each unit of a long job; raise to cancel it
Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class Start:
    """One of several starts, run to convergence: its seed, starting and final centres, final
    labels, inertia and iterations."""

    seed: int
    initial: np.ndarray
    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    iterations: int


@dataclass(frozen=True, eq=False)
class Starts:
    """The result of :meth:`PointsSession.several_starts`: every start, and the index of the
    one with the lowest inertia (the first of equals)."""

    starts: tuple[Start, ...]
    best: int


@dataclass(frozen=True, eq=False)
class Sweep:
    """Elbow and silhouette curves: k-means inertia and mean silhouette for every k in ``ks``
    (each k fitted once, as :func:`palettelab.core.clustering.metrics.elbow_fits`).
    ``silhouette_used`` is the number of points each silhouette used (``n`` when exact)."""

    ks: tuple[int, ...]
    inertia: tuple[float, ...]
    silhouette: tuple[float, ...]
    silhouette_used: int
    n: int


class PointsSession:
    """Point data and one k-means clustering of it, stepped, run or fitted (see the module).

    ``data`` is a :class:`~palettelab.core.formats.points.PointSet` (its labels are the ground
    truth) or an (n, d) numeric array; ``truth`` gives (or replaces) the ground-truth labels,
    any n values.  ``k``, ``init`` (one of :data:`INITS`) and ``seed`` are the defaults of the
    methods that take them; a method given one records it.
    """

    def __init__(self, data, *, k: int | None = None, init: str = "k-means++", seed: int = 0,
                 truth=None):
        from palettelab.core.clustering.kmeans import check_data

        if isinstance(data, PointSet):
            self.points: PointSet | None = data
            X, labels = data.X, data.labels if truth is None else truth
        else:
            self.points, X, labels = None, data, truth
        self.X = check_data(X)
        self.truth = self._check_truth(labels)
        self.k = None if k is None else check_k(k, self.n)
        self.init = self._check_init(init)
        self.seed = check_int(seed, "seed", low=0, high=SEED_LIMIT - 1)
        self.method = "k-means"
        self.starts: tuple[Start, ...] = ()
        self._pca: Projection | None = None
        self._edits: list[tuple] = []  # canvas edits to undo, newest last
        self._clear()

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, k: int | None = None,
             init: str = "k-means++", seed: int = 0, **options) -> PointsSession:
        """A session on the point file ``path``, read by
        :func:`~palettelab.core.formats.points.load_points` with ``options``."""
        return cls(load_points(path, **options), k=k, init=init, seed=seed)

    def _clear(self) -> None:
        self.initial: np.ndarray | None = None
        self.centers: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.iteration = 0
        self.inertia: float | None = None
        self.converged = False
        self.previous: np.ndarray | None = None
        self.history: list[float] = []
        self.n_iter: int | None = None

    def __repr__(self) -> str:
        return (f"PointsSession(n={self.n}, d={self.d}, k={self.k}, init={self.init!r}, "
                f"seed={self.seed}, method={self.method!r}, iteration={self.iteration}, "
                f"inertia={self.inertia})")

    # --- the data -------------------------------------------------------------------------------

    @property
    def n(self) -> int:
        """Number of points."""
        return self.X.shape[0]

    @property
    def d(self) -> int:
        """Number of coordinates of a point."""
        return self.X.shape[1]

    @property
    def pca(self) -> Projection:
        """The PCA view of the data (:func:`palettelab.core.projection.pca`), computed once."""
        if self._pca is None:
            self._pca = pca(self.X)
        return self._pca

    def projection(self, columns: tuple[int, int] | None = None) -> Projection:
        """The 2-D view: ``columns`` (x, y) of the data when given, else what the workspace
        shows first -- PCA for more than two columns, the columns themselves otherwise."""
        if columns is not None:
            return column_view(self.d, *columns)
        if self.d > 2:
            return self.pca
        return column_view(self.d, 0, min(1, self.d - 1))

    def sample(self, limit: int, seed: int = 0) -> np.ndarray:
        """Indices of at most ``limit`` points (all up to ``limit``, else a seeded sample in row
        order), e.g. the points a scatter draws."""
        return sample_rows(self.n, limit, seed)

    def accuracy(self) -> float | None:
        """Matched accuracy of the labels against the ground truth
        (:func:`~palettelab.core.clustering.metrics.matched_accuracy`); None without either."""
        if self.truth is None or self.labels is None:
            return None
        from palettelab.core.clustering.metrics import matched_accuracy

        return matched_accuracy(self.labels, self.truth)

    def confusion(self) -> np.ndarray | None:
        """Confusion matrix, true classes by clusters
        (:func:`~palettelab.core.clustering.metrics.confusion_matrix`); None without either."""
        if self.truth is None or self.labels is None:
            return None
        from palettelab.core.clustering.metrics import confusion_matrix

        return confusion_matrix(self.truth, self.labels)

    def labelling_inertia(self) -> float:
        """The k-means objective of the current labels whatever the method made them: squared
        distances to the mean of each cluster (:func:`~palettelab.core.clustering.metrics.
        labelling_inertia`)."""
        from palettelab.core.clustering.metrics import labelling_inertia

        return labelling_inertia(self.X, self._need_labels())

    # --- starting centres and stepping ----------------------------------------------------------

    def initialise(self, init: str | None = None, *, k: int | None = None,
                   seed: int | None = None, centers=None) -> PointsSession:
        """New starting centres by ``init`` (default: the session's), labels forgotten.

        ``centers`` (k, d) are required for "manual" (k defaults to their number when the
        session has none) and refused otherwise.
        """
        init = self._check_init(self.init if init is None else init)
        if k is None and self.k is None and init == "manual" and centers is not None:
            k = len(centers)
        k, seed = self._use_k(k), self._use_seed(seed)
        initial = initial_centers(self.X, k, init, seed, centers)
        self.k, self.init, self.seed, self.method = k, init, seed, "k-means"
        self.initial = initial
        return self.reset()

    def reset(self) -> PointsSession:
        """Back to the starting centres: no labels, iteration 0, empty history."""
        if self.initial is None:
            raise InputError("there are no starting centres to go back to; initialise first")
        initial = self.initial
        method = self.method
        self._clear()
        self.initial, self.centers, self.method = initial, initial.copy(), method
        return self

    def assign(self) -> PointsSession:
        """One E-step: every point to its nearest centre.  ``converged`` tells whether no
        label changed; ``inertia`` is the sum of the squared distances."""
        from palettelab.core.clustering.kmeans import assign

        if self.centers is None:
            raise InputError("there are no centres to assign to; initialise first")
        labels, sq_dist = assign(self.X, self.centers)
        self.converged = self.labels is not None and np.array_equal(labels, self.labels)
        self.labels = labels
        self.inertia = float(sq_dist.sum())
        self.history.append(self.inertia)
        self.previous = None
        return self

    def update(self) -> PointsSession:
        """One M-step: every centre to the mean of its points (an empty cluster is re-seeded as
        :func:`~palettelab.core.clustering.kmeans.update` does).  ``previous`` keeps the
        centres it moved from."""
        from palettelab.core.clustering.kmeans import inertia, update

        labels = self._need_labels()
        previous = self.centers
        self.centers = update(self.X, labels, previous.shape[0], old_centers=previous)
        self.iteration += 1
        self.inertia = inertia(self.X, self.centers, labels)
        self.history.append(self.inertia)
        self.previous = previous
        self.converged = False
        return self

    # --- runs -----------------------------------------------------------------------------------

    def steps(self, method: str | None = None, *, k: int | None = None, seed: int | None = None,
              init: str | None = None) -> Iterator[Step]:
        """Run ``method`` to convergence, one yielded step at a time (see the module: the state
        follows the steps the caller :meth:`take` s, and the result at the end).

        k-means and mini-batch start from the current starting centres, or, when there are
        none for ``k``, from new ones chosen by ``init`` (default: the session's; "manual" has
        none to offer, k-means++ then) with ``seed``; ``seed`` also drives the mini-batches.
        k-means yields every iteration of ``KMeans.steps``; mini-batch every batch (of
        :data:`LIVE_BATCH`; read a step's labels or inertia only when needed: each is a pass
        over the data); spectral clustering yields one final step, whose centres are the
        cluster means.
        """
        method = self._check_method(self.method if method is None else method)
        k, seed = self._use_k(k), self._use_seed(seed)
        init = self._check_init(self.init if init is None else init)
        return self._steps(method, k, seed, "k-means++" if init == "manual" else init)

    def _steps(self, method: str, k: int, seed: int, init: str) -> Iterator[Step]:
        from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans, Step

        self.method, self.k, self.seed = method, k, seed
        if method == "spectral":
            centers, labels, value = self._spectral(k, seed, None)
            yield Step(0, centers.copy(), labels.copy(), value, True)
            self._result(centers, labels, value, iteration=0, initial=None, n_iter=None)
            return
        if self.initial is None or self.initial.shape[0] != k:
            self.initial = initial_centers(self.X, k, init, seed)
            self.init = init
        if method == "mini-batch":
            model = MiniBatchKMeans(k, init=self.initial, random_state=seed,
                                    batch_size=min(LIVE_BATCH, self.n))
        else:
            model = KMeans(k, init=self.initial, random_state=seed)
        self.history = []
        every_step = method == "k-means"  # a mini-batch step's inertia is a pass over the data
        step = None
        for step in model.steps(self.X):
            if every_step:
                self.history.append(step.inertia)
            yield step
        value = float(model.inertia_)
        if not every_step:
            self.history.append(value)
        self._result(model.cluster_centers_.copy(), model.labels_, value,
                     iteration=step.iteration, initial=self.initial, n_iter=int(model.n_iter_),
                     history=self.history)

    def take(self, step: Step) -> PointsSession:
        """Make live ``step`` (from :meth:`steps`) the state: its centres, labels, iteration
        and inertia.  A mini-batch step's inertia (a pass over the data) joins the history
        here, so the chart gets a point per frame shown rather than per batch."""
        self.centers, self.labels = step.centers, step.labels
        self.iteration = step.iteration
        self.inertia = float(step.inertia)
        self.converged = bool(step.converged)
        self.previous = None
        if self.method == "mini-batch":
            self.history.append(self.inertia)
        return self

    def run(self, method: str | None = None, *, k: int | None = None, seed: int | None = None,
            init: str | None = None) -> PointsSession:
        """:meth:`steps` to the end, taking only the result."""
        for _ in self.steps(method, k=k, seed=seed, init=init):
            pass
        return self

    def fit(self, method: str | None = None, *, k: int | None = None, init: str | None = None,
            n_init: int | None = None, seed: int | None = None) -> PointsSession:
        """Fit from scratch as the estimators do, and make the result the state (what
        ``palettelab cluster`` runs).

        k-means and mini-batch with init "k-means++" or "random": the estimator draws
        ``n_init`` starts (default 1) from ``seed`` and keeps the lowest inertia, exactly as
        ``KMeans(k, init=init, n_init=n_init, random_state=seed)``.  "farthest point": starts
        from seeds ``seed``, ``seed + 1``, ...; "manual": the current starting centres, once.
        Spectral: ``SpectralClustering(k, n_init=n_init, random_state=seed)`` (its own default
        of ``n_init`` when None).
        """
        from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans

        method = self._check_method(self.method if method is None else method)
        k, seed = self._use_k(k), self._use_seed(seed)
        init = self._check_init(self.init if init is None else init)
        if n_init is not None:
            n_init = check_int(n_init, "n_init", low=1)
        if method == "spectral":
            centers, labels, value = self._spectral(k, seed, n_init)
            self._result(centers, labels, value, iteration=0, initial=None, n_iter=None)
        else:
            cls = KMeans if method == "k-means" else MiniBatchKMeans
            n_init = 1 if n_init is None else n_init
            if init in ("k-means++", "random"):  # the estimator draws its own starts
                best = cls(k, init=init, n_init=n_init, random_state=seed).fit(self.X)
                initial = getattr(best, "initial_centers_", None)  # k-means keeps it
            else:
                starts = ([self._manual_start(k)] if init == "manual" else
                          [farthest_point_centers(self.X, k, seed + i) for i in range(n_init)])
                best = initial = None
                for C0 in starts:
                    model = cls(k, init=C0, random_state=seed).fit(self.X)
                    if best is None or model.inertia_ < best.inertia_:
                        best, initial = model, C0
            self._result(best.cluster_centers_.copy(), best.labels_, float(best.inertia_),
                         iteration=int(getattr(best, "n_steps_", best.n_iter_)),
                         initial=initial, n_iter=int(best.n_iter_))
        self.method, self.k, self.init, self.seed = method, k, init, seed
        return self

    def _manual_start(self, k: int) -> np.ndarray:
        if self.init != "manual" or self.initial is None or self.initial.shape[0] != k:
            raise InputError(f"manual init needs {k} centres placed first: "
                             "initialise('manual', centers=...)")
        return self.initial

    def _spectral(self, k: int, seed: int, n_init: int | None):
        """Spectral labels, with the cluster means as centres and their inertia."""
        from palettelab.core.clustering.kmeans import inertia, update
        from palettelab.core.clustering.spectral import SpectralClustering

        options = {} if n_init is None else {"n_init": n_init}
        labels = SpectralClustering(k, random_state=seed, **options).fit(self.X).labels_
        centers = update(self.X, labels, k)
        return centers, labels, inertia(self.X, centers, labels)

    def _result(self, centers, labels, value: float, *, iteration: int, initial,
                n_iter: int | None, history: list[float] | None = None) -> None:
        method = self.method
        self._clear()
        self.method, self.initial, self.centers, self.labels = method, initial, centers, labels
        self.iteration, self.inertia, self.converged, self.n_iter = iteration, value, True, n_iter
        self.history = [value] if history is None else history

    # --- the canvas: edits a student makes by hand (issue 18), each undoable ---------------------

    def _snapshot(self) -> None:
        self._edits.append((self.X, self.truth, self.points, self.centers, self.labels,
                            self.inertia, self.previous))
        del self._edits[:-MAX_EDITS]

    def move_centre(self, index: int, position) -> PointsSession:
        """Put centre ``index`` at ``position`` (d,) between two steps; the labels stay until
        the next E-step reassigns them (the inertia is unknown until then)."""
        if self.centers is None:
            raise InputError("there are no centres to move yet; initialise first")
        index = check_int(index, "index", low=0, high=self.centers.shape[0] - 1)
        position = np.asarray(position, dtype=np.float64).reshape(-1)
        if position.shape != (self.d,) or not np.isfinite(position).all():
            raise InputError(f"a centre is {self.d} finite numbers, got {position.shape}")
        self._snapshot()
        self.centers = self.centers.copy()
        self.centers[index] = position
        self.inertia, self.previous = None, None
        return self

    def add_points(self, rows) -> PointsSession:
        """Add points (m, d).  The data no longer matches its ground truth, which goes; each
        new point joins its nearest centre's cluster when there are labels."""
        from palettelab.core.clustering.kmeans import assign

        rows = np.asarray(rows, dtype=np.float64).reshape(-1, self.d)
        if not np.isfinite(rows).all():
            raise InputError("points must be finite numbers")
        self._snapshot()
        self.X = np.ascontiguousarray(np.vstack([self.X, rows]))
        self.truth, self.points, self._pca = None, None, None
        if self.labels is not None:
            self.labels = np.concatenate([self.labels, assign(rows, self.centers)[0]]
                                         ).astype(self.labels.dtype)
        self.inertia, self.previous = None, None
        return self

    def remove_points(self, indices) -> PointsSession:
        """Remove the points at ``indices``; at least ``k`` (and 2) must stay."""
        keep = np.ones(self.n, dtype=bool)
        keep[np.asarray(indices, dtype=np.int64)] = False
        if keep.sum() < max(2, 0 if self.k is None else self.k):
            raise InputError("removing those would leave fewer points than clusters")
        self._snapshot()
        self.X = np.ascontiguousarray(self.X[keep])
        self.truth = None if self.truth is None else self.truth[keep]
        self.points, self._pca = None, None
        if self.labels is not None:
            self.labels = self.labels[keep]
        self.inertia, self.previous = None, None
        return self

    def undo(self) -> bool:
        """Take back the last canvas edit (a moved centre, added or removed points); False
        when there is none."""
        if not self._edits:
            return False
        (self.X, self.truth, self.points, self.centers, self.labels, self.inertia,
         self.previous) = self._edits.pop()
        self._pca = None
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._edits)

    def embedded(self, method: str) -> PointsSession:
        """A session on a 2-D embedding of the points -- "pca" (the first two principal
        components) or "tsne" (:class:`~palettelab.core.clustering.tsne.TSNE`, scikit-learn's
        defaults) -- with the same ground truth, k, init and seed, to cluster there."""
        if method == "pca":
            Y = self.pca.project(self.X)
        elif method == "tsne":
            from palettelab.core.clustering.tsne import TSNE

            Y = TSNE(random_state=self.seed).fit_transform(self.X)
        else:
            raise InputError(f"embedding must be 'pca' or 'tsne', got {method!r}")
        return PointsSession(Y, k=self.k, init=self.init, seed=self.seed, truth=self.truth)

    def replay(self) -> list:
        """The k-means run of the current result again, one
        :class:`~palettelab.core.step_animation.Frame` per step (for an animation), from its
        starting centres: the same steps, ending in the same labels."""
        from palettelab.core.clustering.kmeans import KMeans
        from palettelab.core.step_animation import Frame

        if self.method != "k-means" or self.initial is None or self.centers is None:
            raise InputError("only a k-means run with known starting centres can be replayed")
        model = KMeans(self.initial.shape[0], init=self.initial, random_state=self.seed)
        return [Frame(step.centers, step.labels, step.iteration, float(step.inertia))
                for step in model.steps(self.X)]

    # --- several starts -------------------------------------------------------------------------

    def several_starts(self, n: int, *, k: int | None = None, init: str | None = None,
                       seed: int | None = None, progress: Progress | None = None) -> Starts:
        """Run ``n`` k-means starts to convergence, with seeds ``seed`` .. ``seed + n - 1``, to
        show that k-means finds local optima.  The state stays; :meth:`adopt` one of them.

        ``init`` defaults to the session's; "manual" has one start only, so k-means++ stands
        in for it.  The starts are kept in ``starts``.
        """
        from palettelab.core.clustering.kmeans import KMeans

        n = check_int(n, "n", low=1)
        k, seed = self._use_k(k), self._use_seed(seed)
        init = self._check_init(self.init if init is None else init)
        init = "k-means++" if init == "manual" else init
        starts = []
        for i in range(n):
            if progress is not None:
                progress(i, n)
            initial = initial_centers(self.X, k, init, seed + i)
            model = KMeans(k, init=initial).fit(self.X)
            starts.append(Start(seed + i, initial, model.cluster_centers_.copy(), model.labels_,
                                float(model.inertia_), int(model.n_iter_)))
        self.starts = tuple(starts)
        return Starts(self.starts, int(np.argmin([s.inertia for s in starts])))

    def adopt(self, index: int) -> PointsSession:
        """Make start ``index`` of the last :meth:`several_starts` the state."""
        index = check_int(index, "index", low=0)
        if index >= len(self.starts):
            raise InputError(f"there is no start {index}: {len(self.starts)} were run")
        start = self.starts[index]
        self.method, self.k = "k-means", start.centers.shape[0]
        self._result(start.centers, start.labels, start.inertia, iteration=start.iterations,
                     initial=start.initial, n_iter=start.iterations)
        return self

    # --- choosing k -----------------------------------------------------------------------------

    def sweep(self, ks: Iterable[int], *, seed: int | None = None,
              progress: Progress | None = None) -> Sweep:
        """Elbow and silhouette curves: for every k of ``ks`` (those above n left out) one
        k-means fit, as :func:`~palettelab.core.clustering.metrics.elbow_fits` makes it from
        ``seed``, scored by its inertia and
        :func:`~palettelab.core.clustering.metrics.silhouette_auto`.  The state stays."""
        from palettelab.core.clustering.metrics import elbow_fits, silhouette_auto

        ks = tuple(k for k in (check_int(k, "k", low=1) for k in ks) if k <= self.n)
        seed = self._use_seed(seed)
        inertia, silhouette, used = [], [], self.n
        if ks:
            fits = elbow_fits(self.X, ks, random_state=seed)
            for i in range(len(ks)):
                if progress is not None:
                    progress(i, len(ks))
                model = next(fits)
                inertia.append(float(model.inertia_))
                score, used = silhouette_auto(self.X, model.labels_)
                silhouette.append(score)
        return Sweep(ks, tuple(inertia), tuple(silhouette), used, self.n)

    def silhouettes(self, labels=None, *, limit: int = SILHOUETTE_LIMIT,
                    seed: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-point silhouettes of ``labels`` (default: the current ones) on at most ``limit``
        points (a sample drawn from ``seed`` above that): ``(values, their labels)``, or None
        when there are no labels or only one cluster."""
        from palettelab.core.clustering.metrics import silhouette_samples

        labels = self.labels if labels is None else np.asarray(labels)
        if labels is None:
            return None
        if labels.shape != (self.n,):
            raise InputError(f"labels must have shape ({self.n},), got {labels.shape}")
        if len(np.unique(labels)) < 2:
            return None
        rows = sample_rows(self.n, limit, self._use_seed(seed))
        sample_labels = labels[rows]
        return silhouette_samples(self.X[rows], sample_labels), sample_labels

    # --- checks ---------------------------------------------------------------------------------

    def _use_k(self, k) -> int:
        if k is None:
            if self.k is None:
                raise InputError("k (the number of clusters) is not set; pass k=")
            return self.k
        return check_k(k, self.n)

    def _use_seed(self, seed) -> int:
        return self.seed if seed is None else check_int(seed, "seed", low=0, high=SEED_LIMIT - 1)

    def _need_labels(self) -> np.ndarray:
        if self.labels is None:
            raise InputError("there are no labels yet; assign (E-step) first")
        return self.labels

    @staticmethod
    def _check_init(init) -> str:
        if not isinstance(init, str) or init not in INITS:
            raise InputError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        return init

    @staticmethod
    def _check_method(method) -> str:
        if not isinstance(method, str) or method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        return method

    def _check_truth(self, labels) -> np.ndarray | None:
        if labels is None:
            return None
        labels = np.asarray(labels)
        if labels.shape != (self.n,):
            raise InputError(f"truth must have one label per point, shape ({self.n},), got "
                             f"{labels.shape}")
        return np.unique(labels, return_inverse=True)[1].astype(np.int64).reshape(-1)

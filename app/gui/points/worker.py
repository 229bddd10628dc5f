"""The points workspace's worker: every k-means step, run and metric happens here, in a QThread.

The workspace never runs clustering code in the GUI thread, not even one E-step on 300 points:
on a 2-core machine a GUI that computes stutters the moment the data grows, and keeping one
rule is simpler than a size threshold.  Numba's ``workqueue`` layer is also not safe to enter
from two threads, so only this thread calls the parallel kernels.

The worker owns the stepping state (initial centres, current centres, labels), so the E and M
commands queued by the GUI apply in order to one consistent state whatever the GUI's latency.

* **Epochs.**  Every command that replaces the state (load, initialise, run, adopt a start) and
  every batch of several starts carries a new GUI epoch; results carry the epoch of the state
  they came from, and the GUI drops those of an older epoch.  Long jobs poll the epoch, which
  the GUI moves forward with the thread-safe :meth:`PointsWorker.advance` (elbow curves:
  :meth:`PointsWorker.advance_elbow`), so a newer command cancels them (newest wins).
* **Live frames** of a run to convergence go out at most ``MAX_FPS`` a second, and only after the
  GUI drew the previous one (:meth:`PointsWorker.frame_shown`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from palettelab.app.gui.compute_lock import exclusive

#: live frames per second during a run to convergence, at most
MAX_FPS = 30
#: points drawn in the scatter (a seeded sample beyond that)
DRAW_LIMIT = 8_000  # points drawn: pyqtgraph needs ~10 ms per 1,000 on an update
#: points the per-cluster silhouette plot uses (exact below, a seeded sample above)
SILHOUETTE_LIMIT = 5000
#: rows of the sample the PCA axes are computed on
PCA_ROWS = 50_000

INITS = ("k-means++", "random", "farthest point", "manual")
METHODS = ("k-means", "mini-batch", "spectral")


class Cancelled(Exception):
    """A newer command made the running job stale."""


@dataclass(frozen=True)
class LoadedPoints:
    """A loaded point set and what the views need of it (computed here, not in the GUI)."""

    epoch: int
    points: object  # palettelab.core.formats.points.PointSet
    shown: np.ndarray  # indices of the drawn points (all of them up to DRAW_LIMIT)
    pca_mean: np.ndarray  # (d,)
    pca_axes: np.ndarray  # (2, d): project with (X - mean) @ axes.T
    pca_shown: np.ndarray  # (len(shown), 2) the drawn points projected
    seconds: float


@dataclass(frozen=True)
class InitRequest:
    """Choose starting centres: ``init`` is one of INITS; ``centers`` for "manual"."""

    epoch: int
    k: int
    init: str
    seed: int
    centers: np.ndarray | None = None


@dataclass(frozen=True)
class RunRequest:
    """Run ``method`` to convergence from the current starting centres (k-means, mini-batch)."""

    epoch: int
    method: str
    k: int
    seed: int


@dataclass(frozen=True)
class StartsRequest:
    """Run ``n`` full k-means starts, seeds ``seed``..``seed + n - 1``, with ``init``."""

    epoch: int
    n: int
    k: int
    init: str
    seed: int


@dataclass(frozen=True)
class ElbowRequest:
    """Inertia and silhouette for every k in ``k_min..k_max``, and per-point silhouettes of
    ``labels`` (the current result) when given."""

    epoch: int
    k_min: int
    k_max: int
    seed: int
    labels: np.ndarray | None


@dataclass(frozen=True)
class State:
    """The clustering as it stands after an init, a half-step, a run or an adopted start.

    ``phase`` is "init", "E", "M", "frame" (live, during a run) or "result".  ``labels`` is None
    before the first E-step.  ``previous`` holds the centres before an M-step (for the trail).
    """

    epoch: int
    phase: str
    method: str
    centers: np.ndarray
    labels: np.ndarray | None
    iteration: int
    inertia: float | None
    converged: bool
    history: tuple[float, ...]
    previous: np.ndarray | None = None
    accuracy: float | None = None
    confusion: np.ndarray | None = None


@dataclass(frozen=True)
class Start:
    """One of several starts, run to convergence."""

    seed: int
    initial: np.ndarray
    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    iterations: int


@dataclass(frozen=True)
class StartsResult:
    epoch: int
    starts: tuple[Start, ...]
    best: int


@dataclass(frozen=True)
class ElbowResult:
    """Curves over k, and the silhouette of every (sampled) point of the current result."""

    epoch: int
    ks: tuple[int, ...]
    inertia: tuple[float, ...]
    silhouette: tuple[float, ...]
    silhouette_used: int  # points each silhouette used (n when exact)
    n: int
    samples: np.ndarray | None  # per-point silhouette of the current labels
    sample_labels: np.ndarray | None


def farthest_point_centers(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """First centre a seeded random point, then repeatedly the point farthest from its nearest
    centre (Gonzalez's heuristic): it spreads the centres out, outliers first."""
    rng = np.random.default_rng(seed)
    rows = [int(rng.integers(X.shape[0]))]
    nearest = ((X - X[rows[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        rows.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, ((X - X[rows[-1]]) ** 2).sum(axis=1))
    return X[rows].copy()


def initial_centers(X: np.ndarray, k: int, init: str, seed: int) -> np.ndarray:
    """Starting centres for ``init`` (k-means++, random, farthest point); manual is the GUI's."""
    from palettelab.core.clustering.kmeans import kmeans_plusplus

    if init == "random":
        rng = np.random.default_rng(seed)
        return X[np.sort(rng.choice(X.shape[0], size=k, replace=False))].copy()
    if init == "farthest point":
        return farthest_point_centers(X, k, seed)
    return np.array(kmeans_plusplus(X, k, random_state=seed))


class PointsWorker(QObject):
    """Loads point sets and runs every clustering job of the points workspace."""

    ready = Signal(float)  # seconds the kernels took to compile or load
    loaded = Signal(object)  # LoadedPoints
    loadFailed = Signal(str)
    state = Signal(object)  # State
    starts = Signal(object)  # StartsResult
    elbow = Signal(object)  # ElbowResult
    failed = Signal(str)  # one-line message of a failed job

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._newest = 0
        self._newest_elbow = 0
        self._frame_shown = True
        self._points = None
        self._epoch = 0
        self._k = 0
        self._method = "k-means"
        self._initial: np.ndarray | None = None
        self._centers: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._iteration = 0
        self._history: list[float] = []
        self._starts: tuple[Start, ...] = ()

    # --- thread-safe, called from the GUI thread ------------------------------------------------

    def advance(self, epoch: int) -> None:
        """The GUI issued clustering command ``epoch``: older long jobs are now stale."""
        with self._lock:
            self._newest = epoch

    def advance_elbow(self, epoch: int) -> None:
        """The GUI asked for elbow curves ``epoch`` (or loaded new data): older ones are stale."""
        with self._lock:
            self._newest_elbow = epoch

    def is_stale(self, epoch: int) -> bool:
        with self._lock:
            return epoch != self._newest

    def _elbow_stale(self, epoch: int) -> bool:
        with self._lock:
            return epoch != self._newest_elbow

    def frame_shown(self) -> None:
        """The GUI drew the last live frame: the next one may go out."""
        self._frame_shown = True

    # --- slots, run in the worker thread --------------------------------------------------------

    @Slot()
    @exclusive
    def warm_up(self) -> None:
        """Compile the kernels, or load them from the numba cache, before the first job."""
        from palettelab.core.clustering.kmeans import warm_up

        start = time.perf_counter()
        warm_up()
        self.ready.emit(time.perf_counter() - start)

    @Slot(int, str)
    @exclusive
    def load_path(self, epoch: int, path: str) -> None:
        """Read a point file; on failure the previous points stay loaded."""
        from palettelab.core.formats.points import load_points

        self._load(epoch, lambda: load_points(path))

    @Slot(int, str)
    @exclusive
    def load_dataset(self, epoch: int, name: str) -> None:
        """Generate (or read the bundled) sample set ``name``."""
        from palettelab.core.datasets import make_dataset

        self._load(epoch, lambda: make_dataset(name, random_state=0))

    def _load(self, epoch: int, read) -> None:
        from palettelab.core.errors import InputError

        start = time.perf_counter()
        try:
            points = read()
        except (InputError, OSError) as exc:
            self.loadFailed.emit(str(exc))
            return
        X = points.X
        n = X.shape[0]
        rng = np.random.default_rng(0)
        shown = (np.arange(n) if n <= DRAW_LIMIT
                 else np.sort(rng.choice(n, size=DRAW_LIMIT, replace=False)))
        rows = X if n <= PCA_ROWS else X[np.sort(rng.choice(n, size=PCA_ROWS, replace=False))]
        mean = rows.mean(axis=0)
        if X.shape[1] >= 2:
            axes = np.linalg.svd(rows - mean, full_matrices=False)[2][:2]
        else:  # one column: plot it against zero
            axes = np.array([[1.0], [0.0]])
        self._points = points
        self._epoch = epoch
        self._initial = self._centers = self._labels = None
        self._starts = ()
        self.loaded.emit(LoadedPoints(epoch, points, shown, mean, axes,
                                      (X[shown] - mean) @ axes.T, time.perf_counter() - start))

    @Slot(object)
    @exclusive
    def initialise(self, request: InitRequest) -> None:
        """Choose the starting centres and forget the labels."""
        if self._points is None:
            return
        X = self._points.X
        try:
            if request.k > X.shape[0]:
                raise ValueError(f"k={request.k} is more than the {X.shape[0]} points")
            if request.init == "manual":
                centers = np.array(request.centers, dtype=np.float64)
            else:
                centers = initial_centers(X, request.k, request.init, request.seed)
        except ValueError as exc:
            self.failed.emit(str(exc))
            return
        self._epoch, self._k, self._method = request.epoch, request.k, "k-means"
        self._initial = centers
        self._restart()
        self.state.emit(self._state("init"))

    def _restart(self) -> None:
        self._centers = self._initial.copy()
        self._labels = None
        self._iteration = 0
        self._history = []

    @Slot()
    @exclusive
    def reset(self) -> None:
        """Back to the starting centres."""
        if self._initial is None:
            return
        self._restart()
        self.state.emit(self._state("init"))

    @Slot(str)
    @exclusive
    def step(self, half: str) -> None:
        """One half-step: "E" relabels every point, "M" moves every centre to its mean."""
        from palettelab.core.clustering.kmeans import assign, update

        if self._centers is None or self._points is None:
            return
        X = self._points.X
        if half == "E" or self._labels is None:
            labels, sq_dist = assign(X, self._centers)
            converged = self._labels is not None and np.array_equal(labels, self._labels)
            self._labels = labels
            inertia = float(sq_dist.sum())
            self._history.append(inertia)
            self.state.emit(self._state("E", inertia=inertia, converged=converged))
            return
        previous = self._centers
        self._centers = update(X, self._labels, self._k, old_centers=previous)
        self._iteration += 1
        inertia = float(((X - self._centers[self._labels]) ** 2).sum())
        self._history.append(inertia)
        self.state.emit(self._state("M", inertia=inertia, previous=previous))

    @Slot(object)
    @exclusive
    def run(self, request: RunRequest) -> None:
        """Run to convergence: k-means and mini-batch from the current starting centres (live
        frames), spectral from scratch (centres shown are the cluster means)."""
        from palettelab.core.errors import InputError

        if self._points is None:
            return
        try:
            self._run(request)
        except Cancelled:
            return
        except InputError as exc:
            self.failed.emit(str(exc))

    def _run(self, request: RunRequest) -> None:
        from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans, update
        from palettelab.core.clustering.spectral import SpectralClustering

        X = self._points.X
        k = request.k
        self._epoch, self._method = request.epoch, request.method
        if request.method == "spectral":
            labels = SpectralClustering(k, random_state=request.seed).fit(X).labels_
            if self.is_stale(request.epoch):
                raise Cancelled
            self._k, self._initial = k, None
            self._centers = update(X, labels, k)
            self._labels = labels
            inertia = float(((X - self._centers[labels]) ** 2).sum())
            self._iteration, self._history = 0, [inertia]
            self.state.emit(self._state("result", inertia=inertia, converged=True))
            return
        if self._initial is None or self._initial.shape[0] != k:
            self._initial = initial_centers(X, k, "k-means++", request.seed)
        self._k = k
        if request.method == "mini-batch":
            model = MiniBatchKMeans(k, init=self._initial, random_state=request.seed,
                                    batch_size=min(1024, X.shape[0]))
        else:
            model = KMeans(k, init=self._initial, random_state=request.seed)
        self._history = []
        last_emit = 0.0
        self._frame_shown = True
        step = None
        # a mini-batch step's inertia is a pass over every row: its chart gets a point per frame
        every_step = request.method != "mini-batch"
        for step in model.steps(X):
            if self.is_stale(request.epoch):
                raise Cancelled
            if every_step:
                self._history.append(step.inertia)
            now = time.perf_counter()
            if self._frame_shown and now - last_emit >= 1.0 / MAX_FPS and not step.converged:
                self._frame_shown = False
                last_emit = now
                if not every_step:
                    self._history.append(step.inertia)
                self._centers, self._labels = step.centers, step.labels
                self._iteration = step.iteration
                self.state.emit(self._state("frame", inertia=step.inertia))
        self._centers, self._labels = model.cluster_centers_.copy(), model.labels_
        self._iteration = step.iteration
        if not every_step:
            self._history.append(float(model.inertia_))
        self.state.emit(self._state("result", inertia=float(model.inertia_), converged=True))

    @Slot(object)
    @exclusive
    def several_starts(self, request: StartsRequest) -> None:
        """Run ``n`` starts to convergence, to show that k-means finds local optima."""
        from palettelab.core.clustering.kmeans import KMeans
        from palettelab.core.errors import InputError

        if self._points is None:
            return
        X = self._points.X
        init = "k-means++" if request.init == "manual" else request.init
        starts = []
        try:
            for i in range(request.n):
                if self.is_stale(request.epoch):
                    return
                seed = request.seed + i
                initial = initial_centers(X, request.k, init, seed)
                model = KMeans(request.k, init=initial).fit(X)
                starts.append(Start(seed, initial, model.cluster_centers_.copy(), model.labels_,
                                    float(model.inertia_), int(model.n_iter_)))
        except (InputError, ValueError) as exc:
            self.failed.emit(str(exc))
            return
        self._starts = tuple(starts)
        best = int(np.argmin([s.inertia for s in starts]))
        self.starts.emit(StartsResult(request.epoch, self._starts, best))

    @Slot(int, int)
    @exclusive
    def adopt(self, epoch: int, index: int) -> None:
        """Make start ``index`` the current state (its final centres and labels)."""
        if not 0 <= index < len(self._starts):
            return
        start = self._starts[index]
        self._epoch, self._method, self._k = epoch, "k-means", start.centers.shape[0]
        self._initial = start.initial
        self._centers, self._labels = start.centers, start.labels
        self._iteration, self._history = start.iterations, [start.inertia]
        self.state.emit(self._state("result", inertia=start.inertia, converged=True))

    @Slot(object)
    @exclusive
    def elbow_silhouette(self, request: ElbowRequest) -> None:
        """Inertia (as :func:`palettelab.core.clustering.metrics.elbow`) and silhouette
        (:func:`silhouette_auto`) per
        k, each k fitted once for both; then per-point silhouettes of the current labels."""
        from palettelab.core.clustering.kmeans import KMeans
        from palettelab.core.clustering.metrics import silhouette_auto, silhouette_samples
        from palettelab.core.errors import InputError

        if self._points is None:
            return
        X = self._points.X
        ks = tuple(k for k in range(request.k_min, request.k_max + 1) if k <= X.shape[0])
        inertia, silhouette, used = [], [], X.shape[0]
        try:
            for k in ks:
                if self._elbow_stale(request.epoch):
                    return
                model = KMeans(k, n_init=1, random_state=request.seed).fit(X)
                inertia.append(float(model.inertia_))
                score, used = silhouette_auto(X, model.labels_)
                silhouette.append(score)
            samples = sample_labels = None
            if request.labels is not None and len(np.unique(request.labels)) > 1:
                rows = np.arange(X.shape[0])
                if X.shape[0] > SILHOUETTE_LIMIT:
                    rng = np.random.default_rng(request.seed)
                    rows = np.sort(rng.choice(X.shape[0], SILHOUETTE_LIMIT, replace=False))
                sample_labels = np.asarray(request.labels)[rows]
                samples = silhouette_samples(X[rows], sample_labels)
        except InputError as exc:
            self.failed.emit(str(exc))
            return
        self.elbow.emit(ElbowResult(request.epoch, ks, tuple(inertia), tuple(silhouette),
                                    used, X.shape[0], samples, sample_labels))

    # --- helpers --------------------------------------------------------------------------------

    def _state(self, phase: str, *, inertia: float | None = None, converged: bool = False,
               previous: np.ndarray | None = None) -> State:
        from palettelab.core.clustering.metrics import confusion_matrix, matched_accuracy

        accuracy = confusion = None
        truth = self._points.labels
        if truth is not None and self._labels is not None:
            accuracy = matched_accuracy(self._labels, truth)
            confusion = confusion_matrix(truth, self._labels)
        return State(self._epoch, phase, self._method, self._centers.copy(),
                     None if self._labels is None else self._labels.copy(), self._iteration,
                     inertia, converged, tuple(self._history), previous, accuracy, confusion)


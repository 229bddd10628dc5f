"""The points workspace's worker: every k-means step, run and metric happens here, in a QThread.

The workspace never runs clustering code in the GUI thread, not even one E-step on 300 points:
on a 2-core machine a GUI that computes stutters the moment the data grows, and keeping one
rule is simpler than a size threshold.  Numba's ``workqueue`` layer is also not safe to enter
from two threads, so only this thread calls the parallel kernels.  The thread, the warm-up,
staleness, frame pacing and the compute lock are the
:class:`~palettelab.app.gui.worker_host.WorkerHost`'s, shared with the image workspace.

The worker owns the stepping state -- a :class:`~palettelab.core.points_session.PointsSession`,
which does all the computing (views, starts, E and M steps, runs, sweeps) -- so the E and M
commands queued by the GUI apply in order to one consistent state whatever the GUI's latency.
Its slots only carry jobs: call the session, emit the result.

* **Epochs.**  Every command that replaces the state (load, initialise, run, adopt a start) and
  every batch of several starts carries a new GUI epoch; results carry the epoch of the state
  they came from, and the GUI drops those of an older epoch.  Long jobs poll the epoch, which
  the GUI moves forward with the thread-safe :meth:`PointsWorker.advance` (elbow curves, a
  host channel of their own: :meth:`PointsWorker.advance_elbow`), so a newer command cancels
  them (newest wins).
* **Live frames** of a run to convergence are paced by the host's
  :class:`~palettelab.app.gui.worker_host.FramePacer`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Signal, Slot

from palettelab.app.gui.worker_host import Cancelled, WorkerHost, exclusive
from palettelab.core.errors import InputError
from palettelab.core.points_session import INITS, METHODS  # noqa: F401 (the workspace's)

if TYPE_CHECKING:
    from palettelab.core.points_session import PointsSession, Start

#: points drawn in the scatter (a seeded sample beyond that)
DRAW_LIMIT = 8_000  # points drawn: pyqtgraph needs ~10 ms per 1,000 on an update
EMBED_EVERY = 10  # t-SNE steps between two frames offered to the view


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
class Embedding:
    """A t-SNE map on its way: ``iteration`` done, the drawn points' coordinates there
    (``coords``, (len(shown), 2)), ``done`` at the last."""

    epoch: int
    iteration: int
    coords: np.ndarray
    done: bool


@dataclass(frozen=True)
class EditRequest:
    """A canvas edit: ``kind`` "move" (payload: centre index, position (d,)), "add" (rows
    (m, d)), "remove" (row indices) or "undo" (no payload)."""

    epoch: int
    kind: str
    payload: object = None


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
class StartsResult:
    """Several starts (:class:`palettelab.core.points_session.Start`), the best one marked."""

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


class PointsWorker(WorkerHost):
    """Loads point sets and runs every clustering job of the points workspace."""

    loaded = Signal(object)  # LoadedPoints
    loadFailed = Signal(str)
    state = Signal(object)  # State
    starts = Signal(object)  # StartsResult
    elbow = Signal(object)  # ElbowResult
    failed = Signal(str)  # one-line message of a failed job
    exported = Signal(str)  # path written (labels, an animation)
    embedding = Signal(object)  # Embedding: a live frame of the t-SNE view, or the last
    edited = Signal(object)  # LoadedPoints: the points after a canvas edit (then a "edit" state)

    def __init__(self) -> None:
        super().__init__(self._warm_kernels)
        self.elbow_jobs = self.channel()
        self.embed_jobs = self.channel()  # t-SNE views: a new load makes one stale
        self._shown: np.ndarray | None = None  # the drawn points' rows
        self._meta = None  # the loaded PointSet: columns, names and path for edited points
        self._tsne: np.ndarray | None = None  # the finished map of the loaded points
        # the loaded points and their clustering (everything the jobs compute lives there)
        self._session: PointsSession | None = None
        self._epoch = 0

    # --- thread-safe, called from the GUI thread ------------------------------------------------

    def advance(self, epoch: int) -> None:
        """The GUI issued clustering command ``epoch``: older long jobs are now stale."""
        self.jobs.set(epoch)

    def advance_elbow(self, epoch: int) -> None:
        """The GUI asked for elbow curves ``epoch`` (or loaded new data): older ones are stale."""
        self.elbow_jobs.set(epoch)

    # --- run in the worker thread ---------------------------------------------------------------

    @staticmethod
    def _warm_kernels() -> None:
        """Compile (or load) the clustering kernels (the host times it and reports ``ready``):
        float64 only, the dtype of every point set the app loads."""
        from palettelab.core.clustering.kmeans import warm_up

        warm_up((np.float64,))

    @Slot(int, str, object)
    @exclusive
    def load_path(self, epoch: int, path: str, label_column: str | int | None) -> None:
        """Read a point file, its labels from ``label_column`` (as in ``load_points``); on
        failure the previous points stay loaded."""
        from palettelab.core.formats.points import load_points

        self._load(epoch, lambda: load_points(path, label_column=label_column))

    @Slot(int)
    @exclusive
    def embed(self, epoch: int) -> None:
        """The t-SNE map of the loaded points, frames every few steps while it optimises
        (paced by the window), the last one ``done``; once made, it is sent again at once."""
        from palettelab.core.clustering.tsne import TSNE

        session, shown = self._session, self._shown
        if session is None or self.embed_jobs.is_stale(epoch):
            return
        if self._tsne is not None:
            self.embedding.emit(Embedding(epoch, 0, self._tsne[shown], True))
            return
        self.frames.restart()
        tsne = TSNE(random_state=session.seed)
        try:
            for step in tsne.steps(session.X, every=EMBED_EVERY):
                if self.embed_jobs.is_stale(epoch):
                    return
                if step.iteration < tsne.max_iter and self.frames.take():
                    self.embedding.emit(Embedding(epoch, step.iteration,
                                                  step.embedding[shown], False))
        except InputError as exc:
            self.failed.emit(str(exc))
            return
        self._tsne = tsne.embedding_
        self.embedding.emit(Embedding(epoch, tsne.n_iter_, self._tsne[shown], True))

    @Slot(object)
    @exclusive
    def edit(self, request: EditRequest) -> None:
        """A canvas edit (issue 18): "move" a centre, "add" or "remove" points, or "undo" the
        last; the points go out again when they changed, then the state."""
        session = self._session
        if session is None or session.centers is None:
            return
        before = session.X
        try:
            if request.kind == "move":
                session.move_centre(*request.payload)
            elif request.kind == "add":
                session.add_points(request.payload)
            elif request.kind == "remove":
                session.remove_points(request.payload)
            elif not session.undo():
                return
        except InputError as exc:
            self.failed.emit(str(exc))
            return
        self._epoch = request.epoch
        if session.X is not before:
            self._emit_points(request.epoch, self.edited, time.perf_counter())
        self.state.emit(self._state("edit"))

    @Slot(str)
    @exclusive
    def export_labels(self, path: str) -> None:
        """Write the current cluster labels (a header, one integer a line, input order)."""
        from palettelab.core.formats.points import write_labels

        session = self._session
        if session is None or session.labels is None:
            self.failed.emit("no cluster labels yet: assign or run first")
            return
        try:
            write_labels(path, session.labels)
        except InputError as exc:
            self.failed.emit(str(exc))
            return
        self.exported.emit(path)

    @Slot(str, object)
    @exclusive
    def export_animation(self, path: str, columns: tuple[int, int] | None) -> None:
        """Write the k-means run from the starting centres as an animated GIF, seen in the
        view shown (``columns``, or PCA for None)."""
        from palettelab.core.formats.atomic import check_output_suffix
        from palettelab.core.step_animation import render, save_gif

        session = self._session
        try:
            check_output_suffix(path, (".gif",), "the animation is a GIF")
            if session is None or session.initial is None:
                raise InputError("no starting centres yet: load data first")
            frames = session.replay()
            view = session.pca if columns is None else session.projection(columns)
            save_gif(path, render(session.X, frames, view, initial=session.initial))
        except InputError as exc:
            self.failed.emit(str(exc))
            return
        self.exported.emit(path)

    @Slot(int, str, object)
    @exclusive
    def load_dataset(self, epoch: int, name: str, settings: dict | None = None) -> None:
        """Generate (or read the bundled) sample set ``name`` with ``settings`` (make_dataset's
        ``n_samples``, ``noise``, ``spread``)."""
        from palettelab.core.datasets import make_dataset

        self._load(epoch, lambda: make_dataset(name, random_state=0, **(settings or {})))

    def _load(self, epoch: int, read) -> None:
        from palettelab.core.errors import InputError
        from palettelab.core.points_session import PointsSession

        start = time.perf_counter()
        try:
            session = PointsSession(read())
        except (InputError, OSError) as exc:
            self.loadFailed.emit(str(exc))
            return
        self._session = session
        self._epoch = epoch
        self._emit_points(epoch, self.loaded, start)

    def _emit_points(self, epoch: int, signal, start: float) -> None:
        """Send the session's points (after a load, or edited on the canvas) with what the
        views need of them."""
        from palettelab.core.formats.points import make_point_set

        session = self._session
        if session.points is not None:
            self._meta = session.points
        points = session.points
        if points is None:  # edited: the same columns and names, the new rows
            meta = self._meta
            truth = session.truth
            points = make_point_set(session.X, meta.columns, truth,
                                    meta.label_names if truth is not None else (), meta.path,
                                    meta.file_columns)
        shown = session.sample(DRAW_LIMIT)
        self._shown, self._tsne = shown, None
        view = session.pca
        signal.emit(LoadedPoints(epoch, points, shown, view.mean, view.axes,
                                 view.project(session.X[shown]), time.perf_counter() - start))

    @Slot(object)
    @exclusive
    def initialise(self, request: InitRequest) -> None:
        """Choose the starting centres and forget the labels."""
        if self._session is None:
            return
        try:
            self._session.initialise(request.init, k=request.k, seed=request.seed,
                                     centers=request.centers)
        except ValueError as exc:  # InputError
            self.failed.emit(str(exc))
            return
        self._epoch = request.epoch
        self.state.emit(self._state("init"))

    @Slot()
    @exclusive
    def reset(self) -> None:
        """Back to the starting centres."""
        if self._session is None or self._session.initial is None:
            return
        self._session.reset()
        self.state.emit(self._state("init"))

    @Slot(str)
    @exclusive
    def step(self, half: str) -> None:
        """One half-step: "E" relabels every point, "M" moves every centre to its mean (an
        M before any labels is an E)."""
        session = self._session
        if session is None or session.centers is None:
            return
        if half == "E" or session.labels is None:
            session.assign()
            self.state.emit(self._state("E"))
            return
        session.update()
        self.state.emit(self._state("M"))

    @Slot(object)
    @exclusive
    def run(self, request: RunRequest) -> None:
        """Run to convergence: k-means and mini-batch from the current starting centres (live
        frames), spectral from scratch (centres shown are the cluster means)."""
        from palettelab.core.errors import InputError

        if self._session is None:
            return
        try:
            self._run(request)
        except Cancelled:
            return
        except InputError as exc:
            self.failed.emit(str(exc))

    def _run(self, request: RunRequest) -> None:
        session = self._session
        self._epoch = request.epoch
        # the session's steps: k-means and mini-batch from the starting centres (k-means++ ones
        # when there are none for k), spectral one final step; the state moves to the frames
        # taken here and, once the steps run out, to the result
        steps = session.steps(request.method, k=request.k, seed=request.seed, init="k-means++")
        self.frames.restart()
        for step in steps:
            if self.jobs.is_stale(request.epoch):
                raise Cancelled
            if not step.converged and self.frames.take():
                session.take(step)
                self.state.emit(self._state("frame"))
        self.state.emit(self._state("result"))

    @Slot(object)
    @exclusive
    def several_starts(self, request: StartsRequest) -> None:
        """Run ``n`` starts to convergence, to show that k-means finds local optima."""
        if self._session is None:
            return
        try:  # a newer command cancels the batch between two starts
            result = self._session.several_starts(
                request.n, k=request.k, init=request.init, seed=request.seed,
                progress=lambda *_: self.jobs.check(request.epoch))
        except Cancelled:
            return
        except ValueError as exc:  # InputError
            self.failed.emit(str(exc))
            return
        self.starts.emit(StartsResult(request.epoch, result.starts, result.best))

    @Slot(int, int)
    @exclusive
    def adopt(self, epoch: int, index: int) -> None:
        """Make start ``index`` the current state (its final centres and labels)."""
        session = self._session
        if session is None or not 0 <= index < len(session.starts):
            return
        session.adopt(index)
        self._epoch = epoch
        self.state.emit(self._state("result"))

    @Slot(object)
    @exclusive
    def elbow_silhouette(self, request: ElbowRequest) -> None:
        """Elbow and silhouette curves (:meth:`PointsSession.sweep
        <palettelab.core.points_session.PointsSession.sweep>`: each k fitted once for both, as
        :func:`palettelab.core.clustering.metrics.elbow` fits it); then per-point silhouettes
        of the GUI's current labels."""
        from palettelab.core.errors import InputError

        session = self._session
        if session is None:
            return
        try:  # a newer request cancels the curves between two values of k
            sweep = session.sweep(range(request.k_min, request.k_max + 1), seed=request.seed,
                                  progress=lambda *_: self.elbow_jobs.check(request.epoch))
            samples = sample_labels = None
            if request.labels is not None:
                samples, sample_labels = (session.silhouettes(request.labels, seed=request.seed)
                                          or (None, None))
        except Cancelled:
            return
        except InputError as exc:
            self.failed.emit(str(exc))
            return
        self.elbow.emit(ElbowResult(request.epoch, sweep.ks, sweep.inertia, sweep.silhouette,
                                    sweep.silhouette_used, sweep.n, samples, sample_labels))

    # --- helpers --------------------------------------------------------------------------------

    def _state(self, phase: str) -> State:
        """The session's state as it stands, for the GUI (arrays copied)."""
        s = self._session
        return State(self._epoch, phase, s.method, s.centers.copy(),
                     None if s.labels is None else s.labels.copy(), s.iteration, s.inertia,
                     s.converged, tuple(s.history), s.previous, s.accuracy(), s.confusion())


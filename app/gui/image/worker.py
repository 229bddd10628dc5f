"""The worker: everything slow runs here, in a QThread, never in the GUI thread.

It owns the loaded image and runs, one at a time, the jobs the window asks for: warming up
the Numba kernels, loading a file, quantizing (with live frames), remapping to an edited
palette, and writing exports.  The window talks to it only through queued signals and the two
thread-safe methods :meth:`QuantizeWorker.submit` and :meth:`QuantizeWorker.cancel`.

The thread, the warm-up, staleness, frame pacing and the compute lock are the
:class:`~palettelab.app.gui.worker_host.WorkerHost`'s, shared with the points workspace.

* **Newest wins.**  ``submit`` records the newest run request and makes the running one stale;
  a queued slot then runs whatever is newest, so a burst of slider moves costs one run.
* **Cancelling** works through the quantizer's progress callback, which raises
  :class:`~palettelab.app.gui.worker_host.Cancelled` once the job is stale; the quantizer
  reports after every k-means iteration.
* **Live frames** are paced by the host's :class:`~palettelab.app.gui.worker_host.FramePacer`.
  A frame carries the current palette, the preview image recoloured with it and the centres'
  coordinates for the scatter views.
* Large images are previewed: live frames recolour a copy of at most ``PREVIEW_PIXELS``; the
  finished result is full size.
* **Kernels in groups** (issue 15).  The kernels come from a child process that fills Numba's
  cache (:mod:`palettelab.app.gui.kernel_builder`); :meth:`QuantizeWorker.kernels_compiled`
  makes this worker load a finished group.  A run whose group
  (:func:`palettelab.core.kernel_warmup.group_for`) is not loaded yet gets a plain-numpy
  preview (:mod:`palettelab.core.quantization.preview`) as a live frame and waits; once the
  group is loaded, the newest waiting run goes on and its real result replaces the preview.
  Loading an image needs no kernel, so the original shows at once.
"""

from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import Signal, Slot

from palettelab.app.gui import collector
from palettelab.app.gui.worker_host import Cancelled, WorkerHost, exclusive

#: pixels of the live preview (and of the sample the quality figures are computed on)
PREVIEW_PIXELS = 300_000
#: pixels drawn in the colour-space scatter views
SCATTER_SAMPLE = 50_000
#: the stage of the plain-numpy frame shown while the kernels compile
PREVIEW_STAGE = "quick preview (kernels compiling)"


@dataclass(frozen=True)
class Settings:
    """What the user chose for a quantization run (the window's controls)."""

    n_colors: int = 16
    space: str = "oklab"
    dither: str = "none"
    dither_strength: float = 1.0
    random_state: int = 0
    n_init: int = 2
    locked: tuple[tuple[int, int, int], ...] = ()
    order: str = "share"  # of the palette: "share", "lightness" or "hue"


@dataclass(frozen=True)
class Request:
    """A run: quantize with ``settings``, or (``palette`` given) remap to that palette; ``init``:
    the colours to converge from (after a delete or a merge) instead of fresh starts."""

    job: int
    settings: Settings
    palette: np.ndarray | None = None
    init: np.ndarray | None = None
    importance: np.ndarray | None = None  # the painted mask (1 = matters more), if any
    mask_scale: int = 1  # image pixels per mask pixel, each way
    palette_alpha: np.ndarray | None = None  # with ``palette``: its entries' alpha


@dataclass(frozen=True)
class SetInfo:
    """An image set as the strip shows it: each member's name, its share of the set's pixels
    and a small picture; ``durations`` (ms per frame) when the set is an animation."""

    title: str
    names: tuple[str, ...]
    shares: tuple[float, ...]
    thumbnails: tuple[np.ndarray, ...]
    durations: tuple[int, ...] | None


@dataclass(frozen=True)
class Member:
    """One member of a set in a result: the colours of the shared palette it uses and its
    picture recoloured with it."""

    colours: int
    thumbnail: np.ndarray


@dataclass(frozen=True)
class Loaded:
    """A loaded image and what the views need of it (computed here, not in the GUI); with
    ``image_set`` when it is the first member of an image set."""

    path: str
    pixels: np.ndarray
    notes: tuple[str, ...]
    preview: np.ndarray
    sample_rgb: np.ndarray
    seconds: float
    image_set: SetInfo | None = None


@dataclass(frozen=True)
class Sample:
    """The scatter sample's coordinates in the run's colour space."""

    space: str
    rgb: np.ndarray
    coords: np.ndarray
    total: int


@dataclass(frozen=True)
class Frame:
    """One live update of a running job."""

    job: int
    stage: str
    fraction: float
    iteration: int  # within the stage
    step: int  # k-means steps of the whole run so far (the convergence chart's x)
    inertia: float | None
    palette: np.ndarray
    centers: np.ndarray
    preview: np.ndarray | None


@dataclass(frozen=True)
class Result:
    """A finished job: the quantized image and how good and fast it was."""

    job: int
    settings: Settings
    quantized: object  # palettelab.core.quantization.pipeline.Quantized
    image: np.ndarray
    centers: np.ndarray
    seconds: float
    psnr: float
    oklab_error: float
    sampled: bool
    # per k-means step of every start and stage, NaN between them (each has its own data:
    # coarse bins, fine bins, exact colours, so the curves do not join)
    inertia: list[float] = field(default_factory=list)
    # the quantizer's stage of each inertia entry ("" for the NaN breaks), for the chart legend
    stages: list[str] = field(default_factory=list)
    remapped: bool = False  # the image remapped to a given palette (an edit, a compare pick)
    members: tuple[Member, ...] = ()  # an image set's members with the shared palette


@dataclass(frozen=True)
class Compared:
    """One method's result in the compare view (issue 17): its figures, the colours its
    result uses (most used first), and small pictures of the result and of its error."""

    job: int
    name: str
    psnr: float
    oklab_error: float
    seconds: float
    palette: np.ndarray  # (n, 3) uint8
    thumbnail: np.ndarray  # (h, w, 3|4) uint8, at most COMPARE_THUMBNAIL px wide
    heat: np.ndarray  # (h, w, 3) uint8, the OKLab error heat map of the same size

    @property
    def colours(self) -> int:
        return len(self.palette)


#: the width of the compare view's pictures, computed here so the GUI draws small images only
COMPARE_THUMBNAIL = 320
#: the longer side of an image set's strip pictures and of its animated preview
SET_THUMBNAIL = 160


def _thumbnail(pixels: np.ndarray) -> np.ndarray:
    step = max(1, -(-max(pixels.shape[:2]) // SET_THUMBNAIL))
    return np.ascontiguousarray(pixels[::step, ::step])


def _preview_step(pixels: np.ndarray) -> int:
    """Every s-th pixel in both directions keeps at most PREVIEW_PIXELS: this s."""
    h, w = pixels.shape[:2]
    return max(1, int(np.ceil(np.sqrt(h * w / PREVIEW_PIXELS))))


def _preview(pixels: np.ndarray) -> np.ndarray:
    step = _preview_step(pixels)
    return np.ascontiguousarray(pixels[::step, ::step])


class QuantizeWorker(WorkerHost):
    """Runs loading, quantization, remapping and exports; lives in its own QThread."""

    loaded = Signal(object)  # Loaded
    loadFailed = Signal(str)  # one-line message
    sample = Signal(object)  # Sample
    frame = Signal(object)  # Frame
    finished = Signal(object)  # Result
    failed = Signal(int, str)  # job, one-line message
    cancelled = Signal(int)  # job
    exported = Signal(str, object)  # path, notes
    exportQuestion = Signal(str, str, object, object)  # path, what, payload, notes: ask first
    exportFailed = Signal(str)  # one-line message
    errorMap = Signal(int, object)  # job of the result, its OKLab error heat map
    compared = Signal(object)  # Compared: one method done
    compareDone = Signal(int)  # job: every method done
    compareFailed = Signal(int, str)  # job, one-line message
    _wake = Signal()  # queued to this thread: run the newest request
    _useKernels = Signal(object)  # queued to this thread: tuple of kernel group names to load
    kernelsLoaded = Signal(object)  # tuple of the kernel groups loaded so far
    memberSelected = Signal(object)  # Loaded: another member of the set is shown

    def __init__(self) -> None:
        super().__init__(self._warm_kernels)
        self._lock = threading.Lock()
        self._pending: Request | None = None
        self._pixels: np.ndarray | None = None
        self._set = None  # palettelab.core.image_set.ImageSet when a set is open
        self._preview: np.ndarray | None = None
        self._sample: np.ndarray | None = None
        self._sample_space: str | None = None
        self._kernels: tuple[str, ...] = ()  # groups loaded (worker thread only)
        self._waiting: Request | None = None  # a run shown as a preview, waiting for kernels
        self._kernel_seconds = 0.0
        self.comparisons = self.channel()  # compare jobs: cancelled apart from runs
        self._wake.connect(self._run_newest)
        self._useKernels.connect(self._load_kernels)

    # --- thread-safe, called from the GUI thread ------------------------------------------------

    def submit(self, request: Request) -> None:
        """Make ``request`` the newest run, cancel any older one, and wake the worker (a
        :meth:`cancel` makes the running and any pending run report ``cancelled``)."""
        with self._lock:
            self._pending = request
            self.jobs.set(request.job)
        self._wake.emit()

    def cancel(self) -> None:
        """Make every job stale, and wake the worker so that a run shown as a preview while
        its kernels compile reports ``cancelled`` too (it is not running, so nothing else
        would)."""
        super().cancel()
        self._wake.emit()

    def kernels_compiled(self, names: tuple[str, ...]) -> None:
        """Kernel groups ``names`` are in Numba's cache: load them in the worker (thread-safe)."""
        self._useKernels.emit(tuple(names))

    # --- run in the worker thread ---------------------------------------------------------------

    def _warm_kernels(self) -> None:
        """Compile (or load) every image kernel group here: the fallback when the child process
        that compiles them failed (the host times it and reports ``ready``)."""
        from palettelab.core.kernel_warmup import IMAGE_GROUPS

        self._load_kernels(IMAGE_GROUPS, report=False)

    @Slot(object)
    @exclusive
    def _load_kernels(self, names: tuple[str, ...], report: bool = True) -> None:
        """Load kernel groups ``names`` (compiling what the cache lacks), then run a waiting
        request they serve; ``ready`` once every image group is loaded."""
        from palettelab.core.kernel_warmup import IMAGE_GROUPS, NAMES, group_for, run

        start = time.perf_counter()
        new = tuple(name for name in names if name in IMAGE_GROUPS and name not in self._kernels)
        with collector.paused():
            run(new, out=io.StringIO())
        self._kernels = tuple(name for name in NAMES if name in self._kernels + new)
        self._kernel_seconds += time.perf_counter() - start
        self.kernelsLoaded.emit(self._kernels)
        if report and new and set(IMAGE_GROUPS) <= set(self._kernels):
            self.ready.emit(self._kernel_seconds)
        request = self._waiting
        if (request is not None and not self.jobs.is_stale(request.job)
                and group_for(request.settings.space, request.settings.dither,
                              bool(request.settings.locked)) in self._kernels):
            self._waiting = None
            with self._lock:
                if self._pending is None:
                    self._pending = request
        self._run_newest()  # also reports a waiting run cancelled meanwhile

    @Slot(str)
    def load(self, path: str) -> None:
        """Read an image file (an animated one opens as an image set of its frames); on
        failure the previous image stays loaded.  Not :func:`exclusive`: it runs no kernel, so
        the original shows while the other worker computes."""
        from palettelab.core.errors import InputError
        from palettelab.core.formats.animation import frame_count
        from palettelab.core.formats.image_read import load_image

        if frame_count(path) > 1:
            self.load_set([path])
            return
        start = time.perf_counter()
        try:
            image = load_image(path)
        except InputError as exc:
            self.loadFailed.emit(str(exc))
            return
        self._set = None
        self._show(image.pixels)
        self.loaded.emit(Loaded(str(path), image.pixels, image.notes, self._preview,
                                self._sample, time.perf_counter() - start))

    @Slot(object)
    def load_set(self, paths: list[str]) -> None:
        """Read an image set: several images, or one animated file's frames (issue 17)."""
        from palettelab.core.errors import InputError
        from palettelab.core.image_set import load_set, set_shares

        start = time.perf_counter()
        try:
            image_set = load_set(paths)
        except InputError as exc:
            self.loadFailed.emit(str(exc))
            return
        self._set = image_set
        self._show(image_set.images[0])
        animation = image_set.animation
        info = SetInfo(image_set.title, tuple(image_set.names), tuple(set_shares(image_set)),
                       tuple(_thumbnail(img) for img in image_set.images),
                       None if animation is None else tuple(animation.durations))
        self.loaded.emit(Loaded(str(paths[0]), image_set.images[0], image_set.notes,
                                self._preview, self._sample, time.perf_counter() - start, info))

    @Slot(int)
    def select_member(self, index: int) -> None:
        """Show member ``index`` of the open set (the GUI then remaps it to the palette)."""
        if self._set is None or not 0 <= index < len(self._set.images):
            return
        pixels = self._set.images[index]
        self._show(pixels)
        self.memberSelected.emit(Loaded(self._set.names[index], pixels, (), self._preview,
                                        self._sample, 0.0))

    def _show(self, pixels: np.ndarray) -> None:
        """Make ``pixels`` the image runs work on, with its preview and scatter sample."""
        visible = pixels.reshape(-1, pixels.shape[2])
        if pixels.shape[2] == 4:
            visible = visible[visible[:, 3] > 0]
        rng = np.random.default_rng(0)
        pick = rng.choice(visible.shape[0], size=min(SCATTER_SAMPLE, visible.shape[0]),
                          replace=False) if visible.shape[0] else np.zeros(0, dtype=np.int64)
        self._pixels = pixels
        self._preview = _preview(pixels)
        self._sample = np.ascontiguousarray(visible[np.sort(pick), :3])
        self._sample_space = None

    @Slot()
    @exclusive
    def _run_newest(self) -> None:
        waiting = self._waiting
        if waiting is not None and self.jobs.is_stale(waiting.job):
            self._waiting = None  # cancelled, or superseded, while it waited for its kernels
            self.cancelled.emit(waiting.job)
        with self._lock:
            request, self._pending = self._pending, None
        if request is None:
            return
        if self.jobs.is_stale(request.job) or self._pixels is None:
            self.cancelled.emit(request.job)
            return
        from palettelab.core.errors import InputError

        try:
            self._run(request)
        except Cancelled:
            self.cancelled.emit(request.job)
        except InputError as exc:
            self.failed.emit(request.job, str(exc))

    @Slot(str, str, object, bool)
    @exclusive
    def export(self, path: str, what: str, payload: object, confirmed: bool) -> None:
        """Write ``payload`` to ``path``: ``what`` is "image" ((a Quantized, the GIF matte or
        None)) or "palette"
        ((palette, counts, title)).  An image the file type cannot store as it is (soft transparency
        in a GIF, say) is not written unless ``confirmed``: ``exportQuestion`` asks first (the
        check reads every pixel's alpha, 60-170 ms on 12 MP, so it runs here, not in the GUI)."""
        from palettelab.core.errors import InputError
        from palettelab.core.formats.image_write import flatten, save_image, save_notes
        from palettelab.core.formats.palettes import write_palette

        try:
            if what == "image":  # (image, matte): a GIF's soft edges go onto the matte here
                q, matte = payload
                if matte is not None and path.lower().endswith(".gif"):
                    q = flatten(q, matte)
                payload = (q, None)
            if what == "image" and not confirmed:
                notes = save_notes(path, payload[0])
                if notes:
                    self.exportQuestion.emit(path, what, payload, notes)
                    return
            if what == "image":
                notes = save_image(path, payload[0])
            else:
                palette, counts, title = payload
                write_palette(path, palette, counts=counts, title=title)
                notes = []
        except (InputError, OSError) as exc:
            self.exportFailed.emit(str(exc))
            return
        self.exported.emit(path, notes)

    @Slot(str, object, object)
    @exclusive
    def export_set(self, folder: str, palette: np.ndarray, settings: Settings) -> None:
        """Write the set's palette and every member remapped to it into ``folder``, all or
        none (an animation as one GIF, its timing kept)."""
        from palettelab.core.errors import InputError
        from palettelab.core.image_set import quantize_set, save_set

        if self._set is None:
            return
        try:
            result = quantize_set(self._set.images, space=settings.space,
                                  dither=settings.dither,
                                  dither_strength=settings.dither_strength, palette=palette)
            suffix = ".gif" if self._set.animation is not None else ".png"
            written, notes = save_set(folder, self._set, result, image_suffix=suffix)
        except (InputError, OSError) as exc:
            self.exportFailed.emit(str(exc))
            return
        self.exported.emit(folder, [f"{len(written)} files: "
                                    + ", ".join(os.path.basename(p) for p in written), *notes])

    @Slot(int, object)
    @exclusive
    def error_map(self, job: int, image: np.ndarray) -> None:
        """The per-pixel OKLab error of result ``job``'s ``image`` as a heat map, on the preview
        grid for large images (a full-size one of 12 MP took 400 MB of temporaries)."""
        from palettelab.core.quantization import compare as methods

        if self._pixels is None or image.shape[:2] != self._pixels.shape[:2]:
            return  # another image was opened meanwhile
        step = _preview_step(self._pixels)
        heat = methods.heatmap(methods.error_map(self._pixels[::step, ::step],
                                                 image[::step, ::step]))
        self.errorMap.emit(job, heat)

    @Slot(int, int, int)
    @exclusive
    def compare(self, job: int, n_colors: int, seed: int) -> None:
        """Quantize the loaded image with every method installed
        (:mod:`palettelab.core.quantization.compare`); ``compared`` after each, then
        ``compareDone``.  A newer compare job, or :meth:`cancel`, stops between methods."""
        from palettelab.core.errors import InputError
        from palettelab.core.quantization import compare as methods

        if self._pixels is None or self.comparisons.is_stale(job):
            return
        pixels = np.ascontiguousarray(self._pixels)
        step = max(1, -(-pixels.shape[1] // COMPARE_THUMBNAIL))  # ceiling division
        try:
            for name in methods.available_methods():
                self.comparisons.check(job)
                r = methods.run_method(name, pixels, n_colors, seed)
                self.comparisons.check(job)
                heat = methods.heatmap(methods.error_map(pixels[::step, ::step],
                                                         r.image[::step, ::step]))
                self.compared.emit(Compared(job, r.name, r.psnr, r.oklab_error, r.seconds,
                                            r.palette,
                                            np.ascontiguousarray(r.image[::step, ::step]), heat))
        except Cancelled:
            return
        except (InputError, OSError) as exc:
            self.compareFailed.emit(job, str(exc))
            return
        self.compareDone.emit(job)

    # --- the run --------------------------------------------------------------------------------

    def _emit_sample(self, space: str) -> None:
        from palettelab.core.quantization.preview import from_srgb  # numpy: needs no kernel

        if self._sample_space != space and self._sample is not None:
            self._sample_space = space
            coords = from_srgb(self._sample, space) if len(self._sample) else np.zeros((0, 3))
            total = int(self._pixels.shape[0] * self._pixels.shape[1])
            self.sample.emit(Sample(space, self._sample, coords, total))

    def _run(self, request: Request) -> None:
        from palettelab.core.kernel_warmup import group_for

        s = request.settings
        job = request.job
        self._emit_sample(s.space)
        if group_for(s.space, s.dither, bool(s.locked)) not in self._kernels:
            self._show_preview(request)  # numpy alone: Numba is not even imported yet
            return
        # imported (with the collector paused) when _load_kernels loaded this run's group
        from palettelab.core.color.spaces import from_srgb
        from palettelab.core.quantization.pipeline import Remapper, quantize, remap, reorder
        self._waiting = None
        previewer: Remapper | None = None
        inertia: list[float] = []
        stages: list[str] = []
        segment = [""]  # stage of the last inertia value
        self.frames.restart()

        def progress(p) -> None:
            nonlocal previewer
            self.jobs.check(job)
            if p.inertia is not None:
                if inertia and (p.iteration == 1 or p.stage != segment[0]):
                    inertia.append(float("nan"))  # a new start or stage: break the curve
                    stages.append("")
                segment[0] = p.stage
                inertia.append(p.inertia)
                stages.append(p.stage)
            if p.palette is None or not self.frames.take():
                return
            if previewer is None:
                previewer = Remapper(self._preview, s.space)
            preview = previewer.image(p.palette)
            self.jobs.check(job)
            self.frame.emit(Frame(job, p.stage, p.fraction, p.iteration, len(inertia), p.inertia,
                                  p.palette, from_srgb(p.palette, s.space), preview))

        start = time.perf_counter()
        weight = None
        if request.importance is not None:
            from palettelab.core.quantization.importance import weights_from_mask

            weight = weights_from_mask(request.importance, request.mask_scale,
                                       self._pixels.shape[:2])
        palette = request.palette
        if self._set is not None and palette is None:  # one palette for the whole set
            palette = self._set_palette(s)
            self.jobs.check(job)
        if palette is not None:
            q = remap(self._pixels, palette, space=s.space, dither=s.dither,
                      dither_strength=s.dither_strength, palette_alpha=request.palette_alpha)
        else:
            q = quantize(self._pixels, s.n_colors, space=s.space, dither=s.dither,
                         dither_strength=s.dither_strength, locked=s.locked,
                         random_state=s.random_state, progress=progress, n_init=s.n_init,
                         init=request.init, sample_weight=weight)
            if s.order != "share":  # by share is the quantizer's own order, as on the CLI
                q = reorder(q, s.order)
        seconds = time.perf_counter() - start
        self.jobs.check(job)
        image = q.image()
        psnr, error, sampled = self._quality(image)
        members = self._members(q.palette, s) if self._set is not None else ()
        self.finished.emit(Result(job, s, q, image, from_srgb(q.palette, s.space), seconds,
                                  psnr, error, sampled, inertia, stages,
                                  remapped=request.palette is not None, members=members))

    def _set_palette(self, s: Settings) -> np.ndarray:
        """The set's shared palette in the chosen order (no importance or converging from
        given colours here: those are for one image)."""
        from palettelab.core.color.ordering import palette_order
        from palettelab.core.quantization.pipeline import shared_palette

        palette, counts = shared_palette(self._set.images, s.n_colors, space=s.space,
                                         locked=s.locked, random_state=s.random_state,
                                         n_init=s.n_init)
        return palette[palette_order(palette, counts, s.order)]

    def _members(self, palette: np.ndarray, s: Settings) -> tuple[Member, ...]:
        """Every member's small picture remapped to the set's palette, and its colours."""
        from palettelab.core.quantization.pipeline import remap

        members = []
        for image in self._set.images:
            small = remap(_thumbnail(image), palette, space=s.space, dither=s.dither,
                          dither_strength=s.dither_strength)
            members.append(Member(int((small.counts > 0).sum()), small.image()))
        return tuple(members)

    def _show_preview(self, request: Request) -> None:
        """A plain-numpy picture while the run's kernels compile: a live frame, then the run
        waits for :meth:`_load_kernels` (0.24 s for the bundled sample, 16 colours)."""
        from palettelab.core.quantization import preview

        s = request.settings
        palette = request.palette
        if palette is None:
            palette = preview.preview_palette(self._preview, s.n_colors, s.space, s.locked,
                                              s.random_state)
        palette = np.asarray(palette, dtype=np.uint8)
        image = preview.recolour(self._preview, palette, s.space)
        self.jobs.check(request.job)
        self._waiting = request
        self.frame.emit(Frame(request.job, PREVIEW_STAGE, 0.0, 0, 0, None, palette,
                              preview.from_srgb(palette, s.space), image))

    def _quality(self, image: np.ndarray) -> tuple[float, float, bool]:
        """PSNR and mean OKLab error of the visible pixels (weighted by alpha, as core's
        functions do for the CLI and the benchmarks), on the preview grid for large images (an
        estimate)."""
        from palettelab.core.quantization.quality import mean_oklab_error, psnr

        original = self._pixels
        sampled = original.shape[0] * original.shape[1] > 4 * PREVIEW_PIXELS
        if sampled:
            step = _preview_step(original)
            original, image = original[::step, ::step], image[::step, ::step]
        a = np.ascontiguousarray(original)
        b = np.ascontiguousarray(image)
        return psnr(a, b), mean_oklab_error(a, b), sampled

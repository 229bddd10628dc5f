"""The Numba kernels the GUI needs, in groups, in order of need; compiled in child processes.

A fresh install has an empty Numba cache.  Compiling in the GUI process stalls it: Numba holds
a process-wide compiler lock, and the GIL while it types a function.  So the GUI starts
``python -m palettelab.core.kernel_warmup GROUP ...`` as child processes, which compile the
groups in order into the on-disk cache and print one line per finished group
(``group NAME SECONDS``); the app then loads each group from the cache in its worker thread.
Two children, one per lane of :data:`LANES`, run side by side on two cores: the Image
workspace's groups in sequence (each builds on the one before: every quantization runs the
first picture's kernels), and the Points workspace's.  Alone, one after the other, they took
134 s here; side by side, about the longer lane.  Two processes that save *different*
signatures of one function at once can lose one of them from its cache index (Numba reads,
extends and rewrites the index): the children serialise their saves with a file lock
(:func:`serialize_cache_saves`), and the lanes share no function with different signatures
anyway (there is no such lock on Windows): they share 12 k-means helpers (``hamerly_ser``,
``assign_pass``, ...), each with the same single float64 signature in both.
A group already in the cache costs its load time only, so the children are cheap on later
starts.

The order is the order of need: the first quantization of an opened image (the default
settings: 16 colours, OKLab, no dithering, on a read-only RGB image as ``load_image`` returns,
plus the live-preview remap and the quality figures), then the other colour spaces, then
dithering and locked colours, then every other image variant (RGBA, writable arrays, the big
images' code tables), then the Points workspace's k-means kernels (float64 only: the app's
points are always float64): the iteration kernels, the k-d tree's, then the rest.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

#: niceness of a ``--background`` child: compiling waits whenever the window wants a core (on
#: 2 cores the two children and the GUI thread contend for them)
BACKGROUND_NICE = 10
_lowered = False


def _lower_priority() -> None:
    """Lower this process's priority by :data:`BACKGROUND_NICE`, once."""
    global _lowered
    if _lowered:
        return
    _lowered = True
    try:
        os.nice(BACKGROUND_NICE)
    except (AttributeError, OSError):  # not on Windows, or refused: the default priority
        pass


if __name__ == "__main__" and sys.argv[1:2] == ["--background"]:
    # before numpy's import: at full priority, the two children's start-up made the window's
    # first frames up to 121 ms late (bench_first_run.py --stacks)
    _lower_priority()

import numpy as np  # noqa: E402

#: the settings of a run the first group compiles (the GUI's defaults)
FIRST_COLORS = 16
FIRST_STARTS = 3  # pipeline.DEFAULT_STARTS (not imported here: that would load Numba)


def _sample() -> np.ndarray:
    from palettelab.core.formats.image_read import load_image
    from palettelab.core.resources import sample_image

    return load_image(sample_image()).pixels


def _first_picture() -> None:
    from palettelab.core.color.spaces import from_srgb
    from palettelab.core.quantization.pipeline import Remapper, quantize
    from palettelab.core.quantization.quality import mean_oklab_error, psnr

    pixels = _sample()
    q = quantize(pixels, FIRST_COLORS, n_init=FIRST_STARTS)
    image = q.image()
    Remapper(np.ascontiguousarray(pixels[::2, ::2])).image(q.palette)
    Remapper(pixels).image(q.palette)
    from_srgb(q.palette, "oklab")
    from_srgb(pixels[:64, 0].copy(), "oklab")
    psnr(np.ascontiguousarray(pixels), np.ascontiguousarray(image))
    mean_oklab_error(np.ascontiguousarray(pixels), np.ascontiguousarray(image))


def _spaces() -> None:
    from palettelab.core.color.spaces import from_srgb
    from palettelab.core.quantization.pipeline import SPACES, Remapper, quantize

    pixels = _sample()
    for space in SPACES:
        q = quantize(pixels, FIRST_COLORS, space=space, n_init=FIRST_STARTS)
        Remapper(pixels, space).image(q.palette)
        from_srgb(q.palette, space)


def _dithering() -> None:
    from palettelab.core.quantization.pipeline import quantize, remap

    pixels = _sample()
    q = quantize(pixels, FIRST_COLORS, dither="fs", locked=["#000000"], n_init=FIRST_STARTS)
    remap(pixels, q.palette, dither="bayer")
    remap(pixels, q.palette, dither="fs")


def _other_images() -> None:
    from palettelab.core.quantization.pipeline import warm_up
    from palettelab.core.quantization.quality import mean_oklab_error, psnr

    warm_up()
    tiny = np.zeros((2, 2, 4), dtype=np.uint8)
    psnr(tiny, tiny)
    mean_oklab_error(tiny, tiny)


def _points() -> None:
    from palettelab.core.clustering.kmeans import warm_up

    warm_up((np.float64,), ("lloyd", "hamerly", "elkan"), others=False)


def _point_trees() -> None:
    from palettelab.core.clustering.kmeans import warm_up

    warm_up((np.float64,), ("kdtree",), others=False)


def _point_extras() -> None:
    from palettelab.core.clustering.kmeans import warm_up
    from palettelab.core.clustering.tsne import EXAGGERATION_STEPS, TSNE

    warm_up((np.float64,), (), others=True)
    # the t-SNE view's kernels (about 9 s to compile, Barnes-Hut's about 5 more): tiny maps,
    # so none compiles while a student waits for the digits' map
    rows = np.random.default_rng(0).normal(size=(40, 5))
    for method in ("exact", "barnes_hut"):  # the fewest steps allowed
        TSNE(perplexity=5, max_iter=EXAGGERATION_STEPS + 1, method=method).fit(rows)


#: (name, compile function) in order of need; the GUI's image worker needs the first four
GROUPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("first picture", _first_picture),
    ("colour spaces", _spaces),
    ("dithering", _dithering),
    ("other images", _other_images),
    ("points", _points),
    ("point trees", _point_trees),
    ("point extras", _point_extras),
)
NAMES: tuple[str, ...] = tuple(name for name, _ in GROUPS)
#: groups the Image workspace needs; the rest are the Points workspace's
IMAGE_GROUPS: tuple[str, ...] = NAMES[:4]
POINT_GROUPS: tuple[str, ...] = NAMES[4:]
#: the groups each child process compiles, in order (one child a lane, side by side); the
#: points lane starts with the k-d tree, which shares the least with the image lane's first
#: groups, and finds the k-means kernels they share in the cache by the time it needs them;
#: the image lane, shorter, takes the inits, inertia and mini-batch kernels at its end
LANES: tuple[tuple[str, ...], ...] = ((*IMAGE_GROUPS, "point extras"), ("point trees", "points"))


def group_for(space: str, dither: str, locked: bool) -> str:
    """The last group a quantization run with these settings needs (its kernels are ready
    once that group and every earlier one are)."""
    if dither != "none" or locked:
        return "dithering"
    if space != "oklab":
        return "colour spaces"
    return "first picture"


def compiled_kernels() -> int:
    """Kernel signatures compiled or loaded so far in this process (every palettelab module)."""
    from numba.core.registry import CPUDispatcher

    total = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("palettelab.core") and module is not None:
            total += sum(len(obj.overloads) for obj in vars(module).values()
                         if isinstance(obj, CPUDispatcher))
    return total


def serialize_cache_saves() -> None:
    """Make this process's Numba cache saves take a file lock shared by every process of this
    user (POSIX only; elsewhere a no-op).

    Numba saves a kernel by reading its function's cache index, adding the new signature and
    rewriting it: two processes saving different signatures of one function at the same moment
    could lose one (it is then compiled again where it is next needed) or pick the same data
    file.  The window's two compile lanes, and the test processes, each call this first."""
    try:
        import fcntl
    except ImportError:  # Windows: the lanes share no signature, so they cannot collide
        return
    import tempfile
    from pathlib import Path

    from numba.core.caching import IndexDataCacheFile

    save = IndexDataCacheFile.save
    if getattr(save, "serialized", False):
        return
    lock_path = Path(tempfile.gettempdir()) / f"palettelab-numba-cache-{os.getuid()}.lock"

    def locked_save(self, key, data) -> None:
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            save(self, key, data)

    locked_save.serialized = True
    IndexDataCacheFile.save = locked_save


#: groups compiled or loaded in this process: Numba's dispatchers keep them for its lifetime
_LOADED: set[str] = set()


def run(names: tuple[str, ...] = NAMES, out=sys.stdout) -> None:
    """Compile (or load) the named groups in the order given; after each, print
    ``group NAME SECONDS KERNELS`` (kernel signatures in this process so far) and flush.

    A group this process already has is not run again (each new window's workers ask for
    every group; running one means quantizing the sample image several times)."""
    compile_groups = dict(GROUPS)
    for name in names:
        start = time.perf_counter()
        if name not in _LOADED:
            compile_groups[name]()
            _LOADED.add(name)
        print(f"group {name}\t{time.perf_counter() - start:.2f}\t{compiled_kernels()}",
              file=out, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m palettelab.core.kernel_warmup [--background] [GROUP ...]``: every group by
    default; ``--background`` (the window's children) lowers this process's priority by
    :data:`BACKGROUND_NICE` first, so that compiling never takes a core from the window."""
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["--background"]:
        args.pop(0)
        _lower_priority()
    names = tuple(args) or NAMES
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        print(f"unknown kernel group(s): {', '.join(unknown)}; known: {', '.join(NAMES)}",
              file=sys.stderr)
        return 2
    serialize_cache_saves()
    run(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())

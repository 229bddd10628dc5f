"""Colour quantization: the best palette of N colours for an image, and the image remapped to it.

The pipeline, one small step each (see docs/DESIGN.md, "Data flow"):

1. **distinct colours** of the visible pixels, with counts and a code -> row table
   (:mod:`palettelab.core.quantization.histogram`); fully transparent pixels take no part.
2. **colour space**: the distinct colours converted once to the clustering space
   (:mod:`palettelab.core.color.spaces`; OKLab by default, where equal distances look equally
   different).
3. **bins**: photos have up to millions of distinct colours, so they are grouped into 6-bit bins
   carrying the exact mean (in the clustering space) and pixel count of their colours.
4. **starts**: ``n_init`` k-means++ starts on coarser (5-bit) bins; the lowest inertia wins,
   is improved there by swap moves (a centre that is barely needed is moved to where the
   error is largest) while that lowers the inertia, and descends on the 6-bit bins.
5. **polish**: the winner is refined by a few Lloyd iterations on the exact distinct colours,
   which recovers what binning blurred.
6. **palette**: centres to sRGB uint8; locked colours put back exactly; a duplicate or unused
   entry (rounding can create them) is replaced by the worst-served colour, so the palette has
   exactly ``n_colors`` different, used colours whenever the image has that many.
7. **sort** by pixel share, most used first, and **remap** every pixel in one parallel table
   lookup, or **dither** (Floyd-Steinberg or ordered) with palette colours only.

Locked colours are centres that never move: the free centres are seeded around them (k-means++
continued from the locked set) and adapt while they stay put.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from palettelab.core.checks import check_int, check_random_state
from palettelab.core.clustering.kmeans import KMeans, assign, kmeans_plusplus, update
from palettelab.core.color.codes import color_codes, parse_color
from palettelab.core.color.spaces import from_srgb, to_srgb8
from palettelab.core.errors import InputError
from palettelab.core.quantization import _quantize_kernels as qk
from palettelab.core.quantization import _remap_kernels as _remap
from palettelab.core.quantization import alpha, compact
from palettelab.core.quantization.histogram import (
    TABLES,
    DistinctColors,
    bin_rows,
    coarser_keys,
    distinct_colors,
    group_means,
    renumber,
)

SPACES = ("oklab", "lab", "rgb")
DITHERS = ("none", "fs", "bayer")
MAX_COLORS = 256

#: below this many distinct colours k-means runs on them directly, without binning
_EXACT_LIMIT = 1 << 15
_BIN_BITS = 6
_START_MAX_ITER = 30
_REFINE_MAX_ITER = 300
_SWAP_TRIALS = 4
_SWAP_MAX_ITER = 15
_POLISH_MAX_ITER = 100
_TOL = 1e-4
#: k-means++ starts by default.  Two left one of bench_batch.py's 40 web-sized files 0.05 dB
#: of PSNR below pngquant (27.58 against 27.63 dB, ``--space rgb``); three put every file at
#: or above it (worst margin +0.07 dB, mean +0.27) for about 35 ms more on a 0.27 MP photo:
#: the starts run on coarse bins, so the cost does not grow with the pixels.  Four gained
#: 0.004 dB more on average.
DEFAULT_STARTS = 3


@dataclass(frozen=True)
class Progress:
    """What ``quantize`` reports while it runs, for live views.

    ``stage``: "histogram", "clustering", "polishing" or "remapping"; ``fraction`` of the whole
    run done (0..1); ``palette``: the current centres as sRGB uint8 (unsorted) while clustering
    and polishing, else None; ``iteration`` within the stage; ``inertia`` of the current step
    (in the clustering space) or None.
    """

    stage: str
    fraction: float
    palette: np.ndarray | None = None
    iteration: int = 0
    inertia: float | None = None


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Quantized:
    """A quantized image: ``palette`` (k, 3) uint8 sRGB, most used first; ``indices`` (H, W)
    uint8; ``counts`` (k,) pixels per entry (fully transparent pixels not counted); ``alpha``
    (H, W) uint8 when the input had an alpha channel, else None; ``palette_alpha`` (k,) uint8
    when the palette's entries carry alpha (an input with soft transparency, see
    :mod:`palettelab.core.quantization.alpha`; then ``alpha`` is ``palette_alpha[indices]``),
    else None."""

    palette: np.ndarray
    indices: np.ndarray
    counts: np.ndarray
    alpha: np.ndarray | None
    space: str
    palette_alpha: np.ndarray | None = None

    def image(self) -> np.ndarray:
        """The recoloured image: same shape and channels as the input."""
        rgb = self.palette[self.indices]
        if self.alpha is None:
            return rgb
        return np.concatenate([rgb, self.alpha[..., None]], axis=2)


# ---------------------------------------------------------------------------------------------
# validation


def _check_image(image) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] not in (3, 4):
        raise InputError(f"image must be an (H, W, 3) or (H, W, 4) uint8 array, "
                         f"got shape {img.shape} dtype {img.dtype}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise InputError(f"image is empty ({img.shape[1]} x {img.shape[0]} pixels)")
    return np.ascontiguousarray(img)


def _check_choice(value, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _check_strength(strength) -> float:
    try:
        value = float(strength)
    except (TypeError, ValueError):
        raise InputError(f"dither_strength must be a number, got {strength!r}") from None
    if not 0.0 <= value <= 1.0:
        raise InputError(f"dither_strength must be between 0 and 1, got {strength!r}")
    return value


def _check_locked(locked: Iterable | None, n_colors: int) -> np.ndarray:
    """Locked colours as a (j, 3) uint8 array, duplicates dropped, order kept; None is none."""
    if locked is None:
        locked = ()
    if isinstance(locked, str):
        locked = [part for part in locked.split(",") if part.strip()]
    try:
        given = list(locked)
    except TypeError:
        raise InputError(f"locked must be colours (hex strings or RGB triples), "
                         f"got {locked!r}") from None
    colours = list(dict.fromkeys(parse_color(c) for c in given))
    if len(colours) > n_colors:
        raise InputError(f"{len(colours)} locked colours do not fit in a palette of "
                         f"{n_colors}")
    return np.array(colours, dtype=np.uint8).reshape(-1, 3)


def _check_palette(palette) -> np.ndarray:
    pal = np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != 3 or pal.shape[0] < 1:
        raise InputError(f"palette must have shape (k, 3) with k >= 1, got {pal.shape}")
    if pal.shape[0] > MAX_COLORS:
        raise InputError(f"palette has {pal.shape[0]} colours; at most {MAX_COLORS} are "
                         f"supported")
    if pal.dtype.kind not in "iu" or pal.min() < 0 or pal.max() > 255:
        raise InputError("palette colours must be integers in 0..255")
    return pal.astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# steps


@dataclass(frozen=True)
class _Colours:
    """The visible pixels' distinct colours, in sRGB and in the clustering space."""

    distinct: DistinctColors
    values: np.ndarray  # (m, 3) float64 in the clustering space
    weights: np.ndarray  # (m,) float64 pixel counts
    rows: np.ndarray | None = None  # row of each visible pixel (small images), else None


def _visible_colours(img: np.ndarray, space: str, tables) -> _Colours:
    if img.shape[2] == 4:
        visible = img[img[..., 3] > 0][:, :3]
        if visible.shape[0] == 0:
            raise InputError("the image is fully transparent: there are no colours to keep")
    else:
        visible = img.reshape(-1, 3)
    rows = None
    if visible.shape[0] <= compact.SMALL_PIXELS:
        distinct, rows = compact.distinct_sorted(visible)
    else:
        distinct = distinct_colors(visible, tables)
    return _Colours(distinct, from_srgb(distinct.colors, space),
                    distinct.counts.astype(np.float64), rows)


def _tables(img: np.ndarray):
    """The code tables for an image too big for the sorting path (:mod:`.compact`), else
    nothing: a web-sized image never touches the 64 MB table."""
    if img.shape[0] * img.shape[1] <= compact.SMALL_PIXELS:
        return contextlib.nullcontext()
    return TABLES.lend()


@dataclass(frozen=True)
class _Bins:
    """Distinct colours grouped in bins, with what exact bin-level passes need (see
    :mod:`palettelab.core.quantization._quantize_kernels`)."""

    keys: np.ndarray  # (n_bins,) bin key (``_BIN_BITS`` per channel)
    start: np.ndarray  # (n_bins + 1,) offsets into members
    members: np.ndarray  # (m,) colour rows ordered by bin
    means: np.ndarray  # (n_bins, 3) weighted mean in the clustering space
    wsum: np.ndarray  # (n_bins,) pixels
    radius: np.ndarray  # (n_bins,) farthest colour from the mean
    scatter: np.ndarray  # (n_bins,) weighted squared distances about the mean

    @property
    def chunk(self) -> int:
        return 256


def _bins(colours: _Colours) -> _Bins:
    row_bin, keys = bin_rows(colours.distinct.colors, _BIN_BITS)
    n_bins = keys.size
    start, members = qk.order_by_bin(row_bin, n_bins)
    means = np.empty((n_bins, 3))
    wsum, radius, scatter = np.empty(n_bins), np.empty(n_bins), np.empty(n_bins)
    qk.bin_geometry(colours.values, colours.weights, start, members, means, wsum, radius,
                    scatter)
    return _Bins(keys, start, members, means, wsum, radius, scatter)


def _tolerance(bins: _Bins) -> float:
    """scikit-learn's ``tol`` scale: ``_TOL`` times the mean per-feature variance of the pixels."""
    total = bins.wsum.sum()
    mu = (bins.means * bins.wsum[:, None]).sum(axis=0) / total
    spread = bins.scatter.sum() + (bins.wsum * ((bins.means - mu) ** 2).sum(axis=1)).sum()
    return _TOL * float(spread / total / 3.0)


def _coarse(colours: _Colours, bins: _Bins) -> tuple[np.ndarray, np.ndarray]:
    """The rows the starts cluster: the distinct colours, or coarser bins when there are many.

    The starts only have to find a good basin, which the polish then descends exactly, so
    they run on bins one bit coarser than the polish's (measured here: several times faster
    than on 6-bit bins for the same final PSNR).
    """
    if colours.values.shape[0] <= _EXACT_LIMIT:
        return colours.values, colours.weights
    rows, keys = renumber(coarser_keys(bins.keys, _BIN_BITS, 1), _BIN_BITS - 1)
    return group_means(rows, bins.means, bins.wsum, keys.size)


def _exact_pass(colours: _Colours, bins: _Bins, C: np.ndarray, labels: np.ndarray):
    """One exact E-step over every distinct colour; returns (sums, weights, inertia, changed)."""
    n_chunks = (bins.wsum.shape[0] + bins.chunk - 1) // bins.chunk
    k = C.shape[0]
    sums, wsums = np.empty((n_chunks, k, 3)), np.empty((n_chunks, k))
    inertia, changed = np.empty(n_chunks), np.empty(n_chunks, dtype=np.int64)
    qk.lloyd_pass(colours.values, colours.weights, bins.start, bins.members, bins.means,
                  bins.wsum, bins.radius, bins.scatter, np.ascontiguousarray(C), labels,
                  sums, wsums, inertia, changed, bins.chunk)
    return sums.sum(axis=0), wsums.sum(axis=0), float(inertia.sum()), int(changed.sum())


class _Reporter:
    """Turns the pipeline's steps into :class:`Progress` reports; a no-op without a callback."""

    def __init__(self, progress: ProgressCallback | None, space: str):
        self.progress = progress
        self.space = space

    def __call__(self, stage: str, fraction: float, centers=None, iteration: int = 0,
                 inertia: float | None = None) -> None:
        if self.progress is not None:
            palette = None if centers is None else to_srgb8(centers, self.space)
            self.progress(Progress(stage, float(fraction), palette, iteration, inertia))

    def iterations(self, stage: str, lo: float, hi: float, expected: int = 30):
        """A per-iteration callback ``(centers, iteration, inertia)`` moving from lo to hi, or
        None when nobody listens (so k-means can skip per-iteration work)."""
        if self.progress is None:
            return None
        return lambda C, it, inertia: self(stage, lo + (hi - lo) * min(it, expected) / expected,
                                           C, it, inertia)


def _lloyd_with_fixed(X, w, C, n_fixed, max_iter, tol_abs, on_step):
    """Lloyd iterations in which the first ``n_fixed`` centres never move.

    Returns (centers, inertia, n_iter).  The accelerated engines do not support fixed centres;
    this path only runs when colours are locked.
    """
    fixed = C[:n_fixed].copy()
    labels, sq = assign(X, C)
    for it in range(1, max_iter + 1):
        new = update(X, labels, C.shape[0], sample_weight=w, old_centers=C)
        new[:n_fixed] = fixed
        shift = float(((new - C) ** 2).sum())
        C = new
        new_labels, sq = assign(X, C)
        changed = bool((new_labels != labels).any())
        labels = new_labels
        if on_step is not None:
            on_step(C, it, float((w * sq).sum()))
        if not changed or shift <= tol_abs:
            break
    return C, float((w * sq).sum()), it


def _kmeans(X, w, C0, n_fixed, max_iter, on_step):
    """Iterate k-means from ``C0`` (first ``n_fixed`` centres locked); (centers, inertia, it)."""
    if n_fixed:
        tol_abs = _TOL * float(np.average((X - np.average(X, axis=0, weights=w)) ** 2,
                                          axis=0, weights=w).mean())
        return _lloyd_with_fixed(X, w, C0, n_fixed, max_iter, tol_abs, on_step)
    km = KMeans(C0.shape[0], init=C0, max_iter=max_iter, tol=_TOL)
    if on_step is None:  # fit skips the per-iteration inertia and copies of steps()
        km.fit(X, sample_weight=w)
    else:
        for step in km.steps(X, sample_weight=w):
            on_step(step.centers, step.iteration, step.inertia)
    return km.cluster_centers_, km.inertia_, km.n_iter_


def _starts(X, w, k, locked_values, n_init, rng, report: _Reporter):
    """Run ``n_init`` k-means++ starts on the rows X; (centres, inertia) of each, best first.

    Each start has its own stream, ``rng.spawn``: for an integer seed these are the streams of
    ``SeedSequence(seed).spawn`` that quantize used before it took Generators too.
    """
    results = []
    streams = rng.spawn(n_init)
    for s in range(n_init):
        C0 = kmeans_plusplus(X, k, sample_weight=w, fixed=locked_values,
                             random_state=streams[s])
        on_step = report.iterations("clustering", 0.05 + 0.45 * s / n_init,
                                    0.05 + 0.45 * (s + 1) / n_init, _START_MAX_ITER)
        C, inertia, _ = _kmeans(X, w, C0, len(locked_values), _START_MAX_ITER, on_step)
        results.append((C, inertia))
    return sorted(results, key=lambda r: r[1])


def _swap_improve(X, w, C, inertia, n_fixed, report: _Reporter):
    """Escape a poor local optimum by moving one centre to where it is needed most.

    k-means cannot move a centre across the data, so a start that put two centres on one
    colour and none on another stays there.  Each trial takes the centre whose removal costs
    least (its rows' extra distance to their second-nearest centre) to the row with the
    largest weighted error in the cluster with the largest error, and descends again (at most
    ``_SWAP_MAX_ITER`` iterations: the polish finishes the descent); it is kept if the inertia
    drops, and trials stop at the first that does not help.  Locked centres stay.
    """
    k = C.shape[0]
    for trial in range(_SWAP_TRIALS):
        labels, d1, d2 = qk.two_nearest(X, C)
        removal = np.bincount(labels, w * (d2 - d1), k)
        error = np.bincount(labels, w * d1, k)
        target = int(np.argmax(error))
        sources = [j for j in np.argsort(removal, kind="stable").tolist()
                   if j >= n_fixed and j != target]
        if not sources:
            break
        rows = np.flatnonzero(labels == target)
        trial_C = C.copy()
        trial_C[sources[0]] = X[rows[np.argmax(w[rows] * d1[rows])]]
        on_step = report.iterations("improving", 0.55 + 0.15 * trial / _SWAP_TRIALS,
                                    0.55 + 0.15 * (trial + 1) / _SWAP_TRIALS)
        new_C, new_inertia, _ = _kmeans(X, w, trial_C, n_fixed, _SWAP_MAX_ITER, on_step)
        if not new_inertia < inertia * (1.0 - 1e-9):
            break
        C, inertia = new_C, new_inertia
    return C


def _best_start(colours: _Colours, bins: _Bins, k, locked_values, n_init, rng,
                report: _Reporter) -> np.ndarray:
    """The best of the starts, descended on the 6-bit bins (when the starts ran coarser) and
    improved by swaps there; the polish then finishes on the exact colours.

    Measured on the 12 MP benchmark image: swaps on the 5-bit bins are cheaper but left
    0.01-0.015 dB of PSNR behind, from which start to start the result varied more.
    """
    X, w = _coarse(colours, bins)
    n_fixed = len(locked_values)
    C, inertia = _starts(X, w, k, locked_values, n_init, rng, report)[0]
    if X is not colours.values:
        X, w = bins.means, bins.wsum
        C, inertia, _ = _kmeans(X, w, C, n_fixed, _REFINE_MAX_ITER,
                                report.iterations("refining", 0.5, 0.55))
    C = _swap_improve(X, w, C, inertia, n_fixed, report)
    # the swaps' descents stop early; finishing on the bins is far cheaper than on the exact
    # colours (RGB on the 12 MP benchmark image: 8 exact passes became 1)
    return _kmeans(X, w, C, n_fixed, _REFINE_MAX_ITER, report.iterations("improving", 0.7, 0.7))[0]


def _polish(colours: _Colours, bins: _Bins, C, n_fixed, report: _Reporter):
    """Lloyd iterations on the exact distinct colours from C; the first n_fixed stay put."""
    labels = np.full(colours.values.shape[0], -1, dtype=np.int32)
    tol_abs = _tolerance(bins)
    for it in range(1, _POLISH_MAX_ITER + 1):
        sums, wsums, inertia, changed = _exact_pass(colours, bins, C, labels)
        new = C.copy()
        used = wsums > 0
        new[used] = sums[used] / wsums[used, None]
        new[:n_fixed] = C[:n_fixed]
        shift = float(((new - C) ** 2).sum())
        report("polishing", 0.7 + 0.2 * min(it, 10) / 10, new, it, inertia)
        C = new
        if changed == 0 or shift <= tol_abs:
            break
    # free entries in the order of their (approximate) share, so that the final sort by share
    # rarely has to reorder, and so re-assign, anything (see _by_share)
    order = n_fixed + np.argsort(-wsums[n_fixed:], kind="stable")
    return np.concatenate([C[:n_fixed], C[order]])


def _assign_colours(colours: _Colours, bins: _Bins, palette: np.ndarray, space: str):
    """Nearest palette entry of each distinct colour; (labels, pixels per entry)."""
    labels = np.full(colours.values.shape[0], -1, dtype=np.int32)
    _sums, wsums, _inertia, _changed = _exact_pass(colours, bins, from_srgb(palette, space),
                                                  labels)
    return labels, wsums


def _repair(palette: np.ndarray, n_fixed: int, colours: _Colours, bins: _Bins, space: str):
    """Replace duplicate or unused free entries with the worst-served distinct colours.

    Rounding centres to uint8 can merge two entries or leave one nearest to no colour; the
    image has at least ``len(palette)`` distinct colours here, so a palette of that many
    different, used colours exists.  Each replacement is an image colour, so it is used.
    Returns (palette, labels of the distinct colours, pixels per entry).
    """
    palette = palette.copy()
    for _ in range(4):
        labels, counts = _assign_colours(colours, bins, palette, space)
        codes = color_codes(palette)
        _, first = np.unique(codes, return_index=True)
        duplicate = np.ones(len(palette), dtype=bool)
        duplicate[first] = False
        bad = np.flatnonzero((duplicate | (counts == 0)) & (np.arange(len(palette)) >= n_fixed))
        if bad.size == 0:
            break
        sq = assign(colours.values, from_srgb(palette, space))[1]
        taken = set(codes.tolist())
        worst = np.argsort(-(sq * colours.weights), kind="stable")
        cand = (c for c in worst if int(color_codes(colours.distinct.colors[c])) not in taken)
        for j, c in zip(bad, cand, strict=False):
            palette[j] = colours.distinct.colors[c]
    return palette, labels, counts


def _by_share(colours: _Colours, bins: _Bins, palette, labels, counts, space: str):
    """The palette sorted by pixel share, most used first, with its labels and counts.

    Labels are re-assigned after a reorder rather than permuted: a colour exactly halfway
    between two entries (integer ties are common in rgb) must go to the one listed first.
    """
    for _ in range(4):
        order = np.argsort(-counts, kind="stable")
        if (order == np.arange(order.size)).all():
            break
        palette = palette[order]
        labels, counts = _assign_colours(colours, bins, palette, space)
    return palette, labels, counts


def _small_palette(colours: _Colours, locked: np.ndarray, n_colors: int) -> np.ndarray | None:
    """The exact palette when the image (with the locked colours) has at most n_colors."""
    if colours.values.shape[0] > n_colors:
        return None
    merged = list(dict.fromkeys([*map(tuple, locked.tolist()),
                                 *map(tuple, colours.distinct.colors.tolist())]))
    if len(merged) > n_colors:
        return None
    return np.array(merged, dtype=np.uint8)


def _indices(img, colours: _Colours, palette, labels, space, dither, strength) -> np.ndarray:
    if dither == "none":
        if colours.rows is not None:
            return compact.gather(img, colours.rows, labels)
        return _remap.lookup(img, colours.distinct.colors, labels)
    pal_values = from_srgb(palette, space)
    table = colours.distinct.table
    if colours.rows is not None:
        table = compact.code_table(colours.distinct.colors)
    if dither == "fs":
        return _remap.floyd_steinberg(img, table, colours.values, pal_values, strength)
    lightness = pal_values[:, 0] if space != "rgb" else palette @ np.array([0.2126, 0.7152,
                                                                           0.0722])
    return _remap.ordered(img, table, colours.values, pal_values, strength, lightness)


def _result(img, colours, palette, labels, counts, space, dither, strength,
            report: _Reporter) -> Quantized:
    """Remap or dither every pixel to the palette."""
    report("remapping", 0.92)
    indices = _indices(img, colours, palette, labels, space, dither, strength)
    alpha = img[..., 3].copy() if img.shape[2] == 4 else None
    if dither != "none":
        visible = indices if alpha is None else indices[alpha > 0]
        counts = np.bincount(visible.ravel(), minlength=palette.shape[0])
    report("remapping", 1.0)
    return Quantized(palette=palette, indices=indices, counts=counts.astype(np.int64),
                     alpha=alpha, space=space)


# ---------------------------------------------------------------------------------------------
# public


def quantize(image, n_colors: int = 16, *, space: str = "oklab", dither: str = "none",
             dither_strength: float = 1.0, locked: Iterable | None = (), random_state=0,
             progress: ProgressCallback | None = None,
             n_init: int = DEFAULT_STARTS, init=None, sample_weight=None) -> Quantized:
    """Reduce ``image`` ((H, W, 3|4) uint8 sRGB) to a palette of ``n_colors`` colours.

    An image whose alpha has levels between 0 and 255 gets a palette with alpha
    (``Quantized.palette_alpha``, see :mod:`palettelab.core.quantization.alpha`) unless it is
    dithered or the palette has no room for a transparent entry beside the locked colours and
    one more: then each pixel keeps its alpha, with a palette of opaque colours.

    ``space``: where colour differences are measured ("oklab", "lab" or "rgb"; "rgb"
    maximises PSNR).  ``dither``: "none", "fs" (Floyd-Steinberg, scaled by
    ``dither_strength``) or "bayer".  ``locked``: colours (hex strings or RGB triples) that
    must appear unchanged in the palette (None: none).  ``random_state``: None, an integer
    in [0, 2**32) or a numpy Generator (see
    :func:`~palettelab.core.checks.check_random_state`).  ``n_init``: k-means++ starts on
    the histogram.  ``init``: ``n_colors`` colours ((k, 3) 0..255) to converge from instead of
    the starts (a palette after one colour was deleted or two merged; locked colours among
    them stay put); not used with soft transparency.  ``sample_weight``: (H, W) importance of
    each pixel (>= 0; an importance map: a face, a logo), by which its colour counts in the
    histogram; ``counts`` stay pixels.  ``progress`` is called with
    :class:`Progress` as the run goes; an exception it raises (e.g. to cancel) propagates out
    of ``quantize``.
    """
    img = _check_image(image)
    k = check_int(n_colors, "n_colors", low=1, high=MAX_COLORS)
    space = _check_choice(space, SPACES, "space")
    dither = _check_choice(dither, DITHERS, "dither")
    strength = _check_strength(dither_strength)
    locked_rgb = _check_locked(locked, k)
    n_init = check_int(n_init, "n_init", low=1)
    rng = check_random_state(random_state)
    start = None if init is None else _check_init(init, k, locked_rgb)
    weight = None if sample_weight is None else _check_weight(sample_weight, img)

    if dither == "none" and k >= len(locked_rgb) + 2 and alpha.has_soft_alpha(img):
        report = _AlphaReporter(progress, space)
        report("histogram", 0.0)
        return _quantize_rgba(img, k, space, locked_rgb, int(n_init), rng, report, weight)
    report = _Reporter(progress, space)
    report("histogram", 0.0)
    with _tables(img) as tables:
        colours = _visible_colours(img, space, tables)
        if weight is not None:
            colours = _weighted(colours, img, weight)
        palette, labels, counts = _fit_palette(colours, k, locked_rgb, int(n_init), rng, space,
                                               report, start)
        if weight is not None:  # pixels per entry, not importance
            counts = np.bincount(labels, colours.distinct.counts, palette.shape[0])
        q = _result(img, colours, palette, labels, counts, space, dither, strength, report)
    return q if weight is None else reorder(q, "share")


class _AlphaReporter(_Reporter):
    """Reports of a run on premultiplied RGBA rows: the centres shown are their colours."""

    def __call__(self, stage: str, fraction: float, centers=None, iteration: int = 0,
                 inertia: float | None = None) -> None:
        if centers is not None and self.progress is not None:
            centers = alpha.colours_of(centers, self.space)
        super().__call__(stage, fraction, centers, iteration, inertia)


def _rgba_palette(colours: alpha.RGBAColours, X, w, k: int, locked_rgb: np.ndarray,
                  n_init: int, rng, space: str, report: _Reporter
                  ) -> tuple[np.ndarray, np.ndarray]:
    """k entries with alpha for the distinct RGBA colours: locked colours first (opaque), then
    one fully transparent entry when the image has clear pixels and there is room."""
    fixed = np.column_stack([locked_rgb, np.full(len(locked_rgb), 255)]).astype(np.uint8)
    if colours.clear and len(fixed) < k:
        fixed = np.vstack([fixed, np.zeros((1, 4), dtype=np.uint8)])
    merged = np.unique(np.vstack([fixed, colours.rgba]), axis=0)
    if merged.shape[0] <= k:
        return merged[:, :3].copy(), merged[:, 3].copy()
    fixed_rows = alpha.features(fixed, space)
    C = _starts(X, w, k, fixed_rows, n_init, rng, report)[0][0]
    C = _kmeans(X, w, C, len(fixed), _REFINE_MAX_ITER, report.iterations("refining", 0.5, 0.9))[0]
    rgb, levels = alpha.decode(C, space)
    rgb[: len(fixed)], levels[: len(fixed)] = fixed[:, :3], fixed[:, 3]
    return rgb, levels


def _quantize_rgba(img: np.ndarray, k: int, space: str, locked_rgb: np.ndarray, n_init: int,
                   rng, report: _Reporter, weight: np.ndarray | None) -> Quantized:
    """Quantize an image with soft transparency to a palette with alpha, most used first."""
    colours = alpha.distinct_rgba(img)
    if colours.rgba.shape[0] == 1 and colours.clear:
        raise InputError("the image is fully transparent: there are no colours to keep")
    X = alpha.features(colours.rgba, space)
    w = colours.counts.astype(np.float64)
    if weight is not None:
        w = np.maximum(np.bincount(colours.inverse, weight.ravel(), w.size), _MIN_WEIGHT * w)
    rgb, levels = _rgba_palette(colours, X, w, k, locked_rgb, n_init, rng, space, report)
    report("remapping", 0.92)
    visible = colours.rgba[:, 3] > 0
    counts = np.bincount(alpha.nearest(colours, X, rgb, levels, space)[visible],
                         weights=colours.counts[visible], minlength=rgb.shape[0])
    order = np.argsort(-counts, kind="stable")
    rgb, levels, counts = rgb[order], levels[order], counts[order]
    labels = alpha.nearest(colours, X, rgb, levels, space)  # ties go to the entry listed first
    indices = labels.astype(np.uint8)[colours.inverse].reshape(img.shape[:2])
    report("remapping", 1.0)
    return Quantized(palette=rgb, indices=indices, counts=counts.astype(np.int64),
                     alpha=levels[indices], space=space, palette_alpha=levels)


#: the least a colour weighs, per pixel, under an importance map: a colour painted as
#: unimportant still counts a little, so k-means never loses sight of it altogether
_MIN_WEIGHT = 1e-3


def _check_weight(sample_weight, img: np.ndarray) -> np.ndarray:
    """``sample_weight`` as (H, W) float64, finite and >= 0, with weight on a visible pixel."""
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("sample_weight must be an (H, W) array of numbers") from None
    if weight.shape != img.shape[:2]:
        raise InputError(f"sample_weight must have the image's shape {img.shape[:2]}, got "
                         f"{weight.shape}")
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise InputError("sample_weight must be finite and >= 0")
    visible = weight if img.shape[2] == 3 else weight[img[..., 3] > 0]
    if not visible.any():
        raise InputError("sample_weight is 0 on every visible pixel: nothing would count")
    return weight


def _weighted(colours: _Colours, img: np.ndarray, weight: np.ndarray) -> _Colours:
    """``colours`` weighted by the importance of their pixels instead of counted."""
    if img.shape[2] == 4:
        visible = img[..., 3] > 0
        pixels, weight = img[visible][:, :3], weight[visible]
    else:
        pixels, weight = img.reshape(-1, 3), weight.ravel()
    rows = colours.rows if colours.rows is not None \
        else colours.distinct.table[color_codes(pixels)]
    m = colours.values.shape[0]
    weights = np.maximum(np.bincount(rows, weight, m),
                         _MIN_WEIGHT * colours.distinct.counts)
    return _Colours(colours.distinct, colours.values, weights, colours.rows)


def _check_init(init, k: int, locked_rgb: np.ndarray) -> np.ndarray:
    """``init`` as k colours with the locked ones first (the order the centres need)."""
    start = _check_palette(init)
    if start.shape[0] != k:
        raise InputError(f"init must have n_colors ({k}) colours, got {start.shape[0]}")
    locked = {tuple(c) for c in locked_rgb.tolist()}
    free = [c for c in start.tolist() if tuple(c) not in locked]
    ordered = np.array([*locked_rgb.tolist(), *free], dtype=np.uint8).reshape(-1, 3)
    if ordered.shape[0] != k:
        raise InputError(f"init must hold every locked colour once among its {k} colours")
    return ordered


def _converge(colours: _Colours, bins: _Bins, start: np.ndarray, n_fixed: int, space: str,
              report: _Reporter) -> np.ndarray:
    """k-means from the given colours on the bins (or the colours when few), not from starts."""
    X, w = _coarse(colours, bins) if colours.values.shape[0] <= _EXACT_LIMIT \
        else (bins.means, bins.wsum)
    return _kmeans(X, w, from_srgb(start, space), n_fixed, _REFINE_MAX_ITER,
                   report.iterations("refining", 0.1, 0.7))[0]


def _fit_palette(colours: _Colours, k: int, locked_rgb: np.ndarray, n_init: int, rng,
                 space: str, report: _Reporter, start: np.ndarray | None = None):
    """The palette of ``k`` colours for weighted distinct colours, sorted by share; with the
    labels of the colours and the pixels per entry.  ``start``: k colours (locked first) to
    converge from instead of the k-means++ starts."""
    bins = _bins(colours)
    palette = _small_palette(colours, locked_rgb, k)
    if palette is None:
        locked_values = from_srgb(locked_rgb, space)
        if start is not None:
            C = _converge(colours, bins, start, len(locked_rgb), space, report)
        else:
            C = _best_start(colours, bins, k, locked_values, n_init, rng, report)
        C = _polish(colours, bins, C, len(locked_rgb), report)
        palette = to_srgb8(C, space)
        palette[: len(locked_rgb)] = locked_rgb
        palette, labels, counts = _repair(palette, len(locked_rgb), colours, bins, space)
    else:
        labels, counts = _assign_colours(colours, bins, palette, space)
    return _by_share(colours, bins, palette, labels, counts, space)


def shared_palette(images: Iterable, n_colors: int = 16, *, space: str = "oklab",
                   locked: Iterable | None = (), random_state=0,
                   n_init: int = DEFAULT_STARTS) -> tuple[np.ndarray, np.ndarray]:
    """One palette for several images (a sprite set, an animation's frames): the palette
    :func:`quantize` would make for their combined weighted histogram, as if the images were
    one.  Returns (palette (k, 3) uint8 most used first, pixels per entry over all images);
    :func:`remap` then maps each image to it.  The images may differ in size and channels.

    The histograms are merged, not the pixels: each image is reduced to its distinct colours
    first, so the memory held grows with the colours, not the pixels of the set.
    """
    k = check_int(n_colors, "n_colors", low=1, high=MAX_COLORS)
    space = _check_choice(space, SPACES, "space")
    locked_rgb = _check_locked(locked, k)
    n_init = check_int(n_init, "n_init", low=1)
    rng = check_random_state(random_state)
    parts = []
    seen = 0
    for image in images:
        img = _check_image(image)
        seen += 1
        if _invisible(img):  # a blank frame, a sprite's empty cell: nothing to count
            continue
        with _tables(img) as tables:
            distinct = _visible_colours(img, "rgb", tables).distinct
            parts.append((distinct.colors.copy(), distinct.counts.copy()))
    if not seen:
        raise InputError("no images to make a shared palette from")
    if not parts:
        raise InputError("every image is fully transparent: there are no colours to keep")
    merged = compact.merge([colors for colors, _ in parts], [counts for _, counts in parts])
    colours = _Colours(merged, from_srgb(merged.colors, space), merged.counts.astype(np.float64))
    palette, _labels, counts = _fit_palette(colours, k, locked_rgb, int(n_init), rng, space,
                                            _Reporter(None, space))
    return palette, counts.astype(np.int64)


def _invisible(img: np.ndarray) -> bool:
    return img.shape[2] == 4 and not img[..., 3].any()


def remap(image, palette, *, space: str = "oklab", dither: str = "none",
          dither_strength: float = 1.0, palette_alpha=None) -> Quantized:
    """Map ``image`` to a given ``palette`` ((k, 3) 0..255 integers, k <= 256), no k-means.

    The palette keeps its order (entry i of the result is entry i given); ``counts`` may be
    zero for entries no pixel is nearest to.  ``palette_alpha`` ((k,) 0..255): the entries'
    alpha, for an image with an alpha channel (a palette from a soft-alpha ``quantize``, edited
    or reordered): pixels are matched in RGBA as ``quantize`` does, without dithering.  A fully
    transparent image maps to entry 0 with its alpha kept (nothing is visible to match).
    """
    img = _check_image(image)
    pal = _check_palette(palette)
    space = _check_choice(space, SPACES, "space")
    dither = _check_choice(dither, DITHERS, "dither")
    strength = _check_strength(dither_strength)
    if palette_alpha is not None and img.shape[2] == 4:
        return _remap_rgba(img, pal, _check_levels(palette_alpha, pal.shape[0]), space)
    if _invisible(img):
        return Quantized(palette=pal, indices=np.zeros(img.shape[:2], dtype=np.uint8),
                         counts=np.zeros(pal.shape[0], dtype=np.int64),
                         alpha=img[..., 3].copy(), space=space)
    with _tables(img) as tables:
        colours = _visible_colours(img, space, tables)
        labels, counts = _assign_colours(colours, _bins(colours), pal, space)
        return _result(img, colours, pal, labels, counts, space, dither, strength,
                       _Reporter(None, space))


def _check_levels(palette_alpha, k: int) -> np.ndarray:
    levels = np.asarray(palette_alpha)
    if levels.shape != (k,) or not np.issubdtype(levels.dtype, np.integer) \
            or levels.min() < 0 or levels.max() > 255:
        raise InputError(f"palette_alpha must be {k} integers 0..255, got {levels.shape} "
                         f"{levels.dtype}")
    return levels.astype(np.uint8)


def _remap_rgba(img: np.ndarray, palette: np.ndarray, levels: np.ndarray,
                space: str) -> Quantized:
    """Map an image with alpha to a palette with alpha, in the rows ``quantize`` clusters."""
    colours = alpha.distinct_rgba(img)
    X = alpha.features(colours.rgba, space)
    labels = alpha.nearest(colours, X, palette, levels, space)
    visible = colours.rgba[:, 3] > 0
    counts = np.bincount(labels[visible], weights=colours.counts[visible],
                         minlength=palette.shape[0]).astype(np.int64)
    indices = labels.astype(np.uint8)[colours.inverse].reshape(img.shape[:2])
    return Quantized(palette=palette, indices=indices, counts=counts, alpha=levels[indices],
                     space=space, palette_alpha=levels)


def reorder(q: Quantized, order: str) -> Quantized:
    """``q`` with its palette in ``order`` ("share", "lightness" or "hue", see
    :func:`palettelab.core.color.ordering.palette_order`); indices follow, pixels unchanged."""
    from palettelab.core.color.ordering import palette_order

    perm = palette_order(q.palette, q.counts, order)
    if (perm == np.arange(perm.size)).all():
        return q
    rank = np.empty(perm.size, dtype=np.uint8)
    rank[perm] = np.arange(perm.size, dtype=np.uint8)
    levels = None if q.palette_alpha is None else q.palette_alpha[perm]
    return Quantized(palette=q.palette[perm], indices=rank[q.indices], counts=q.counts[perm],
                     alpha=q.alpha, space=q.space, palette_alpha=levels)


class Remapper:
    """Recolour one image with many palettes in turn, fast: for live previews.

    The image's distinct colours, their conversion to ``space`` and their bins are computed
    once; each :meth:`image` call is then an exact nearest-entry assignment of those colours
    and one lookup per pixel (no dithering).
    """

    def __init__(self, image, space: str = "oklab"):
        self._img = _check_image(image)
        self._space = _check_choice(space, SPACES, "space")
        colours = _visible_colours(self._img, self._space, None)
        # keep the colours, not their 64 MB code table: the lookup builds its own
        self._colours = _Colours(DistinctColors(colours.distinct.colors, colours.distinct.counts,
                                                np.empty(0, dtype=np.int32)),
                                 colours.values, colours.weights)
        self._bins = _bins(self._colours)

    def image(self, palette) -> np.ndarray:
        """The image recoloured with ``palette`` ((k, 3) uint8, k <= 256), alpha kept."""
        pal = _check_palette(palette)
        labels, _counts = _assign_colours(self._colours, self._bins, pal, self._space)
        rgb = pal[_remap.lookup(self._img, self._colours.distinct.colors, labels)]
        if self._img.shape[2] == 3:
            return rgb
        return np.concatenate([rgb, self._img[..., 3:]], axis=2)


@functools.cache  # once per process: both GUI workers ask for it at start-up
def warm_up() -> None:
    """Compile (or load from the numba cache) every kernel a quantization can use.

    The quantizations below compile the k-means kernels they use; the rest of
    :func:`palettelab.core.clustering.kmeans.warm_up` (other algorithms, float32, the points
    workspace's set) is not needed here.  :mod:`palettelab.core.kernel_warmup` runs this last
    of the image groups, in a child process.
    """
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(200, 200, 4), dtype=np.uint8)  # > _EXACT_LIMIT colours
    img[..., 3] = 255
    img[:4, :4, 3] = 0
    frozen = img.copy(), img[..., :3].copy()  # images from image_read are read-only, and numba
    for array in frozen:  # compiles (or loads) separate versions for read-only arrays
        array.flags.writeable = False
    for space in SPACES:
        quantize(img, 4, space=space, n_init=1)
    for image in (img[..., :3], *frozen):
        quantize(image, 3, locked=["#000000"], dither="fs", n_init=1)
        Remapper(image).image([[0, 0, 0], [255, 255, 255]])
        # big images take the code-table path (small ones sort): load its kernels too
        with TABLES.lend() as tables:
            distinct_colors(image.reshape(-1, image.shape[2])[:, :3], tables)
    remap(img[:8, :8], [[0, 0, 0], [255, 255, 255]], dither="bayer")

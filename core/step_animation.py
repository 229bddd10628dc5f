"""k-means as an animated GIF, one frame per step, for slides (issue 18).

Each frame is one step, both halves at once: the points coloured by the centre they were
assigned to, over -- for 2-D data -- the Voronoi regions of the centres that assigned them (the
E-step), and every centre moved to its points' mean at the end of its trail (the M-step), with
the iteration and the inertia in a corner.  (For higher-dimensional data the plane of the view
cuts the Voronoi cells, so they are not drawn.)
The view keeps equal scales on both axes, so round clusters look round.  Data with more than
two columns is shown in its first two principal components (:mod:`palettelab.core.projection`).

Drawing is Pillow's and numpy's: no plotting library.  At most ``MAX_POINTS`` points are
drawn (a fixed sample), so a frame of a million-point file costs what one of 4,000 does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from palettelab.core.formats.atomic import atomic_write
from palettelab.core.projection import Projection
from palettelab.core.voronoi import nearest_centre

#: the colours of clusters 0, 1, ... (Tableau 20 order: ten strong, then their light partners)
CLUSTER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                   "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78",
                   "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
                   "#dbdb8d", "#9edae5")
#: frame size in pixels (a 4:3 slide's half)
FRAME_SIZE = (640, 480)
#: points drawn at most
MAX_POINTS = 4000
#: how long a frame shows, and the last one (the result)
FRAME_MS, LAST_FRAME_MS = 700, 2000
#: Voronoi cells are computed on a grid this many times coarser than the frame
_CELL = 4
_MARGIN = 0.06


@dataclass(frozen=True)
class Frame:
    """One step to draw: ``centers`` (k, d) after it, ``labels`` (n,) of every point,
    ``iteration`` and ``inertia``."""

    centers: np.ndarray
    labels: np.ndarray
    iteration: int
    inertia: float


def _rgb(code: str) -> np.ndarray:
    return np.array([int(code[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


_COLOURS = np.array([_rgb(c) for c in CLUSTER_COLOURS])


class _Canvas:
    """Data coordinates to pixels, equal scales on both axes."""

    def __init__(self, coords: np.ndarray, size: tuple[int, int]) -> None:
        low, high = coords.min(axis=0), coords.max(axis=0)
        span = np.maximum(high - low, 1e-12)
        width, height = size
        self.scale = min(width * (1 - 2 * _MARGIN) / span[0],
                         height * (1 - 2 * _MARGIN) / span[1])
        self.centre = (low + high) / 2
        self.size = size

    def pixels(self, coords: np.ndarray) -> np.ndarray:
        """(m, 2) data points to (m, 2) float pixel positions (y down)."""
        width, height = self.size
        x = (coords[:, 0] - self.centre[0]) * self.scale + width / 2
        y = height / 2 - (coords[:, 1] - self.centre[1]) * self.scale
        return np.column_stack([x, y])

    def data(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Pixel positions back to data coordinates, (..., 2)."""
        width, height = self.size
        return np.stack([(px - width / 2) / self.scale + self.centre[0],
                         (height / 2 - py) / self.scale + self.centre[1]], axis=-1)


def _voronoi(canvas: _Canvas, centres: np.ndarray) -> np.ndarray:
    """The frame's background: each pixel in a pale tint of its nearest centre's colour."""
    width, height = canvas.size
    px = np.arange(0, width, _CELL) + _CELL / 2
    py = np.arange(0, height, _CELL) + _CELL / 2
    xs = canvas.data(px, np.zeros_like(px))[:, 0]
    ys = canvas.data(np.zeros_like(py), py)[:, 1]
    nearest = nearest_centre(xs, ys, centres) % len(_COLOURS)
    pale = (0.22 * _COLOURS + 0.78 * 255).astype(np.uint8)
    cells = pale[nearest]
    return np.repeat(np.repeat(cells, _CELL, axis=0), _CELL, axis=1)[:height, :width]


def render(X: np.ndarray, frames: Sequence[Frame], projection: Projection, *,
           initial: np.ndarray | None = None, size: tuple[int, int] = FRAME_SIZE,
           seed: int = 0) -> list[np.ndarray]:
    """The pictures ((H, W, 3) uint8 each) of ``frames`` of a run on ``X`` (n, d), seen
    through ``projection``; ``initial`` (k, d): the starting centres, where the trails begin."""
    n = X.shape[0]
    shown = np.sort(np.random.default_rng(seed).choice(n, size=min(n, MAX_POINTS),
                                                       replace=False))
    points = projection.project(X[shown])
    tracks = [projection.project(f.centers) for f in frames]
    if initial is not None:
        tracks.insert(0, projection.project(initial))
    canvas = _Canvas(np.vstack([points, *tracks]), size)
    xy = np.rint(canvas.pixels(points)).astype(int)
    width, height = size
    voronoi = projection.columns is not None and projection.d == 2
    pictures = []
    for index, frame in enumerate(frames):
        if voronoi:  # the cells that made this step's assignment: the centres before it
            before = index if initial is not None else max(index - 1, 0)
            picture = _voronoi(canvas, tracks[before])
        else:
            picture = np.full((height, width, 3), 255, dtype=np.uint8)
        colours = (_COLOURS[frame.labels[shown] % len(_COLOURS)] * 0.85).astype(np.uint8)
        for dx in (0, 1):
            for dy in (0, 1):
                x, y = xy[:, 0] + dx, xy[:, 1] + dy
                inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
                picture[y[inside], x[inside]] = colours[inside]
        image = Image.fromarray(picture)
        _draw_centres(ImageDraw.Draw(image), canvas, tracks[: index + 1 + (initial is not None)])
        _caption(ImageDraw.Draw(image), frame)
        pictures.append(np.asarray(image))
    return pictures


def _draw_centres(draw: ImageDraw.ImageDraw, canvas: _Canvas, track: list[np.ndarray]) -> None:
    """Every centre's trail (each position it took) and its current place."""
    path = np.stack([canvas.pixels(c) for c in track])  # (steps, k, 2)
    for j in range(path.shape[1]):
        colour = tuple(int(v) for v in _COLOURS[j % len(_COLOURS)])
        line = [tuple(p) for p in path[:, j]]
        if len(line) > 1:
            draw.line(line, fill=(40, 40, 40), width=2)
        for x, y in line[:-1]:
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(40, 40, 40))
        x, y = line[-1]
        draw.ellipse((x - 7, y - 7, x + 7, y + 7), fill=colour, outline=(0, 0, 0), width=2)


def _caption(draw: ImageDraw.ImageDraw, frame: Frame) -> None:
    text = f"iteration {frame.iteration}   inertia {frame.inertia:,.1f}"
    left, top, right, bottom = draw.textbbox((10, 8), text)
    draw.rectangle((left - 5, top - 4, right + 5, bottom + 4), fill=(255, 255, 255),
                   outline=(120, 120, 120))
    draw.text((10, 8), text, fill=(0, 0, 0))


def save_gif(path: str | os.PathLike, pictures: Sequence[np.ndarray]) -> None:
    """Write ``pictures`` as a looping GIF (the last frame held longer), atomically."""
    images = [Image.fromarray(p).quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                          dither=Image.Dither.NONE) for p in pictures]
    durations = [FRAME_MS] * (len(images) - 1) + [LAST_FRAME_MS]
    with atomic_write(path, "wb") as handle:
        images[0].save(handle, format="GIF", save_all=True, append_images=images[1:],
                       duration=durations, loop=0)

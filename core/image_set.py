"""Image sets: several images, or an animation's frames, with one shared palette (issue 17).

A sprite sheet's pieces, a product line's photos, a GIF's frames: one palette for all of them
keeps colours consistent from image to image (and from frame to frame: no flicker).  The
palette is the one :func:`~palettelab.core.quantization.pipeline.shared_palette` makes for the
combined histogram; each image is then remapped to it.  Exporting writes the palette file and
every image (an animation as one animated file, its timing kept) in one transaction: all of
them, or none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from palettelab.core.errors import InputError
from palettelab.core.formats.animation import Animation, read_animation, save_animation
from palettelab.core.formats.atomic import atomic_outputs
from palettelab.core.formats.image_read import DEFAULT_MAX_PIXELS, load_image
from palettelab.core.formats.image_write import check_image_path, save_image
from palettelab.core.formats.palettes import write_palette
from palettelab.core.quantization.pipeline import Quantized, remap, shared_palette

#: the most images a set may hold (each is kept in memory, decoded)
MAX_MEMBERS = 256


@dataclass(frozen=True)
class ImageSet:
    """``names`` and ``images`` ((H, W, 3|4) uint8 each); ``animation`` when the set is one
    animated file's frames (its timing, for the preview and the export), else None; ``notes``
    from reading; ``paths``: the files read (an export never writes over them)."""

    names: list[str]
    images: list[np.ndarray]
    animation: Animation | None = None
    notes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """A name for the set: the animation's file, or the first image and how many more."""
        first = Path(self.names[0]).stem
        if self.animation is not None:
            return first.rsplit(" frame", 1)[0]
        return first if len(self.names) == 1 else f"{first}-and-{len(self.names) - 1}-more"


def load_set(paths: Sequence[str | os.PathLike], *,
             max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageSet:
    """Read an image set: one animated GIF, APNG or WebP (its frames), or several images;
    ``max_pixels`` caps the pixels of the whole set (each is held decoded)."""
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise InputError("an image set needs at least one image")
    if len(paths) > MAX_MEMBERS:
        raise InputError(f"{len(paths)} images: an image set holds at most {MAX_MEMBERS}")
    if len(paths) == 1:
        animation = read_animation(paths[0], paths[0], max_pixels=max_pixels)
        if animation is not None:
            stem = Path(paths[0]).stem
            names = [f"{stem} frame {i + 1}" for i in range(len(animation.frames))]
            return ImageSet(names, list(animation.frames), animation, (), (paths[0],))
    stems = [Path(p).stem.lower() for p in paths]
    twins = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twins:
        raise InputError(f"two images of the set are both called {twins[0]!r}: their exports "
                         f"would have one name")
    images, notes, total = [], [], 0
    try:
        for path in paths:
            loaded = load_image(path, max_pixels=max(1, max_pixels - total))
            images.append(loaded.pixels)
            total += loaded.pixels.shape[0] * loaded.pixels.shape[1]
            notes.extend(f"{Path(path).name}: {note}" for note in loaded.notes)
    except MemoryError:
        raise InputError(f"not enough memory for the {len(paths)} images of the set") from None
    return ImageSet([Path(p).name for p in paths], images, None, tuple(notes), tuple(paths))


@dataclass(frozen=True)
class SetResult:
    """The shared ``palette`` ((k, 3) uint8, most used first over the set), pixels per entry
    over the set, and each image remapped to it."""

    palette: np.ndarray
    counts: np.ndarray
    members: list[Quantized]


def quantize_set(images: Iterable[np.ndarray], n_colors: int = 16, *, space: str = "oklab",
                 dither: str = "none", dither_strength: float = 1.0, locked=(),
                 random_state=0, n_init: int = 3, palette=None) -> SetResult:
    """One palette for all ``images`` (or the given ``palette``), and each image remapped."""
    images = list(images)
    if palette is None:
        palette, _ = shared_palette(images, n_colors, space=space, locked=locked,
                                    random_state=random_state, n_init=n_init)
    members = [remap(image, palette, space=space, dither=dither,
                     dither_strength=dither_strength) for image in images]
    counts = np.sum([m.counts for m in members], axis=0).astype(np.int64)
    return SetResult(np.asarray(palette, dtype=np.uint8), counts, members)


def set_shares(image_set: ImageSet) -> list[float]:
    """Each image's share of the set's visible pixels (what it weighs in the palette)."""
    visible = [int((img[..., 3] > 0).sum()) if img.shape[2] == 4 else img.shape[0] * img.shape[1]
               for img in image_set.images]
    total = sum(visible) or 1
    return [v / total for v in visible]


def save_set(folder: str | os.PathLike, image_set: ImageSet, result: SetResult, *,
             image_suffix: str = ".png", palette_suffix: str = ".gpl") -> tuple[list[str],
                                                                              list[str]]:
    """Write the palette and every image into ``folder``, named ``<name>-<k>`` like a single
    export (an animation as one animated file): all or none.  A target that is one of the
    set's own files is refused before anything is written.  Returns (paths written, notes)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    fmt = check_image_path(folder / f"x{image_suffix}")
    k = result.palette.shape[0]
    palette_path = folder / f"{image_set.title}-{k}{palette_suffix}"
    if image_set.animation is not None:
        targets = [folder / f"{image_set.title}-{k}{image_suffix}"]
    else:
        targets = [folder / f"{Path(name).stem}-{k}{image_suffix}" for name in image_set.names]
    sources = {Path(p).resolve() for p in image_set.paths}
    for target in (palette_path, *targets):
        if target.resolve() in sources:
            raise InputError(f"{target}: is one of the set's own images; choose another folder")
    notes: list[str] = []
    with atomic_outputs():
        write_palette(palette_path, result.palette, counts=result.counts,
                      title=image_set.title)
        if image_set.animation is not None:
            notes += save_animation(targets[0], result.members, image_set.animation, fmt)
        else:
            for target, member in zip(targets, result.members, strict=True):
                notes += save_image(target, member)
    return [str(palette_path), *map(str, targets)], notes

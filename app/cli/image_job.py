"""One image through ``palettelab quantize``: read, quantize (or remap), write, summarise.

The single-file command and every file of a batch run this same code, in the main process or
in a worker of the batch's pool, so a file gives the same bytes either way (the core's results
do not depend on the thread count).  Everything here is picklable: a :class:`Settings` and a
:class:`Job` go to a worker, a summary dict and notes come back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported when a job runs, not by ``palettelab --help``
    import numpy as np

from palettelab.core.errors import InputError

#: standard input or output, as named on the command line
STDIO = "-"


@dataclass(frozen=True)
class Settings:
    """What every file of a run is done with: ``k`` colours (None with a ``target``
    palette), or remapped to ``target`` ((k, 3) uint8: --map, or the --shared palette)."""

    k: int | None
    target: np.ndarray | None
    space: str
    dither: str
    strength: float
    lock: str
    seed: int
    per_frame: bool = False
    matte: tuple[int, int, int] | None = None  # --matte: partial alpha flattened onto it
    importance: str | None = None  # --importance MASK: grey levels weight the pixels


@dataclass(frozen=True)
class Job:
    """One input and where it goes.  ``source`` is a path, or ``data`` holds the bytes of
    standard input (then ``source`` is the name shown); ``output`` is a path or ``-`` with
    ``fmt`` (a Pillow format name) for standard output; ``palette`` an optional palette file."""

    source: str
    output: str
    fmt: str | None = None
    palette: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class Done:
    """A finished job: the summary of its result (the single-file ``--json`` object), notes
    for the user, and the encoded image when the output is standard output."""

    summary: dict
    notes: tuple[str, ...]
    encoded: bytes | None = None


def load(job: Job):
    """The job's image (a :class:`~palettelab.core.formats.image_read.LoadedImage`)."""
    from palettelab.core.formats.image_read import load_image, load_image_data

    if job.data is not None:
        return load_image_data(job.data, job.source)
    return load_image(job.source)


def output_format(job: Job) -> str:
    """The Pillow format the job writes."""
    if job.output == STDIO:
        return job.fmt or "PNG"
    from palettelab.core.formats.image_write import check_image_path

    return check_image_path(job.output)


def palette_images(job: Job) -> list[np.ndarray]:
    """What a --shared palette is made from: every frame the job will write."""
    from palettelab.core.formats.animation import ANIMATED_FORMATS, read_animation

    if output_format(job) in ANIMATED_FORMATS:
        animation = read_animation(_source(job), job.source)
        if animation is not None:
            return animation.frames
    return [load(job).pixels]


def _source(job: Job) -> str | bytes:
    return job.data if job.data is not None else job.source


def run(job: Job, settings: Settings) -> Done:
    """Do the job; InputError or OSError for a bad file (nothing written then).  An animated
    input written as GIF, PNG (APNG) or WebP keeps its frames (see :mod:`.animated_job`); any
    other output takes the first frame, and the summary says how many there were."""
    from palettelab.app.cli import animated_job
    from palettelab.core.formats.animation import ANIMATED_FORMATS, frame_count, read_animation
    from palettelab.core.formats.image_write import check_image_size

    started = time.perf_counter()
    fmt = output_format(job)
    if fmt in ANIMATED_FORMATS:
        animation = read_animation(_source(job), job.source)
        if animation is not None:
            return animated_job.run(job, settings, animation, fmt, started)
        frames = 1
    else:
        frames = frame_count(_source(job))
    loaded = load(job)
    notes = [f"{job.source}: {note}" for note in loaded.notes]
    height, width, channels = loaded.pixels.shape
    if job.output != STDIO:
        check_image_size(job.output, height, width, alpha=channels == 4)
    q = quantized(loaded.pixels, settings)
    stored = matted(q, settings)
    encoded = None
    if job.output == STDIO:
        from palettelab.core.formats.image_write import encode_image

        encoded, written = encode_image(stored, job.fmt or "PNG")
    else:
        written = _save(job, stored, q)
    notes.extend(written)
    result = summary(q, settings, started)
    if frames > 1:
        result.update(frames=frames, frames_written=1)
    return Done(result, tuple(notes), encoded)


def quantized(pixels: np.ndarray, settings: Settings):
    """The image quantized (or remapped to the settings' target palette)."""
    from palettelab.core.quantization.pipeline import quantize, remap

    if settings.target is not None:
        return remap(pixels, settings.target, space=settings.space, dither=settings.dither,
                     dither_strength=settings.strength)
    weight = None if settings.importance is None else importance_map(settings.importance,
                                                                         pixels.shape[:2])
    return quantize(pixels, settings.k, space=settings.space, dither=settings.dither,
                    dither_strength=settings.strength, locked=settings.lock,
                    random_state=settings.seed, sample_weight=weight)


def importance_map(path: str, shape: tuple[int, int]) -> np.ndarray:
    """The weights of an importance mask image: its grey levels, 0 (ignore) to 255 (full
    weight), as 0..1; it must be the input's size."""
    import numpy as np

    from palettelab.core.formats.image_read import load_image

    mask = load_image(path).pixels
    grey = mask[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    if grey.shape != shape:
        raise InputError(f"{path}: the importance mask is {grey.shape[1]} x {grey.shape[0]}, "
                         f"the image {shape[1]} x {shape[0]}; they must match")
    if not grey.any():
        raise InputError(f"{path}: the importance mask is black everywhere: nothing would count")
    return grey / 255.0


def matted(q, settings: Settings):
    """What is written: ``q``, or with ``--matte`` its palette's alpha flattened onto the matte
    (entries at least half opaque blended onto it, the others transparent)."""
    if settings.matte is None:
        return q
    from palettelab.core.formats.image_write import flatten

    return flatten(q, settings.matte)


def _save(job: Job, stored, q) -> list[str]:
    """Write the image ``stored`` and the palette file of ``q`` together (both replaced, or
    neither)."""
    from palettelab.app.cli.runtime import raise_if_interrupted
    from palettelab.core.formats.atomic import atomic_outputs
    from palettelab.core.formats.image_write import save_image

    with atomic_outputs():
        notes = save_image(job.output, stored)
        if job.palette is not None:
            from palettelab.core.formats.palettes import write_palette

            write_palette(job.palette, q.palette, counts=q.counts)
        raise_if_interrupted()  # a dropped Ctrl-C still stops the run before the commit
    return notes


def summary(q, settings: Settings, started: float) -> dict:
    """The single-file ``--json`` object (docs/DESIGN.md, "Command line")."""
    from palettelab.core.color.codes import hex_color

    result = {
        "n_colors": int(q.palette.shape[0]),
        "palette": [hex_color(c) for c in q.palette],
        "counts": [int(c) for c in q.counts],
        "space": settings.space,
        "dither": settings.dither,
        "seconds": round(time.perf_counter() - started, 4),
    }
    if getattr(q, "palette_alpha", None) is not None:
        result["alpha"] = [int(a) for a in q.palette_alpha]
    return result

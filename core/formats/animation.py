"""Animated images in and out: GIF, APNG and animated WebP.

:func:`read_animation` returns every frame of an animated file as a whole canvas (Pillow
composes each GIF and APNG frame onto the previous ones as their disposal and blend say; WebP
frames are whole already), with each frame's duration and disposal and the loop count.
:func:`save_animation` writes quantized frames back as GIF, APNG or lossless WebP with that
timing, atomically; :func:`encode_animation` gives the same bytes in memory.

Decisions:

* **Whole frames, disposal kept.**  The frames written are whole canvases, each with its
  source disposal.  That shows the same picture: where a composed frame is transparent, the
  canvas before it was transparent there too under the source's disposal, so keeping it
  reproduces the source (the encoders may then crop each frame to what changed).
* **Disposal** is kept as "none", "background" or "previous" (GIF's 0/1, 2, 3; APNG's 0, 1,
  2); WebP has no per-frame disposal to read or write (libwebp's encoder chooses its own).
* **Pixels**: frames are RGB, or RGBA when any frame has transparency; colour profiles, EXIF
  orientation and 16-bit samples (which :func:`~palettelab.core.formats.image_read.load_image`
  handles for still images) do not occur in these three animated formats as Pillow reads them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from palettelab.core.errors import InputError
from palettelab.core.formats.atomic import atomic_write
from palettelab.core.formats.image_read import DECODE_ERRORS, DEFAULT_MAX_PIXELS
from palettelab.core.formats.image_write import IndexedImage, prepare_image

#: Pillow formats that can hold an animation (PNG as APNG)
ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")
DISPOSALS = ("none", "background", "previous")
_FROM_GIF = {0: "none", 1: "none", 2: "background", 3: "previous"}
_TO_GIF = {"none": 1, "background": 2, "previous": 3}
_APNG = {"none": 0, "background": 1, "previous": 2}


@dataclass(frozen=True)
class Animation:
    """Frames (each (H, W, 3|4) uint8, all one shape), durations in ms, per-frame disposal,
    and ``loop`` (0: forever; None: play once, the file had no loop count)."""

    frames: list[np.ndarray]
    durations: list[int]
    disposals: list[str]
    loop: int | None


def read_animation(source: str | os.PathLike | bytes, name: str, *,
                   max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Animation | None:
    """The frames of an animated GIF, APNG or WebP, or None for any other file (a still image,
    another format: read those with ``load_image``).  ``source`` is a path, or the file's
    bytes; ``name`` names it in messages.  ``max_pixels`` caps the pixels of all frames."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError:
        return None  # load_image gives the error with its own message
    with handle:
        try:
            with Image.open(handle) as im:
                if im.format not in ANIMATED_FORMATS or getattr(im, "n_frames", 1) < 2:
                    return None
                width, height = im.size
                if max_pixels is not None and width * height * im.n_frames > max_pixels:
                    raise InputError(f"{name}: {im.n_frames} frames of {width}×{height} "
                                     f"exceed the limit of {max_pixels / 1e6:g} megapixels")
                return _frames(im)
        except MemoryError:
            raise InputError(f"{name}: not enough memory for the frames") from None
        except DECODE_ERRORS:
            return None  # load_image reports what is wrong with the file


def _frames(im: Image.Image) -> Animation:
    loop = im.info.get("loop")
    frames, durations, disposals = [], [], []
    for index in range(im.n_frames):
        im.seek(index)
        frames.append(np.asarray(im.convert("RGBA")))
        durations.append(round(im.info.get("duration", 0) or 0))
        disposals.append(_disposal(im))
    alpha = any((frame[..., 3] < 255).any() for frame in frames)
    if not alpha:
        frames = [np.ascontiguousarray(frame[..., :3]) for frame in frames]
    return Animation(frames, durations, disposals, None if loop is None else int(loop))


def _disposal(im: Image.Image) -> str:
    if im.format == "GIF":
        return _FROM_GIF.get(getattr(im, "disposal_method", 0), "none")
    if im.format == "PNG":  # APNG: 0 none, 1 background, 2 previous
        return dict(enumerate(DISPOSALS)).get(im.info.get("disposal"), "none")
    return "none"


def _options(fmt: str, animation: Animation, count: int) -> dict:
    options: dict = {"save_all": True, "duration": animation.durations[:count]}
    if animation.loop is not None or fmt == "WEBP":
        options["loop"] = 0 if animation.loop is None else animation.loop
    if fmt == "GIF":
        options["disposal"] = [_TO_GIF[d] for d in animation.disposals[:count]]
    elif fmt == "PNG":
        options["disposal"] = [_APNG[d] for d in animation.disposals[:count]]
        options["blend"] = 0  # whole frames replace the canvas (APNG_BLEND_OP_SOURCE)
    return options


def _encode(handle, frames: Sequence[IndexedImage], animation: Animation, fmt: str,
            shown: str) -> list[str]:
    if fmt not in ANIMATED_FORMATS:
        raise InputError(f"{shown}: {fmt} cannot hold an animation")
    prepared = []
    notes: list[str] = []
    for frame in frames:
        im, options, note = prepare_image(frame, fmt)
        if note is not None and note not in notes:
            notes.append(note)
        if "transparency" in options:  # per frame: Pillow reads it from each frame's info
            im.info["transparency"] = options["transparency"]
        if fmt == "PNG" and im.mode == "P":
            # APNG frames as true colour: Pillow 11-13 cannot apply "background" disposal to
            # palette frames ("images do not match"), and APNG has one PLTE for all frames
            im = im.convert("RGBA" if "transparency" in options else "RGB")
        prepared.append(im)
    options = _options(fmt, animation, len(prepared))
    if fmt == "WEBP":
        options["lossless"] = True
    if fmt == "PNG":
        options["compress_level"] = 3
    if fmt == "GIF" and "transparency" in prepared[0].info:
        options["transparency"] = prepared[0].info["transparency"]
    try:
        prepared[0].save(handle, format=fmt, append_images=prepared[1:], **options)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"{shown}: cannot write the animation ({reason})") from None
    return [f"{os.path.basename(shown)}: {note}" for note in notes]


def save_animation(path: str | os.PathLike, frames: Sequence[IndexedImage],
                   animation: Animation, fmt: str) -> list[str]:
    """Write quantized ``frames`` with ``animation``'s timing to ``path`` as ``fmt`` ("GIF",
    "PNG" for APNG, "WEBP"), atomically; returns notes for the user."""
    with atomic_write(path, "wb") as handle:
        return _encode(handle, frames, animation, fmt, os.fspath(path))


def encode_animation(frames: Sequence[IndexedImage], animation: Animation, fmt: str,
                     name: str = "standard output") -> tuple[bytes, list[str]]:
    """The bytes :func:`save_animation` would write, and its notes."""
    buffer = io.BytesIO()
    notes = _encode(buffer, frames, animation, fmt, name)
    return buffer.getvalue(), notes


def frame_count(source: str | os.PathLike | bytes) -> int:
    """How many frames an animated GIF, APNG or WebP holds; 1 for anything else (a still
    image, another format, a file that cannot be read: load_image then says why)."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError:
        return 1
    with handle:
        try:
            with Image.open(handle) as im:
                if im.format not in ANIMATED_FORMATS:
                    return 1
                return int(getattr(im, "n_frames", 1))
        except DECODE_ERRORS:
            return 1

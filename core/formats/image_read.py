"""Reading input files: images, as 8-bit sRGB arrays the rest of the core can cluster.

Every image leaves :func:`load_image` as an (H, W, 3) or (H, W, 4) uint8 array in sRGB, upright,
whatever the file held, and every failure is an :class:`~palettelab.core.errors.InputError` whose
one-line
message names the file: the CLI and the GUI show it as it is.  Anything done to the pixels that
the user should know about (a colour profile applied, frames dropped, bits dropped) is reported
in :attr:`LoadedImage.notes` rather than done silently.

Decisions:

* **Colour profiles.**  An embedded ICC profile is converted to sRGB with LittleCMS using the
  *perceptual* intent: it is the intent viewers use to show a photo, so the pixels clustered are
  the colours the user sees.  For the matrix/TRC RGB profiles of most photos (Adobe RGB, Display
  P3) LittleCMS has no perceptual table and uses relative colorimetric, so in-gamut colours stay
  exact; CMYK and other LUT profiles get their gamut mapping.  A profile whose description
  contains "sRGB" is taken as sRGB and not applied (that saves the transform on most images).  A
  profile that cannot be read or does not fit the image is ignored with a note: the image still
  loads, with Pillow's plain conversion.
* **16-bit samples** become 8-bit by keeping the high byte (``v >> 8``), which is what Pillow
  itself does when it decodes 16-bit RGB, RGBA and LA files; 16-bit grey is done the same way, so
  a picture gives the same pixels whichever way it was stored.  32-bit integer images are
  stretched linearly from their smallest to their largest value; floating-point images are read
  as 0..1 when their values lie in 0..1, and stretched like integers otherwise (always noted).
* **Size limit.**  The pixel count in the header is checked against ``max_pixels`` before any
  pixel data is decoded.  Pillow has its own decompression-bomb limit, which would warn above
  ``Image.MAX_IMAGE_PIXELS`` (≈89 MP by default) and refuse files above twice that (≈179 MP)
  before this module sees the size; with the default limit of 200 MP both must be overridden.
  The warning is suppressed (``warnings.catch_warnings``) around the read; when Pillow refuses a
  file, it is read again with Pillow's limit lifted (see :func:`_pillow_limit_lifted`) and
  ``max_pixels`` alone decides.
* **Memory.**  The pixels are decoded once by Pillow and copied once into the returned array
  (plus a conversion for files that are not RGB/RGBA already).  The array is read-only: it is
  shared by whoever shows and whoever quantizes the image, and nobody should change it.

The file is read in the calling thread; nothing global is changed except, for files over
Pillow's limit, the short-lived lift described above.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

import numpy as np
from PIL import Image, ImageCms, ImageOps

from palettelab.core.errors import InputError, describe_os_error
from palettelab.core.formats.bounded import path_name
from palettelab.core.formats.points import POINT_EXTENSIONS

#: the largest image accepted by default: 200 MP is 600 MB as RGB, near what a desktop can take
DEFAULT_MAX_PIXELS = 200_000_000

#: extensions of the image files offered in file dialogs; all are read by Pillow's own plugins
IMAGE_EXTENSIONS = (
    ".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".bmp", ".dib", ".tif", ".tiff",
    ".webp", ".ppm", ".pgm", ".pbm", ".pnm", ".tga",
)

#: what Pillow raises on a file it cannot parse or decode (a fuzzed file can raise any of these)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError,
                  struct.error, zlib.error)
#: the same, for the readers of other modules (core/formats/animation.py)
DECODE_ERRORS = _DECODE_ERRORS

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
#: Pillow raw modes of 16-bit samples ("RGB;16B"); "BGR;16" and "RGB;16" are packed 5-6-5
_SIXTEEN_BIT_RAWMODE = re.compile(r";16[BLN]$")
_ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")
_GREY_MODES = ("1", "L", "LA")

_PILLOW_LIMIT_LOCK = threading.Lock()


class _Decoded(NamedTuple):
    """A decoded first frame, before any conversion."""

    image: Image.Image
    sixteen_bit: bool  # the file's samples were 16-bit (Pillow may already have dropped 8)
    notes: list[str]


@dataclass(frozen=True)
class LoadedImage:
    """An image as the core uses it, and what the user should be told about loading it.

    ``pixels`` is (H, W, 3), or (H, W, 4) with straight alpha when the file has an alpha channel
    or transparency information, uint8 sRGB, C-contiguous and read-only.  ``source_mode`` is the
    Pillow mode of the file ("P", "I;16", "CMYK", ...); ``notes`` are one-line remarks such as
    "animated image: using the first of 12 frames".
    """

    pixels: np.ndarray
    path: str
    source_mode: str
    notes: tuple[str, ...] = ()


def load_image(path: str | os.PathLike[str], *,
               max_pixels: int | None = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read the first frame of an image file as upright 8-bit sRGB.

    ``max_pixels`` refuses images with more pixels than that before decoding them (None: no
    limit).  Raises :class:`InputError` for anything that stops the file from loading.
    """
    return _load(path, path_name(path, "the image path"), max_pixels)


def load_image_data(data: bytes, name: str, *,
                    max_pixels: int | None = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """:func:`load_image` for a file's bytes already in memory (standard input); ``name``
    stands for the file in messages."""
    return _load(_InMemory(bytes(data)), name, max_pixels)


@dataclass(frozen=True)
class _InMemory:
    """A file's bytes in place of its path (a fresh stream for each of the two reads that
    :func:`_read_checked` may need)."""

    data: bytes


def _load(path: str | os.PathLike[str] | _InMemory, name: str,
          max_pixels: int | None) -> LoadedImage:
    image, sixteen_bit, notes = _read_checked(path, name, max_pixels)
    source_mode = image.mode
    profile = _embedded_profile(image, notes)
    _apply_orientation(image, notes)
    image = _eight_bit(image, sixteen_bit, notes)
    image = _to_srgb(image, profile, notes)
    return LoadedImage(np.asarray(image), name, source_mode, tuple(notes))


def _read_checked(path: str | os.PathLike[str], name: str,
                  max_pixels: int | None) -> _Decoded:
    """:func:`_read` with Pillow's decompression-bomb checks replaced by ``max_pixels``.

    ``catch_warnings`` swaps the process-wide warning filters (Python < 3.14); a thread that
    warns meanwhile may see DecompressionBombWarning ignored too, which is harmless.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _read(path, name, max_pixels)
    except Image.DecompressionBombError:
        # Pillow refused the size before we could see it; read again and let max_pixels decide
        with _pillow_limit_lifted():
            return _read(path, name, max_pixels)


@contextlib.contextmanager
def _pillow_limit_lifted() -> Iterator[None]:
    """Switch off Pillow's decompression-bomb check while one file is read.

    ``Image.MAX_IMAGE_PIXELS`` is a module global (Pillow has no per-call limit, and GIF and
    TIFF check it again while decoding), so this is only done after Pillow has refused a file,
    i.e. for images over ≈179 MP.  Other threads reading images meanwhile run without Pillow's
    check, never with a stricter one; the lock keeps two such reads from restoring each
    other's value.
    """
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _read(path: str | os.PathLike[str], name: str,
          max_pixels: int | None) -> _Decoded:
    """Identify the file, check its size, decode the first frame, and close the file."""
    with _open_file(path, name) as handle:
        image = _identify(handle, name)
        _check_size(image, name, max_pixels)
        return _decode(image, name)


def _open_file(path: str | os.PathLike[str] | _InMemory, name: str) -> IO[bytes]:
    """Open the file ourselves, so that OS errors get their own messages and the handle closes."""
    if isinstance(path, _InMemory):  # load_image_data: the bytes are in memory
        return io.BytesIO(path.data)
    try:
        return open(path, "rb")  # closed by the caller's with
    except OSError as error:
        raise InputError(f"{name}: {describe_os_error(error, path)}") from None


def _identify(handle: IO[bytes], name: str) -> Image.Image:
    """Parse the header (Image.open reads no pixel data).

    DecompressionBombError is not caught here: :func:`_read_checked` handles it.
    """
    try:
        return Image.open(handle)
    except Image.UnidentifiedImageError:
        problem = _not_an_image(handle)
    except _DECODE_ERRORS as error:
        problem = f"a damaged or unsupported image header ({_one_line(error)})"
    raise InputError(f"{name}: {problem}") from None


def _not_an_image(handle: IO[bytes]) -> str:
    """What a file in no image format holds, in the user's terms, not the library's ("not an
    image Pillow can read" was all a dialog said, issue 13).  Text is a first 4 KiB without a
    NUL byte: every binary image header has NULs in its sizes or flags."""
    handle.seek(0)
    head = handle.read(4096)
    if not head:
        return "the file is empty"
    if b"\0" not in head:
        return ("not an image but text (point files are opened by their extension: "
                f"{', '.join(POINT_EXTENSIONS)})")
    return "not a readable image: damaged, or not PNG, JPEG, GIF, BMP, TIFF, WebP, PNM or TGA data"


def _check_size(image: Image.Image, name: str, max_pixels: int | None) -> None:
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        raise InputError(f"{name}: {width * height / 1e6:.1f} megapixels ({width}×{height}) "
                         f"exceeds the limit of {max_pixels / 1e6:g} megapixels")


def _decode(image: Image.Image, name: str) -> _Decoded:
    """Decode the first frame, noting dropped frames and 16-bit samples."""
    try:
        frames = getattr(image, "n_frames", 1)  # counting GIF frames reads the file: may raise
        sixteen_bit = _has_16bit_samples(image)  # visible only before decoding
        image.load()
    except MemoryError:
        width, height = image.size
        raise InputError(f"{name}: not enough memory to decode {width}×{height} pixels") from None
    except _DECODE_ERRORS as error:
        problem = "truncated or corrupt image data"
        if isinstance(error, OSError) and error.strerror:  # a real I/O error, with errno
            problem = f"read error ({error.strerror})"
        raise InputError(f"{name}: {problem}") from None
    notes = []
    if frames > 1:
        kind = "animated image" if image.format in _ANIMATED_FORMATS else "multi-image file"
        notes.append(f"{kind}: using the first of {frames} frames")
    if sixteen_bit:
        notes.append("16-bit image reduced to 8 bits per channel")
    return _Decoded(image, sixteen_bit, notes)


def _has_16bit_samples(image: Image.Image) -> bool:
    """Whether the file stores 16-bit samples, from its mode or the raw mode of its tiles."""
    rawmodes = (tile.args[0] if isinstance(tile.args, tuple) else tile.args
                for tile in image.tile)
    return image.mode in _SIXTEEN_BIT_MODES or any(
        isinstance(raw, str) and _SIXTEEN_BIT_RAWMODE.search(raw) is not None
        for raw in rawmodes)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _embedded_profile(image: Image.Image,
                      notes: list[str]) -> tuple[ImageCms.ImageCmsProfile, str] | None:
    """The file's ICC profile and its description, or None when there is none to apply."""
    data = image.info.get("icc_profile")
    if not data:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
        description = ImageCms.getProfileDescription(profile).strip()
    except (ImageCms.PyCMSError, *_DECODE_ERRORS) as error:
        notes.append(f"ignored the embedded ICC profile: it could not be read ({_one_line(error)})")
        return None
    return None if "sRGB" in description else (profile, description)


def _apply_orientation(image: Image.Image, notes: list[str]) -> None:
    """Turn the pixels upright as the EXIF orientation says; bad EXIF is only noted."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except _DECODE_ERRORS as error:
        notes.append(f"EXIF orientation could not be read ({_one_line(error)}): "
                     "image used as stored")


def _eight_bit(image: Image.Image, sixteen_bit: bool, notes: list[str]) -> Image.Image:
    """Grey with more than 8 bits (I;16, I, F) as L, or LA when it has a transparent value."""
    if not image.mode.startswith(("I", "F")):
        return image
    values = np.asarray(image)
    if sixteen_bit:
        grey = (values >> 8).astype(np.uint8)
    else:
        grey, note = _stretched(values)
        notes.append(note)
    transparent = image.info.get("transparency")
    if transparent is None:
        return Image.fromarray(grey)
    alpha = np.where(values == transparent, 0, 255).astype(np.uint8)
    return Image.merge("LA", (Image.fromarray(grey), Image.fromarray(alpha)))


def _stretched(values: np.ndarray) -> tuple[np.ndarray, str]:
    """32-bit integer or float samples as 0..255: their range stretched, or 0..1 for floats."""
    finite = np.isfinite(values)
    low, high = (values[finite].min(), values[finite].max()) if finite.any() else (0, 0)
    kind = "32-bit integer"
    if values.dtype.kind == "f":
        kind = "floating-point"
        if 0 <= low and high <= 1:
            low, high = 0, 1
    low, high = float(low), float(high)
    scale = 255 / (high - low) if high > low else 0.0
    grey = np.rint(np.clip((values.astype(np.float64) - low) * scale, 0, 255))
    grey[~finite] = 0
    return grey.astype(np.uint8), f"{kind} image: values {low:g}..{high:g} scaled to 0..255"


def _to_srgb(image: Image.Image, profile: tuple[ImageCms.ImageCmsProfile, str] | None,
             notes: list[str]) -> Image.Image:
    """The image as RGB, or RGBA when it has alpha or transparency, in sRGB."""
    if image.mode == "La":  # Pillow unpremultiplies grey only into LA
        image = image.convert("LA")
    target = "RGBA" if image.has_transparency_data else "RGB"
    if profile is not None:
        cms_profile, description = profile
        try:
            converted = _profile_to_srgb(image, target, cms_profile)
        except ImageCms.PyCMSError as error:
            notes.append(f"ignored the embedded ICC profile '{description}': "
                         f"it cannot convert this {image.mode} image ({_one_line(error)})")
        else:
            notes.append(f"converted from the embedded ICC profile '{description}' to sRGB")
            return converted
    return _as_mode(image, target)


def _profile_to_srgb(image: Image.Image, target: str,
                     profile: ImageCms.ImageCmsProfile) -> Image.Image:
    """Colour channels through the profile into sRGB, alpha kept.

    The profile describes the image's own kind of data: CMYK converts as CMYK, grey as L (the
    LittleCMS binding has no grey-with-alpha type), anything else (palette, YCbCr) first becomes
    RGB or RGBA.
    """
    if image.mode == "CMYK":
        return ImageCms.applyTransform(image, _transform(profile, "CMYK", "RGB"))
    if image.mode in _GREY_MODES:
        rgb = ImageCms.applyTransform(_as_mode(image, "L"), _transform(profile, "L", "RGB"))
        if target == "RGBA":
            rgb.putalpha(_as_mode(image, "LA").getchannel("A"))
        return rgb
    image = _as_mode(image, target)
    ImageCms.applyTransform(image, _transform(profile, target, target), inPlace=True)
    return image


def _transform(profile: ImageCms.ImageCmsProfile, in_mode: str,
               out_mode: str) -> ImageCms.ImageCmsTransform:
    # a fresh sRGB profile per call (microseconds): LittleCMS does not promise that one
    # profile can be used by two threads at once
    return ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), in_mode, out_mode,
                                   renderingIntent=ImageCms.Intent.PERCEPTUAL)


def _as_mode(image: Image.Image, mode: str) -> Image.Image:
    """The image in ``mode``, converted only if needed (convert always copies)."""
    return image if image.mode == mode else image.convert(mode)

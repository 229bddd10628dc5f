"""Writing a quantized image: indexed wherever the format allows, atomically always.

A quantized image is a palette plus one index per pixel, and formats that store exactly that
(PNG, GIF, BMP and TIFF palette images) are smaller and keep the palette for the next tool.
PNG carries transparency in its tRNS chunk: a palette with alpha (``palette_alpha``, from an
image with soft transparency) is written as an 8-bit PNG whose tRNS holds each entry's alpha,
as pngquant writes it; otherwise fully transparent pixels get an extra palette entry with alpha
0 (when the palette has room; otherwise, and when a per-pixel alpha has intermediate levels, an
RGBA PNG is written and the caller is told why).  GIF transparency is on or off: a palette with
alpha is flattened onto a matte colour (:func:`flatten`; white unless one is given), entries
under half opaque becoming transparent.  WebP has no palette mode, so it is written
lossless (a lossy encoder would blur the palette away).  JPEG is refused for the same reason.

Every file goes through :func:`palettelab.core.formats.atomic.atomic_write`: a failed save leaves
no partial file and an existing file intact.

Each format has size limits its encoder does not check well (Pillow raises OverflowError for a
GIF 65536 px wide, after the work is done): :func:`check_image_size` refuses a size the format
cannot store, and commands call it as soon as the input's size is known, before quantizing.

What is written is any :class:`IndexedImage` -- the quantizer's ``Quantized`` is one -- so that
file writing does not depend on the pipeline that made the image.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from palettelab.core.errors import InputError
from palettelab.core.formats.atomic import atomic_write, check_output_path

#: extension -> Pillow format name
IMAGE_FORMATS = {".png": "PNG", ".gif": "GIF", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF",
                 ".webp": "WEBP"}


#: largest width or height each format can store: GIF's fields are uint16, WebP's 14 bits,
#: PNG's at most 2**31 - 1, BMP's int32, TIFF's uint32
MAX_SIDE = {"GIF": 65535, "WEBP": 16383, "PNG": 2**31 - 1, "BMP": 2**31 - 1, "TIFF": 2**32 - 1}
#: largest file of the formats with 32-bit offsets (uncompressed, as Pillow writes them)
MAX_BYTES = {"BMP": 2**32 - 1, "TIFF": 2**32 - 1}


#: the colour partly transparent entries are blended onto for GIF when none is given
DEFAULT_MATTE = (255, 255, 255)


class IndexedImage(Protocol):
    """A palette image: ``palette`` (k, 3) uint8 sRGB with 1 <= k <= 256, ``indices`` (H, W)
    uint8 below k, and ``alpha`` (H, W) uint8 or None for an opaque image.  It may also have
    ``palette_alpha`` (k,) uint8, the alpha of each entry (then ``alpha`` is
    ``palette_alpha[indices]``)."""

    palette: np.ndarray
    indices: np.ndarray
    alpha: np.ndarray | None


@dataclass(frozen=True)
class Flattened:
    """An :class:`IndexedImage` whose transparency is on or off (see :func:`flatten`);
    ``transparent``: the entry every fully transparent pixel uses, or None."""

    palette: np.ndarray
    indices: np.ndarray
    alpha: np.ndarray | None
    transparent: int | None = None


def _palette_alpha(q: IndexedImage) -> np.ndarray | None:
    return getattr(q, "palette_alpha", None)


def flatten(q: IndexedImage, matte: tuple[int, int, int] = DEFAULT_MATTE) -> IndexedImage:
    """``q`` with its palette's alpha blended onto ``matte``: an entry at least half opaque
    becomes opaque (its colour mixed with the matte by its alpha), one below half becomes
    fully transparent, as Photoshop's GIF matte does.  An image without a palette with alpha
    is returned as it is."""
    levels = _palette_alpha(q)
    if levels is None:
        return q
    a = levels.astype(np.float64)[:, None] / 255.0
    palette = np.rint(q.palette * a + np.asarray(matte, dtype=np.float64) * (1.0 - a))
    clear = levels < 128
    if not clear.any():
        return Flattened(palette.astype(np.uint8), q.indices, None)
    # every clear entry's pixels go to the first clear entry, the file's one transparent index
    # (a full 256-entry palette then keeps its transparency without an extra entry)
    transparent = int(np.flatnonzero(clear)[0])
    target = np.where(clear, transparent, np.arange(levels.size)).astype(np.uint8)
    indices = target[q.indices]
    alpha = np.where(clear, np.uint8(0), np.uint8(255))[indices]
    return Flattened(palette.astype(np.uint8), indices, alpha, transparent)


def _check_indexed(q: IndexedImage) -> None:
    palette, indices, alpha = q.palette, q.indices, q.alpha
    if palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= palette.shape[0] <= 256 \
            or palette.dtype != np.uint8:
        raise InputError(f"palette must be a (k, 3) uint8 array with 1 to 256 colours, got "
                         f"{palette.shape} {palette.dtype}")
    if indices.ndim != 2 or indices.dtype != np.uint8 or indices.size == 0:
        raise InputError(f"indices must be a non-empty (H, W) uint8 array, got "
                         f"{indices.shape} {indices.dtype}")
    if indices.max() >= palette.shape[0]:
        raise InputError(f"index {indices.max()} is past the end of the palette of "
                         f"{palette.shape[0]} colours")
    if alpha is not None and (alpha.shape != indices.shape or alpha.dtype != np.uint8):
        raise InputError(f"alpha must be None or a {indices.shape} uint8 array, got "
                         f"{alpha.shape} {alpha.dtype}")
    levels = _palette_alpha(q)
    if levels is not None and (levels.shape != (palette.shape[0],) or levels.dtype != np.uint8
                               or alpha is None):
        raise InputError(f"palette_alpha must be None or a ({palette.shape[0]},) uint8 array "
                         f"with a per-pixel alpha, got {levels.shape} {levels.dtype}")


def _pixels(q: IndexedImage) -> np.ndarray:
    """The image's RGB (or RGBA, with alpha) pixels."""
    rgb = q.palette[q.indices]
    return rgb if q.alpha is None else np.concatenate([rgb, q.alpha[..., None]], axis=2)


def check_image_path(path: str | os.PathLike) -> str:
    """The Pillow format for an output path, or InputError (unknown type, missing folder)."""
    target = check_output_path(path)
    suffix = target.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        raise InputError(f"{target}: JPEG compression would change the palette colours; "
                         f"write .png, .gif, .webp, .bmp or .tif")
    if suffix not in IMAGE_FORMATS:
        shown = f"'{suffix}'" if suffix else "(no extension)"
        raise InputError(f"{target}: unknown image type {shown} (use "
                         f"{', '.join(IMAGE_FORMATS)})")
    return IMAGE_FORMATS[suffix]


def check_image_size(path: str | os.PathLike, height: int, width: int, alpha: bool) -> None:
    """InputError if the format of ``path`` cannot store a ``width`` x ``height`` image
    (``alpha``: the image has an alpha channel, which makes a TIFF RGBA, 4 bytes a pixel)."""
    fmt = check_image_path(path)
    side = MAX_SIDE[fmt]
    if width > side or height > side:
        raise InputError(f"{path}: {fmt} images can be at most {side:,} pixels wide and high, "
                         f"this one is {width:,} x {height:,} (use .png)")
    if fmt == "BMP":  # 8-bit rows padded to 4 bytes, a 256-entry palette, two headers
        size = 14 + 40 + 256 * 4 + (width + 3) // 4 * 4 * height
    elif fmt == "TIFF":  # indexed (1 byte a pixel) unless there is alpha
        size = width * height * (4 if alpha else 1)
    else:
        return
    if size > MAX_BYTES[fmt]:
        raise InputError(f"{path}: a {width:,} x {height:,} image needs {size / 2**30:.1f} GiB, "
                         f"more than the 4 GiB a {fmt} file can hold (use .png)")


def _indexed(q: IndexedImage, with_transparency: bool) -> tuple[Image.Image, int | None]:
    """Mode-P image of the result and the index of its transparent entry, if any."""
    k = q.palette.shape[0]
    indices = q.indices
    transparent = getattr(q, "transparent", None)
    if transparent is not None:  # a flattened image names its own transparent entry
        im = Image.fromarray(indices, mode="P")
        im.putpalette(q.palette.astype(np.uint8).tobytes(), rawmode="RGB")
        return im, transparent if with_transparency else None
    if with_transparency and q.alpha is not None and (q.alpha == 0).any():
        transparent = k
        indices = np.where(q.alpha == 0, np.uint8(k), indices)
    im = Image.fromarray(indices, mode="P")
    entries = q.palette if transparent is None else np.vstack([q.palette, [[0, 0, 0]]])
    im.putpalette(entries.astype(np.uint8).tobytes(), rawmode="RGB")
    return im, transparent


def _plan(q: IndexedImage, fmt: str) -> tuple[str, str | None]:
    """How to store ``q`` in ``fmt``: "indexed", "indexed+transparent" or "rgba"/"rgb",
    and a note when something of the input cannot be kept."""
    if fmt == "WEBP":
        return ("rgb" if q.alpha is None else "rgba"), None
    if q.alpha is None:
        return "indexed", None
    if _palette_alpha(q) is not None and fmt == "PNG":
        return "indexed+alpha", None
    has_clear = bool((q.alpha == 0).any())
    binary = bool(np.isin(q.alpha, (0, 255)).all())
    room = q.palette.shape[0] < 256 or not has_clear \
        or getattr(q, "transparent", None) is not None
    if fmt == "BMP":
        return "indexed", None if binary and not has_clear else "BMP has no transparency; " \
            "alpha dropped (use .png)"
    if fmt == "GIF":
        if not room:
            return "indexed", "GIF palette is full; transparency dropped (use .png)"
        return "indexed+transparent", None if binary else "GIF transparency is on or off; " \
            "partly transparent pixels written opaque (use .png)"
    if binary and room:
        return ("indexed+transparent" if fmt == "PNG" else "rgba"), None
    return "rgba", "written as RGBA, not indexed (the alpha has partial levels or the " \
        "palette has no free entry)"


def _matted_plan(q: IndexedImage, fmt: str) -> tuple[IndexedImage, str, str | None]:
    """:func:`_plan` after a GIF's palette alpha is flattened onto the default matte: the image
    to store, how, and the note."""
    if fmt == "GIF" and _palette_alpha(q) is not None:
        flat = flatten(q)
        how, note = _plan(flat, fmt)
        return flat, how, note or "GIF transparency is on or off; partly transparent edges " \
            "blended onto a white matte"
    return q, *_plan(q, fmt)


def save_notes(path: str | os.PathLike, q: IndexedImage) -> list[str]:
    """What :func:`save_image` would have to change to write ``q`` to ``path`` (the notes it
    would return), without writing: for asking the user before a save."""
    _check_indexed(q)
    note = _matted_plan(q, check_image_path(path))[2]
    return [] if note is None else [f"{Path(path).name}: {note}"]


def save_image(path: str | os.PathLike, q: IndexedImage) -> list[str]:
    """Write ``q`` to ``path`` (format from the extension); returns notes for the user."""
    _check_indexed(q)
    fmt = check_image_path(path)
    check_image_size(path, *q.indices.shape, alpha=q.alpha is not None)
    im, options, note = prepare_image(q, fmt)
    with atomic_write(path, "wb") as handle:
        _encode(handle, im, fmt, options, path)
    return [] if note is None else [f"{Path(path).name}: {note}"]


def encode_image(q: IndexedImage, fmt: str, name: str = "standard output"
                 ) -> tuple[bytes, list[str]]:
    """The file ``save_image`` would write, in memory, for a Pillow format name ("PNG",
    "GIF", ...: a value of :data:`IMAGE_FORMATS`); ``name`` is shown in errors and notes."""
    _check_indexed(q)
    if fmt not in MAX_SIDE:
        raise InputError(f"{name}: unknown image format {fmt!r}")
    height, width = q.indices.shape
    if width > MAX_SIDE[fmt] or height > MAX_SIDE[fmt]:
        raise InputError(f"{name}: {fmt} images can be at most {MAX_SIDE[fmt]:,} pixels wide "
                         f"and high, this one is {width:,} x {height:,} (use png)")
    im, options, note = prepare_image(q, fmt)
    buffer = io.BytesIO()
    _encode(buffer, im, fmt, options, name)
    return buffer.getvalue(), [] if note is None else [f"{name}: {note}"]


#: images up to this many pixels are encoded whole by :func:`estimate_size`
ESTIMATE_PIXELS = 1 << 20
#: horizontal bands an estimate encodes (spread over the height, so sky and ground both count)
_BANDS = 8


@dataclass(frozen=True)
class _Rows:
    """Some rows of an indexed image (for :func:`estimate_size`)."""

    palette: np.ndarray
    indices: np.ndarray
    alpha: np.ndarray | None
    palette_alpha: np.ndarray | None


def estimate_size(q: IndexedImage, fmt: str) -> tuple[int, bool]:
    """The bytes :func:`encode_image` would produce for ``fmt``, and whether that is exact.

    An image over :data:`ESTIMATE_PIXELS` is not encoded whole: ``_BANDS`` bands of rows
    spread over its height, about that many pixels in all, are encoded as one image and the
    size scaled by the rows.  Measured on china.jpg upscaled to 4000x3000 at 16 colours: PNG,
    GIF and WebP took 0.22, 0.19 and 4.17 s whole and 0.05, 0.02 and 0.27 s this way, each
    estimate 2.0-2.3 % under the real size (tests/test_export_sizes.py bounds it at 10 %).
    """
    height, width = q.indices.shape
    if height * width <= ESTIMATE_PIXELS or height < 2 * _BANDS:
        return len(encode_image(q, fmt)[0]), True
    band = max(1, ESTIMATE_PIXELS // width // _BANDS)
    starts = np.linspace(0, height - band, _BANDS).astype(int)
    rows = np.concatenate([np.arange(s, s + band) for s in starts])
    sample = _Rows(q.palette, q.indices[rows], None if q.alpha is None else q.alpha[rows],
                   _palette_alpha(q))
    size = len(encode_image(sample, fmt)[0])
    return round(size * height / rows.size), False


def _encode(handle, im: Image.Image, fmt: str, options: dict, shown) -> None:
    try:
        im.save(handle, format=fmt, **options)
    except (OSError, ValueError) as exc:  # strerror: no temporary file name in the message
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"{shown}: cannot write the image ({reason})") from None


def prepare_image(q: IndexedImage, fmt: str) -> tuple[Image.Image, dict, str | None]:
    """The Pillow image and save options that store ``q`` in ``fmt`` (a Pillow format name),
    and the note, if any, on what the format cannot keep."""
    _check_indexed(q)
    q, how, note = _matted_plan(q, fmt)
    options: dict = {}
    if how == "indexed+alpha":
        im = Image.fromarray(q.indices, mode="P")
        im.putpalette(q.palette.astype(np.uint8).tobytes(), rawmode="RGB")
        options["transparency"] = _palette_alpha(q).tobytes()
    elif how.startswith("indexed"):
        im, transparent = _indexed(q, how == "indexed+transparent")
        if transparent is not None:
            options["transparency"] = transparent
    else:
        image = _pixels(q)
        im = Image.fromarray(image if how == "rgba" else image[..., :3])
        if fmt == "WEBP":
            options["lossless"] = True
    if fmt == "PNG":  # zlib level 3: 2.4x faster than Pillow's 6 on 12 MP, files 13 % larger
        options["compress_level"] = 3
    return im, options, note

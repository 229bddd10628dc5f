"""Palette files: take a palette from PaletteLab to other tools, and bring one back.

A palette is only useful outside PaletteLab if it lands in the format the next tool reads, so
the common ones are written and read here: GIMP ``.gpl``, Adobe ``.ase`` (Illustrator, InDesign,
Photoshop), Photoshop ``.aco``, JSON (scripts, and the CLI's ``--json`` summary), plain ``.txt``
hex lists (Paint.NET and friends), CSS custom properties and a PNG swatch strip.

The binary layouts follow the published specifications (big-endian throughout).  Readers accept
what other programs actually write (groups and non-RGB colour models in ASE, version-1-only
ACO, comments and CRLF in the text formats), and every problem with a file becomes an
:class:`~palettelab.core.errors.InputError` naming the file and, where there is one, the line or
byte
offset, because that is what the CLI and GUI show.  Every file is written through
:func:`~palettelab.core.formats.atomic.atomic_write`, so a failed write never damages an existing
palette.
"""

from __future__ import annotations

import colorsys
import io
import json
import math
import os
import re
import struct
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np
from PIL import Image, PngImagePlugin

from palettelab.core.checks import check_int
from palettelab.core.color.codes import RGB, color_codes, hex_color, parse_hex
from palettelab.core.color.css import css_color
from palettelab.core.color.spaces import to_srgb8
from palettelab.core.errors import InputError
from palettelab.core.formats.atomic import atomic_write, check_output_path
from palettelab.core.formats.bounded import path_name

PALETTE_EXTENSIONS = (".gpl", ".ase", ".aco", ".json", ".txt", ".css", ".png")

MAX_COLORS = 65535  # the ACO colour count is a uint16
MAX_NAME_UNITS = 65534  # an ASE name length (UTF-16 units plus the NUL) is a uint16

#: largest palette file read: 65535 colours with long names fit several times over, and an
#: endless file (a symlink to /dev/zero) is refused after this many bytes, not read to the end
MAX_PALETTE_BYTES = 64 << 20
#: largest PNG read as a palette when it has no swatch-count chunk (a swatch strip written here
#: has one, and its size is checked against it): 16 MP decode in about 0.3 s.  A 100 MP photo
#: given as a palette used to take 11 s and print Pillow's DecompressionBombWarning
PNG_MAX_PIXELS = 16_000_000

GPL_MAX_COLUMNS = 16
SWATCH_PX = 32  # PNG swatch side
SWATCHES_PER_ROW = 16
PNG_COUNT_KEY = "palettelab:count"  # tEXt chunk: how many swatches are colours, not padding
PNG_MAX_DISTINCT = 256  # an image without that chunk with more colours is not a palette

ASE_COLOR, ASE_GROUP_START, ASE_GROUP_END = 0x0001, 0xC001, 0xC002
ASE_NORMAL = 2  # colour type: 0 global, 1 spot, 2 normal


@dataclass(frozen=True, eq=False)
class Palette:
    """A palette as read from a file.

    ``colors`` is a read-only (k, 3) uint8 sRGB array, so a Palette can be shared without
    copying.  ``names`` has one entry per colour, ``""`` where the format stores no name.
    (``eq=False``: comparing NumPy arrays with ``==`` has no single truth value.)
    """

    colors: np.ndarray
    names: tuple[str, ...]


class _Request(NamedTuple):
    """A validated write: what every format writer gets, so none of them re-checks input."""

    colors: np.ndarray  # (k, 3) uint8
    names: tuple[str, ...]
    named: bool  # names were given (CSS then derives property names from them)
    title: str
    counts: tuple[int, ...] | None


class _Format(NamedTuple):
    read: Callable[[bytes], Palette]
    write: Callable[[IO[bytes], _Request], None]


# --- public API ---------------------------------------------------------------------------------


def write_palette(path: str | os.PathLike, colors, names: Sequence[str] | None = None, *,
                  title: str = "PaletteLab", counts=None) -> None:
    """Write ``colors`` ((k, 3) integers 0..255) to ``path`` in the format of its extension.

    ``names`` (one string per colour) defaults to the colours' hex codes.  ``title`` names the
    palette where the format has a place for it (GPL, ASE group, JSON).  ``counts`` (pixels per
    colour) is stored by JSON only, the one format with room for it.  All input is checked
    before the file is opened, and the write is atomic.
    """
    where = path_name(path, "the palette path")
    writer = _format(where).write
    try:
        request = _request(colors, names, title, counts)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None
    try:
        with atomic_write(path, "wb") as out:
            writer(out, request)
    except OSError as err:
        raise InputError(f"{where}: cannot write ({err.strerror or err})") from None


def encode_palette(colors, suffix: str, *, title: str = "PaletteLab", counts=None) -> bytes:
    """The bytes :func:`write_palette` would write to a file ending in ``suffix`` (".css",
    ".txt", ...): for the clipboard."""
    request = _request(colors, None, title, counts)
    out = io.BytesIO()
    _format(f"palette{suffix}").write(out, request)
    return out.getvalue()


def check_palette_path(path: str | os.PathLike) -> None:
    """InputError unless ``path`` has a palette extension and its folder exists.

    Lets a command refuse a bad output name before a long run rather than after it.
    """
    _format(os.fspath(path))
    check_output_path(path)


def read_palette(path: str | os.PathLike, *, max_colors: int = MAX_COLORS) -> Palette:
    """Read a palette file, choosing the format by extension.

    ``max_colors`` refuses a palette with more colours than its caller can use (``remap``
    takes 256), with a message naming the file.  Files over :data:`MAX_PALETTE_BYTES` are
    refused without being read to the end.
    """
    where = path_name(path, "the palette path")
    reader = _format(where).read
    max_colors = check_int(max_colors, "max_colors", low=1, high=MAX_COLORS)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PALETTE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a palette file") from None
    except OSError as err:
        raise InputError(f"{where}: cannot read ({err.strerror or err})") from None
    if len(data) > MAX_PALETTE_BYTES:
        raise InputError(f"{where}: larger than {MAX_PALETTE_BYTES >> 20} MiB, not a palette "
                         "file")
    try:
        palette = reader(data)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None
    if len(palette.colors) > max_colors:
        raise InputError(f"{where}: {len(palette.colors)} colours; at most {max_colors} can "
                         "be used here")
    return palette


# --- validation and shared helpers --------------------------------------------------------------


def _format(where: str) -> _Format:
    suffix = Path(where).suffix.lower()
    if suffix not in _FORMATS:
        shown = f"'{suffix}'" if suffix else "(no extension)"
        raise InputError(f"{where}: unknown palette format {shown} "
                         f"(use {', '.join(PALETTE_EXTENSIONS)})")
    return _FORMATS[suffix]


def _as_array(values, what: str) -> np.ndarray:
    try:
        return np.asarray(values)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be an array of 0-255 integers") from None


def _color_array(colors) -> np.ndarray:
    """(k, 3) integers 0..255 as uint8.  Floats are refused: 0..1 floats would pass silently."""
    arr = _as_array(colors, "colours")
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"colours must have shape (k, 3), got {arr.shape}")
    if not 1 <= len(arr) <= MAX_COLORS:
        raise InputError(f"a palette needs 1 to {MAX_COLORS} colours, got {len(arr)}")
    if arr.dtype.kind not in "iu":
        raise InputError(f"colours must be integers 0-255, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() > 255:
        raise InputError(f"colours must be integers 0-255, got values {arr.min()}..{arr.max()}")
    return arr.astype(np.uint8)


def _check_text(text, what: str) -> str:
    """A name or title that fits every format: a string, one line, short enough for ASE."""
    if not isinstance(text, str):
        raise InputError(f"{what} must be a string, got {type(text).__name__}")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InputError(f"{what} contains a line break or other control character")
    if _utf16_units(text) > MAX_NAME_UNITS:
        raise InputError(f"{what} is longer than {MAX_NAME_UNITS} UTF-16 code units")
    return text


def _names(names, colors: np.ndarray) -> tuple[str, ...]:
    if names is None:
        return tuple(hex_color(rgb) for rgb in colors)
    if isinstance(names, str):
        raise InputError("names must be a sequence of strings, one per colour, not one string")
    try:
        names = tuple(names)
    except TypeError:
        raise InputError("names must be a sequence of strings, one per colour") from None
    if len(names) != len(colors):
        raise InputError(f"got {len(names)} names for {len(colors)} colours")
    return tuple(_check_text(name, f"colour name {i}") for i, name in enumerate(names, 1))


def _counts(counts, k: int) -> tuple[int, ...] | None:
    if counts is None:
        return None
    arr = _as_array(counts, "counts")
    if arr.shape != (k,) or arr.dtype.kind not in "iu" or (arr < 0).any():
        raise InputError(f"counts must be {k} non-negative integers, one per colour")
    return tuple(int(c) for c in arr)


def _request(colors, names, title, counts) -> _Request:
    rgb = _color_array(colors)
    return _Request(rgb, _names(names, rgb), names is not None, _check_text(title, "title"),
                    _counts(counts, len(rgb)))


def _palette(colors: Sequence[RGB], names: Sequence[str]) -> Palette:
    if not colors:
        raise InputError("no colours found")
    if len(colors) > MAX_COLORS:
        raise InputError(f"{len(colors)} colours; a palette holds at most {MAX_COLORS}")
    arr = np.array(colors, dtype=np.uint8).reshape(-1, 3)
    arr.setflags(write=False)
    return Palette(arr, tuple(names))


def _unit8(value: float) -> int:
    """A 0..1 channel as 0..255, rounded to nearest and clipped."""
    return min(255, max(0, round(value * 255)))


def _lab8(lightness: float, a: float, b: float) -> RGB:
    """CIELAB (D65, L 0..100) to sRGB, clipped into the gamut."""
    r, g, b = to_srgb8(np.array([[lightness, a, b]], dtype=np.float64), "lab")[0]
    return int(r), int(g), int(b)


def _byte(text: str) -> int | None:
    """An ASCII decimal 0..255, leading zeros allowed, as an int; None for anything else.

    ``str.isdigit`` would also pass superscripts and other scripts, and ``int`` of a long
    string trips Python's limit on digits (a value written ``%05000d`` raised ValueError).
    """
    digits = text.lstrip("0") or "0"
    if re.fullmatch(r"[0-9]{1,3}", digits) is None or int(digits) > 255:
        return None
    return int(digits)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-be")) // 2


def _utf16z(text: str) -> bytes:
    """A name as ASE and ACO store it: UTF-16BE with a terminating NUL."""
    return text.encode("utf-16-be") + b"\0\0"


def _decode_utf16z(raw: bytes) -> str:
    text = raw.decode("utf-16-be", errors="replace")
    return text[:-1] if text.endswith("\0") else text


def _text_lines(data: bytes) -> list[str]:
    """UTF-8 text (a BOM is dropped) split at LF, CRLF or CR, so line numbers match editors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (invalid byte at offset {err.start})") from None
    return re.split(r"\r\n|\r|\n", text)


def _line_error(number: int, message: str) -> InputError:
    return InputError(f"line {number}: {message}")


class _Cursor:
    """Bounds-checked big-endian reads, so a short file is an InputError with a byte offset."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, size: int, what: str, at: int | None = None) -> bytes:
        """The next ``size`` bytes; ``what`` and ``at`` (default: here) name a shortfall."""
        if size > self.remaining():
            raise InputError(f"truncated {what} at byte {self.pos if at is None else at}")
        self.pos += size
        return self.data[self.pos - size:self.pos]

    def read(self, fmt: str, what: str, at: int | None = None) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what, at))


# --- GIMP .gpl ----------------------------------------------------------------------------------

_GPL_HEADER = "GIMP Palette"
_GPL_COLOR = re.compile(r"\s*([0-9]+)\s+([0-9]+)\s+([0-9]+)(?:\s+(.*?))?\s*")


def _write_gpl(out: IO[bytes], req: _Request) -> None:
    lines = [_GPL_HEADER, f"Name: {req.title}",
             f"Columns: {min(len(req.colors), GPL_MAX_COLUMNS)}", "#"]
    lines += [f"{r:3d} {g:3d} {b:3d}\t{name}"
              for (r, g, b), name in zip(req.colors, req.names, strict=True)]
    out.write(("\n".join(lines) + "\n").encode("utf-8"))


def _read_gpl(data: bytes) -> Palette:
    """GIMP's text palette; header keys, comments and blank lines are skipped."""
    lines = _text_lines(data)
    if lines[0].strip() != _GPL_HEADER:
        raise InputError(f"not a GIMP palette (the first line must be '{_GPL_HEADER}')")
    colors, names = [], []
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "Name:", "Columns:")):
            continue
        match = _GPL_COLOR.fullmatch(line)
        values = [_byte(v) for v in match.group(1, 2, 3)] if match else [None]
        if None in values:
            raise _line_error(number, "expected 'R G B [name]' with 0-255 integers")
        colors.append(tuple(values))
        names.append(match[4] or "")
    return _palette(colors, names)


# --- Adobe .ase ---------------------------------------------------------------------------------


def _ase_block(kind: int, body: bytes) -> bytes:
    return struct.pack(">HI", kind, len(body)) + body


def _ase_name(text: str) -> bytes:
    return struct.pack(">H", _utf16_units(text) + 1) + _utf16z(text)


def _write_ase(out: IO[bytes], req: _Request) -> None:
    """One group (named after the title) holding RGB colours of type normal."""
    blocks = [_ase_block(ASE_GROUP_START, _ase_name(req.title))]
    for rgb, name in zip(req.colors, req.names, strict=True):
        body = (_ase_name(name) + b"RGB " + struct.pack(">3f", *(int(c) / 255 for c in rgb))
                + struct.pack(">H", ASE_NORMAL))
        blocks.append(_ase_block(ASE_COLOR, body))
    blocks.append(_ase_block(ASE_GROUP_END, b""))
    out.write(b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + b"".join(blocks))


def _ase_cmyk(c: float, m: float, y: float, k: float) -> RGB:
    """Naive CMYK (ink 0..1) to RGB: no profile, so only an approximation of print colours."""
    return _unit8((1 - c) * (1 - k)), _unit8((1 - m) * (1 - k)), _unit8((1 - y) * (1 - k))


# model -> (number of float32 values, conversion to sRGB)
_ASE_MODELS: dict[bytes, tuple[int, Callable[..., RGB]]] = {
    b"RGB ": (3, lambda r, g, b: (_unit8(r), _unit8(g), _unit8(b))),
    b"Gray": (1, lambda v: (_unit8(v),) * 3),
    b"CMYK": (4, _ase_cmyk),
    b"LAB ": (3, lambda lightness, a, b: _lab8(lightness * 100, a, b)),
}


def _ase_color(body: bytes, at: int) -> tuple[RGB, str]:
    """A colour block's body: UTF-16 name, model, float values (the colour type is unused)."""
    cur = _Cursor(body)
    (units,) = cur.read(">H", "colour block", at)
    name = _decode_utf16z(cur.take(2 * units, "colour block", at))
    model = cur.take(4, "colour block", at)
    if model not in _ASE_MODELS:
        raise InputError(f"colour block at byte {at}: unknown colour model {model!r}")
    size, convert = _ASE_MODELS[model]
    values = cur.read(f">{size}f", "colour block", at)
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"colour block at byte {at}: colour value is not a finite number")
    return convert(*values), name


def _read_ase(data: bytes) -> Palette:
    """Colour blocks in file order; groups are flattened and unknown blocks skipped."""
    if data[:4] != b"ASEF":
        raise InputError("not an Adobe Swatch Exchange file (no 'ASEF' signature)")
    cur = _Cursor(data)
    cur.pos = 4
    major, _minor, count = cur.read(">HHI", "header")
    if major != 1:
        raise InputError(f"unsupported ASE version {major} (expected 1)")
    colors, names = [], []
    for _ in range(count):
        at = cur.pos
        kind, length = cur.read(">HI", "block header")
        body = cur.take(length, "colour block" if kind == ASE_COLOR else "block", at)
        if kind == ASE_COLOR:
            rgb, name = _ase_color(body, at)
            colors.append(rgb)
            names.append(name)
    return _palette(colors, names)


# --- Photoshop .aco -----------------------------------------------------------------------------


def _aco_record(rgb) -> bytes:
    r, g, b = (int(c) * 257 for c in rgb)
    return struct.pack(">5H", 0, r, g, b, 0)


def _write_aco(out: IO[bytes], req: _Request) -> None:
    """A version 1 section (for old readers) followed by a version 2 section with names."""
    k = len(req.colors)
    v1 = struct.pack(">HH", 1, k) + b"".join(_aco_record(rgb) for rgb in req.colors)
    v2 = struct.pack(">HH", 2, k) + b"".join(
        _aco_record(rgb) + struct.pack(">I", _utf16_units(name) + 1) + _utf16z(name)
        for rgb, name in zip(req.colors, req.names, strict=True))
    out.write(v1 + v2)


def _signed16(value: int) -> int:
    return value - 65536 if value >= 32768 else value


def _aco_lab(w: int, x: int, y: int, _z: int) -> RGB:
    """L 0..10000 and signed a, b in hundredths."""
    return _lab8(w / 100, _signed16(x) / 100, _signed16(y) / 100)


def _aco_hsb(w: int, x: int, y: int, _z: int) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(w / 65535, x / 65535, y / 65535)
    return _unit8(r), _unit8(g), _unit8(b)


def _aco_cmyk(w: int, x: int, y: int, z: int) -> RGB:
    """Naive CMYK; Photoshop stores it inverted (65535 = no ink)."""
    k = z / 65535
    return _unit8(w / 65535 * k), _unit8(x / 65535 * k), _unit8(y / 65535 * k)


def _aco_gray(w: int, _x: int, _y: int, _z: int) -> RGB:
    """Grey as ink coverage 0..10000 (0 = white), as GIMP reads it."""
    return (_unit8(1 - min(w, 10000) / 10000),) * 3


_ACO_SPACES: dict[int, Callable[[int, int, int, int], RGB]] = {
    0: lambda w, x, y, _z: (round(w / 257), round(x / 257), round(y / 257)),
    1: _aco_hsb,
    2: _aco_cmyk,
    7: _aco_lab,
    8: _aco_gray,
}


def _aco_section(cur: _Cursor, version: int) -> tuple[list[RGB], list[str]]:
    """One section after its version word: count, then records (v2 records carry a name)."""
    (count,) = cur.read(">H", "header")
    colors, names = [], []
    for _ in range(count):
        at = cur.pos
        space, *values = cur.read(">5H", "colour record")
        if space not in _ACO_SPACES:
            raise InputError(f"colour record at byte {at}: unsupported colour space {space} "
                             "(supported: 0 RGB, 1 HSB, 2 CMYK, 7 Lab, 8 grayscale)")
        colors.append(_ACO_SPACES[space](*values))
        if version == 2:
            (units,) = cur.read(">I", "colour name")
            names.append(_decode_utf16z(cur.take(2 * units, "colour name")))
        else:
            names.append("")
    return colors, names


def _read_aco(data: bytes) -> Palette:
    """The version 2 section when present (it has names), else version 1."""
    cur = _Cursor(data)
    (version,) = cur.read(">H", "header")
    if version not in (1, 2):
        raise InputError(f"not a Photoshop swatch file (version {version}, expected 1 or 2)")
    section = _aco_section(cur, version)
    if version == 1 and cur.remaining() >= 2:
        at = cur.pos
        (version,) = cur.read(">H", "header")
        if version != 2:
            raise InputError(f"expected the version 2 section at byte {at}, found {version}")
        section = _aco_section(cur, version)
    return _palette(*section)


# --- JSON ---------------------------------------------------------------------------------------


def _write_json(out: IO[bytes], req: _Request) -> None:
    """``{"name", "colors": [{"hex", "rgb", "name", ("count", "share")}]}``."""
    total = sum(req.counts) if req.counts else 0
    entries = []
    for i, (rgb, name) in enumerate(zip(req.colors, req.names, strict=True)):
        entry = {"hex": hex_color(rgb), "rgb": [int(c) for c in rgb], "name": name}
        if req.counts is not None:
            entry["count"] = req.counts[i]
            entry["share"] = round(req.counts[i] / total, 6) if total else 0.0
        entries.append(entry)
    # one colour a line: diff-friendly and readable, where indent=2 would explode every [r, g, b]
    rows = ",\n".join(f"    {json.dumps(entry, ensure_ascii=False)}" for entry in entries)
    title = json.dumps(req.title, ensure_ascii=False)
    out.write(f'{{\n  "name": {title},\n  "colors": [\n{rows}\n  ]\n}}\n'.encode())


def _json_rgb(value) -> RGB:
    if (not isinstance(value, list) or len(value) != 3
            or not all(type(c) is int and 0 <= c <= 255 for c in value)):
        raise InputError("expected '#rrggbb' or [r, g, b] with 0-255 integers")
    r, g, b = value
    return r, g, b


def _json_color(entry) -> tuple[RGB, str]:
    """One colour: a hex string, an [r, g, b] list, or an object with "hex" or "rgb"."""
    if isinstance(entry, str):
        return parse_hex(entry), ""
    if not isinstance(entry, dict):
        return _json_rgb(entry), ""
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise InputError("'name' must be a string")
    if "hex" in entry:
        return parse_hex(entry["hex"]), name
    if "rgb" in entry:
        return _json_rgb(entry["rgb"]), name
    raise InputError("a colour object needs a 'hex' or 'rgb' member")


def _read_json(data: bytes) -> Palette:
    """PaletteLab's own layout, a bare list of colours, or the CLI's ``{"palette": [...]}``."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (invalid byte at offset {err.start})") from None
    except (ValueError, RecursionError) as err:
        raise InputError(f"not valid JSON ({err})") from None
    entries = doc
    if isinstance(doc, dict):
        entries = doc.get("colors", doc.get("palette"))
    if not isinstance(entries, list):
        raise InputError('expected a list of colours, {"colors": [...]} or {"palette": [...]}')
    colors, names = [], []
    for i, entry in enumerate(entries, 1):
        try:
            rgb, name = _json_color(entry)
        except InputError as err:
            raise InputError(f"colour {i}: {err}") from None
        colors.append(rgb)
        names.append(name)
    return _palette(colors, names)


# --- plain .txt ---------------------------------------------------------------------------------

_ARGB = re.compile(r"[0-9a-fA-F]{8}")  # Paint.NET: FFrrggbb


def _write_txt(out: IO[bytes], req: _Request) -> None:
    out.write("".join(f"{hex_color(rgb)}\n" for rgb in req.colors).encode("utf-8"))


def _is_txt_comment(line: str) -> bool:
    return line.startswith((";", "//")) or line == "#" or re.match(r"#\s", line) is not None


def _read_txt(data: bytes) -> Palette:
    """One colour per line; anything after the colour is ignored, so are comment lines."""
    colors = []
    for number, line in enumerate(_text_lines(data), start=1):
        stripped = line.strip()
        if not stripped or _is_txt_comment(stripped):
            continue
        token = stripped.split()[0]
        try:
            colors.append(parse_hex(token[2:] if _ARGB.fullmatch(token) else token))
        except InputError:
            raise _line_error(number, f"expected a colour like #rrggbb, got {token!r}") from None
    return _palette(colors, [""] * len(colors))


# --- CSS custom properties ----------------------------------------------------------------------

_CSS_TOKEN = re.compile(
    r"/\*.*?\*/"  # a comment on its own: skipped, so commented-out declarations stay out
    r"|(?<![\w-])--(?P<prop>[\w-]+)\s*:(?P<value>[^;{}]*)(?:;|(?=})|$)"
    r"(?:[ \t]*/\*(?P<note>.*?)\*/)?",  # the colour's name, as the writer puts it
    re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_IMPORTANT = re.compile(r"!\s*important\s*$", re.IGNORECASE)


def _css_properties(names: Sequence[str]) -> list[str]:
    """Unique custom property names slugified from the colour names (``color-i`` if empty)."""
    used: set[str] = set()
    props = []
    for i, name in enumerate(names, 1):
        base = re.sub(r"[^\w-]+", "-", name.strip().lower()).strip("-") or f"color-{i}"
        prop, n = base, 2
        while prop in used:
            prop, n = f"{base}-{n}", n + 1
        used.add(prop)
        props.append(prop)
    return props


def _write_css(out: IO[bytes], req: _Request) -> None:
    """``:root`` custom properties; names are kept in a comment since slugs lose characters."""
    if req.named:
        props = _css_properties(req.names)
        notes = [f" /* {name.replace('*/', '* /')} */" for name in req.names]
    else:
        props = [f"palette-{i}" for i in range(1, len(req.colors) + 1)]
        notes = [""] * len(req.colors)
    lines = [f"  --{prop}: {hex_color(rgb)};{note}"
             for prop, rgb, note in zip(props, req.colors, notes, strict=True)]
    out.write((":root {\n" + "\n".join(lines) + "\n}\n").encode("utf-8"))


def _read_css(data: bytes) -> Palette:
    """Every custom property whose value is a colour (:func:`css_color`), in order.

    Other declarations (lengths, fonts, ``var()``...) are not colours and are passed over; a
    value that is a colour but broken or unsupported (``rgb(1,2,3`` without its ``)``,
    ``oklch()``) stops the read with its line, so that no colour is dropped without a word.
    """
    text = "\n".join(_text_lines(data))
    colors, names = [], []
    for match in _CSS_TOKEN.finditer(text):
        if match["prop"] is None:
            continue
        value = _CSS_IMPORTANT.sub("", _CSS_COMMENT.sub(" ", match["value"])).strip()
        try:
            rgb = css_color(value)
        except InputError as err:
            line = text.count("\n", 0, match.start()) + 1
            raise _line_error(line, f"--{match['prop']}: {err}") from None
        if rgb is not None:
            colors.append(rgb)
            names.append(match["prop"] if match["note"] is None else match["note"].strip())
    return _palette(colors, names)


# --- PNG swatch strip ---------------------------------------------------------------------------


def _swatch_grid(k: int) -> tuple[int, int]:
    """(rows, columns) of swatches for k colours."""
    return -(-k // SWATCHES_PER_ROW), min(k, SWATCHES_PER_ROW)


def _write_png(out: IO[bytes], req: _Request) -> None:
    """Square swatches, 16 a row.  Spare cells repeat the last colour, so even a copy that lost
    the count chunk reads back as the palette (for distinct colours)."""
    k = len(req.colors)
    rows, cols = _swatch_grid(k)
    cells = np.empty((rows * cols, 3), dtype=np.uint8)
    cells[:k] = req.colors
    cells[k:] = req.colors[-1]
    pixels = cells.reshape(rows, cols, 3).repeat(SWATCH_PX, axis=0).repeat(SWATCH_PX, axis=1)
    info = PngImagePlugin.PngInfo()
    info.add_text(PNG_COUNT_KEY, str(k))
    Image.fromarray(pixels).save(out, format="PNG", pnginfo=info)


def _swatch_count(count_text: object, size: tuple[int, int]) -> int | None:
    """The number of swatches of a strip written here (None: no count chunk), checked against
    the image's size before any pixel is decoded; an image without the chunk must be small."""
    width, height = size
    if not isinstance(count_text, str):
        if width * height > PNG_MAX_PIXELS:
            raise InputError(f"is not a palette image: {width}x{height} pixels (a PNG without "
                             f"a {PNG_COUNT_KEY} chunk may have {PNG_MAX_PIXELS:,} at most)")
        return None
    count = int(count_text) if re.fullmatch(r"[0-9]{1,5}", count_text) else 0
    if not 1 <= count <= MAX_COLORS:
        raise InputError(f"bad {PNG_COUNT_KEY} value {count_text[:20]!r}")
    rows, cols = _swatch_grid(count)
    if (height, width) != (rows * SWATCH_PX, cols * SWATCH_PX):
        raise InputError(f"{PNG_COUNT_KEY}={count} needs a {cols * SWATCH_PX}x"
                         f"{rows * SWATCH_PX} px swatch image, this one is {width}x{height}")
    return count


def _png_swatches(pixels: np.ndarray, count: int) -> Palette:
    """The centre pixel of each of the first ``count`` swatch cells."""
    centre = SWATCH_PX // 2
    colors = pixels[centre::SWATCH_PX, centre::SWATCH_PX].reshape(-1, 3)[:count]
    return _palette([tuple(int(c) for c in rgb) for rgb in colors], [""] * count)


def _png_distinct(pixels: np.ndarray) -> Palette:
    """Any other image: its distinct colours in first-seen raster order, if few enough."""
    flat = pixels.reshape(-1, 3)
    _, first = np.unique(color_codes(flat), return_index=True)
    if len(first) > PNG_MAX_DISTINCT:
        raise InputError(f"is not a palette swatch image: {len(first)} distinct colours")
    colors = flat[np.sort(first)]
    return _palette([tuple(int(c) for c in rgb) for rgb in colors], [""] * len(colors))


def _read_png(data: bytes) -> Palette:
    """A swatch strip or a small image; the size is checked before the pixels are decoded.

    Pillow's own decompression-bomb warning is silenced (the size checks here are stricter),
    and its "cannot identify image file <_io.BytesIO object at 0x...>" is not shown.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                count = _swatch_count(image.info.get(PNG_COUNT_KEY), image.size)
                image.load()
                pixels = np.asarray(image.convert("RGB"))
    except InputError:
        raise
    except Image.UnidentifiedImageError:
        raise InputError("not a readable PNG image (not a PNG file)") from None
    except Image.DecompressionBombError:
        raise InputError(f"is not a palette image: more than {PNG_MAX_PIXELS:,} pixels"
                         ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        problem = " ".join(str(err).split()) or type(err).__name__
        raise InputError(f"not a readable PNG image ({problem})") from None
    if count is not None:
        return _png_swatches(pixels, count)
    return _png_distinct(pixels)


_FORMATS: dict[str, _Format] = {
    ".gpl": _Format(_read_gpl, _write_gpl),
    ".ase": _Format(_read_ase, _write_ase),
    ".aco": _Format(_read_aco, _write_aco),
    ".json": _Format(_read_json, _write_json),
    ".txt": _Format(_read_txt, _write_txt),
    ".css": _Format(_read_css, _write_css),
    ".png": _Format(_read_png, _write_png),
}

"""One sRGB colour as a number or as text: the 24-bit code and ``#rrggbb``.

The code ``r << 16 | g << 8 | b`` orders colours by red, then green, then blue, and indexes the
2**24-entry tables of the quantizer (distinct colours, remap lookup).  :func:`color_code` is
the one definition: numpy calls it on whole arrays (:func:`color_codes`), and kernels call its
Numba-compiled form, ``palettelab.core.quantization.histogram.jit_color_code``.  This module
itself loads no Numba, so that the GUI can use it without paying for Numba at start-up.

Colours given by people (locked colours, palette files) are ``"#rrggbb"`` or ``"#rgb"`` in any
case, or three integers 0..255; floats are refused, because 0..1 floats would pass silently.
Hex text leaves PaletteLab in lowercase, as CSS tools print it.
"""

from __future__ import annotations

import re

import numpy as np

from palettelab.core.errors import InputError

RGB = tuple[int, int, int]

_HEX6 = re.compile(r"#?([0-9a-fA-F]{6})")
_HEX3 = re.compile(r"#([0-9a-fA-F]{3})")


def color_code(r, g, b):
    """The 24-bit code of integer channels 0..255 (scalars or arrays), as int32: it indexes
    2**24-entry tables.  Written so that Numba compiles it as it is."""
    return (np.int32(r) << 16) | (np.int32(g) << 8) | np.int32(b)


def color_codes(colors: np.ndarray) -> np.ndarray:
    """The codes of (..., 3) integer colours 0..255 (a 0-d value for one colour)."""
    c = np.asarray(colors)
    return color_code(c[..., 0], c[..., 1], c[..., 2])


def _rgb(color) -> RGB | None:
    """Three integers 0..255 (Python or numpy) as a tuple; None for anything else."""
    if isinstance(color, str):
        return None
    try:
        values = np.asarray(color)
    except (TypeError, ValueError):
        return None
    if values.shape != (3,) or values.dtype.kind not in "iu" or not (
            (values >= 0) & (values <= 255)).all():
        return None
    return int(values[0]), int(values[1]), int(values[2])


def hex_color(rgb) -> str:
    """Three integers 0..255 as ``"#rrggbb"`` (lowercase)."""
    values = _rgb(rgb)
    if values is None:
        raise InputError(f"not a colour: {rgb!r} (expected three 0-255 integers)")
    return "#{:02x}{:02x}{:02x}".format(*values)


def parse_hex(text: str) -> RGB:
    """``"#1a2b3c"``, ``"1a2b3c"`` or ``"#abc"`` (any case) as integers; InputError otherwise.

    Three digits need the ``#``: a bare ``abc`` is more likely a typo or a name than a colour.
    """
    if isinstance(text, str):
        if match := _HEX6.fullmatch(text.strip()):
            digits = match[1]
            return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
        if match := _HEX3.fullmatch(text.strip()):
            r, g, b = (int(d * 2, 16) for d in match[1])
            return r, g, b
    raise InputError(f"not a hex colour: {text!r} (use #rrggbb or #rgb)")


def parse_hex_digits(digits: str) -> RGB | None:
    """3, 4, 6 or 8 hex digits (``rgb``, ``rgba``, ``rrggbb``, ``rrggbbaa``, as CSS writes them)
    as integers, alpha dropped; None for anything else."""
    if not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) not in (3, 4, 6, 8):
        return None
    if len(digits) <= 4:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def parse_color(color) -> RGB:
    """A colour given as ``"#rrggbb"`` (or ``"rrggbb"``, ``"#rgb"``) or three 0..255 integers."""
    if isinstance(color, str):
        return parse_hex(color)
    values = _rgb(color)
    if values is None:
        raise InputError(f"not a colour: {color!r} (expected #rrggbb or three 0-255 integers)")
    return values

"""CSS colour values (CSS Color 4) as sRGB: what a palette's CSS custom properties may hold.

:func:`css_color` reads one value and says which of three things it is:

* a colour: one of the 148 named colours, ``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa``,
  ``rgb()``/``rgba()`` with numbers or percentages (comma syntax, or space syntax with an
  optional ``/ alpha``), ``hsl()``/``hsla()`` (hue a number or an angle in deg, rad, grad or
  turn).  Channels out of range are clamped as CSS does, then rounded to 0..255; ``none``
  is 0.  Alpha is checked but not kept: a palette entry is an opaque colour;
* not a colour (None): a length, a font name, ``var(--x)``, a gradient...;
* a colour this reader cannot take, or a broken one (an :class:`InputError` saying why):
  ``transparent`` and ``currentcolor`` (no colour of their own), the other CSS Color 4
  functions (``hwb``, ``lab``, ``lch``, ``oklab``, ``oklch``, ``color``, ``color-mix``...), a
  bad hex code, an unclosed or malformed ``rgb(``/``hsl(``.  A palette file must never lose a
  colour without a word, so these are errors rather than skipped.

A misspelt name (``rebeccapurpel``) cannot be told from any other word and is not a colour.
"""

from __future__ import annotations

import colorsys
import math
import re

from palettelab.core.color.codes import RGB, parse_hex_digits
from palettelab.core.errors import InputError

_NAMES = """
aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff beige f5f5dc
bisque ffe4c4 black 000000 blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a
burlywood deb887 cadetblue 5f9ea0 chartreuse 7fff00 chocolate d2691e coral ff7f50
cornflowerblue 6495ed cornsilk fff8dc crimson dc143c cyan 00ffff darkblue 00008b
darkcyan 008b8b darkgoldenrod b8860b darkgray a9a9a9 darkgreen 006400 darkgrey a9a9a9
darkkhaki bdb76b darkmagenta 8b008b darkolivegreen 556b2f darkorange ff8c00 darkorchid 9932cc
darkred 8b0000 darksalmon e9967a darkseagreen 8fbc8f darkslateblue 483d8b
darkslategray 2f4f4f darkslategrey 2f4f4f darkturquoise 00ced1 darkviolet 9400d3
deeppink ff1493 deepskyblue 00bfff dimgray 696969 dimgrey 696969 dodgerblue 1e90ff
firebrick b22222 floralwhite fffaf0 forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc
ghostwhite f8f8ff gold ffd700 goldenrod daa520 gray 808080 green 008000 greenyellow adff2f
grey 808080 honeydew f0fff0 hotpink ff69b4 indianred cd5c5c indigo 4b0082 ivory fffff0
khaki f0e68c lavender e6e6fa lavenderblush fff0f5 lawngreen 7cfc00 lemonchiffon fffacd
lightblue add8e6 lightcoral f08080 lightcyan e0ffff lightgoldenrodyellow fafad2
lightgray d3d3d3 lightgreen 90ee90 lightgrey d3d3d3 lightpink ffb6c1 lightsalmon ffa07a
lightseagreen 20b2aa lightskyblue 87cefa lightslategray 778899 lightslategrey 778899
lightsteelblue b0c4de lightyellow ffffe0 lime 00ff00 limegreen 32cd32 linen faf0e6
magenta ff00ff maroon 800000 mediumaquamarine 66cdaa mediumblue 0000cd mediumorchid ba55d3
mediumpurple 9370db mediumseagreen 3cb371 mediumslateblue 7b68ee mediumspringgreen 00fa9a
mediumturquoise 48d1cc mediumvioletred c71585 midnightblue 191970 mintcream f5fffa
mistyrose ffe4e1 moccasin ffe4b5 navajowhite ffdead navy 000080 oldlace fdf5e6 olive 808000
olivedrab 6b8e23 orange ffa500 orangered ff4500 orchid da70d6 palegoldenrod eee8aa
palegreen 98fb98 paleturquoise afeeee palevioletred db7093 papayawhip ffefd5
peachpuff ffdab9 peru cd853f pink ffc0cb plum dda0dd powderblue b0e0e6 purple 800080
rebeccapurple 663399 red ff0000 rosybrown bc8f8f royalblue 4169e1 saddlebrown 8b4513
salmon fa8072 sandybrown f4a460 seagreen 2e8b57 seashell fff5ee sienna a0522d silver c0c0c0
skyblue 87ceeb slateblue 6a5acd slategray 708090 slategrey 708090 snow fffafa
springgreen 00ff7f steelblue 4682b4 tan d2b48c teal 008080 thistle d8bfd8 tomato ff6347
turquoise 40e0d0 violet ee82ee wheat f5deb3 white ffffff whitesmoke f5f5f5 yellow ffff00
yellowgreen 9acd32
""".split()

#: the 148 named colours of CSS Color 4, lowercase name -> sRGB
NAMED_COLORS: dict[str, RGB] = {
    name: parse_hex_digits(code) for name, code in zip(_NAMES[::2], _NAMES[1::2], strict=True)
}

#: CSS Color 4 colours this reader refuses, with the reason
_NO_COLOR = {"transparent": "has no colour of its own",
             "currentcolor": "has no colour of its own"}
_UNSUPPORTED_FUNCTIONS = ("hwb", "lab", "lch", "oklab", "oklch", "color", "color-mix",
                          "light-dark", "contrast-color", "device-cmyk")

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_COMPONENT = re.compile(rf"(?P<number>{_NUMBER})(?P<unit>%|deg|rad|grad|turn)?|(?P<none>none)",
                        re.IGNORECASE)
_FUNCTION = re.compile(r"(?P<name>[a-zA-Z][\w-]*)\s*\(", re.ASCII)
_HEX = re.compile(r"#(?P<digits>[0-9a-fA-F]+)")
_TURN = {"deg": 1 / 360, "grad": 1 / 400, "rad": 1 / (2 * math.pi), "turn": 1.0, "": 1 / 360}
#: longest excerpt of a value quoted in a message
_SHOWN = 40


def css_color(value: str) -> RGB | None:
    """The sRGB colour of one CSS value, None when the value is not a colour at all, or an
    :class:`InputError` for a colour that is broken or not supported (see the module notes)."""
    text = value.strip()
    if text.startswith("#"):
        match = _HEX.fullmatch(text)
        rgb = parse_hex_digits(match["digits"]) if match else None
        if rgb is None:
            raise InputError(f"{_shown(text)} is not a hex colour (#rgb, #rgba, #rrggbb or "
                             "#rrggbbaa)")
        return rgb
    if function := _FUNCTION.match(text):
        return _color_function(function["name"].lower(), text, function.end())
    lowered = text.lower()
    if lowered in NAMED_COLORS:
        return NAMED_COLORS[lowered]
    if lowered in _NO_COLOR:
        raise InputError(f"{text!r} {_NO_COLOR[lowered]}; a palette holds opaque colours")
    return None


def _color_function(name: str, text: str, start: int) -> RGB | None:
    if name in _UNSUPPORTED_FUNCTIONS:
        raise InputError(f"{_shown(text)}: {name}() colours are not supported; use a name, "
                         "hex, rgb() or hsl()")
    if name not in ("rgb", "rgba", "hsl", "hsla"):
        return None  # var(), calc(), a gradient: not a colour value
    if not text.endswith(")"):
        raise InputError(f"{_shown(text)}: {name}( is not closed by ')'")
    components = _components(text[start:-1])
    if components is None:
        raise InputError(f"{_shown(text)} is not a valid {name}() colour")
    convert = _rgb if name.startswith("rgb") else _hsl
    rgb = convert(components[:3])
    if rgb is None or (len(components) == 4 and not _is_alpha(components[3])):
        raise InputError(f"{_shown(text)} is not a valid {name}() colour")
    return rgb


def _components(inner: str) -> list[re.Match] | None:
    """Three or four components: ``a, b, c[, alpha]`` or ``a b c[ / alpha]``."""
    if "," in inner:
        parts = [part.strip() for part in inner.split(",")]
        if "none" in (part.lower() for part in parts):  # only the space syntax has none
            return None
    else:
        main, slash, alpha = inner.partition("/")
        parts = main.split() + ([alpha.strip()] if slash else [])
        if slash and len(parts) != 4:
            return None
    matches = [_COMPONENT.fullmatch(part) for part in parts]
    if len(matches) not in (3, 4) or None in matches:
        return None
    return matches


def _value(component: re.Match) -> tuple[float, str]:
    if component["none"]:
        return 0.0, ""
    number = float(component["number"])
    if not math.isfinite(number):
        number = math.copysign(1e9, number)
    return number, (component["unit"] or "").lower()


def _channel(value: float) -> int:
    return min(255, max(0, round(value)))


def _rgb(components: list[re.Match]) -> RGB | None:
    """Numbers 0..255 or percentages, clamped (mixing the two is accepted)."""
    values = [_value(c) for c in components]
    units = {unit for _, unit in values}
    if not units <= {"", "%"}:
        return None
    r, g, b = (_channel(number * 2.55 if unit == "%" else number) for number, unit in values)
    return r, g, b


def _hsl(components: list[re.Match]) -> RGB | None:
    (hue, hue_unit), (s, s_unit), (lightness, l_unit) = (_value(c) for c in components)
    if hue_unit == "%" or {s_unit, l_unit} - {"", "%"}:
        return None
    turns = (hue * _TURN[hue_unit]) % 1.0
    saturation = min(1.0, max(0.0, s / 100))
    lightness = min(1.0, max(0.0, lightness / 100))
    r, g, b = colorsys.hls_to_rgb(turns, lightness, saturation)
    return _channel(r * 255), _channel(g * 255), _channel(b * 255)


def _is_alpha(component: re.Match) -> bool:
    return component["unit"] in (None, "%")


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")

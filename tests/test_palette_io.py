"""Palette files: round trips, byte layouts against the published specs, tolerant readers and
errors that name the file."""

import json
import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from palettelab.core.color.codes import color_codes, hex_color, parse_color, parse_hex
from palettelab.core.errors import InputError
from palettelab.core.formats.palettes import PALETTE_EXTENSIONS, read_palette, write_palette

# 20 colours: more than one PNG row and GPL's 16 columns; channel extremes included
COLORS = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 51], [1, 2, 3], [128, 127, 129]]
                  + [[13 * i, 255 - 7 * i, (31 * i) % 256] for i in range(15)], dtype=np.uint8)
NAMES = tuple(f"Colour {i}" for i in range(len(COLORS)))
NAMED_FORMATS = (".gpl", ".ase", ".aco", ".json", ".css")
UNICODE_NAMES = ("é", "日本", "Crème brûlée")


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", PALETTE_EXTENSIONS)
def test_round_trip_keeps_colours(tmp_path, ext):
    path = tmp_path / f"pal{ext}"
    write_palette(path, COLORS, NAMES, title="Test")
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, COLORS)
    assert palette.colors.dtype == np.uint8
    assert len(palette.names) == len(COLORS)


@pytest.mark.parametrize("ext", NAMED_FORMATS)
def test_round_trip_keeps_names(tmp_path, ext):
    path = tmp_path / f"pal{ext}"
    write_palette(path, COLORS, NAMES)
    assert read_palette(path).names == NAMES


@pytest.mark.parametrize("ext", NAMED_FORMATS)
def test_non_ascii_names(tmp_path, ext):
    path = tmp_path / f"pal{ext}"
    write_palette(path, COLORS[:3], UNICODE_NAMES, title="Palette é 日本")
    palette = read_palette(path)
    assert palette.names == UNICODE_NAMES
    np.testing.assert_array_equal(palette.colors, COLORS[:3])


@pytest.mark.parametrize("ext", (".gpl", ".ase", ".aco", ".json"))
def test_names_default_to_hex(tmp_path, ext):
    path = tmp_path / f"pal{ext}"
    write_palette(path, [[255, 0, 51], [1, 2, 3]])
    assert read_palette(path).names == ("#ff0033", "#010203")


@pytest.mark.parametrize("ext", (".txt", ".png"))
def test_formats_without_names_read_empty_names(tmp_path, ext):
    path = tmp_path / f"pal{ext}"
    write_palette(path, COLORS[:2], ["a", "b"])
    assert read_palette(path).names == ("", "")


def test_single_colour_and_accepts_lists(tmp_path):
    path = tmp_path / "one.gpl"
    write_palette(path, [[10, 20, 30]])
    np.testing.assert_array_equal(read_palette(path).colors, [[10, 20, 30]])


def test_palette_colours_are_read_only(tmp_path):
    path = tmp_path / "pal.txt"
    write_palette(path, COLORS)
    with pytest.raises(ValueError):
        read_palette(path).colors[0, 0] = 7


def test_uppercase_extension(tmp_path):
    path = tmp_path / "PAL.GPL"
    write_palette(path, COLORS[:2])
    assert path.read_text().startswith("GIMP Palette\n")
    np.testing.assert_array_equal(read_palette(path).colors, COLORS[:2])


# --- colour codes and hex (palettelab.core.color.codes) -----------------------------------------


def test_hex_color():
    assert hex_color([26, 43, 60]) == "#1a2b3c"
    assert hex_color(np.array([255, 0, 10], dtype=np.uint8)) == "#ff000a"
    assert hex_color((np.int64(1), np.uint8(2), 3)) == "#010203"


def test_color_codes():
    assert int(color_codes(np.array([1, 2, 3], dtype=np.uint8))) == 0x010203
    np.testing.assert_array_equal(color_codes(COLORS[:3]), [0, 0xFFFFFF, 0xFF0033])
    assert color_codes(np.zeros((2, 4, 3), np.uint8)).shape == (2, 4)


def test_parse_color():
    assert parse_color("#1a2b3c") == parse_color([26, 43, 60]) == (26, 43, 60)
    assert parse_color(np.array([26, 43, 60], dtype=np.uint8)) == (26, 43, 60)


@pytest.mark.parametrize("bad", [[0.5, 0, 0], [1, 2], [0, 0, 256], None, "#12345"])
def test_parse_color_rejects(bad):
    with pytest.raises(InputError, match=r"not a (hex )?colour"):
        parse_color(bad)


def test_colour_codes_load_no_numba():
    """The GUI uses them at start-up, before any compute is needed."""
    code = "import sys, palettelab.core.color.codes; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("bad", [[1, 2], [1, 2, 256], [-1, 0, 0], [0.5, 0, 0], "abc"])
def test_hex_color_rejects(bad):
    with pytest.raises(InputError):
        hex_color(bad)


@pytest.mark.parametrize(("text", "rgb"), [("#1a2b3c", (26, 43, 60)), ("1A2B3C", (26, 43, 60)),
                                           ("#abc", (170, 187, 204)), (" #FFF ", (255, 255, 255))])
def test_parse_hex(text, rgb):
    assert parse_hex(text) == rgb


@pytest.mark.parametrize("bad", ["", "#", "abc", "#12345", "#1234567", "#ggg000", "0x123456",
                                 "#1a2b3c4d", None, 0x123456])
def test_parse_hex_rejects(bad):
    with pytest.raises(InputError, match="not a hex colour"):
        parse_hex(bad)


# --- GIMP .gpl ----------------------------------------------------------------------------------


def test_gpl_layout(tmp_path):
    path = tmp_path / "pal.gpl"
    write_palette(path, [[255, 0, 51], [1, 2, 3]], ["Red one", "dark"], title="My palette")
    assert path.read_bytes() == (b"GIMP Palette\nName: My palette\nColumns: 2\n#\n"
                                 b"255   0  51\tRed one\n  1   2   3\tdark\n")


def test_gpl_columns_capped_at_16(tmp_path):
    path = tmp_path / "pal.gpl"
    write_palette(path, COLORS)
    assert "Columns: 16\n" in path.read_text()


def test_gpl_reader_tolerance(tmp_path):
    path = tmp_path / "pal.gpl"
    path.write_bytes(b"GIMP Palette\r\n# a comment\r\n\r\n  10 20 30  Name with  spaces \r\n"
                     b"   \r\n40\t50\t60\r\n#\r\n255 255 255 x\r\n")
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[10, 20, 30], [40, 50, 60], [255, 255, 255]])
    assert palette.names == ("Name with  spaces", "", "x")


def test_gpl_with_bom_and_header_keys(tmp_path):
    path = tmp_path / "pal.gpl"
    path.write_bytes("\ufeffGIMP Palette\nName: X\nColumns: 4\n1 2 3 é\n".encode())
    palette = read_palette(path)
    assert palette.names == ("é",)


def test_gpl_rejects_wrong_first_line(tmp_path):
    path = tmp_path / "pal.gpl"
    path.write_text("Name: X\n1 2 3 a\n")
    with pytest.raises(InputError, match=r"pal\.gpl: not a GIMP palette"):
        read_palette(path)


@pytest.mark.parametrize("line", ["1 2", "1 2 x", "256 0 0 big", "-1 0 0", "1.5 2 3", "red"])
def test_gpl_bad_line_names_line_number(tmp_path, line):
    path = tmp_path / "pal.gpl"
    path.write_text(f"GIMP Palette\nName: X\n#\n\n1 2 3\n\n{line}\n")
    with pytest.raises(InputError, match=r"pal\.gpl: line 7: expected 'R G B \[name\]'"):
        read_palette(path)


def test_gpl_rejects_non_utf8(tmp_path):
    path = tmp_path / "pal.gpl"
    path.write_bytes(b"GIMP Palette\n1 2 3 caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_palette(path)


# --- Adobe .ase ---------------------------------------------------------------------------------


def _ase_name(text):
    units = text.encode("utf-16-be") + b"\0\0"
    return struct.pack(">H", len(units) // 2) + units


def _ase_block(kind, body):
    return struct.pack(">HI", kind, len(body)) + body


def _ase_file(*blocks):
    return b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + b"".join(blocks)


def _ase_colour(name, model, *values):
    body = _ase_name(name) + model + struct.pack(f">{len(values)}f", *values) + b"\x00\x02"
    return _ase_block(1, body)


def test_ase_bytes(tmp_path):
    path = tmp_path / "pal.ase"
    write_palette(path, [[255, 0, 51], [0, 128, 255]], ["A", "日本"], title="T")
    expected = (
        b"ASEF" + struct.pack(">HHI", 1, 0, 4)
        # group start: type, length 6, name length 2 (T + NUL), "T", NUL
        + bytes.fromhex("c001 00000006 0002 0054 0000")
        # colour: type 1, length 24, name length 2, "A", NUL, "RGB ", 1.0, 0.0, 0.2, normal
        + bytes.fromhex("0001 00000018 0002 0041 0000") + b"RGB "
        + bytes.fromhex("3f800000 00000000 3e4ccccd 0002")
        + _ase_block(1, struct.pack(">H", 3) + "日本\0".encode("utf-16-be") + b"RGB "
                     + struct.pack(">3f", 0.0, 128 / 255, 1.0) + struct.pack(">H", 2))
        + bytes.fromhex("c002 00000000")
    )
    assert path.read_bytes() == expected


def test_ase_reads_groups_models_and_skips_unknown_blocks(tmp_path):
    path = tmp_path / "pal.ase"
    path.write_bytes(_ase_file(
        _ase_colour("loose", b"RGB ", 0.0, 0.2, 1.0),
        _ase_block(0xC001, _ase_name("group")),
        _ase_colour("grey", b"Gray", 0.2),
        _ase_block(0x7777, b"\x01\x02\x03 whatever"),
        _ase_colour("cmyk", b"CMYK", 0.0, 1.0, 1.0, 0.2),
        _ase_colour("lab", b"LAB ", 0.532408, 80.0925, 67.2032),
        _ase_block(0xC002, b""),
    ))
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[0, 51, 255], [51, 51, 51], [204, 0, 0],
                                                   [255, 0, 0]])
    assert palette.names == ("loose", "grey", "cmyk", "lab")


def test_ase_rounds_to_nearest(tmp_path):
    path = tmp_path / "pal.ase"
    # 0.999 * 255 = 254.7 -> 255 (truncation would give 254); out-of-range values clip
    path.write_bytes(_ase_file(_ase_colour("", b"RGB ", 0.999, 1.5, -0.2)))
    np.testing.assert_array_equal(read_palette(path).colors, [[255, 255, 0]])


@pytest.mark.parametrize(("cut", "message"), [
    (2, "not an Adobe Swatch Exchange file"),
    (8, "truncated header at byte 4"),
    (12 + 3, "truncated block header at byte 12"),
    (12 + 12 + 10, "truncated colour block at byte 24"),  # T: the group block takes 12 bytes
    (12 + 12 + 30 + 6 + 3, "truncated colour block at byte 54"),
])
def test_ase_truncated(tmp_path, cut, message):
    path = tmp_path / "pal.ase"
    write_palette(path, [[255, 0, 51], [0, 128, 255]], ["A", "B"], title="T")
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(InputError, match=f"pal.ase: {message}"):
        read_palette(path)


def test_ase_block_shorter_than_its_colour(tmp_path):
    path = tmp_path / "pal.ase"
    body = _ase_name("A") + b"RGB " + struct.pack(">2f", 1.0, 0.0)  # one float missing
    path.write_bytes(_ase_file(_ase_block(1, body)))
    with pytest.raises(InputError, match="truncated colour block at byte 12"):
        read_palette(path)


@pytest.mark.parametrize(("data", "message"), [
    (b"ASEX" + struct.pack(">HHI", 1, 0, 0), "not an Adobe Swatch Exchange file"),
    (b"ASEF" + struct.pack(">HHI", 2, 0, 0), "unsupported ASE version 2"),
    (_ase_file(_ase_colour("x", b"HSV ", 1.0, 1.0, 1.0)), "unknown colour model b'HSV '"),
    (_ase_file(_ase_colour("x", b"RGB ", float("nan"), 1.0, 1.0)), "not a finite number"),
    (_ase_file(_ase_block(0xC001, _ase_name("empty")), _ase_block(0xC002, b"")),
     "no colours found"),
])
def test_ase_rejects(tmp_path, data, message):
    path = tmp_path / "pal.ase"
    path.write_bytes(data)
    with pytest.raises(InputError, match=f"pal.ase: .*{message}"):
        read_palette(path)


# --- Photoshop .aco -----------------------------------------------------------------------------


def test_aco_bytes(tmp_path):
    path = tmp_path / "pal.aco"
    write_palette(path, [[255, 0, 51], [0, 128, 255]], ["A", "日本"])
    expected = (
        # version 1: version, count, then space, w, x, y, z per colour (value * 257)
        bytes.fromhex("0001 0002")
        + bytes.fromhex("0000 ffff 0000 3333 0000")
        + struct.pack(">5H", 0, 0, 128 * 257, 65535, 0)
        # version 2: the same records, each followed by name length incl. NUL, name, NUL
        + bytes.fromhex("0002 0002")
        + bytes.fromhex("0000 ffff 0000 3333 0000") + bytes.fromhex("00000002 0041 0000")
        + struct.pack(">5H", 0, 0, 128 * 257, 65535, 0)
        + struct.pack(">I", 3) + "日本".encode("utf-16-be") + b"\0\0"
    )
    assert path.read_bytes() == expected


def _aco_v1(*records):
    return struct.pack(">HH", 1, len(records)) + b"".join(records)


def _aco_v2(*named):
    data = struct.pack(">HH", 2, len(named))
    for record, name in named:
        data += record + struct.pack(">I", len(name) + 1) + name.encode("utf-16-be") + b"\0\0"
    return data


def test_aco_version_1_only(tmp_path):
    path = tmp_path / "pal.aco"
    path.write_bytes(_aco_v1(struct.pack(">5H", 0, 65534, 32896, 200, 0)))
    palette = read_palette(path)
    # value / 257 rounded to nearest: 254.996 -> 255, 0.778 -> 1 (truncation: 254, 0)
    np.testing.assert_array_equal(palette.colors, [[255, 128, 1]])
    assert palette.names == ("",)


def test_aco_prefers_version_2(tmp_path):
    path = tmp_path / "pal.aco"
    path.write_bytes(_aco_v1(struct.pack(">5H", 0, 0, 0, 0, 0))
                     + _aco_v2((struct.pack(">5H", 0, 257, 514, 771, 0), "named")))
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[1, 2, 3]])
    assert palette.names == ("named",)


def test_aco_version_2_alone(tmp_path):
    path = tmp_path / "pal.aco"
    path.write_bytes(_aco_v2((struct.pack(">5H", 0, 65535, 0, 0, 0), "red")))
    assert read_palette(path).names == ("red",)


def test_aco_colour_spaces(tmp_path):
    path = tmp_path / "pal.aco"
    path.write_bytes(_aco_v1(
        struct.pack(">5H", 1, 0, 65535, 65535, 0),  # HSB: hue 0, full saturation and brightness
        struct.pack(">5H", 1, 21845, 65535, 32768, 0),  # hue 120 degrees, half brightness
        struct.pack(">5H", 2, 65535, 0, 0, 65535),  # CMYK, 65535 = no ink: full magenta + yellow
        struct.pack(">5H", 2, 65535, 65535, 65535, 52428),  # 20% black
        struct.pack(">H3hH", 7, 5324, 8009, 6720, 0),  # Lab of sRGB red
        struct.pack(">H3hH", 7, 3230, 7919, -10786, 0),  # Lab of sRGB blue (negative b)
        struct.pack(">5H", 8, 0, 0, 0, 0),  # grey: ink coverage, 0 = white
        struct.pack(">5H", 8, 10000, 0, 0, 0),
    ))
    np.testing.assert_array_equal(read_palette(path).colors, [
        [255, 0, 0], [0, 128, 0], [255, 0, 0], [204, 204, 204], [255, 0, 0], [0, 0, 255],
        [255, 255, 255], [0, 0, 0]])


def test_aco_rejects_unknown_colour_space(tmp_path):
    path = tmp_path / "pal.aco"
    path.write_bytes(_aco_v1(struct.pack(">5H", 0, 0, 0, 0, 0), struct.pack(">5H", 3, 0, 0, 0, 0)))
    with pytest.raises(InputError, match=r"pal\.aco: colour record at byte 14: unsupported colour "
                                         r"space 3"):
        read_palette(path)


@pytest.mark.parametrize(("cut", "message"), [
    (1, "truncated header at byte 0"),
    (3, "truncated header at byte 2"),
    (4 + 7, "truncated colour record at byte 4"),
    (24 + 4 + 10 + 2, "truncated colour name at byte 38"),
    (24 + 4 + 10 + 4 + 3, "truncated colour name at byte 42"),
])
def test_aco_truncated(tmp_path, cut, message):
    path = tmp_path / "pal.aco"
    write_palette(path, [[255, 0, 51], [0, 128, 255]], ["A", "B"])
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(InputError, match=f"pal.aco: {message}"):
        read_palette(path)


@pytest.mark.parametrize(("data", "message"), [
    (struct.pack(">HH", 7, 0), r"not a Photoshop swatch file \(version 7"),
    (_aco_v1(struct.pack(">5H", 0, 0, 0, 0, 0)) + struct.pack(">HH", 5, 0),
     "expected the version 2 section at byte 14, found 5"),
    (_aco_v1(), "no colours found"),
])
def test_aco_rejects(tmp_path, data, message):
    path = tmp_path / "pal.aco"
    path.write_bytes(data)
    with pytest.raises(InputError, match=f"pal.aco: {message}"):
        read_palette(path)


# --- JSON ---------------------------------------------------------------------------------------


def test_json_layout_with_counts(tmp_path):
    path = tmp_path / "pal.json"
    write_palette(path, [[255, 0, 51], [1, 2, 3]], ["red", "é"], title="T", counts=[3, 1])
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "T", "colors": [
        {"hex": "#ff0033", "rgb": [255, 0, 51], "name": "red", "count": 3, "share": 0.75},
        {"hex": "#010203", "rgb": [1, 2, 3], "name": "é", "count": 1, "share": 0.25},
    ]}


def test_json_without_counts_has_no_count(tmp_path):
    path = tmp_path / "pal.json"
    write_palette(path, [[1, 2, 3]])
    entry = json.loads(path.read_text())["colors"][0]
    assert set(entry) == {"hex", "rgb", "name"}


@pytest.mark.parametrize("doc", [
    ["#ff0033", "010203"],
    [[255, 0, 51], [1, 2, 3]],
    {"palette": ["#f03", "#010203"]},
    {"colors": [{"rgb": [255, 0, 51]}, "#010203"]},
])
def test_json_reader_accepts_user_shapes(tmp_path, doc):
    path = tmp_path / "pal.json"
    path.write_text(json.dumps(doc))
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[255, 0, 51], [1, 2, 3]])
    assert palette.names == ("", "")


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ('{"name": "x"}', "expected a list of colours"),
    ("42", "expected a list of colours"),
    ("[]", "no colours found"),
    ('["#ff0033", "nope"]', "colour 2: not a hex colour: 'nope'"),
    ("[[1, 2, 256]]", r"colour 1: expected '#rrggbb' or \[r, g, b\]"),
    ("[[1, 2, 3.0]]", r"colour 1: expected '#rrggbb' or \[r, g, b\]"),
    ("[[true, 2, 3]]", r"colour 1: expected '#rrggbb' or \[r, g, b\]"),
    ('[{"name": "x"}]', "colour 1: a colour object needs a 'hex' or 'rgb' member"),
    ('[{"hex": "#fff", "name": 3}]', "colour 1: 'name' must be a string"),
])
def test_json_rejects(tmp_path, text, message):
    path = tmp_path / "pal.json"
    path.write_text(text)
    with pytest.raises(InputError, match=f"pal.json: {message}"):
        read_palette(path)


def test_json_rejects_deep_nesting(tmp_path):
    path = tmp_path / "pal.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match=r"pal\.json: "):
        read_palette(path)


# --- plain .txt ---------------------------------------------------------------------------------


def test_txt_layout(tmp_path):
    path = tmp_path / "pal.txt"
    write_palette(path, [[255, 0, 51], [1, 2, 3]], ["ignored", "too"])
    assert path.read_bytes() == b"#ff0033\n#010203\n"


def test_txt_reader_tolerance(tmp_path):
    path = tmp_path / "pal.txt"
    path.write_bytes(b"; paint.net Palette File\r\n// another comment\r\n# and another\r\n#\r\n"
                     b"\r\n#FF0033 red things\r\n010203\r\n  #abc\r\nFF102030\r\n\t#0a0b0c\t;x\r\n")
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[255, 0, 51], [1, 2, 3], [170, 187, 204],
                                                   [16, 32, 48], [10, 11, 12]])
    assert palette.names == ("",) * 5


@pytest.mark.parametrize("line", ["#ggg", "#12345", "abc", "#comment-without-space", "rgb"])
def test_txt_bad_line_names_line_number(tmp_path, line):
    path = tmp_path / "pal.txt"
    path.write_text(f"#ffffff\n; comment\n{line}\n")
    with pytest.raises(InputError, match=r"pal\.txt: line 3: expected a colour like #rrggbb"):
        read_palette(path)


def test_txt_without_colours(tmp_path):
    path = tmp_path / "pal.txt"
    path.write_text("; only a comment\n\n")
    with pytest.raises(InputError, match=r"pal\.txt: no colours found"):
        read_palette(path)


# --- CSS ----------------------------------------------------------------------------------------


def test_css_layout_with_names(tmp_path):
    path = tmp_path / "pal.css"
    write_palette(path, [[255, 0, 51], [1, 2, 3], [4, 5, 6], [7, 8, 9]],
                  ["Deep Red", "deep  red", "!!!", "日本"])
    assert path.read_text(encoding="utf-8") == (
        ":root {\n"
        "  --deep-red: #ff0033; /* Deep Red */\n"
        "  --deep-red-2: #010203; /* deep  red */\n"
        "  --color-3: #040506; /* !!! */\n"
        "  --日本: #070809; /* 日本 */\n"
        "}\n")


def test_css_layout_without_names(tmp_path):
    path = tmp_path / "pal.css"
    write_palette(path, [[255, 0, 51], [1, 2, 3]])
    assert path.read_text() == ":root {\n  --palette-1: #ff0033;\n  --palette-2: #010203;\n}\n"
    assert read_palette(path).names == ("palette-1", "palette-2")


def test_css_names_with_comment_end_and_empty(tmp_path):
    path = tmp_path / "pal.css"
    write_palette(path, [[1, 1, 1], [2, 2, 2]], ["a */ b", ""])
    palette = read_palette(path)
    assert palette.names == ("a * / b", "")
    np.testing.assert_array_equal(palette.colors, [[1, 1, 1], [2, 2, 2]])


def test_css_reader(tmp_path):
    path = tmp_path / "theme.css"
    path.write_text(
        "/* --commented: #123456; */\n"
        ":root {\n"
        "  --font: 'Helvetica';\n"
        "  --Brand-Main:#FF0033;\n"
        "  --spacing: 4px;\n"
        "  --accent: rgb(1, 2, 3);  --short: #abc\n"
        "}\n"
        ".dark { --bg: rgb(10 20 30 / 50%); color: #ffffff; }\n")
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[255, 0, 51], [1, 2, 3], [170, 187, 204],
                                                   [10, 20, 30]])
    assert palette.names == ("Brand-Main", "accent", "short", "bg")


@pytest.mark.parametrize(("value", "message"), [
    ("#12345", "'#12345' is not a hex colour"),
    ("#ggg", "'#ggg' is not a hex colour"),
    ("rgb(1, 2)", r"'rgb\(1, 2\)' is not a valid rgb\(\) colour"),
    ("rgb(1, 2, 3 ", r"'rgb\(1, 2, 3': rgb\( is not closed by '\)'"),
    ("rgb(1 2 3 /)", r"is not a valid rgb\(\) colour"),
    ("rgb(1, none, 3)", r"is not a valid rgb\(\) colour"),
    ("rgb(1deg, 2, 3)", r"is not a valid rgb\(\) colour"),
    ("hsl(10%, 50%, 50%)", r"is not a valid hsl\(\) colour"),
    ("rgba(1, 2, 3, 4deg)", r"is not a valid rgba\(\) colour"),
    ("oklch(70% 0.1 200)", r"oklch\(\) colours are not supported"),
    ("color(display-p3 1 0 0)", r"color\(\) colours are not supported"),
    ("transparent", "'transparent' has no colour of its own"),
    ("currentColor", "'currentColor' has no colour of its own"),
])
def test_css_bad_colour_names_line_number(tmp_path, value, message):
    path = tmp_path / "pal.css"
    path.write_text(f":root {{\n  --ok: #fff;\n  --bad: {value};\n}}\n")
    with pytest.raises(InputError, match=f"pal.css: line 3: --bad: .*{message}"):
        read_palette(path)


def test_css_colour_values_of_css_color_4(tmp_path):
    """Issue 14: named colours and hsl() were skipped, so this file gave one colour."""
    path = tmp_path / "pal.css"
    path.write_text(":root{--a: rebeccapurple; --b: hsl(0 100% 50%); --c: #000;}")
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[102, 51, 153], [255, 0, 0], [0, 0, 0]])
    assert palette.names == ("a", "b", "c")


@pytest.mark.parametrize(("value", "rgb"), [
    ("RebeccaPurple", (102, 51, 153)),
    ("#abcd", (170, 187, 204)),
    ("#11223380", (17, 34, 51)),
    ("rgb(10%, 20%, 100%)", (26, 51, 255)),
    ("rgb(10% 20 30.6)", (26, 20, 31)),
    ("rgba(1, 2, 3, 0.5)", (1, 2, 3)),
    ("rgb(1 2 3 / 50%)", (1, 2, 3)),
    ("rgb(none 300 -4)", (0, 255, 0)),  # CSS clamps out-of-range channels
    ("rgb(1e1, .5e1, +3)", (10, 5, 3)),
    ("hsla(120, 100%, 25%, .3)", (0, 128, 0)),
    ("hsl(0.5turn 100% 50%)", (0, 255, 255)),
    ("hsl(240deg 100 50)", (0, 0, 255)),
    ("hsl(-120 100% 50%)", (0, 0, 255)),
    ("hsl(3.14159265rad 100% 50%)", (0, 255, 255)),
    ("hsl(200grad 100% 50%)", (0, 255, 255)),
    ("#fff !important", (255, 255, 255)),
    ("/* note */ red", (255, 0, 0)),
])
def test_css_colour_syntax(tmp_path, value, rgb):
    path = tmp_path / "pal.css"
    path.write_text(f":root {{ --x: {value}; }}")
    np.testing.assert_array_equal(read_palette(path).colors, [rgb])


def test_css_values_that_are_not_colours_are_passed_over(tmp_path):
    path = tmp_path / "pal.css"
    path.write_text(":root { --gap: 4px; --font: Arial, serif; --ref: var(--a); "
                    "--g: linear-gradient(red, blue); --x: #010203 }")
    np.testing.assert_array_equal(read_palette(path).colors, [[1, 2, 3]])


def test_css_named_colours_are_the_148_of_css_color_4():
    from PIL import ImageColor

    from palettelab.core.color.css import NAMED_COLORS

    assert len(NAMED_COLORS) == 148
    assert NAMED_COLORS == {name: ImageColor.getrgb(name) for name in ImageColor.colormap}


def test_css_without_colours(tmp_path):
    path = tmp_path / "pal.css"
    path.write_text("body { color: #fff; }\n")
    with pytest.raises(InputError, match=r"pal\.css: no colours found"):
        read_palette(path)


# --- PNG swatches -------------------------------------------------------------------------------


def test_png_layout(tmp_path):
    path = tmp_path / "pal.png"
    write_palette(path, COLORS)  # 20 colours: two rows of 16 swatches
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (16 * 32, 2 * 32)
        assert image.info["palettelab:count"] == "20"
        pixels = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(pixels[:32, :32], np.broadcast_to(COLORS[0], (32, 32, 3)))
    np.testing.assert_array_equal(pixels[32:, 3 * 32:4 * 32],
                                  np.broadcast_to(COLORS[19], (32, 32, 3)))
    # the spare cells after the last colour repeat it
    np.testing.assert_array_equal(pixels[32:, 4 * 32:], np.broadcast_to(COLORS[19],
                                                                        (32, 12 * 32, 3)))


def test_png_single_row(tmp_path):
    path = tmp_path / "pal.png"
    write_palette(path, COLORS[:5])
    with Image.open(path) as image:
        assert image.size == (5 * 32, 32)


def test_png_count_chunk_keeps_duplicates(tmp_path):
    path = tmp_path / "pal.png"
    colors = [[9, 9, 9], [1, 2, 3], [9, 9, 9], [1, 2, 3]]
    write_palette(path, colors)
    np.testing.assert_array_equal(read_palette(path).colors, colors)


def test_png_without_chunk_reads_distinct_colours_in_raster_order(tmp_path):
    path = tmp_path / "plain.png"
    pixels = np.zeros((4, 3, 3), dtype=np.uint8)
    pixels[0] = [[5, 5, 5], [200, 0, 0], [5, 5, 5]]
    pixels[1:] = [0, 0, 250]
    Image.fromarray(pixels).save(path)
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, [[5, 5, 5], [200, 0, 0], [0, 0, 250]])
    assert palette.names == ("", "", "")


def test_png_written_then_stripped_of_chunk_still_reads(tmp_path):
    path = tmp_path / "pal.png"
    write_palette(path, COLORS)
    with Image.open(path) as image:
        image.convert("RGB").save(path)  # re-saved without the text chunk
    np.testing.assert_array_equal(read_palette(path).colors, COLORS)


def test_png_rejects_photo(tmp_path):
    path = tmp_path / "photo.png"
    i = np.arange(300)
    pixels = np.stack([i % 256, i // 256, np.full(300, 7)], axis=1).astype(np.uint8)
    Image.fromarray(pixels[None, :, :]).save(path)
    with pytest.raises(InputError, match=r"photo\.png: is not a palette swatch image: 300 "):
        read_palette(path)


@pytest.mark.parametrize(("size", "count", "message"), [
    ((64, 32), "3", "palettelab:count=3 needs a 96x32 px swatch image, this one is 64x32"),
    ((32, 32), "x", "bad palettelab:count value 'x'"),
    ((32, 32), "0", "bad palettelab:count value '0'"),
])
def test_png_rejects_inconsistent_chunk(tmp_path, size, count, message):
    from PIL import PngImagePlugin

    path = tmp_path / "pal.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("palettelab:count", count)
    Image.new("RGB", size).save(path, pnginfo=info)
    with pytest.raises(InputError, match=f"pal.png: {message}"):
        read_palette(path)


@pytest.mark.parametrize("data", [b"", b"not a png at all", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"])
def test_png_rejects_garbage(tmp_path, data):
    path = tmp_path / "pal.png"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"pal\.png: not a readable PNG image"):
        read_palette(path)


def test_png_rejects_other_image_formats(tmp_path):
    path = tmp_path / "pal.png"
    Image.new("RGB", (4, 4)).save(path, format="BMP")
    with pytest.raises(InputError, match=r"pal\.png: not a readable PNG image"):
        read_palette(path)


# --- errors shared by all formats ---------------------------------------------------------------


def test_unknown_extension(tmp_path):
    path = tmp_path / "pal.xyz"
    message = (r"pal\.xyz: unknown palette format '\.xyz' "
               r"\(use \.gpl, \.ase, \.aco, \.json, \.txt, \.css, \.png\)")
    with pytest.raises(InputError, match=message):
        write_palette(path, COLORS)
    path.write_text("#ffffff\n")
    with pytest.raises(InputError, match=message):
        read_palette(path)
    assert path.read_text() == "#ffffff\n"


def test_no_extension(tmp_path):
    with pytest.raises(InputError, match=r"unknown palette format \(no extension\)"):
        read_palette(tmp_path / "palette")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.gpl: no such file$"):
        read_palette(tmp_path / "nope.gpl")


def test_directory_is_not_a_palette(tmp_path):
    folder = tmp_path / "dir.gpl"
    folder.mkdir()
    with pytest.raises(InputError, match=r"dir\.gpl: is a directory"):
        read_palette(folder)


@pytest.mark.parametrize(("colors", "message"), [
    ([[0, 0, 256]], r"colours must be integers 0-255, got values 0\.\.256"),
    ([[-1, 0, 0]], "colours must be integers 0-255"),
    ([[0.0, 0.5, 1.0]], "colours must be integers 0-255, got dtype float64"),
    ([[True, False, True]], "colours must be integers 0-255, got dtype bool"),
    ([["a", "b", "c"]], "colours must be integers 0-255, got dtype <U1"),
    ([1, 2, 3], r"colours must have shape \(k, 3\), got \(3,\)"),
    ([[1, 2, 3, 4]], r"colours must have shape \(k, 3\), got \(1, 4\)"),
    (np.zeros((0, 3), dtype=np.uint8), "a palette needs 1 to 65535 colours, got 0"),
    (np.zeros((65536, 3), dtype=np.uint8), "a palette needs 1 to 65535 colours, got 65536"),
    ([[1, 2, 3], [4, 5]], "colours must be an array of 0-255 integers"),
])
def test_write_rejects_bad_colours(tmp_path, colors, message):
    with pytest.raises(InputError, match=f"pal.gpl: {message}"):
        write_palette(tmp_path / "pal.gpl", colors)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("names", "message"), [
    (["a"], "got 1 names for 2 colours"),
    ("ab", "names must be a sequence of strings"),
    (5, "names must be a sequence of strings"),
    (["a", 3], "colour name 2 must be a string, got int"),
    (["a", "line\nbreak"], "colour name 2 contains a line break"),
    (["a", "x" * 65535], "colour name 2 is longer than 65534 UTF-16 code units"),
])
def test_write_rejects_bad_names(tmp_path, names, message):
    with pytest.raises(InputError, match=f"pal.ase: {message}"):
        write_palette(tmp_path / "pal.ase", [[1, 2, 3], [4, 5, 6]], names)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"title": "two\nlines"}, "title contains a line break"),
    ({"title": None}, "title must be a string"),
    ({"counts": [1]}, "counts must be 2 non-negative integers"),
    ({"counts": [1, -1]}, "counts must be 2 non-negative integers"),
    ({"counts": [1.5, 2]}, "counts must be 2 non-negative integers"),
])
def test_write_rejects_bad_title_and_counts(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=f"pal.json: {message}"):
        write_palette(tmp_path / "pal.json", [[1, 2, 3], [4, 5, 6]], **kwargs)


def test_write_to_missing_directory(tmp_path):
    with pytest.raises(InputError, match=r"pal\.gpl: output directory .* does not exist"):
        write_palette(tmp_path / "missing" / "pal.gpl", COLORS)


@pytest.mark.parametrize("ext", PALETTE_EXTENSIONS)
def test_invalid_write_leaves_existing_file(tmp_path, ext):
    path = tmp_path / f"pal{ext}"
    write_palette(path, COLORS[:3], ["a", "b", "c"])
    before = path.read_bytes()
    with pytest.raises(InputError):
        write_palette(path, [[0, 0, 300]])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_failed_write_leaves_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "pal.png"
    write_palette(path, COLORS[:3])
    before = path.read_bytes()

    def save_then_fail(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", save_then_fail)
    with pytest.raises(InputError, match=r"pal\.png: cannot write \(No space left on device\)"):
        write_palette(path, COLORS)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --- hostile files (issue 14) ---------------------------------------------------------------------


def test_gpl_value_with_thousands_of_digits(tmp_path):
    """``%05000d`` tripped Python's limit on int digits (a ValueError traceback)."""
    path = tmp_path / "pal.gpl"
    path.write_text("GIMP Palette\n" + "0" * 4999 + "1 2 3 long\n9 " + "0" * 4000 + " 0\n")
    np.testing.assert_array_equal(read_palette(path).colors, [[1, 2, 3], [9, 0, 0]])
    path.write_text("GIMP Palette\n" + "0" * 4997 + "256 2 3\n")
    with pytest.raises(InputError, match=r"pal\.gpl: line 2: expected 'R G B \[name\]'"):
        read_palette(path)


@pytest.mark.parametrize("extension", PALETTE_EXTENSIONS)
def test_endless_file_is_refused_quickly(tmp_path, extension):
    import os
    import time

    if not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    link = tmp_path / ("zero" + extension)
    link.symlink_to("/dev/zero")
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"zero\.\w+: larger than 64 MiB, not a palette file$"):
        read_palette(link)
    assert time.perf_counter() - started < 5


def test_max_colors_names_the_file(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("".join(f"#{i:06x}\n" for i in range(257)))
    assert read_palette(path).colors.shape == (257, 3)
    with pytest.raises(InputError, match=r"big\.txt: 257 colours; at most 256 can be used here$"):
        read_palette(path, max_colors=256)
    with pytest.raises(InputError, match="max_colors must be an integer between 1 and 65,535"):
        read_palette(path, max_colors=0)


def test_file_that_is_not_a_png_says_so_without_a_python_repr(tmp_path):
    path = tmp_path / "pal.png"
    path.write_text("GIMP Palette\n1 2 3\n")
    with pytest.raises(InputError) as caught:
        read_palette(path)
    assert str(caught.value).endswith("pal.png: not a readable PNG image (not a PNG file)")
    assert "BytesIO" not in str(caught.value) and "0x" not in str(caught.value)


def test_large_image_is_refused_before_decoding_and_without_warnings(tmp_path):
    """A 100 MP PNG given as a palette took 11 s and printed a DecompressionBombWarning."""
    import time
    import warnings

    path = tmp_path / "huge.png"
    Image.new("1", (10_000, 10_000)).save(path)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match=r"huge\.png: is not a palette image: 10000x10000 "
                                             r"pixels"):
            read_palette(path)
    assert time.perf_counter() - started < 2
    Image.new("1", (20_000, 10_000)).save(path)  # over Pillow's own refusal limit
    with pytest.raises(InputError, match=r"huge\.png: is not a palette image: more than"):
        read_palette(path)


def test_swatch_size_is_checked_before_decoding(tmp_path, monkeypatch):
    from PIL import PngImagePlugin

    path = tmp_path / "pal.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("palettelab:count", "2")
    Image.new("RGB", (64, 33)).save(path, pnginfo=info)
    monkeypatch.setattr(Image.Image, "load", None)  # decoding would fail
    with pytest.raises(InputError, match="needs a 64x32 px swatch image, this one is 64x33"):
        read_palette(path)


@pytest.mark.parametrize("path", [None, 1.5])
def test_a_palette_path_that_is_not_a_path(path):
    with pytest.raises(InputError, match=r"^the palette path must be a file path"):
        read_palette(path)
    with pytest.raises(InputError, match=r"^the palette path must be a file path"):
        write_palette(path, [[1, 2, 3]])

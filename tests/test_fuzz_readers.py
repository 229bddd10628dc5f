"""Every file reader takes any bytes: it returns its result or raises InputError, nothing else.

Two kinds of test (issue 14): properties checked by hypothesis over the point-file and palette
parsers (arbitrary bytes, text made of the characters that matter to the parsers, and
write -> read round trips of palettes), and a seeded fuzz pass over every reader (image,
palette, points) that mutates the bytes of the bundled sample files.  Both are bounded: a few
seconds in all.
"""

from __future__ import annotations

import gzip
import io
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palettelab.core.errors import InputError
from palettelab.core.formats.image_read import load_image
from palettelab.core.formats.palettes import (
    MAX_NAME_UNITS,
    PALETTE_EXTENSIONS,
    Palette,
    read_palette,
    write_palette,
)
from palettelab.core.formats.points import PointSet, load_points
from palettelab.core.resources import resource_path

POINT_NAMES = ("p.csv", "p.tsv", "p.txt", "p.csv.gz", "p.npy", "p.npz")
#: the characters that steer the text parsers: digits, number syntax, separators, quotes,
#: comments, line ends, a label word, a non-ASCII letter and a NUL
PARSER_TEXT = st.text(alphabet="0123456789.,;-+eE \t\n\r\"#xlabelnaifé\0", max_size=200)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def load_point_bytes(folder, name: str, data: bytes, *, compress: bool = True):
    path = folder / name
    path.write_bytes(gzip.compress(data) if compress and name.endswith(".gz") else data)
    try:
        return load_points(path)
    except InputError:
        return None


def read_palette_bytes(folder, name: str, data: bytes):
    path = folder / name
    path.write_bytes(data)
    try:
        return read_palette(path)
    except InputError:
        return None


def check_point_set(points) -> None:
    if points is not None:
        assert isinstance(points, PointSet)
        assert points.X.ndim == 2 and len(points) >= 1 and np.isfinite(points.X).all()


# --- properties of the point-file parser --------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=300), name=st.sampled_from(POINT_NAMES))
def test_point_files_of_any_bytes(folder, data, name):
    check_point_set(load_point_bytes(folder, name, data))


@FUZZ
@given(text=PARSER_TEXT, name=st.sampled_from(POINT_NAMES[:4]))
def test_point_files_of_parser_text(folder, text, name):
    check_point_set(load_point_bytes(folder, name, text.encode()))


@FUZZ
@given(values=st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64),
                                min_size=2, max_size=2), min_size=1, max_size=30),
       labels=st.lists(st.sampled_from(["a", "b", "7x"]), min_size=30, max_size=30))
def test_point_files_round_trip(folder, values, labels):
    used = labels[:len(values)]
    rows = "".join(f"{x!r},{y!r},{label}\n"
                   for (x, y), label in zip(values, used, strict=True))
    points = load_point_bytes(folder, "p.csv", ("x,y,label\n" + rows).encode())
    np.testing.assert_array_equal(points.X, values)
    assert [points.label_names[code] for code in points.labels] == used


# --- properties of the palette parsers ----------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=300), extension=st.sampled_from(PALETTE_EXTENSIONS))
def test_palette_files_of_any_bytes(folder, data, extension):
    palette = read_palette_bytes(folder, "pal" + extension, data)
    assert palette is None or (isinstance(palette, Palette) and len(palette.colors) >= 1)


CSS_TEXT = st.text(alphabet="-:;{}()/*#%, 0123456789abcdefrgbhslnoe\n", max_size=120)


@FUZZ
@given(text=st.one_of(CSS_TEXT, PARSER_TEXT), extension=st.sampled_from(PALETTE_EXTENSIONS[:6]))
def test_palette_files_of_parser_text(folder, text, extension):
    data = text.encode()
    for prefix in (b"", b"GIMP Palette\n", b":root { --a: "):
        palette = read_palette_bytes(folder, "pal" + extension, prefix + data)
        assert palette is None or isinstance(palette, Palette)


NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12).filter(
    lambda name: name == name.strip())  # GIMP names lose surrounding spaces


@FUZZ
@given(colors=st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=1, max_size=20),
       data=st.data(), extension=st.sampled_from(PALETTE_EXTENSIONS))
def test_palettes_round_trip(folder, colors, data, extension):
    names = data.draw(st.lists(NAMES, min_size=len(colors), max_size=len(colors)))
    path = folder / ("round" + extension)
    write_palette(path, colors, names)
    palette = read_palette(path)
    np.testing.assert_array_equal(palette.colors, np.array(colors, dtype=np.uint8))
    if extension in (".ase", ".aco", ".json", ".gpl"):
        assert palette.names == tuple(names)
    assert all(len(name.encode("utf-16-be")) // 2 <= MAX_NAME_UNITS for name in palette.names)


# --- a seeded fuzz pass over every reader -------------------------------------------------------


def mutations(data: bytes, seed: int, count: int):
    """``count`` damaged copies of ``data``: bytes overwritten, a piece cut out or repeated,
    the file truncated.  Seeded, so a failure reproduces."""
    rng = random.Random(seed)
    for _ in range(count):
        raw = bytearray(data)
        kind = rng.randrange(4)
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        elif kind == 1:
            start = rng.randrange(len(raw))
            del raw[start:start + rng.randint(1, 64)]
        elif kind == 2:
            start = rng.randrange(len(raw))
            raw[start:start] = raw[start:start + rng.randint(1, 64)] * rng.randint(2, 50)
        else:
            del raw[rng.randrange(len(raw)):]
        yield bytes(raw)


def sample_image_bytes() -> list[tuple[str, bytes]]:
    """Small images of every format the reader takes, made from the bundled photo."""
    from PIL import Image

    with Image.open(resource_path("flower.jpg")) as photo:
        small = photo.convert("RGB").resize((48, 32))
    samples = [("flower.jpg", resource_path("flower.jpg").read_bytes()[:60_000])]
    for extension, fmt, mode in ((".png", "PNG", "RGBA"), (".gif", "GIF", "P"),
                                 (".bmp", "BMP", "RGB"), (".tif", "TIFF", "RGB"),
                                 (".webp", "WEBP", "RGB"), (".ppm", "PPM", "RGB")):
        out = io.BytesIO()
        small.convert(mode).save(out, format=fmt)
        samples.append(("image" + extension, out.getvalue()))
    return samples


def test_fuzz_image_reader(folder):
    for index, (name, data) in enumerate(sample_image_bytes()):
        for mutated in mutations(data, seed=index, count=25):
            path = folder / name
            path.write_bytes(mutated)
            try:
                image = load_image(path)
            except InputError:
                continue
            assert image.pixels.dtype == np.uint8 and image.pixels.shape[2] in (3, 4)


def test_fuzz_palette_readers(folder):
    colors = np.random.default_rng(0).integers(0, 256, size=(20, 3))
    for index, extension in enumerate(PALETTE_EXTENSIONS):
        path = folder / ("sample" + extension)
        write_palette(path, colors, [f"colour {i}" for i in range(20)])
        data = path.read_bytes()
        for mutated in mutations(data, seed=100 + index, count=60):
            palette = read_palette_bytes(folder, "mutated" + extension, mutated)
            assert palette is None or isinstance(palette, Palette)


def test_fuzz_point_readers(folder):
    iris = resource_path("iris.csv").read_bytes()
    digits = gzip.decompress(resource_path("digits.csv.gz").read_bytes())[:20_000]
    X = np.random.default_rng(1).normal(size=(30, 3))
    arrays = {}
    for name, save in (("p.npy", lambda out: np.save(out, X)),
                       ("p.npz", lambda out: np.savez(out, X=X, y=np.arange(30) % 3))):
        out = io.BytesIO()
        save(out)
        arrays[name] = out.getvalue()
    samples = [("iris.csv", iris), ("digits.csv", digits),
               ("digits.csv.gz", resource_path("digits.csv.gz").read_bytes()),
               ("iris.tsv", iris.replace(b",", b"\t")), ("iris.txt", iris.replace(b",", b" ")),
               *arrays.items()]
    for index, (name, data) in enumerate(samples):
        for mutated in mutations(data, seed=200 + index, count=30):
            check_point_set(load_point_bytes(folder, name, mutated, compress=False))

"""Small images take the sorting path (core/quantization/compact.py): same bytes as the tables."""

from __future__ import annotations

import numpy as np
import pytest

from palettelab.core.quantization import compact, pipeline
from palettelab.core.quantization.histogram import distinct_colors


def _image(alpha: bool) -> np.ndarray:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (60, 70, 4 if alpha else 3), dtype=np.uint8)
    img[:20, :20, :3] = (10, 200, 30)  # a flat area: one colour with many pixels
    if alpha:
        img[..., 3] = 255
        img[5:9, 40:60, 3] = 0
    return img


def test_sorted_colours_equal_the_table_pass():
    pixels = _image(False).reshape(-1, 3)
    sorted_colours, rows = compact.distinct_sorted(pixels)
    tabled = distinct_colors(pixels)
    np.testing.assert_array_equal(sorted_colours.colors, tabled.colors)
    np.testing.assert_array_equal(sorted_colours.counts, tabled.counts)
    np.testing.assert_array_equal(sorted_colours.colors[rows], pixels)
    table = compact.code_table(sorted_colours.colors)
    codes = compact._codes(pixels)
    np.testing.assert_array_equal(table[codes], rows)


@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("dither", ["none", "fs", "bayer"])
def test_quantize_gives_the_same_result_on_both_paths(monkeypatch, alpha, dither):
    img = _image(alpha)
    small = pipeline.quantize(img, 12, dither=dither, locked=["#ff0000"])
    remapped_small = pipeline.remap(img, small.palette, dither=dither)
    monkeypatch.setattr(compact, "SMALL_PIXELS", 0)
    big = pipeline.quantize(img, 12, dither=dither, locked=["#ff0000"])
    remapped_big = pipeline.remap(img, small.palette, dither=dither)
    for a, b in ((small, big), (remapped_small, remapped_big)):
        np.testing.assert_array_equal(a.palette, b.palette)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.counts, b.counts)


def test_a_small_image_never_lends_the_code_tables(monkeypatch):
    def refuse():
        raise AssertionError("the 64 MB table was lent for a small image")

    monkeypatch.setattr(pipeline.TABLES, "lend", refuse)
    pipeline.quantize(_image(True), 8)


def test_a_shared_palette_is_the_palette_of_the_images_as_one():
    a, b = _image(False), np.random.default_rng(9).integers(0, 128, (30, 70, 3), dtype=np.uint8)
    palette, counts = pipeline.shared_palette([a, b], 10, locked=["#123456"])
    whole = pipeline.quantize(np.concatenate([a, b]), 10, locked=["#123456"])
    np.testing.assert_array_equal(palette, whole.palette)
    np.testing.assert_array_equal(counts, whole.counts)
    assert [0x12, 0x34, 0x56] in palette.tolist()


def test_a_shared_palette_merges_big_and_small_images(monkeypatch):
    a, b = _image(True), _image(False)[::-1].copy()
    expected = pipeline.shared_palette([a, b], 6)
    monkeypatch.setattr(compact, "SMALL_PIXELS", 0)
    np.testing.assert_array_equal(pipeline.shared_palette([a, b], 6)[0], expected[0])
    np.testing.assert_array_equal(pipeline.shared_palette([a, b], 6)[1], expected[1])


def test_a_shared_palette_needs_images():
    with pytest.raises(pipeline.InputError, match="no images"):
        pipeline.shared_palette([], 4)

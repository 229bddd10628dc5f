"""Core of the palette tools (issue 17, item 7): orders, re-converging from given colours,
palettes as clipboard text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab import quantize
from palettelab.core.color.ordering import palette_order
from palettelab.core.errors import InputError
from palettelab.core.formats.palettes import encode_palette
from palettelab.core.quantization.pipeline import reorder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    im = Image.open(ROOT / "resources" / "china.jpg").convert("RGB")
    return np.asarray(im.resize((160, 107), Image.LANCZOS))


WHEEL = np.array([[0, 0, 255], [255, 0, 0], [128, 128, 128], [0, 200, 0], [250, 240, 0],
                  [0, 0, 0]], np.uint8)


def test_hue_puts_greys_first_dark_to_light_then_the_wheel_from_red():
    order = WHEEL[palette_order(WHEEL, None, "hue")].tolist()
    assert order == [[0, 0, 0], [128, 128, 128], [255, 0, 0], [250, 240, 0], [0, 200, 0],
                     [0, 0, 255]]


def test_lightness_and_share_orders():
    assert WHEEL[palette_order(WHEEL, None, "lightness")][0].tolist() == [0, 0, 0]
    assert palette_order(WHEEL, np.array([1, 5, 5, 0, 9, 2]), "share").tolist() == \
        [4, 1, 2, 5, 0, 3]
    with pytest.raises(InputError, match="counts"):
        palette_order(WHEEL, None, "share")


def test_reorder_keeps_every_pixel(photo):
    q = quantize(photo, 8)
    r = reorder(q, "hue")
    np.testing.assert_array_equal(r.image(), q.image())
    assert sorted(r.counts.tolist()) == sorted(q.counts.tolist())


def test_init_converges_from_the_given_colours_and_keeps_locks(photo):
    q = quantize(photo, 8)
    start = np.delete(q.palette, 2, axis=0)
    r = quantize(photo, 7, init=start, locked=[start[4]])
    assert tuple(start[4]) in {tuple(c) for c in r.palette.tolist()}
    with pytest.raises(InputError, match="n_colors"):
        quantize(photo, 8, init=start)


def test_clipboard_text_is_the_file_format():
    css = encode_palette(WHEEL[:2], ".css").decode()
    assert "--palette-1: #0000ff;" in css and css.startswith(":root {")
    assert encode_palette(WHEEL[:2], ".txt").decode().split() == ["#0000ff", "#ff0000"]

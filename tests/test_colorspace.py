"""Colour conversions against published reference values, and round trips."""

import os
import subprocess
import sys

import numpy as np
import pytest

from palettelab.core.color.spaces import (
    SPACES,
    from_srgb,
    srgb8_to_oklab,
    to_srgb8,
    to_srgb_float,
)
from palettelab.core.errors import InputError

PRIMARIES = np.array([[255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 0, 0]],
                     dtype=np.uint8)

# OKLab of the sRGB primaries as published by Ottosson (bottosson.github.io/posts/oklab)
# and reproduced by CSS Color 4's sample code
OKLAB = np.array([[1.0, 0.0, 0.0],
                  [0.6279554, 0.2248631, 0.1258463],
                  [0.8664396, -0.2338876, 0.1794985],
                  [0.4520137, -0.0324570, -0.3115281],
                  [0.0, 0.0, 0.0]])

# CIELAB (D65) of the sRGB primaries (Bruce Lindbloom's calculator, sRGB, D65, no adaptation)
LAB = np.array([[100.0, 0.0, 0.0],
                [53.2408, 80.0925, 67.2032],
                [87.7347, -86.1827, 83.1793],
                [32.2970, 79.1875, -107.8602],
                [0.0, 0.0, 0.0]])


def test_oklab_reference_values():
    np.testing.assert_allclose(from_srgb(PRIMARIES, "oklab"), OKLAB, atol=2e-4)


def test_lab_reference_values():
    np.testing.assert_allclose(from_srgb(PRIMARIES, "lab"), LAB, atol=2e-2)


def test_linear_transfer_curve():
    # the sRGB curve: linear segment below 0.04045, 2.4 power above
    lin = from_srgb(np.array([[0, 10, 128], [255, 200, 1]]), "linear")
    np.testing.assert_allclose(lin[0], [0.0, 10 / 255 / 12.92, ((128 / 255 + 0.055) / 1.055)
                                        ** 2.4], rtol=1e-12)
    np.testing.assert_allclose(lin[1, 0], 1.0, rtol=1e-12)


def test_rgb_space_is_identity():
    rgb = np.random.default_rng(0).integers(0, 256, size=(100, 3), dtype=np.uint8)
    np.testing.assert_array_equal(from_srgb(rgb, "rgb"), rgb.astype(np.float64))


@pytest.mark.parametrize("space", SPACES)
def test_uint8_round_trip_is_exact(space):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(50_000, 3), dtype=np.uint8)
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    rgb = np.concatenate([rgb, greys, PRIMARIES])
    np.testing.assert_array_equal(to_srgb8(from_srgb(rgb, space), space), rgb)


@pytest.mark.parametrize("space", SPACES)
def test_float_round_trip(space):
    rgb = np.random.default_rng(2).uniform(0, 255, size=(1000, 3))
    np.testing.assert_allclose(to_srgb_float(from_srgb(rgb, space), space), rgb, atol=1e-8)


def test_out_of_gamut_is_clipped():
    # a very saturated OKLab colour outside sRGB still gives valid uint8
    out = to_srgb8(np.array([[0.9, 0.4, 0.4], [-0.1, 0.0, 0.0]]), "oklab")
    assert out.dtype == np.uint8
    assert out[0, 0] == 255 and out[1].tolist() == [0, 0, 0]


def test_grey_has_no_chroma():
    greys = np.repeat(np.arange(0, 256, 15, dtype=np.uint8)[:, None], 3, axis=1)
    for space in ("oklab", "lab"):
        ab = from_srgb(greys, space)[:, 1:]
        np.testing.assert_allclose(ab, 0.0, atol=1e-4 if space == "oklab" else 1e-2)


def test_bad_input():
    with pytest.raises(InputError, match="colour space"):
        from_srgb(PRIMARIES, "hsv")
    with pytest.raises(InputError, match=r"\(n, 3\)"):
        from_srgb(np.zeros((4, 4)), "oklab")


def test_one_colour_oklab_for_kernels_matches_from_srgb():
    colours = np.random.default_rng(1).integers(0, 256, (200, 3), dtype=np.uint8)
    got = np.array([srgb8_to_oklab(*c) for c in colours])
    np.testing.assert_allclose(got, from_srgb(colours, "oklab"), rtol=0, atol=1e-12)
    np.testing.assert_allclose(srgb8_to_oklab(255, 0, 0), OKLAB[1], atol=1e-6)


def test_colour_conversion_alone_uses_the_workqueue_layer():
    """The threading layer is set by every kernel module, not only by the k-means kernels
    (OpenMP, numba's first choice where libgomp exists, costs ~8 ms per parallel launch)."""
    code = ("import numba, numpy as np; from palettelab.core.color.spaces import from_srgb; "
            "from_srgb(np.zeros((4, 3), np.uint8), 'lab'); print(numba.threading_layer())")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.strip() == "workqueue"


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("n", [1, 2, 511, 513])
def test_every_row_of_every_block_is_written(space, n):
    """Black, white and random rows, uint8 and floats, at block edges (512 rows a block),
    against the numpy formulas of the preview.  A kernel whose row function raised inside the
    parallel loop (a division by zero for black, under Python's error model) left its output
    unwritten without an error."""
    from palettelab.core.quantization import preview

    rng = np.random.default_rng(n)
    rgb = rng.integers(0, 256, size=(n, 3), dtype=np.uint8)
    rgb[0] = 0
    rgb[-1] = 255
    expected = preview.from_srgb(rgb, space)
    np.testing.assert_allclose(from_srgb(rgb, space), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(from_srgb(rgb.astype(np.float64), space), expected,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_srgb_float(expected, space), rgb, atol=1e-9)

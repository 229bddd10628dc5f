"""PSNR and mean OKLab error count what can be seen: alpha weights each pixel (issue 13, bug 1)."""

from __future__ import annotations

import numpy as np
import pytest

from palettelab import quantize
from palettelab.core.color.spaces import from_srgb
from palettelab.core.errors import InputError
from palettelab.core.quantization.quality import mean_oklab_error, psnr

LOGO_COLOURS = np.array([[200, 30, 30], [20, 120, 220], [250, 250, 250]], np.uint8)


def logo(seed: int = 0) -> np.ndarray:
    """A 3-colour logo on a transparent background whose hidden RGB is noise (as editors
    leave it)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((60, 80, 4), np.uint8)
    img[..., :3] = rng.integers(0, 256, (60, 80, 3))
    img[15:45, 20:60, :3] = LOGO_COLOURS[rng.integers(0, 3, (30, 40))]
    img[15:45, 20:60, 3] = 255
    return img


def test_a_logo_reproduced_exactly_scores_perfectly():
    img = logo()
    out = quantize(img, 3).image()
    assert psnr(img, out) == float("inf")  # was 7.7 dB: the hidden noise was counted
    assert mean_oklab_error(img, out) == 0.0


def test_errors_are_weighted_by_alpha():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    b = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    weight = a[..., 3].astype(np.float64).ravel()
    squared = ((a[..., :3].astype(np.float64) - b[..., :3]) ** 2).sum(axis=2).ravel()
    want_psnr = 10 * np.log10(255.0**2 / ((weight * squared).sum() / (3 * weight.sum())))
    distance = np.linalg.norm(from_srgb(a[..., :3].reshape(-1, 3), "oklab")
                              - from_srgb(b[..., :3].reshape(-1, 3), "oklab"), axis=1)
    assert psnr(a, b) == pytest.approx(want_psnr, rel=1e-12)
    assert mean_oklab_error(a, b) == pytest.approx((weight * distance).sum() / weight.sum(),
                                                   rel=1e-12)


def test_opaque_alpha_gives_the_rgb_figures():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (17, 9, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (17, 9, 3), dtype=np.uint8)
    opaque = np.full((17, 9, 1), 255, np.uint8)
    a4, b4 = np.concatenate([a, opaque], axis=2), np.concatenate([b, opaque], axis=2)
    assert psnr(a4, b4) == pytest.approx(psnr(a, b), rel=1e-12)
    assert mean_oklab_error(a4, b4) == pytest.approx(mean_oklab_error(a, b), rel=1e-12)


def test_nothing_visible_has_nothing_wrong():
    a = np.zeros((4, 4, 4), np.uint8)
    b = np.full((4, 4, 4), 200, np.uint8)
    b[..., 3] = 0
    assert psnr(a, b) == float("inf")
    assert mean_oklab_error(a, b) == 0.0


def test_mismatched_images_are_refused():
    with pytest.raises(InputError, match="same size"):
        psnr(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))

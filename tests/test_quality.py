"""PSNR and mean OKLab error count what can be seen: each pixel as it looks over black and over
white (issue 13, bug 1; issue 17: the result's own alpha counts too)."""

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


def _seen(image: np.ndarray, background: float) -> np.ndarray:
    alpha = image[..., 3:] / 255.0
    return np.rint(image[..., :3] * alpha + background * (1 - alpha))


def test_errors_are_what_is_seen_over_black_and_white():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    b = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    a[0, :5, 3] = b[0, :5, 3] = 0  # invisible in both: not counted
    visible = (a[..., 3] > 0).ravel()
    squared = np.zeros(visible.size)
    distance = np.zeros(visible.size)
    for background in (0.0, 255.0):
        sa, sb = _seen(a, background), _seen(b, background)
        exact = a[..., :3] * (a[..., 3:] / 255.0) - b[..., :3] * (b[..., 3:] / 255.0) \
            + background * (b[..., 3:] / 255.0 - a[..., 3:] / 255.0)
        squared += 0.5 * (exact ** 2).sum(axis=2).ravel()
        distance += 0.5 * np.linalg.norm(from_srgb(sa.reshape(-1, 3), "oklab")
                                         - from_srgb(sb.reshape(-1, 3), "oklab"), axis=1)
    want_psnr = 10 * np.log10(255.0**2 / (squared.sum() / (3 * visible.sum())))
    assert psnr(a, b) == pytest.approx(want_psnr, rel=1e-12)
    assert mean_oklab_error(a, b) == pytest.approx(distance.sum() / visible.sum(), rel=1e-6)


def test_a_change_of_alpha_alone_is_an_error():
    a = np.full((4, 4, 4), 128, np.uint8)
    a[..., 3] = 255
    b = a.copy()
    b[..., 3] = 128
    assert psnr(a, b) < 20  # before, only the RGB channels were compared: inf
    assert mean_oklab_error(a, b) > 0.05


def test_half_transparent_pixels_show_half_their_colour_error():
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., 3] = 255
    b = a.copy()
    b[..., :3] = 40
    half_a, half_b = a.copy(), b.copy()
    half_a[..., 3] = half_b[..., 3] = 51  # alpha 0.2: a fifth of the difference is seen
    assert psnr(half_a, half_b) == pytest.approx(psnr(a, b) + 20 * np.log10(5), abs=0.3)


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


def test_a_haze_over_the_transparent_background_costs_and_does_not_dilute():
    img = logo()
    exact = quantize(img, 3).image()
    hazed = exact.copy()
    hazed[img[..., 3] == 0] = [20, 20, 40, 10]  # pngquant's alpha-0 entry is at alpha 4-10
    assert psnr(img, exact) == float("inf")
    assert psnr(img, hazed) < 40  # before: the haze counted only as extra pixels to average
    assert mean_oklab_error(img, hazed) > 0.005

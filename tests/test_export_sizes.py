"""Export sizes before saving (issue 17, item 8): exact for web-sized images, estimated from
bands of rows for large ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab import quantize
from palettelab.core.formats.image_write import ESTIMATE_PIXELS, encode_image, estimate_size

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.asarray(Image.open(ROOT / "resources" / "china.jpg").convert("RGB"))


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_small_images_are_measured_exactly(photo, fmt):
    q = quantize(photo, 16)
    assert estimate_size(q, fmt) == (len(encode_image(q, fmt)[0]), True)


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_large_images_are_estimated_closely(photo, fmt):
    big = np.asarray(Image.fromarray(photo).resize((1800, 1200), Image.LANCZOS))
    assert big.shape[0] * big.shape[1] > ESTIMATE_PIXELS
    q = quantize(big, 16)
    size, exact = estimate_size(q, fmt)
    real = len(encode_image(q, fmt)[0])
    assert not exact and abs(size / real - 1) < 0.10


def test_soft_alpha_is_estimated_with_its_palette_alpha():
    logo = np.asarray(Image.open(ROOT / "resources" / "logo.png"))
    big = np.tile(logo, (3, 3, 1))  # 1152 x 1152 > ESTIMATE_PIXELS
    q = quantize(big, 16)
    size, exact = estimate_size(q, "PNG")
    assert not exact and abs(size / len(encode_image(q, "PNG")[0]) - 1) < 0.10

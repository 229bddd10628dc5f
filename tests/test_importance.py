"""Importance (issue 17, item 6): pixels weighted by an importance map, in the core and on the
command line (the brush is in tests/test_image_workspace.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab import quantize
from palettelab.app.cli import main as cli
from palettelab.core.errors import InputError
from palettelab.core.quantization.quality import psnr

ROOT = Path(__file__).resolve().parent.parent
REGION = (slice(150, 260), slice(250, 420))  # the roof and the tree of china.jpg


@pytest.fixture(scope="module")
def china() -> np.ndarray:
    return np.asarray(Image.open(ROOT / "resources" / "china.jpg").convert("RGB"))


def _weights(shape, inside: float = 50.0) -> np.ndarray:
    weight = np.ones(shape)
    weight[REGION] = inside
    return weight


def test_an_important_region_is_served_first(china):
    plain = quantize(china, 8)
    weighted = quantize(china, 8, sample_weight=_weights(china.shape[:2]))
    gain = psnr(china[REGION], weighted.image()[REGION]) - psnr(china[REGION],
                                                                plain.image()[REGION])
    assert gain > 1.0  # measured: +2.5 dB
    assert weighted.counts.sum() == china.shape[0] * china.shape[1]  # still pixels
    assert (np.diff(weighted.counts) <= 0).all()  # most used first


def test_uniform_weights_change_nothing(china):
    np.testing.assert_array_equal(quantize(china, 8).palette,
                                  quantize(china, 8, sample_weight=np.full(china.shape[:2],
                                                                           3.0)).palette)


def test_bad_weights_are_refused(china):
    for bad, match in ((np.ones((3, 3)), "shape"), (np.full(china.shape[:2], -1.0), ">= 0"),
                       (np.zeros(china.shape[:2]), "nothing")):
        with pytest.raises(InputError, match=match):
            quantize(china, 8, sample_weight=bad)


def test_soft_alpha_takes_weights_too():
    logo = np.asarray(Image.open(ROOT / "resources" / "logo.png"))
    weight = np.ones(logo.shape[:2])
    weight[150:230, 150:230] = 100.0  # the triangle
    q = quantize(logo, 6, sample_weight=weight)
    assert q.palette_alpha is not None and q.counts.sum() == (logo[..., 3] > 0).sum()


def test_cli_importance_mask(china, tmp_path, capsys):
    mask = np.full(china.shape[:2], 20, np.uint8)
    mask[REGION] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    assert cli.main(["quantize", str(ROOT / "resources" / "china.jpg"), "-k", "8", "-o",
                     str(out), "--importance", str(tmp_path / "mask.png")]) == 0
    with Image.open(out) as im:
        ours = np.asarray(im.convert("RGB"))
    expected = quantize(china, 8, sample_weight=mask / 255.0)
    np.testing.assert_array_equal(ours, expected.image())
    Image.fromarray(mask[:10, :10]).save(tmp_path / "small.png")
    assert cli.main(["quantize", str(ROOT / "resources" / "china.jpg"), "-k", "8", "-o",
                     str(tmp_path / "x.png"), "--importance", str(tmp_path / "small.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "small.png" in err and "must match" in err
    assert not (tmp_path / "x.png").exists()


def test_a_coarse_mask_is_stretched_over_the_image():
    from palettelab.core.quantization.importance import BOOST, weights_from_mask

    mask = np.zeros((3, 4), np.uint8)
    mask[1, 2] = 1
    weight = weights_from_mask(mask, 2, (5, 7))
    assert weight.shape == (5, 7)
    assert (weight[2:4, 4:6] == BOOST).all() and weight.sum() == 35 - 4 + 4 * BOOST
    with pytest.raises(InputError, match="cover"):
        weights_from_mask(mask, 1, (5, 7))

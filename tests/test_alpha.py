"""Soft transparency (issue 17, item 3): a palette with alpha, written as an 8-bit PNG with tRNS,
a matte for GIF, and quality measured on what is seen."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab import quantize
from palettelab.app.cli import main as cli
from palettelab.core.formats.image_read import load_image
from palettelab.core.formats.image_write import encode_image, flatten, save_image, save_notes
from palettelab.core.quantization import alpha
from palettelab.core.quantization.quality import psnr

LOGO = Path(__file__).resolve().parent.parent / "resources" / "logo.png"


@pytest.fixture(scope="module")
def logo() -> np.ndarray:
    return load_image(LOGO).pixels


def _rgba(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def _premultiplied_sq_error(img, rgb, levels, labels) -> float:
    """The error the clustering minimises, computed independently from the composites."""
    out = np.column_stack([rgb, levels])[labels]
    total = 0.0
    for background in (0.0, 255.0):
        seen = [p[:, :3] * (p[:, 3:] / 255.0) + background * (1 - p[:, 3:] / 255.0)
                for p in (img.reshape(-1, 4).astype(float), out.astype(float))]
        total += 0.5 * ((seen[0] - seen[1]) ** 2).sum()
    return total


def test_the_sample_logo_has_soft_edges(logo):
    assert logo.shape[2] == 4 and alpha.has_soft_alpha(logo)
    levels = np.unique(logo[..., 3])
    assert levels[0] == 0 and levels[-1] == 255 and levels.size > 100


def test_soft_alpha_gets_a_palette_with_alpha(logo):
    q = quantize(logo, 16)
    assert q.palette.shape == (16, 3) and q.palette_alpha.shape == (16,)
    assert 0 in q.palette_alpha and 255 in q.palette_alpha
    assert ((q.palette_alpha > 0) & (q.palette_alpha < 255)).sum() >= 2  # edges and shadow
    np.testing.assert_array_equal(q.alpha, q.palette_alpha[q.indices])
    clear = logo[..., 3] == 0
    assert (q.alpha[clear] == 0).all()  # the background stays fully transparent, no haze
    assert q.counts.sum() == (~clear).sum() and (np.diff(q.counts) <= 0).all()


def test_the_rows_measure_exactly_what_is_seen(logo):
    """k-means on the rows minimises the composited error: the rows' squared distance equals
    the over-black-and-white squared error, for any palette."""
    colours = alpha.distinct_rgba(logo)
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (5, 3), dtype=np.uint8)
    levels = np.array([0, 40, 128, 200, 255], np.uint8)
    X = alpha.features(colours.rgba, "rgb")
    labels = alpha.nearest(colours, X, rgb, levels, "rgb")
    rows = (colours.counts * ((X - alpha.encode(rgb, levels, "rgb")[labels]) ** 2).sum(axis=1))
    pixel_labels = labels[colours.inverse]
    hidden = logo.reshape(-1, 4).copy()
    hidden[hidden[:, 3] == 0] = 0  # the rows see no colour under alpha 0
    assert rows.sum() == pytest.approx(_premultiplied_sq_error(hidden, rgb, levels,
                                                               pixel_labels), rel=1e-9)


def test_decode_inverts_features():
    rgba = np.array([[10, 200, 30, 255], [250, 0, 90, 100], [0, 0, 0, 0], [77, 77, 77, 3]],
                    np.uint8)
    for space in ("oklab", "lab", "rgb"):
        rgb, levels = alpha.decode(alpha.features(rgba, space), space)
        np.testing.assert_array_equal(levels, rgba[:, 3])
        np.testing.assert_allclose(rgb[:2], rgba[:2, :3], atol=1)


def test_png_is_8_bit_with_trns_and_reads_back_exactly(logo, tmp_path):
    q = quantize(logo, 16)
    path = tmp_path / "logo.png"
    assert save_image(path, q) == []
    with Image.open(path) as im:
        assert im.mode == "P" and isinstance(im.info["transparency"], bytes)
    np.testing.assert_array_equal(_rgba(path), q.image())


def test_at_least_pngquant_s_visible_psnr(logo, tmp_path):
    if shutil.which("pngquant") is None:
        pytest.skip("pngquant is not installed")
    theirs = tmp_path / "pq.png"
    subprocess.run(["pngquant", "--speed", "1", "--nofs", "--output", str(theirs), "16",
                    str(LOGO)], check=True)
    ours = quantize(logo, 16).image()
    assert psnr(logo, ours) >= psnr(logo, _rgba(theirs))


def test_gif_flattens_onto_a_matte(logo, tmp_path):
    q = quantize(logo, 16)
    white = tmp_path / "white.gif"
    notes = save_image(white, q)
    assert notes and "matte" in notes[0]
    assert save_notes(white, q) == notes  # the GUI asks with the same words
    dark = flatten(q, (20, 30, 40))
    assert set(np.unique(dark.alpha)) <= {0, 255}
    half = np.flatnonzero((q.palette_alpha >= 128) & (q.palette_alpha < 255))
    assert half.size  # a half-transparent entry, blended onto the matte
    j = half[0]
    a = q.palette_alpha[j] / 255.0
    np.testing.assert_allclose(dark.palette[j], q.palette[j] * a + np.array([20, 30, 40]) * (1 - a),
                               atol=0.5)
    shown = _rgba(white)
    assert (shown[..., 3][logo[..., 3] == 0] == 0).all()
    assert set(np.unique(shown[..., 3])) <= {0, 255}


def test_dithering_keeps_each_pixel_s_alpha(logo):
    q = quantize(logo, 16, dither="fs")
    assert q.palette_alpha is None
    np.testing.assert_array_equal(q.alpha, logo[..., 3])
    _data, notes = encode_image(q, "PNG")
    assert notes  # written as RGBA, and the user is told


def test_locked_colours_stay_opaque_and_exact(logo):
    q = quantize(logo, 8, locked=["#ff0000"])
    j = np.flatnonzero((q.palette == [255, 0, 0]).all(axis=1))
    assert j.size == 1 and q.palette_alpha[j[0]] == 255


def test_cli_matte_and_json_alpha(logo, tmp_path, capsys):
    out = tmp_path / "out.gif"
    assert cli.main(["quantize", str(LOGO), "-k", "16", "-o", str(out), "--matte", "#102030",
                     "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["alpha"]) == 16 and 0 in summary["alpha"]
    assert set(np.unique(_rgba(out)[..., 3])) <= {0, 255}


def test_cli_bad_matte_is_one_line(tmp_path, capsys):
    assert cli.main(["quantize", str(LOGO), "-k", "4", "-o", str(tmp_path / "x.png"),
                     "--matte", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--matte" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_remap_with_the_palette_s_alpha_gives_the_same_image(logo):
    from palettelab.core.quantization.pipeline import remap

    q = quantize(logo, 16)
    again = remap(logo, q.palette, palette_alpha=q.palette_alpha)
    np.testing.assert_array_equal(again.image(), q.image())
    np.testing.assert_array_equal(again.palette_alpha, q.palette_alpha)


def test_no_room_for_a_clear_entry_keeps_each_pixel_s_alpha(logo):
    """At k=1 the clear entry took the only slot: the whole logo became invisible."""
    for q in (quantize(logo, 1), quantize(logo, 2, locked=["#ff0000"])):
        assert q.palette_alpha is None
        np.testing.assert_array_equal(q.alpha, logo[..., 3])


def test_a_full_palette_gif_keeps_its_transparency(logo, tmp_path):
    q = quantize(logo, 256)
    assert q.palette.shape[0] == 256
    save_image(tmp_path / "full.gif", q)
    shown = _rgba(tmp_path / "full.gif")
    assert (shown[..., 3][logo[..., 3] == 0] == 0).all()

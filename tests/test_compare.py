"""Issue 17, item 1: ``palettelab compare`` and ``core/quantization/compare.py``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab.app.cli.main import main
from palettelab.core.errors import InputError
from palettelab.core.quantization import compare as C
from palettelab.core.quantization.quality import mean_oklab_error

ROOT = Path(__file__).resolve().parent.parent


def numpy_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook PSNR over RGB, written independently of quality.py."""
    mse = np.mean((a[..., :3].astype(np.float64) - b[..., :3].astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A crop of flower.jpg, made smaller so that every method runs quickly."""
    with Image.open(ROOT / "resources" / "flower.jpg") as im:
        return np.asarray(im.convert("RGB").crop((100, 60, 420, 300)))


def test_every_method_is_scored_the_same_way_and_kmeans_has_the_lowest_error(photo):
    results = C.compare(photo, 12)
    names = [r.name for r in results]
    assert names == C.available_methods() and len(names) >= 5
    for r in results:
        assert r.image.shape == photo.shape and r.image.dtype == np.uint8
        assert r.colours == len(np.unique(r.image.reshape(-1, 3), axis=0)) <= 12
        assert r.psnr == pytest.approx(numpy_psnr(photo, r.image), abs=1e-6)
        assert r.oklab_error == pytest.approx(float(C.error_map(photo, r.image).mean()),
                                              rel=1e-5)
        assert r.seconds >= 0
    best = min(results, key=lambda r: r.oklab_error)
    assert best.name.startswith("palettelab")


def test_error_map_counts_only_what_is_visible():
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., 3] = [[255, 255, 0], [255, 128, 0]]
    other = rgba.copy()
    other[..., :3] = 255  # every pixel changed, but half of them are invisible
    errors = C.error_map(rgba, other)
    white = C.error_map(np.zeros((1, 1, 3), np.uint8), np.full((1, 1, 3), 255, np.uint8))[0, 0]
    assert white == pytest.approx(1.0, abs=1e-3)  # black to white: OKLab lightness 0 to 1
    half = errors[1, 1]  # black or white at alpha 0.5: seen as mid-grey against either
    assert 0.3 < half < 0.8
    np.testing.assert_allclose(errors, [[white, white, 0], [white, half, 0]], rtol=1e-5)
    # quality.py counts the same distances over the visible pixels
    assert mean_oklab_error(rgba, other) == pytest.approx(float(errors.sum()) / 4, rel=1e-5)


def test_heatmap_runs_from_black_to_pale_yellow_on_one_fixed_scale():
    heat = C.heatmap(np.array([[0.0, C.HEAT_SCALE / 2, C.HEAT_SCALE, 5.0]]))
    assert heat.dtype == np.uint8 and heat.shape == (1, 4, 3)
    assert heat[0, 0].tolist() == [0, 0, 4]
    assert heat[0, 2].tolist() == heat[0, 3].tolist() == [252, 255, 164]
    assert heat[0, 1].sum() > heat[0, 0].sum()


def test_transparent_images_keep_their_alpha_in_every_result(photo):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    rgba[:40, :, 3] = 0
    for r in C.compare(rgba, 8, methods=["palettelab-oklab", "median-cut"]):
        assert r.image.shape == rgba.shape
        np.testing.assert_array_equal(r.image[..., 3], rgba[..., 3])


def test_unknown_or_missing_methods_are_one_line_errors(photo, monkeypatch):
    with pytest.raises(InputError, match="unknown method"):
        C.compare(photo, 8, methods=["neuquant"])
    monkeypatch.setattr(C.shutil, "which", lambda name: None)
    assert "pngquant" not in C.available_methods()
    with pytest.raises(InputError, match="pngquant not installed"):
        C.compare(photo, 8, methods=["pngquant"])


def test_cli_prints_json_and_writes_the_contact_sheet(tmp_path, capsys, photo):
    source = tmp_path / "photo.png"
    Image.fromarray(photo).save(source)
    sheet = tmp_path / "sheet.png"
    assert main(["compare", str(source), "-k", "8", "-o", str(sheet), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    methods = summary["methods"]
    assert len(methods) >= 4 and summary["k"] == 8 and summary["sheet"] == str(sheet)
    for m in methods:
        assert set(m) == {"name", "psnr", "oklab_error", "colours", "seconds"}
    assert min(methods, key=lambda m: m["oklab_error"])["name"].startswith("palettelab")
    with Image.open(sheet) as im:
        assert im.mode == "RGB"
        h, w = photo.shape[:2]
        assert im.width == 2 * w + 3 * C._GAP  # result and heat map side by side
        assert im.height > (len(methods) + 1) * h  # the original, then a row a method
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "sheet.png"]  # no temp


def test_cli_table_and_an_exact_result(tmp_path, capsys):
    flat = np.zeros((20, 30, 3), dtype=np.uint8)
    flat[:, 10:] = [200, 30, 30]
    flat[:, 20:] = [20, 90, 220]
    source = tmp_path / "three.png"
    Image.fromarray(flat).save(source)
    assert main(["compare", str(source), "-k", "4", "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)["methods"][0]
    assert ours["psnr"] is None and ours["oklab_error"] == 0.0  # exact: strict JSON null
    assert main(["compare", str(source), "-k", "4"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["method", "PSNR"] and table[1].startswith("palettelab-oklab")


@pytest.mark.parametrize("args, status, message", [
    (["-k", "1"], 2, "-k must be 2 to 256"),
    (["-k", "8", "-o", "{tmp}/sheet.gpl"], 1, "a contact sheet is a picture, not '.gpl'"),
    (["-k", "8", "-o", "{tmp}/missing/sheet.png"], 1, "does not exist"),
])
def test_cli_usage_and_output_errors(tmp_path, capsys, photo, args, status, message):
    source = tmp_path / "photo.png"
    Image.fromarray(photo).save(source)
    argv = ["compare", str(source)] + [a.format(tmp=tmp_path) for a in args]
    if status == 2:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    else:
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_cli_missing_input_is_one_line(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope.png"), "-k", "8"]) == 1
    err = capsys.readouterr().err.strip()
    assert "nope.png" in err and len(err.splitlines()) == 1

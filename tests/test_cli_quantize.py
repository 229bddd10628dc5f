"""``palettelab quantize``: outputs, --json, palette files, locks, remapping, errors, exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab.app.cli import main as cli
from palettelab.core.formats.palettes import read_palette, write_palette

REPO = Path(__file__).resolve().parent.parent
H, W = 48, 64
HEX = re.compile(r"#[0-9a-f]{6}")


def _noise(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


@pytest.fixture
def photo(tmp_path) -> Path:
    """A 64x48 RGB PNG with thousands of distinct colours."""
    path = tmp_path / "in.png"
    Image.fromarray(_noise()).save(path)
    return path


def _quantize(*args) -> int:
    return cli.main(["quantize", *map(str, args)])


def _read(path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


def _rgb_set(pixels: np.ndarray) -> set[tuple[int, ...]]:
    return set(map(tuple, pixels.reshape(-1, pixels.shape[-1]).tolist()))


def _hex_to_rgb(codes: list[str]) -> np.ndarray:
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in codes], np.uint8)


def _summary(capsys) -> dict:
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])


def _one_error_line(err: str) -> str:
    assert err.endswith("\n")
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("palettelab: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _usage_error(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exc:
        _quantize(*args)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("palettelab quantize: error: "), captured.err
    return last


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "palettelab", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


# --- success ------------------------------------------------------------------------------------


def test_writes_an_indexed_png_with_k_colours(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    assert _quantize(photo, "-k", 8, "-o", out) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""
    im = _read(out)
    assert im.format == "PNG"
    assert im.mode == "P"
    assert im.size == (W, H)
    indices = np.asarray(im)
    assert np.unique(indices).tolist() == list(range(8))  # all 8 entries used, no others
    assert len(_rgb_set(np.asarray(im.convert("RGB")))) == 8


def test_json_summary(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    assert _quantize(photo, "-k", 6, "-o", out, "--json") == 0
    summary = _summary(capsys)
    assert {"n_colors", "palette", "counts", "space", "seconds"} <= set(summary)
    assert summary["n_colors"] == 6
    assert len(summary["palette"]) == 6
    assert all(HEX.fullmatch(c) for c in summary["palette"]), summary["palette"]
    assert len(set(summary["palette"])) == 6
    assert len(summary["counts"]) == 6
    assert all(isinstance(c, int) for c in summary["counts"])
    assert sum(summary["counts"]) == H * W
    assert summary["space"] == "oklab"
    assert isinstance(summary["seconds"], float) and summary["seconds"] >= 0
    # the summary describes the written file: same palette order, same pixel counts
    im = _read(out)
    palette = _hex_to_rgb(summary["palette"])
    assert im.getpalette()[: 3 * 6] == palette.ravel().tolist()
    assert np.bincount(np.asarray(im).ravel(), minlength=6).tolist() == summary["counts"]


@pytest.mark.parametrize("ext", [".gpl", ".ase", ".json", ".txt"])
def test_palette_file_matches_the_json_palette(tmp_path, photo, capsys, ext):
    pal = tmp_path / f"pal{ext}"
    assert _quantize(photo, "-k", 5, "-o", tmp_path / "out.png", "--palette", pal,
                     "--json") == 0
    summary = _summary(capsys)
    colours = read_palette(pal).colors
    np.testing.assert_array_equal(colours, _hex_to_rgb(summary["palette"]))


def test_locked_colours_are_in_the_palette_exactly(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    assert _quantize(photo, "-k", 6, "-o", out, "--lock", "#ff0000,#00ff00", "--json") == 0
    summary = _summary(capsys)
    assert "#ff0000" in summary["palette"]
    assert "#00ff00" in summary["palette"]
    assert summary["n_colors"] == 6
    entries = _rgb_set(np.array(_read(out).getpalette()[: 3 * 6]).reshape(6, 3))
    assert {(255, 0, 0), (0, 255, 0)} <= entries


@pytest.mark.parametrize("options", [("--space", "rgb"), ("--space", "lab"), ("--dither", "fs"),
                                     ("--dither", "fs", "--dither-strength", "0.5"),
                                     ("--dither", "bayer")])
def test_spaces_and_dithers_output_only_palette_colours(tmp_path, photo, capsys, options):
    out = tmp_path / "out.png"
    assert _quantize(photo, "-k", 8, "-o", out, "--json", *options) == 0
    summary = _summary(capsys)
    assert summary["n_colors"] == 8
    assert summary["space"] == (options[1] if options[0] == "--space" else "oklab")
    assert sum(summary["counts"]) == H * W
    im = _read(out)
    assert im.mode == "P"
    pixels = np.asarray(im.convert("RGB"))
    assert _rgb_set(pixels) <= set(map(tuple, _hex_to_rgb(summary["palette"]).tolist()))


def test_dithering_changes_the_indices(tmp_path, photo):
    plain, fs = tmp_path / "plain.png", tmp_path / "fs.png"
    assert _quantize(photo, "-k", 4, "-o", plain) == 0
    assert _quantize(photo, "-k", 4, "-o", fs, "--dither", "fs") == 0
    assert _read(plain).getpalette()[:12] == _read(fs).getpalette()[:12]  # same clustering
    assert not np.array_equal(np.asarray(_read(plain)), np.asarray(_read(fs)))


def test_same_seed_same_bytes(tmp_path, photo):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    assert _quantize(photo, "-k", 7, "-o", first, "--seed", 5) == 0
    assert _quantize(photo, "-k", 7, "-o", second, "--seed", 5) == 0
    assert first.read_bytes() == second.read_bytes()


def test_map_remaps_to_the_palette_file_in_its_order(tmp_path, photo, capsys):
    colours = np.array([[250, 250, 250], [10, 10, 10], [200, 40, 40], [40, 40, 200],
                        [40, 180, 60]], np.uint8)
    pal = tmp_path / "pal.gpl"
    write_palette(pal, colours)
    out = tmp_path / "mapped.png"
    assert _quantize(photo, "--map", pal, "-o", out, "--json") == 0
    summary = _summary(capsys)
    np.testing.assert_array_equal(_hex_to_rgb(summary["palette"]), colours)
    assert sum(summary["counts"]) == H * W
    im = _read(out)
    assert im.mode == "P"
    assert im.getpalette()[: 3 * 5] == colours.ravel().tolist()
    pixels = np.asarray(im.convert("RGB"))
    assert _rgb_set(pixels) <= set(map(tuple, colours.tolist()))
    # noise covers the whole cube: near-black and near-white pixels exist, so both are used
    assert {(250, 250, 250), (10, 10, 10)} <= _rgb_set(pixels)


def test_rgba_input_keeps_transparent_pixels(tmp_path, capsys):
    rgba = np.dstack([_noise(1), np.full((H, W), 255, np.uint8)])
    rgba[:12, :20, 3] = 0
    rgba[40:, 30:, 3] = 0
    source = tmp_path / "clear.png"
    Image.fromarray(rgba).save(source)
    out = tmp_path / "out.png"
    assert _quantize(source, "-k", 8, "-o", out, "--json") == 0
    summary = _summary(capsys)
    assert sum(summary["counts"]) == int((rgba[..., 3] > 0).sum())
    im = _read(out)
    assert im.mode == "P"
    assert "transparency" in im.info
    back = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(back[..., 3], rgba[..., 3])
    visible = back[rgba[..., 3] > 0][:, :3]
    assert _rgb_set(visible) <= set(map(tuple, _hex_to_rgb(summary["palette"]).tolist()))


# --- errors: exit 1 with one line ---------------------------------------------------------------


def _truncated(tmp_path: Path, fmt: str, ext: str) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(_noise()).save(buffer, fmt)
    data = buffer.getvalue()
    path = tmp_path / f"cut{ext}"
    path.write_bytes(data[: len(data) // 2])
    return path


def _bad_input(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nope.png"
    if kind == "text":
        path = tmp_path / "notes.png"
        path.write_text("this is not an image\n")
        return path
    if kind == "truncated png":
        return _truncated(tmp_path, "PNG", ".png")
    return _truncated(tmp_path, "JPEG", ".jpg")


@pytest.mark.parametrize("kind, message", [("missing", "no such file"),
                                           ("text", "not an image"),
                                           ("truncated png", "truncated"),
                                           ("truncated jpeg", "truncated")])
def test_bad_input_file_exits_1(tmp_path, capsys, kind, message):
    source = _bad_input(tmp_path, kind)
    out = tmp_path / "out.png"
    assert _quantize(source, "-k", 4, "-o", out) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    line = _one_error_line(captured.err)
    assert str(source) in line
    assert message in line
    assert not out.exists()


@pytest.mark.parametrize("name, message", [("out.xyz", "unknown image type"),
                                           ("out", "unknown image type"),
                                           ("out.jpg", "JPEG"),
                                           ("out.jpeg", "JPEG"),
                                           ("missing-dir/out.png", "does not exist")])
def test_bad_output_exits_1_before_reading_the_input(tmp_path, capsys, name, message):
    out = tmp_path / name
    # the input does not exist either: the output is checked first, so its error is the one shown
    assert _quantize(tmp_path / "nope.png", "-k", 4, "-o", out) == 1
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert message in line
    assert str(out) in line
    assert not out.exists()


def test_bad_output_with_a_good_input_exits_1(tmp_path, photo, capsys):
    assert _quantize(photo, "-k", 4, "-o", tmp_path / "out.jpg") == 1
    assert "JPEG" in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


@pytest.mark.parametrize("palette", ["pal.foo", "pal", "missing-dir/pal.gpl"])
def test_bad_palette_path_is_refused_before_running(tmp_path, photo, capsys, palette):
    out = tmp_path / "out.png"
    assert _quantize(photo, "-k", 4, "-o", out, "--palette", tmp_path / palette,
                     "--json") == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no summary: nothing ran
    line = _one_error_line(captured.err)
    assert str(tmp_path / palette) in line
    assert not out.exists()  # checked before the run, not after the image was written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_missing_map_file_exits_1(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    assert _quantize(photo, "--map", tmp_path / "none.gpl", "-o", out) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "none.gpl" in line and "no such file" in line
    assert not out.exists()


def test_bad_lock_colour_exits_1(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    assert _quantize(photo, "-k", 4, "-o", out, "--lock", "#ff0000,notacolour") == 1
    assert "notacolour" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["text", "truncated png", "truncated jpeg"])
def test_failed_run_keeps_the_existing_output(tmp_path, capsys, kind):
    out = tmp_path / "out.png"
    Image.fromarray(_noise(7)[:10, :10]).save(out)
    old = out.read_bytes()
    source = _bad_input(tmp_path, kind)
    assert _quantize(source, "-k", 4, "-o", out) == 1
    _one_error_line(capsys.readouterr().err)
    assert out.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.png", source.name])


# --- usage errors: exit 2 -----------------------------------------------------------------------


@pytest.mark.parametrize("k, message", [("0", "between 1 and 256"), ("300", "between 1 and 256"),
                                        ("257", "between 1 and 256"), ("-3", "between 1 and 256"),
                                        ("abc", "invalid int value")])
def test_bad_k_exits_2(tmp_path, photo, capsys, k, message):
    out = tmp_path / "out.png"
    assert message in _usage_error(capsys, photo, "-k", k, "-o", out)
    assert not out.exists()


def test_k_required_without_map(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    assert "-k" in _usage_error(capsys, photo, "-o", out)
    assert not out.exists()


@pytest.mark.parametrize("extra", [("-k", "4"), ("--lock", "#ff0000"),
                                   ("--palette", "p.gpl"), ("--seed", "3")])
def test_map_refuses_k_means_options(tmp_path, photo, capsys, extra):
    pal = tmp_path / "pal.gpl"
    write_palette(pal, [[0, 0, 0], [255, 255, 255]])
    out = tmp_path / "out.png"
    line = _usage_error(capsys, photo, "--map", pal, "-o", out, *extra)
    assert "--map" in line and extra[0] in line
    assert not out.exists()


@pytest.mark.parametrize("args", [("-k", "4"),  # no -o
                                  ("-k", "4", "-o", "x.png", "--space", "hsv"),
                                  ("-k", "4", "-o", "x.png", "--dither", "atkinson"),
                                  ("-k", "4", "-o", "x.png", "--dither-strength", "1.5")])
def test_other_usage_errors_exit_2(tmp_path, photo, capsys, args):
    _usage_error(capsys, photo, *args)
    assert not (tmp_path / "x.png").exists()


# --- the real process ---------------------------------------------------------------------------


def test_subprocess_success_prints_json_only(tmp_path, photo):
    out = tmp_path / "out.png"
    proc = _run_cli("quantize", str(photo), "-k", "4", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert proc.stdout.count("\n") == 1
    assert summary["n_colors"] == 4
    assert _read(out).mode == "P"


def test_subprocess_corrupt_input_is_one_line_exit_1(tmp_path):
    source = _bad_input(tmp_path, "truncated jpeg")
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")
    proc = _run_cli("quantize", str(source), "-k", "4", "-o", str(out))
    assert proc.returncode == 1
    assert proc.stdout == ""
    line = _one_error_line(proc.stderr)
    assert str(source) in line
    assert out.read_bytes() == b"previous result"


def test_subprocess_bad_output_type_is_one_line_exit_1(tmp_path, photo):
    out = tmp_path / "out.jpg"
    proc = _run_cli("quantize", str(photo), "-k", "4", "-o", str(out))
    assert proc.returncode == 1
    assert proc.stdout == ""
    line = _one_error_line(proc.stderr)
    assert line.startswith(f"palettelab: error: {out}: ")
    assert "JPEG" in line
    assert not out.exists()

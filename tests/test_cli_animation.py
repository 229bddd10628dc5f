"""``palettelab quantize`` on animations: frames, one palette or one per frame, timing kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab.app.cli import main as cli
from palettelab.core.formats.animation import read_animation

DURATIONS = [100, 200, 300, 400, 500]


def _frames() -> list[Image.Image]:
    rng = np.random.default_rng(1)
    frames = []
    for i in range(len(DURATIONS)):
        a = np.zeros((40, 50, 4), np.uint8)
        a[..., :3] = rng.integers(0, 256, 3)
        a[5 + 5 * i:15 + 5 * i, 10:30, :3] = rng.integers(0, 256, (10, 20, 3))
        a[..., 3] = 255
        a[:3, :3, 3] = 0  # a transparent corner in every frame
        frames.append(Image.fromarray(a))
    return frames


@pytest.fixture(params=["gif", "png", "webp"])
def animation(request, tmp_path) -> Path:
    path = tmp_path / f"anim.{request.param}"
    frames = _frames()
    options = {"gif": {"disposal": [1, 2, 1, 2, 1]}, "png": {"disposal": [0, 1, 0, 1, 0]},
               "webp": {"lossless": True}}[request.param]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=DURATIONS, loop=3,
                   **options)
    return path


def _quantize(*args) -> int:
    return cli.main(["quantize", *map(str, args)])


def _colours(frames: list[np.ndarray]) -> set[tuple[int, ...]]:
    return {tuple(c) for f in frames for c in f[f[..., 3] > 0][:, :3].tolist()}


@pytest.mark.parametrize("ext", ["gif", "png", "webp"])
def test_every_frame_is_kept_with_its_timing_and_one_palette(tmp_path, animation, ext, capsys):
    out = tmp_path / f"out.{ext}"
    assert _quantize(animation, "-k", 6, "-o", out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == summary["frames_written"] == len(DURATIONS)
    assert sum(summary["counts"]) == len(DURATIONS) * (40 * 50 - 9)
    written = read_animation(out, "out")
    source = read_animation(animation, "in")
    assert written is not None and len(written.frames) == len(DURATIONS)
    assert written.durations == DURATIONS
    assert written.loop == 3
    if ext != "webp" and animation.suffix != ".webp":
        assert written.disposals == source.disposals
    colours = _colours(written.frames)
    assert colours <= {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))
                       for h in summary["palette"]}
    for frame in written.frames:  # the transparent corner stays transparent
        assert (frame[:3, :3, 3] == 0).all() and (frame[3:, 3:, 3] == 255).all()


def test_per_frame_gives_each_frame_its_own_palette(tmp_path, animation):
    one = tmp_path / "one.gif"
    each = tmp_path / "each.gif"
    assert _quantize(animation, "-k", 2, "-o", one) == 0
    assert _quantize(animation, "-k", 2, "--per-frame", "-o", each) == 0
    shared = read_animation(one, "one").frames
    separate = read_animation(each, "each").frames
    assert len(_colours(shared)) <= 2
    assert len(_colours(separate)) > 2  # two colours a frame, not the same two
    assert all(len(_colours([f])) <= 2 for f in separate)


def test_a_single_frame_format_takes_the_first_frame_and_json_says_so(tmp_path, animation,
                                                                      capsys):
    assert _quantize(animation, "-k", 4, "-o", tmp_path / "first.tif", "--json") == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["frames"] == len(DURATIONS) and summary["frames_written"] == 1
    assert "using the first of 5 frames" in captured.err
    with Image.open(tmp_path / "first.tif") as im:
        assert getattr(im, "n_frames", 1) == 1


def test_a_still_image_has_no_frame_keys(tmp_path, capsys):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "still.png")
    assert _quantize(tmp_path / "still.png", "-k", 2, "-o", tmp_path / "o.png", "--json") == 0
    assert set(json.loads(capsys.readouterr().out)) == {"n_colors", "palette", "counts",
                                                        "space", "dither", "seconds"}


def test_an_animation_through_a_pipe(tmp_path, animation):
    proc = subprocess.run([sys.executable, "-m", "palettelab", "quantize", "-", "-k", "4",
                           "-o", "-", "--format", "gif"], input=animation.read_bytes(),
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "piped.gif").write_bytes(proc.stdout)
    piped = read_animation(tmp_path / "piped.gif", "piped")
    assert piped is not None and piped.durations == DURATIONS


def test_shared_and_per_frame_is_a_usage_error(animation, tmp_path):
    with pytest.raises(SystemExit) as exc:
        _quantize(animation, animation, "-k", 4, "--shared", "--per-frame", "-o", tmp_path)
    assert exc.value.code == 2

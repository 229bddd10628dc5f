"""Image sets in the core (issue 17, item 4): reading, one palette, exporting all or none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab.core.errors import InputError
from palettelab.core.image_set import load_set, quantize_set, save_set, set_shares
from palettelab.core.quantization.pipeline import shared_palette

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stills(tmp_path) -> list[Path]:
    paths = []
    for name, size in (("china.jpg", (160, 107)), ("flower.jpg", (80, 53))):
        path = tmp_path / name.replace(".jpg", ".png")
        Image.open(ROOT / "resources" / name).convert("RGB").resize(size).save(path)
        paths.append(path)
    return paths


def test_one_palette_for_every_image(stills):
    image_set = load_set(stills)
    assert image_set.names == ["china.png", "flower.png"] and image_set.animation is None
    assert set_shares(image_set) == pytest.approx([0.8, 0.2], abs=0.01)
    result = quantize_set(image_set.images, 8)
    expected, _counts = shared_palette(image_set.images, 8)
    np.testing.assert_array_equal(result.palette, expected)
    assert result.counts.sum() == sum(i.shape[0] * i.shape[1] for i in image_set.images)
    for member in result.members:
        np.testing.assert_array_equal(member.palette, expected)


def test_an_animation_is_a_set_of_its_frames_and_exports_as_one_file(tmp_path):
    frames = [Image.new("RGB", (20, 10), c) for c in ((250, 0, 0), (0, 0, 250), (0, 200, 0))]
    frames[0].save(tmp_path / "blink.gif", save_all=True, append_images=frames[1:],
                   duration=90, loop=0)
    image_set = load_set([tmp_path / "blink.gif"])
    assert len(image_set.images) == 3 and image_set.title == "blink"
    out = tmp_path / "out"
    out.mkdir()
    written, _notes = save_set(out, image_set, quantize_set(image_set.images, 3),
                               image_suffix=".gif")
    assert [Path(p).name for p in written] == ["blink-3.gpl", "blink-3.gif"]
    with Image.open(out / "blink-3.gif") as im:
        assert im.n_frames == 3 and im.info["duration"] == 90


def test_export_writes_all_or_nothing(stills, tmp_path):
    image_set = load_set(stills)
    result = quantize_set(image_set.images, 8)
    out = tmp_path / "out"
    out.mkdir()
    (out / "flower-8.png").mkdir()  # the second image cannot be written
    with pytest.raises(InputError):
        save_set(out, image_set, result)
    assert sorted(p.name for p in out.iterdir()) == ["flower-8.png"]  # no palette, no china


def test_an_export_never_writes_over_the_set_s_own_files(tmp_path):
    first = tmp_path / "tile.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(first)
    second = tmp_path / "tile-2.png"  # what "tile.png" at 2 colours would be exported as
    Image.new("RGB", (8, 8), (10, 10, 200)).save(second)
    image_set = load_set([first, second])
    before = second.read_bytes()
    with pytest.raises(InputError, match="one of the set's own images"):
        save_set(tmp_path, image_set, quantize_set(image_set.images, 2))
    assert second.read_bytes() == before and not (tmp_path / "tile-2-2.png").exists()


def test_blank_frames_do_not_stop_a_set():
    frames = [np.zeros((6, 6, 4), np.uint8), np.full((6, 6, 4), 255, np.uint8)]
    frames[1][..., :3] = (10, 200, 30)
    result = quantize_set(frames, 2)
    assert result.members[0].counts.sum() == 0 and (result.members[0].alpha == 0).all()
    assert tuple(result.palette[0]) == (10, 200, 30)


def test_bad_sets_are_refused_with_one_line(stills, tmp_path):
    twin = tmp_path / "china.jpg"
    Image.open(stills[0]).save(twin)
    with pytest.raises(InputError, match="both called 'china'"):
        load_set([stills[0], twin])
    with pytest.raises(InputError, match="at least one"):
        load_set([])
    with pytest.raises(InputError, match="no such folder"):
        save_set(tmp_path / "missing", load_set(stills), quantize_set(load_set(stills).images, 4))

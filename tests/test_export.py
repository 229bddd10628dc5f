"""Writing quantized images (palettelab.core.formats.image_write): indexed where possible,
lossless, atomic."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from palettelab.core.errors import InputError
from palettelab.core.formats.image_write import IMAGE_FORMATS, check_image_path, save_image
from palettelab.core.quantization.pipeline import quantize, remap

H, W = 48, 64

# a fixed palette in a deliberately unsorted order, no black (the transparent entry's colour)
PALETTE = np.array([[250, 250, 240], [200, 30, 40], [20, 40, 200], [30, 170, 60],
                    [240, 200, 20], [120, 60, 150], [90, 90, 90], [10, 200, 210]], np.uint8)


def _noise(h: int = H, w: int = W, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _with_alpha(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.dstack([rgb, alpha]).astype(np.uint8)


def _binary_alpha(h: int = H, w: int = W) -> np.ndarray:
    alpha = np.full((h, w), 255, np.uint8)
    alpha[:10, :12] = 0
    alpha[30:, 50:] = 0
    alpha[20, ::3] = 0
    return alpha


def _read(path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


def _only(path) -> list[str]:
    """Names in the folder of ``path`` (to catch stray temporary files)."""
    return sorted(p.name for p in path.parent.iterdir())


# --- check_image_path ---------------------------------------------------------------------------


@pytest.mark.parametrize("ext, fmt", [(".png", "PNG"), (".gif", "GIF"), (".bmp", "BMP"),
                                      (".tif", "TIFF"), (".tiff", "TIFF"), (".webp", "WEBP"),
                                      (".PNG", "PNG"), (".Tif", "TIFF")])
def test_check_image_path_maps_extension_to_pillow_format(tmp_path, ext, fmt):
    assert check_image_path(tmp_path / f"out{ext}") == fmt
    assert not (tmp_path / f"out{ext}").exists()


def test_image_formats_are_all_writable_by_pillow():
    assert set(IMAGE_FORMATS) == {".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
    Image.init()  # load every plugin, so SAVE is complete
    assert set(IMAGE_FORMATS.values()) <= set(Image.SAVE)


@pytest.mark.parametrize("name", ["out.jpg", "out.jpeg", "OUT.JPG"])
def test_jpeg_is_refused(tmp_path, name):
    q = remap(_noise(), PALETTE)
    with pytest.raises(InputError, match="JPEG") as exc:
        save_image(tmp_path / name, q)
    assert "\n" not in str(exc.value)
    with pytest.raises(InputError, match="JPEG"):
        check_image_path(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, shown", [("out.xyz", "'.xyz'"), ("out", "no extension"),
                                         ("out.png.bak", "'.bak'")])
def test_unknown_or_missing_extension_is_refused(tmp_path, name, shown):
    q = remap(_noise(), PALETTE)
    with pytest.raises(InputError, match="unknown image type") as exc:
        save_image(tmp_path / name, q)
    assert shown in str(exc.value)
    assert ".png" in str(exc.value)  # says what would work
    assert "\n" not in str(exc.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_output_directory_is_refused(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "out.png"
    q = remap(_noise(), PALETTE)
    with pytest.raises(InputError, match="does not exist") as exc:
        save_image(target, q)
    assert "\n" not in str(exc.value)
    with pytest.raises(InputError, match="does not exist"):
        check_image_path(target)
    assert list(tmp_path.iterdir()) == []


def test_directory_as_output_is_refused(tmp_path):
    (tmp_path / "x.png").mkdir()
    with pytest.raises(InputError, match="directory"):
        save_image(tmp_path / "x.png", remap(_noise(), PALETTE))
    assert (tmp_path / "x.png").is_dir()


# --- PNG ----------------------------------------------------------------------------------------


def test_png_is_indexed_with_exact_palette_and_indices(tmp_path):
    q = quantize(_noise(), 8)
    assert q.palette.shape == (8, 3)
    out = tmp_path / "out.png"
    assert save_image(out, q) == []
    im = _read(out)
    assert im.format == "PNG"
    assert im.mode == "P"
    assert "transparency" not in im.info
    assert im.getpalette()[: 3 * 8] == q.palette.ravel().tolist()
    np.testing.assert_array_equal(np.asarray(im), q.indices)
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), q.image())
    assert _only(out) == ["out.png"]


def test_png_keeps_a_given_palette_in_its_order(tmp_path):
    q = remap(_noise(seed=3), PALETTE)
    out = tmp_path / "mapped.png"
    assert save_image(out, q) == []
    im = _read(out)
    assert im.mode == "P"
    assert im.getpalette()[: 3 * len(PALETTE)] == PALETTE.ravel().tolist()
    indices = np.asarray(im)
    assert indices.max() < len(PALETTE)
    np.testing.assert_array_equal(indices, q.indices)
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), PALETTE[q.indices])


def test_png_of_a_single_colour(tmp_path):
    img = np.full((20, 30, 3), (12, 34, 56), np.uint8)
    q = quantize(img, 4)  # only one colour exists
    save_image(tmp_path / "one.png", q)
    im = _read(tmp_path / "one.png")
    assert im.mode == "P"
    assert im.getpalette()[:3] == [12, 34, 56]
    assert (np.asarray(im.convert("RGB")) == (12, 34, 56)).all()


def test_png_binary_alpha_is_indexed_with_transparent_entry(tmp_path):
    alpha = _binary_alpha()
    q = remap(_with_alpha(_noise(), alpha), PALETTE)
    assert q.alpha is not None
    out = tmp_path / "clear.png"
    assert save_image(out, q) == []
    im = _read(out)
    assert im.mode == "P"
    assert "transparency" in im.info
    clear = im.info["transparency"]
    assert isinstance(clear, int)
    indices = np.asarray(im)
    # exactly the alpha-0 pixels use the transparent entry
    np.testing.assert_array_equal(indices == clear, alpha == 0)
    visible = alpha > 0
    np.testing.assert_array_equal(indices[visible], q.indices[visible])
    assert im.getpalette()[: 3 * len(PALETTE)] == PALETTE.ravel().tolist()
    rgba = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(rgba[..., 3], alpha)
    np.testing.assert_array_equal(rgba[visible], q.image()[visible])


def test_png_opaque_alpha_channel_stays_indexed_without_transparency(tmp_path):
    q = remap(_with_alpha(_noise(), np.full((H, W), 255, np.uint8)), PALETTE)
    assert save_image(tmp_path / "o.png", q) == []
    im = _read(tmp_path / "o.png")
    assert im.mode == "P"
    assert "transparency" not in im.info
    np.testing.assert_array_equal(np.asarray(im), q.indices)


def test_png_partial_alpha_is_written_rgba_with_a_note(tmp_path):
    alpha = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))  # 0, partial levels, 255
    q = remap(_with_alpha(_noise(), alpha), PALETTE)
    out = tmp_path / "soft.png"
    notes = save_image(out, q)
    assert len(notes) == 1
    assert notes[0].startswith("soft.png: ")
    assert "RGBA" in notes[0]
    im = _read(out)
    assert im.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(im), q.image())


def _full_palette_image(clear: bool) -> np.ndarray:
    """16x32 RGBA: the left half has 256 distinct colours, the right half is transparent."""
    levels = np.arange(256)
    colours = np.stack([levels, (levels * 7) % 256, 255 - levels], axis=1).astype(np.uint8)
    img = np.zeros((16, 32, 4), np.uint8)
    img[:, :16, :3] = colours.reshape(16, 16, 3)
    img[:, 16:, :3] = colours.reshape(16, 16, 3)
    img[..., 3] = 255
    if clear:
        img[:, 16:, 3] = 0
    return img, colours


def test_png_full_palette_with_transparent_pixels_is_rgba_with_a_note(tmp_path):
    img, colours = _full_palette_image(clear=True)
    q = remap(img, colours)
    assert q.palette.shape[0] == 256
    out = tmp_path / "full.png"
    notes = save_image(out, q)
    assert len(notes) == 1 and "RGBA" in notes[0]
    im = _read(out)
    assert im.mode == "RGBA"
    back = np.asarray(im)
    np.testing.assert_array_equal(back, q.image())
    np.testing.assert_array_equal(back[..., 3], img[..., 3])


def test_png_full_palette_without_transparent_pixels_stays_indexed(tmp_path):
    img, colours = _full_palette_image(clear=False)
    q = remap(img, colours)
    assert save_image(tmp_path / "full.png", q) == []
    im = _read(tmp_path / "full.png")
    assert im.mode == "P"
    assert im.getpalette()[: 3 * 256] == colours.ravel().tolist()
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), img[..., :3])


def test_png_255_colours_with_transparent_pixels_stay_indexed(tmp_path):
    img, colours = _full_palette_image(clear=True)
    q = remap(img, colours[:255])  # one entry free for transparency
    assert save_image(tmp_path / "p.png", q) == []
    im = _read(tmp_path / "p.png")
    assert im.mode == "P"
    assert im.info.get("transparency") == 255
    np.testing.assert_array_equal(np.asarray(im) == 255, img[..., 3] == 0)


# --- other formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("ext, fmt", [(".gif", "GIF"), (".bmp", "BMP"), (".tif", "TIFF"),
                                      (".tiff", "TIFF")])
def test_other_indexed_formats_read_back_equal(tmp_path, ext, fmt):
    q = quantize(_noise(seed=1), 12)
    out = tmp_path / f"out{ext}"
    assert save_image(out, q) == []
    im = _read(out)
    assert im.format == fmt
    assert im.mode == "P"
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), q.image())
    assert _only(out) == [out.name]


def test_gif_keeps_binary_transparency(tmp_path):
    alpha = _binary_alpha()
    q = remap(_with_alpha(_noise(), alpha), PALETTE)
    assert save_image(tmp_path / "t.gif", q) == []
    im = _read(tmp_path / "t.gif")
    assert im.mode == "P"
    assert "transparency" in im.info
    rgba = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(rgba[..., 3], alpha)
    visible = alpha > 0
    np.testing.assert_array_equal(rgba[visible], q.image()[visible])


def test_bmp_with_transparent_pixels_notes_that_alpha_is_dropped(tmp_path):
    q = remap(_with_alpha(_noise(), _binary_alpha()), PALETTE)
    notes = save_image(tmp_path / "t.bmp", q)
    assert len(notes) == 1 and "BMP" in notes[0] and "alpha" in notes[0]
    im = _read(tmp_path / "t.bmp")
    assert im.mode == "P"
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), PALETTE[q.indices])


def test_webp_is_lossless(tmp_path):
    q = quantize(_noise(seed=2), 16)
    out = tmp_path / "out.webp"
    assert save_image(out, q) == []
    im = _read(out)
    assert im.format == "WEBP"
    assert im.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(im), q.image())


def test_webp_with_alpha_is_lossless_where_visible(tmp_path):
    alpha = _binary_alpha()
    alpha[40:, :8] = 128  # a partial level too: WebP has a real alpha channel
    q = remap(_with_alpha(_noise(), alpha), PALETTE)
    assert save_image(tmp_path / "a.webp", q) == []
    back = np.asarray(_read(tmp_path / "a.webp"))
    assert back.shape == (H, W, 4)
    np.testing.assert_array_equal(back[..., 3], alpha)
    visible = alpha > 0  # the encoder may change the colour of fully transparent pixels
    np.testing.assert_array_equal(back[visible], q.image()[visible])


# --- atomicity ----------------------------------------------------------------------------------


def _broken_save(monkeypatch):
    def save(self, fp, format=None, **params):
        fp.write(b"half an image")
        raise OSError("No space left on device")

    monkeypatch.setattr(Image.Image, "save", save)


@pytest.mark.parametrize("ext", [".png", ".gif", ".webp"])
def test_failed_save_keeps_the_existing_file(tmp_path, monkeypatch, ext):
    q = remap(_noise(), PALETTE)
    out = tmp_path / f"keep{ext}"
    save_image(out, remap(_noise(seed=9), PALETTE[:4]))
    old = out.read_bytes()
    _broken_save(monkeypatch)
    with pytest.raises(InputError) as exc:
        save_image(out, q)
    message = str(exc.value)
    assert "\n" not in message
    assert str(out) in message
    assert "No space left on device" in message
    assert out.read_bytes() == old
    assert _only(out) == [out.name]  # no .part file left behind


def test_failed_save_creates_no_file(tmp_path, monkeypatch):
    _broken_save(monkeypatch)
    with pytest.raises(InputError):
        save_image(tmp_path / "new.png", remap(_noise(), PALETTE))
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_an_existing_file(tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"old contents")
    q = remap(_noise(), PALETTE)
    save_image(out, q)
    np.testing.assert_array_equal(np.asarray(_read(out)), q.indices)
    assert _only(out) == ["out.png"]


# --- what save_image takes ----------------------------------------------------------------------


class _Indexed:
    """A palette image made without the quantizer."""

    def __init__(self, palette, indices, alpha=None):
        self.palette, self.indices, self.alpha = palette, indices, alpha


def test_saves_any_indexed_image(tmp_path):
    indices = np.random.default_rng(0).integers(0, 3, (H, W)).astype(np.uint8)
    out = tmp_path / "plain.png"
    assert save_image(out, _Indexed(PALETTE[:3], indices)) == []
    image = _read(out)
    assert image.mode == "P"
    np.testing.assert_array_equal(np.asarray(image.convert("RGB")), PALETTE[:3][indices])


@pytest.mark.parametrize("palette, indices, alpha, match", [
    (PALETTE.astype(np.float64), np.zeros((4, 4), np.uint8), None, r"\(k, 3\) uint8"),
    (np.zeros((257, 3), np.uint8), np.zeros((4, 4), np.uint8), None, "1 to 256 colours"),
    (PALETTE, np.zeros((4, 4, 1), np.uint8), None, r"\(H, W\) uint8"),
    (PALETTE, np.full((4, 4), 8, np.uint8), None, "index 8 is past the end of the palette of 8"),
    (PALETTE, np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8), "alpha must be"),
])
def test_bad_indexed_image_is_refused_before_writing(tmp_path, palette, indices, alpha, match):
    with pytest.raises(InputError, match=match):
        save_image(tmp_path / "bad.png", _Indexed(palette, indices, alpha))
    assert list(tmp_path.iterdir()) == []


def test_image_writing_does_not_load_the_quantizer():
    code = ("import sys, palettelab.core.formats.image_write; "
            "print('palettelab.core.quantization.pipeline' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"

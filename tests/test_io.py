"""Image loading: every mode to 8-bit sRGB, orientation, colour profiles, limits and bad files.

Every test image is made here with Pillow or by hand; the colour profiles too (a minimal ICC
writer below), since no RGB, grey or CMYK profile other than sRGB can be assumed on the machine.
"""

import errno
import os
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

import palettelab.core.formats.image_read
from palettelab.core.errors import InputError
from palettelab.core.formats.image_read import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    LoadedImage,
    load_image,
)

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(7)


def save(tmp_path: Path, name: str, image: Image.Image, **params) -> Path:
    path = tmp_path / name
    image.save(path, **params)
    return path


def random_rgb(height: int = 6, width: int = 5, channels: int = 3) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def blocks(colours: list[tuple[int, ...]], mode: str, size: int = 16) -> Image.Image:
    """Flat square blocks side by side, so that JPEG keeps each colour nearly exact."""
    image = Image.new(mode, (size * len(colours), size))
    for i, colour in enumerate(colours):
        image.paste(colour, (i * size, 0, (i + 1) * size, size))
    return image


def block_centres(pixels: np.ndarray, count: int, size: int = 16) -> np.ndarray:
    return pixels[size // 2, [i * size + size // 2 for i in range(count)]].astype(int)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_16bit_rgb(values: np.ndarray) -> bytes:
    """A 16-bit RGB PNG (Pillow cannot write one): colour type 2, bit depth 16."""
    height, width, _ = values.shape
    rows = b"".join(b"\0" + values[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def with_png_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with a header claiming another size (the pixel data is left as it was)."""
    return png[:8] + png_chunk(b"IHDR", struct.pack(">II", width, height) + png[24:29]) + png[33:]


# -- ICC profiles -----------------------------------------------------------------------------

def _s15(*values: float) -> bytes:
    return b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def _desc(text: str) -> bytes:
    utf16 = text.encode("utf-16-be")
    record = struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(utf16), 28)
    return b"mluc" + bytes(4) + record + utf16


def icc(space: bytes, pcs: bytes, device_class: bytes, description: str,
        tags: dict[bytes, bytes]) -> bytes:
    """A minimal ICC v2 profile: header, tag table, description, D50 white point, ``tags``."""
    tags = {b"desc": _desc(description), b"wtpt": b"XYZ " + bytes(4) + _s15(0.9642, 1, 0.8249),
            **tags}
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags.items():
        data += bytes(-len(data) % 4)
        table += struct.pack(">4sII", signature, offset + len(body), len(data))
        body += data
    header = (struct.pack(">I4sI4s4s4s", offset + len(body), b"", 0x02100000, device_class, space,
                          pcs)
              + bytes(12) + b"acsp" + bytes(28) + _s15(0.9642, 1, 0.8249) + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + body


def linear_grey_profile() -> bytes:
    """Grey with gamma 1.0: linear grey 128 is sRGB 188."""
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0100)
    return icc(b"GRAY", b"XYZ ", b"mntr", "Linear grey", {b"kTRC": curve})


def ink_is_black_profile() -> bytes:
    """CMYK where any full ink is black: white paper, L* = 100·(1-c)(1-m)(1-y)(1-k), grey."""
    ramp = bytes(range(256))
    corners = [(c, m, y, k) for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)]
    grid = b"".join(bytes([255 if not any(corner) else 0, 128, 128]) for corner in corners)
    lut = (b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + _s15(1, 0, 0, 0, 1, 0, 0, 0, 1)
           + ramp * 4 + grid + ramp * 3)
    return icc(b"CMYK", b"Lab ", b"prtr", "Ink is black", {b"A2B0": lut})


def swapped_profile() -> bytes:
    """Pillow's sRGB profile with the red and blue primaries swapped, under another name."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    entries = {bytes(data[132 + 12 * i:136 + 12 * i]): 132 + 12 * i
               for i in range(struct.unpack(">I", data[128:132])[0])}
    red, blue = entries[b"rXYZ"] + 4, entries[b"bXYZ"] + 4  # where (offset, size) are
    data[red:red + 8], data[blue:blue + 8] = data[blue:blue + 8], data[red:red + 8]
    old, new = "sRGB built-in".encode("utf-16-be"), "R-B swapped!!".encode("utf-16-be")
    assert data.count(old) == 1
    return bytes(data).replace(old, new)


# -- plain modes ------------------------------------------------------------------------------

def test_bundled_sample():
    loaded = load_image(REPO / "resources" / "china.jpg")
    assert loaded.pixels.shape == (427, 640, 3)
    assert loaded.pixels.dtype == np.uint8
    assert loaded.pixels.flags.c_contiguous
    assert not loaded.pixels.flags.writeable
    assert loaded.source_mode == "RGB"
    assert loaded.notes == ()  # its profile is sRGB IEC61966-2.1: not applied


@pytest.mark.parametrize(("mode", "channels"), [("RGB", 3), ("RGBA", 4)])
def test_rgb_and_rgba_are_exact(tmp_path, mode, channels):
    pixels = random_rgb(channels=channels)
    path = save(tmp_path, "a.png", Image.fromarray(pixels))
    loaded = load_image(str(path))
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert (loaded.path, loaded.source_mode, loaded.notes) == (str(path), mode, ())
    assert isinstance(loaded, LoadedImage)


@pytest.mark.parametrize("mode", ["1", "L"])
def test_grey_becomes_three_equal_channels(tmp_path, mode):
    grey = np.asarray(Image.fromarray(random_rgb()[..., 0]).convert(mode).convert("L"))
    path = save(tmp_path, "g.png", Image.fromarray(grey).convert(mode))
    loaded = load_image(path)
    assert loaded.source_mode == mode
    np.testing.assert_array_equal(loaded.pixels, np.dstack([grey] * 3))


def test_grey_with_alpha(tmp_path):
    la = random_rgb(channels=2)
    path = save(tmp_path, "la.png", Image.fromarray(la))
    loaded = load_image(path)
    assert loaded.source_mode == "LA"
    np.testing.assert_array_equal(loaded.pixels, la[..., [0, 0, 0, 1]])


def palette_image(indices: np.ndarray, palette: np.ndarray) -> Image.Image:
    image = Image.frombytes("P", indices.shape[::-1], indices.tobytes())
    image.putpalette(palette.tobytes())
    return image


@pytest.mark.parametrize("fmt", ["png", "gif", "bmp", "tif"])
def test_palette_without_transparency(tmp_path, fmt):
    indices = RNG.integers(0, 16, size=(7, 9), dtype=np.uint8)
    palette = random_rgb(16, 1).reshape(16, 3)
    path = save(tmp_path, f"p.{fmt}", palette_image(indices, palette))
    loaded = load_image(path)
    assert loaded.source_mode == "P"
    np.testing.assert_array_equal(loaded.pixels, palette[indices])


@pytest.mark.parametrize("fmt", ["png", "gif"])
def test_palette_transparency_index(tmp_path, fmt):
    indices = RNG.integers(0, 16, size=(7, 9), dtype=np.uint8)
    palette = random_rgb(16, 1).reshape(16, 3)
    path = save(tmp_path, f"t.{fmt}", palette_image(indices, palette), transparency=3)
    loaded = load_image(path)
    assert loaded.pixels.shape == (7, 9, 4)
    np.testing.assert_array_equal(loaded.pixels[..., 3], np.where(indices == 3, 0, 255))
    opaque = indices != 3
    np.testing.assert_array_equal(loaded.pixels[opaque][:, :3], palette[indices[opaque]])


def test_palette_with_alpha_per_entry(tmp_path):
    indices = RNG.integers(0, 4, size=(5, 6), dtype=np.uint8)
    palette = random_rgb(4, 1).reshape(4, 3)
    alphas = bytes([0, 90, 200, 255])
    path = save(tmp_path, "pa.png", palette_image(indices, palette), transparency=alphas)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels[..., 3], np.frombuffer(alphas, np.uint8)[indices])
    visible = indices != 0
    np.testing.assert_array_equal(loaded.pixels[visible][:, :3], palette[indices[visible]])


def test_palette_plus_alpha_channel(tmp_path):
    image = Image.new("PA", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.putdata([(0, 255), (1, 100)])
    loaded = load_image(save(tmp_path, "pa.tif", image))
    assert loaded.source_mode == "PA"
    assert loaded.pixels.tolist() == [[[255, 0, 0, 255], [0, 0, 255, 100]]]


def test_rgb_colour_key_transparency(tmp_path):
    pixels = random_rgb()
    key = tuple(int(v) for v in pixels[2, 3])
    path = save(tmp_path, "key.png", Image.fromarray(pixels), transparency=key)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels[..., :3], pixels)
    np.testing.assert_array_equal(loaded.pixels[..., 3], np.where((pixels == key).all(2), 0, 255))


def premultiplied_tiff(tmp_path: Path, image: Image.Image) -> Path:
    """``image`` (LA or RGBA) saved as TIFF marked as associated (premultiplied) alpha."""
    path = save(tmp_path, "pre.tif", image)
    data = path.read_bytes()
    unassociated = struct.pack("<HHII", 338, 3, 1, 2)  # ExtraSamples = 2, little-endian IFD
    assert data.count(unassociated) == 1
    path.write_bytes(data.replace(unassociated, struct.pack("<HHII", 338, 3, 1, 1)))
    return path


def test_premultiplied_grey_and_rgb_alpha(tmp_path):
    la = Image.new("LA", (3, 1))
    la.putdata([(100, 255), (50, 128), (30, 0)])
    loaded = load_image(premultiplied_tiff(tmp_path, la))
    assert loaded.source_mode == "La"
    np.testing.assert_allclose(loaded.pixels[0, :2], [[100, 100, 100, 255], [100, 100, 100, 128]],
                               atol=1)
    assert loaded.pixels[0, 2, 3] == 0
    rgba = Image.new("RGBA", (2, 1))
    rgba.putdata([(100, 60, 20, 255), (50, 30, 10, 128)])
    loaded = load_image(premultiplied_tiff(tmp_path, rgba))
    np.testing.assert_allclose(loaded.pixels[0], [[100, 60, 20, 255], [100, 60, 20, 128]], atol=1)


# -- more than 8 bits -------------------------------------------------------------------------

SIXTEEN_BIT = "16-bit image reduced to 8 bits per channel"


@pytest.mark.parametrize(("fmt", "mode"), [("png", "I;16"), ("tif", "I;16"), ("pgm", "I")])
def test_16bit_grey_keeps_high_byte(tmp_path, fmt, mode):
    values = RNG.integers(0, 65536, size=(6, 7), dtype=np.uint16)
    values[0, :3] = [0, 255, 65535]
    loaded = load_image(save(tmp_path, f"g16.{fmt}", Image.fromarray(values)))
    assert loaded.source_mode == mode
    np.testing.assert_array_equal(loaded.pixels, np.dstack([values >> 8] * 3))
    assert loaded.notes == (SIXTEEN_BIT,)


def test_16bit_grey_transparent_value(tmp_path):
    values = np.array([[0, 1000, 65535, 1000]], np.uint16)
    loaded = load_image(save(tmp_path, "t16.png", Image.fromarray(values), transparency=1000))
    assert loaded.pixels[..., 3].tolist() == [[255, 0, 255, 0]]
    assert loaded.pixels[..., 0].tolist() == [[0, 3, 255, 3]]


def test_16bit_rgb_png(tmp_path):
    values = RNG.integers(0, 65536, size=(4, 5, 3), dtype=np.uint16)
    path = tmp_path / "rgb16.png"
    path.write_bytes(png_16bit_rgb(values))
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, values >> 8)
    assert loaded.notes == (SIXTEEN_BIT,)


@pytest.mark.parametrize(("values", "expected", "note"), [
    (np.array([[-100, 0, 100, 155]], np.int32), [0, 100, 200, 255],
     "32-bit integer image: values -100..155 scaled to 0..255"),
    (np.array([[0, 0.5, 1, 0.25]], np.float32), [0, 128, 255, 64],
     "floating-point image: values 0..1 scaled to 0..255"),
    (np.array([[-1, 0, 1, 3]], np.float32), [0, 64, 128, 255],
     "floating-point image: values -1..3 scaled to 0..255"),
    (np.array([[np.nan, 0, 1, 2]], np.float32), [0, 0, 128, 255],
     "floating-point image: values 0..2 scaled to 0..255"),
])
def test_32bit_grey_uses_its_range(tmp_path, values, expected, note):
    loaded = load_image(save(tmp_path, "wide.tif", Image.fromarray(values)))
    assert loaded.pixels[0, :, 0].tolist() == expected
    assert loaded.notes == (note,)


# -- CMYK -------------------------------------------------------------------------------------

CMYK_COLOURS = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 200, 100, 0), (30, 60, 90, 128), (0, 0, 0, 128),
                (0, 0, 0, 255)]


def naive_rgb(cmyk: list[tuple[int, ...]]) -> np.ndarray:
    c = np.array(cmyk, float)
    return np.round((255 - c[:, :3]) * (255 - c[:, 3:]) / 255)


@pytest.mark.parametrize(("fmt", "tolerance"), [("tif", 1), ("jpg", 3)])
def test_cmyk_without_profile(tmp_path, fmt, tolerance):
    image = blocks(CMYK_COLOURS, "CMYK")
    loaded = load_image(save(tmp_path, f"cmyk.{fmt}", image, quality=100))
    assert loaded.source_mode == "CMYK"
    assert loaded.pixels.shape == (16, 16 * len(CMYK_COLOURS), 3)
    np.testing.assert_allclose(block_centres(loaded.pixels, len(CMYK_COLOURS)),
                               naive_rgb(CMYK_COLOURS), atol=tolerance)


# -- orientation ------------------------------------------------------------------------------

# From the EXIF definitions ("the 0th row is the visual right-hand side, the 0th column is
# the visual top" for 6, and so on), independently of Pillow's mapping to transpositions.
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: np.rot90(a, 2),
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),  # stored turned left: turn 90° clockwise
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # mirrored across the anti-diagonal
    8: lambda a: np.rot90(a, 1),
}


def with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize("orientation", sorted(UPRIGHT))
def test_exif_orientation(tmp_path, orientation):
    stored = random_rgb(4, 7)
    path = save(tmp_path, "o.png", Image.fromarray(stored), exif=with_orientation(orientation))
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, UPRIGHT[orientation](stored))
    assert loaded.notes == ()


def test_exif_orientation_of_jpeg_and_palette(tmp_path):
    stored = blocks([(255, 0, 0), (0, 0, 255)], "RGB")  # red left of blue, 32 × 16
    path = save(tmp_path, "o.jpg", stored, exif=with_orientation(6), quality=100)
    pixels = load_image(path).pixels
    assert pixels.shape == (32, 16, 3)
    assert pixels[8, 8, 0] > 250 > pixels[24, 8, 0]  # turned clockwise: red now on top
    indices = RNG.integers(0, 4, size=(3, 5), dtype=np.uint8)
    palette = random_rgb(4, 1).reshape(4, 3)
    path = save(tmp_path, "o.png", palette_image(indices, palette), exif=with_orientation(8))
    np.testing.assert_array_equal(load_image(path).pixels, np.rot90(palette[indices], 1))


def test_corrupt_exif_is_only_noted(tmp_path):
    pixels = random_rgb()
    path = save(tmp_path, "e.png", Image.fromarray(pixels), exif=b"garbage!garbage!")
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert len(loaded.notes) == 1
    assert loaded.notes[0].startswith("EXIF orientation could not be read")


# -- colour profiles --------------------------------------------------------------------------

SWAPPED_NOTE = "converted from the embedded ICC profile 'R-B swapped!!' to sRGB"


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif", "webp"])
def test_rgb_profile_is_converted(tmp_path, fmt):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (200, 120, 40)]
    path = save(tmp_path, f"icc.{fmt}", blocks(colours, "RGB"), icc_profile=swapped_profile(),
                quality=100, lossless=True)
    loaded = load_image(path)
    swapped = np.array(colours)[:, ::-1]
    np.testing.assert_allclose(block_centres(loaded.pixels, len(colours)), swapped, atol=3)
    assert loaded.notes == (SWAPPED_NOTE,)


def test_rgba_and_palette_profiles_keep_alpha(tmp_path):
    pixels = random_rgb(channels=4)
    path = save(tmp_path, "icc.png", Image.fromarray(pixels), icc_profile=swapped_profile())
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels[..., 3], pixels[..., 3])
    np.testing.assert_allclose(loaded.pixels[..., :3], pixels[..., 2::-1], atol=2)
    indices = RNG.integers(0, 4, size=(3, 5), dtype=np.uint8)
    palette = random_rgb(4, 1).reshape(4, 3)
    path = save(tmp_path, "iccp.png", palette_image(indices, palette), transparency=1,
                icc_profile=swapped_profile())
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels[..., 3], np.where(indices == 1, 0, 255))
    np.testing.assert_allclose(loaded.pixels[..., :3], palette[indices][..., ::-1], atol=2)
    assert loaded.notes == (SWAPPED_NOTE,)


def test_srgb_profile_is_not_applied(tmp_path):
    pixels = random_rgb()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    loaded = load_image(save(tmp_path, "s.png", Image.fromarray(pixels), icc_profile=srgb))
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert loaded.notes == ()


def test_unreadable_profile_is_only_noted(tmp_path):
    pixels = random_rgb()
    path = save(tmp_path, "bad.png", Image.fromarray(pixels), icc_profile=b"not a profile" * 20)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert len(loaded.notes) == 1
    assert loaded.notes[0].startswith("ignored the embedded ICC profile: it could not be read")


def ink_is_black_srgb(cmyk: list[tuple[int, ...]]) -> np.ndarray:
    """What :func:`ink_is_black_profile` makes of these inks: L* to Y to sRGB grey."""
    lightness = 100 * np.prod(1 - np.array(cmyk) / 255, axis=1)
    f = (lightness + 16) / 116
    y = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29))
    srgb = np.where(y <= 0.0031308, 12.92 * y, 1.055 * y ** (1 / 2.4) - 0.055)
    return np.repeat(np.round(255 * srgb)[:, None], 3, axis=1)


# one ink at a time: LittleCMS interpolates mixtures tetrahedrally, not as the product above
SINGLE_INKS = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 100, 0, 0), (0, 0, 200, 0), (0, 0, 0, 128),
               (0, 0, 0, 255)]


@pytest.mark.parametrize(("fmt", "tolerance"), [("tif", 2), ("jpg", 4)])
def test_cmyk_profile_is_converted(tmp_path, fmt, tolerance):
    path = save(tmp_path, f"icc.{fmt}", blocks(SINGLE_INKS, "CMYK"),
                icc_profile=ink_is_black_profile(), quality=100)
    loaded = load_image(path)
    centres = block_centres(loaded.pixels, len(SINGLE_INKS))
    np.testing.assert_allclose(centres, ink_is_black_srgb(SINGLE_INKS), atol=tolerance)
    assert loaded.notes == ("converted from the embedded ICC profile 'Ink is black' to sRGB",)


def test_grey_profile_is_converted(tmp_path):
    grey = Image.new("L", (3, 1))
    grey.putdata([0, 128, 255])
    loaded = load_image(save(tmp_path, "g.png", grey, icc_profile=linear_grey_profile()))
    np.testing.assert_allclose(loaded.pixels[0], [[0] * 3, [188] * 3, [255] * 3], atol=1)
    la = Image.new("LA", (2, 1))
    la.putdata([(128, 7), (255, 255)])
    loaded = load_image(save(tmp_path, "la.png", la, icc_profile=linear_grey_profile()))
    np.testing.assert_allclose(loaded.pixels[0], [[188] * 3 + [7], [255] * 4], atol=1)
    assert loaded.notes == ("converted from the embedded ICC profile 'Linear grey' to sRGB",)


def test_profile_of_the_wrong_kind_is_only_noted(tmp_path):
    path = save(tmp_path, "wrong.tif", blocks(CMYK_COLOURS, "CMYK"), icc_profile=swapped_profile())
    loaded = load_image(path)
    centres = block_centres(loaded.pixels, len(CMYK_COLOURS))
    np.testing.assert_allclose(centres, naive_rgb(CMYK_COLOURS), atol=1)
    assert len(loaded.notes) == 1
    assert loaded.notes[0].startswith(
        "ignored the embedded ICC profile 'R-B swapped!!': it cannot convert this CMYK image")


# -- animation --------------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "params"),
                         [("gif", {}), ("png", {}), ("webp", {"lossless": True})])
def test_animation_uses_first_frame(tmp_path, fmt, params):
    frames = [Image.new("RGB", (4, 3), colour) for colour in ("red", "lime", "blue")]
    path = save(tmp_path, f"anim.{fmt}", frames[0], save_all=True, append_images=frames[1:],
                **params)
    loaded = load_image(path)
    assert loaded.pixels[..., :3].reshape(-1, 3).tolist() == [[255, 0, 0]] * 12
    assert loaded.notes == ("animated image: using the first of 3 frames",)


def test_multi_page_tiff_uses_first_page(tmp_path):
    pages = [Image.new("L", (2, 2), value) for value in (10, 20)]
    loaded = load_image(save(tmp_path, "pages.tif", pages[0], save_all=True,
                             append_images=pages[1:]))
    assert loaded.pixels.reshape(-1).tolist() == [10] * 12
    assert loaded.notes == ("multi-image file: using the first of 2 frames",)


# -- size limits ------------------------------------------------------------------------------

def test_pixel_limit(tmp_path):
    path = save(tmp_path, "big.png", Image.new("RGB", (40, 30)))
    with pytest.raises(InputError, match=r"big\.png: 0\.0 megapixels \(40×30\) exceeds the limit "
                                         r"of 0\.001 megapixels$"):
        load_image(path, max_pixels=1000)
    assert load_image(path, max_pixels=1200).pixels.shape == (30, 40, 3)
    assert load_image(path, max_pixels=None).pixels.shape == (30, 40, 3)


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (12000, 12000)])
def test_huge_header_is_refused_before_decoding(tmp_path, recwarn, width, height):
    pillow_limit = Image.MAX_IMAGE_PIXELS
    path = save(tmp_path, "huge.png", Image.new("L", (8, 8)))
    path.write_bytes(with_png_size(path.read_bytes(), width, height))
    limit = DEFAULT_MAX_PIXELS if width * height > DEFAULT_MAX_PIXELS else 100_000_000
    with pytest.raises(InputError) as caught:
        load_image(path, max_pixels=limit)
    megapixels = width * height / 1e6
    assert str(caught.value) == (f"{path}: {megapixels:.1f} megapixels ({width}×{height}) "
                                 f"exceeds the limit of {limit / 1e6:g} megapixels")
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
    assert Image.MAX_IMAGE_PIXELS == pillow_limit


@pytest.mark.parametrize("fmt", ["png", "gif", "tif"])
@pytest.mark.parametrize("side", [40, 50])  # 1,600 pixels: Pillow warns; 2,500: Pillow refuses
def test_pillow_bomb_limit_does_not_apply(tmp_path, monkeypatch, recwarn, fmt, side):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    pixels = random_rgb(side, side)[..., 0]
    loaded = load_image(save(tmp_path, f"b.{fmt}", Image.fromarray(pixels)))
    np.testing.assert_array_equal(loaded.pixels[..., 0], pixels)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
    assert Image.MAX_IMAGE_PIXELS == 1000
    with pytest.raises(InputError, match=rf"\({side}×{side}\) exceeds the limit"):
        load_image(tmp_path / f"b.{fmt}", max_pixels=side * side - 1)
    assert Image.MAX_IMAGE_PIXELS == 1000


# -- bad files --------------------------------------------------------------------------------

def one_line_error(path, **params) -> str:
    with pytest.raises(InputError) as caught:
        load_image(path, **params)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: "):]


@pytest.mark.parametrize(("fmt", "keep"), [("png", 0.5), ("jpg", 0.6), ("gif", 0.5),
                                           ("tif", 0.5), ("webp", 0.5)])
def test_truncated_files(tmp_path, fmt, keep):
    path = save(tmp_path, f"cut.{fmt}", Image.fromarray(random_rgb(64, 64)), quality=90)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    problem = one_line_error(path)
    if fmt in ("png", "jpg"):
        assert problem == "truncated or corrupt image data"
    else:  # where the cut falls decides which (WebP cannot even start decoding)
        assert problem.startswith(("truncated or corrupt", "not a readable image: damaged",
                                   "a damaged or unsupported image header ("))


def test_corrupt_png_data(tmp_path):
    path = save(tmp_path, "crc.png", Image.fromarray(random_rgb(16, 16)))
    data = bytearray(path.read_bytes())
    data[data.index(b"IDAT") + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert one_line_error(path) == "truncated or corrupt image data"


@pytest.mark.parametrize(("content", "problem"), [
    (b"hello, I am text\n" * 10, "not an image but text (point files are opened by their "
                                 "extension: .csv, .tsv, .txt, .npy, .npz)"),
    (b"", "the file is empty"),
    (b"PK\x03\x04\x14\x00\x00\x00" * 8, "not a readable image: damaged, or not PNG, JPEG, GIF, "
                                         "BMP, TIFF, WebP, PNM or TGA data"),
])
def test_not_an_image(tmp_path, content, problem):
    """The message says what the file is, not which library failed to read it (issue 13)."""
    path = tmp_path / "text.png"
    path.write_bytes(content)
    assert one_line_error(path) == problem


def test_missing_file_and_directory(tmp_path):
    assert one_line_error(tmp_path / "nothing.png") == "no such file"
    assert one_line_error(str(tmp_path) + os.sep) == "is a directory"
    file = save(tmp_path, "a.png", Image.new("L", (1, 1)))
    assert one_line_error(file / "b.png") == os.strerror(errno.ENOTDIR)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="needs POSIX permissions and a non-root user")
def test_unreadable_file(tmp_path):
    path = save(tmp_path, "secret.png", Image.new("RGB", (2, 2)))
    path.chmod(0)
    try:
        assert one_line_error(path) == "permission denied"
    finally:
        path.chmod(0o600)


def test_permission_error_from_the_system(tmp_path, monkeypatch):
    """The same as above where it cannot be arranged for real (running as root)."""
    path = save(tmp_path, "secret.png", Image.new("RGB", (2, 2)))

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(palettelab.core.formats.image_read, "open", refuse, raising=False)
    assert one_line_error(path) == "permission denied"


@pytest.mark.parametrize(("error", "problem"), [
    (MemoryError(), "not enough memory to decode 40×30 pixels"),
    (OSError(errno.EIO, "Input/output error"), "read error (Input/output error)"),
])
def test_failures_while_decoding(tmp_path, monkeypatch, error, problem):
    path = save(tmp_path, "a.png", Image.new("RGB", (40, 30)))

    def fail(self):
        raise error

    monkeypatch.setattr(ImageFile.ImageFile, "load", fail)
    assert one_line_error(path) == problem


def test_every_failure_is_an_input_error(tmp_path):
    """Cut a PNG every 7 bytes, or flip every third byte: nothing but InputError escapes."""
    data = save(tmp_path, "x.png", Image.fromarray(random_rgb(8, 8)),
                icc_profile=swapped_profile(), exif=with_orientation(6)).read_bytes()
    damaged = [data[:n] for n in range(0, len(data), 7)]
    damaged += [data[:n] + bytes([data[n] ^ 0x55]) + data[n + 1:] for n in range(0, len(data), 3)]
    path = tmp_path / "d.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for blob in damaged:
            path.write_bytes(blob)
            try:
                load_image(path)
            except InputError as error:
                assert "\n" not in str(error)


def test_image_extensions_are_read_by_pillow():
    registered = Image.registered_extensions()
    for extension in IMAGE_EXTENSIONS:
        assert extension == extension.lower() and extension.startswith(".")
        assert registered.get(extension) in Image.OPEN, extension


@pytest.mark.parametrize("path", [None, 3, ["a.png"]])
def test_a_path_that_is_not_a_path_is_an_input_error(path):
    with pytest.raises(InputError, match=r"^the image path must be a file path"):
        load_image(path)


def test_dev_zero_is_not_an_image(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match=r"zero\.png: "):
        load_image(link)

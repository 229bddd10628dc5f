"""One image, several quantizers, the same figures: what our palette gains over the others.

Methods (:data:`METHODS`):

* ``palettelab-oklab`` and ``palettelab-rgb``: our
  :func:`~palettelab.core.quantization.pipeline.quantize` (OKLab, the default, minimises
  perceived error; RGB maximises PSNR);
* ``median-cut``, ``fast-octree`` and ``max-coverage``: Pillow's ``Image.quantize``;
* ``libimagequant`` (the ``imagequant`` package) and ``pngquant`` (the program), only when
  they are installed.  Both are GPL: PaletteLab never bundles or requires them.

Every method gets the same image and k, no dithering.  Figures (:class:`MethodResult`): PSNR
and mean OKLab error over the visible pixels (:mod:`~palettelab.core.quantization.quality`),
the colours the result really uses, and the seconds the method took.  Ours is timed on a
second, identical call, so that loading its compiled kernels (0.3 s once per process) is not
counted; pngquant's time is its whole process, PNG files in and out, as a pipeline runs it.
Methods without an alpha channel (median cut, maximum coverage) quantize the colour channels
and keep the original alpha.

:func:`error_map` gives the per-pixel OKLab distance of a result, and :func:`heatmap` colours
it on one fixed scale, so that heat maps of different methods can be compared by eye.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from palettelab.core.color.codes import color_codes

#: every method, in the order results are listed
METHODS = ("palettelab-oklab", "palettelab-rgb", "median-cut", "fast-octree", "max-coverage",
           "libimagequant", "pngquant")
#: OKLab distance shown at full heat: four just-noticeable differences (0.02 each)
HEAT_SCALE = 0.08
#: rows per piece of :func:`error_map`: the OKLab copies stay small for any image size
_MAP_ROWS = 256


@dataclass(frozen=True)
class MethodResult:
    """One method's result on the image."""

    name: str
    image: np.ndarray  # (H, W, 3|4) uint8, same channels as the original
    psnr: float  # dB over the visible pixels
    oklab_error: float  # mean OKLab distance over the visible pixels
    palette: np.ndarray  # (n, 3) uint8: the result's distinct visible colours, most used first
    seconds: float

    @property
    def colours(self) -> int:
        """Distinct visible colours of the result."""
        return len(self.palette)

    def summary(self) -> dict:
        """The figures, as ``palettelab compare --json`` prints them (strict JSON: the PSNR
        of a result identical to the original, infinite, is None)."""
        return {"name": self.name,
                "psnr": round(self.psnr, 3) if np.isfinite(self.psnr) else None,
                "oklab_error": round(self.oklab_error, 5), "colours": self.colours,
                "seconds": round(self.seconds, 3)}


def available_methods() -> list[str]:
    """The methods that can run here (the GPL ones only when installed)."""
    present = {"libimagequant": importlib.util.find_spec("imagequant") is not None,
               "pngquant": shutil.which("pngquant") is not None}
    return [name for name in METHODS if present.get(name, True)]


def compare(image: np.ndarray, n_colors: int, methods: list[str] | None = None,
            random_state: int = 0) -> list[MethodResult]:
    """Quantize ``image`` ((H, W, 3|4) uint8) to ``n_colors`` colours with each of
    ``methods`` (default: :func:`available_methods`)."""
    from palettelab.core.checks import check_int
    from palettelab.core.errors import InputError

    k = check_int(n_colors, "n_colors", low=2, high=256)
    chosen = available_methods() if methods is None else list(methods)
    unknown = [name for name in chosen if name not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    missing = [name for name in chosen if name not in available_methods()]
    if missing:
        raise InputError(f"{', '.join(missing)} not installed here")
    image = np.ascontiguousarray(image)
    return [run_method(name, image, k, random_state) for name in chosen]


def run_method(name: str, image: np.ndarray, k: int, random_state: int = 0) -> MethodResult:
    """One method on ``image``; see the module docstring."""
    from palettelab.core.quantization.quality import mean_oklab_error, psnr

    run = _RUNNERS[name]
    if name.startswith("palettelab"):
        run(image, k, random_state)  # loads the kernels; the timed call below is the same
    start = time.perf_counter()
    rgb = run(image, k, random_state)
    seconds = time.perf_counter() - start
    result = _with_alpha(rgb, image)
    return MethodResult(name, result, psnr(image, result), mean_oklab_error(image, result),
                        used_colours(result), seconds)


def error_map(original: np.ndarray, result: np.ndarray) -> np.ndarray:
    """Per-pixel OKLab distance (H, W) float32 between ``original`` and ``result`` as they are
    seen: with alpha, composited over black and over white and the two distances averaged, as
    :func:`~palettelab.core.quantization.quality.mean_oklab_error` counts them (a fully
    transparent pixel has no error)."""
    from palettelab.core.color.spaces import from_srgb

    h, w = original.shape[:2]
    out = np.empty((h, w), dtype=np.float32)
    for top in range(0, h, _MAP_ROWS):
        a = original[top:top + _MAP_ROWS]
        b = result[top:top + _MAP_ROWS]
        alpha_a = a[..., 3:] / 255.0 if a.shape[2] == 4 else np.ones((*a.shape[:2], 1))
        alpha_b = b[..., 3:] / 255.0 if b.shape[2] == 4 else alpha_a
        distance = np.zeros(a.shape[:2])
        backgrounds = (0.0, 255.0) if a.shape[2] == 4 or b.shape[2] == 4 else (0.0,)
        for background in backgrounds:
            seen = [np.rint(image[..., :3] * alpha + background * (1.0 - alpha))
                    .astype(np.uint8).reshape(-1, 3) for image, alpha in ((a, alpha_a),
                                                                         (b, alpha_b))]
            u, v = from_srgb(seen[0], "oklab"), from_srgb(seen[1], "oklab")
            distance += np.sqrt(((u - v) ** 2).sum(axis=1)).reshape(a.shape[:2])
        out[top:top + a.shape[0]] = distance / len(backgrounds)
    return out


def heatmap(errors: np.ndarray, scale: float = HEAT_SCALE) -> np.ndarray:
    """Colour an :func:`error_map` (H, W) as (H, W, 3) uint8: black (no error) through purple
    and orange to pale yellow at ``scale`` and above."""
    t = np.clip(np.asarray(errors, dtype=np.float32) / scale, 0.0, 1.0)
    stops = np.array([0.0, 0.25, 0.5, 0.75, 1.0], dtype=np.float32)
    ramp = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]],
                    dtype=np.float32)
    channels = [np.interp(t, stops, ramp[:, c]) for c in range(3)]
    return np.rint(np.stack(channels, axis=-1)).astype(np.uint8)


# --- the methods: each returns the recoloured RGB (H, W, 3) uint8 --------------------------------


def _ours(space: str) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def run(image: np.ndarray, k: int, random_state: int) -> np.ndarray:
        from palettelab.core.quantization.pipeline import quantize

        return quantize(image, k, space=space, random_state=random_state).image()[..., :3]

    return run


def _pillow(method_name: str) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def run(image: np.ndarray, k: int, random_state: int) -> np.ndarray:
        from PIL import Image

        method = getattr(Image.Quantize, method_name)
        rgb = Image.fromarray(np.ascontiguousarray(image[..., :3]))
        return np.asarray(rgb.quantize(k, method=method, dither=Image.Dither.NONE).convert("RGB"))

    return run


def _libimagequant(image: np.ndarray, k: int, random_state: int) -> np.ndarray:
    import imagequant
    from PIL import Image

    source = Image.fromarray(image).convert("RGBA")
    out = imagequant.quantize_pil_image(source, dithering_level=0.0, max_colors=k)
    return np.asarray(out.convert("RGB"))


def _pngquant(image: np.ndarray, k: int, random_state: int) -> np.ndarray:
    from PIL import Image

    from palettelab.core.errors import InputError

    with tempfile.TemporaryDirectory(prefix="palettelab-compare-") as tmp:
        source, target = Path(tmp) / "in.png", Path(tmp) / "out.png"
        Image.fromarray(image).save(source, compress_level=1)
        done = subprocess.run(["pngquant", "--speed", "1", "--nofs", "--output", str(target),
                               str(k), str(source)], capture_output=True, text=True)
        if done.returncode != 0:
            raise InputError(f"pngquant failed (exit status {done.returncode}): "
                             f"{done.stderr.strip().splitlines()[-1:] or ''}")
        with Image.open(target) as out:
            return np.asarray(out.convert("RGB"))


_RUNNERS: dict[str, Callable[[np.ndarray, int, int], np.ndarray]] = {
    "palettelab-oklab": _ours("oklab"),
    "palettelab-rgb": _ours("rgb"),
    "median-cut": _pillow("MEDIANCUT"),
    "fast-octree": _pillow("FASTOCTREE"),
    "max-coverage": _pillow("MAXCOVERAGE"),
    "libimagequant": _libimagequant,
    "pngquant": _pngquant,
}


def _with_alpha(rgb: np.ndarray, original: np.ndarray) -> np.ndarray:
    """``rgb`` with the original's alpha channel, if it has one."""
    if original.shape[2] == 3:
        return np.ascontiguousarray(rgb)
    return np.ascontiguousarray(np.dstack([rgb, original[..., 3]]))


def used_colours(image: np.ndarray) -> np.ndarray:
    """The distinct visible colours of a quantized ``image``, most used first: (n, 3) uint8
    (a palette to remap to; ties in use in colour order)."""
    pixels = image.reshape(-1, image.shape[2])
    if image.shape[2] == 4:
        pixels = pixels[pixels[:, 3] > 0]
    codes, counts = np.unique(color_codes(pixels[:, :3]), return_counts=True)
    codes = codes[np.argsort(-counts, kind="stable")]
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(
        np.uint8)


#: the widest a picture gets on a contact sheet, in pixels
SHEET_WIDTH = 480
_GAP = 12
_CAPTION = 22
#: the side of a transparency checkerboard square, in pixels
CHECKER = 8


def contact_sheet(original: np.ndarray, results: list[MethodResult]) -> np.ndarray:
    """The original, then one row per method: its result beside its :func:`heatmap`, each
    captioned with the method's figures; (H, W, 3) uint8.  Transparent areas are drawn over
    a checkerboard, as the window shows them."""
    from PIL import Image, ImageDraw

    h, w = original.shape[:2]
    scale = min(1.0, SHEET_WIDTH / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    row_height = _CAPTION + size[1] + _GAP
    sheet = Image.new("RGB", (2 * size[0] + 3 * _GAP, _GAP + row_height * (len(results) + 1)),
                      (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    font = _font()
    top = _GAP

    def place(pixels: np.ndarray, left: int, caption: str) -> None:
        draw.text((left, top + 3), caption, fill=(20, 20, 20), font=font)
        sheet.paste(_thumbnail(pixels, size), (left, top + _CAPTION))

    place(original, _GAP, f"original, {w} x {h}")
    place(_legend(size), 2 * _GAP + size[0], f"OKLab error, 0 to {HEAT_SCALE} and above")
    for result in results:
        top += row_height
        place(result.image, _GAP, f"{result.name}: PSNR {result.psnr:.2f} dB, error "
                                  f"{result.oklab_error:.4f}, {result.colours} colours, "
                                  f"{result.seconds:.2f} s")
        # no caption of its own: the method's long one runs on above it
        place(heatmap(error_map(original, result.image)), 2 * _GAP + size[0], "")
    return np.asarray(sheet)


def _font():
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=13)
    except (TypeError, OSError):  # Pillow built without FreeType: the bitmap font
        return ImageFont.load_default()


def _thumbnail(pixels: np.ndarray, size: tuple[int, int]):
    """``pixels`` resized to ``size`` (area average), RGBA over a checkerboard."""
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(pixels)).resize(size, Image.Resampling.BOX)
    return Image.fromarray(over_checkerboard(np.asarray(picture)))


def over_checkerboard(pixels: np.ndarray) -> np.ndarray:
    """(h, w, 3|4) uint8 as (h, w, 3) uint8: transparency shown over a grey checkerboard of
    :data:`CHECKER` px squares (the contact sheet and the window's compare view)."""
    if pixels.shape[2] == 3:
        return np.ascontiguousarray(pixels)
    y, x = np.indices(pixels.shape[:2])
    board = np.where(((y // CHECKER + x // CHECKER) % 2 == 0)[..., None], 235.0, 200.0)
    alpha = pixels[..., 3:4] / 255.0
    return np.rint(pixels[..., :3] * alpha + board * (1 - alpha)).astype(np.uint8)


def _legend(size: tuple[int, int]) -> np.ndarray:
    """The heat scale as a horizontal ramp, 0 at the left."""
    ramp = np.linspace(0.0, HEAT_SCALE, size[0], dtype=np.float32)
    return heatmap(np.broadcast_to(ramp, (size[1], size[0])))

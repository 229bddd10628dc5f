"""quantize() and remap(): palette size, locked colours, alpha, dithering, determinism, and the
clustering checked against independent references (numpy brute force and scikit-learn)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import palettelab.core.quantization.pipeline as Q
from palettelab.core.clustering.kmeans import assign
from palettelab.core.color.spaces import from_srgb
from palettelab.core.errors import InputError
from palettelab.core.quantization.pipeline import Progress, quantize, remap
from palettelab.core.quantization.quality import mean_oklab_error, psnr

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """china.jpg at 1/4 size: a real photo with tens of thousands of colours, quick to run."""
    im = Image.open(ROOT / "resources" / "china.jpg").convert("RGB")
    return np.asarray(im.resize((160, 107), Image.LANCZOS))


@pytest.fixture(scope="module")
def big_photo() -> np.ndarray:
    """china.jpg itself: more distinct colours than the exact limit, so the binned path runs."""
    return np.asarray(Image.open(ROOT / "resources" / "china.jpg").convert("RGB"))


def distinct(pixels: np.ndarray) -> int:
    return len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0))


def brute_nearest(pixels: np.ndarray, palette: np.ndarray, space: str) -> np.ndarray:
    """Nearest palette entry of every pixel, by numpy over all pairs (first index on ties)."""
    a = from_srgb(pixels.reshape(-1, 3), space)
    b = from_srgb(palette, space)
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1).reshape(pixels.shape[:2])


# --- the palette -------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 16, 64])
@pytest.mark.parametrize("space", ["oklab", "lab", "rgb"])
def test_exactly_k_different_used_colours(photo, k, space):
    q = quantize(photo, k, space=space)
    assert q.palette.shape == (k, 3) and q.palette.dtype == np.uint8
    assert distinct(q.palette) == k
    assert (q.counts > 0).all()
    assert q.counts.sum() == photo.shape[0] * photo.shape[1]
    np.testing.assert_array_equal(q.counts, np.bincount(q.indices.ravel(), minlength=k))
    assert (np.diff(q.counts) <= 0).all(), "palette must be sorted by pixel share"


def test_256_colours_on_the_binned_path(big_photo):
    q = quantize(big_photo, 256, n_init=1)
    assert distinct(q.palette) == 256 and (q.counts > 0).all()


def test_every_pixel_gets_its_nearest_palette_entry(photo):
    for space in ("oklab", "rgb"):
        q = quantize(photo, 12, space=space)
        np.testing.assert_array_equal(q.indices, brute_nearest(photo, q.palette, space))


def test_result_is_a_converged_kmeans_solution(big_photo):
    """In rgb, each entry is the mean of the pixels mapped to it, up to rounding to uint8."""
    q = quantize(big_photo, 16, space="rgb")
    pix = big_photo.reshape(-1, 3).astype(np.float64)
    labels = q.indices.ravel()
    for j in range(16):
        mean = pix[labels == j].mean(axis=0)
        assert np.abs(mean - q.palette[j]).max() <= 1.0, (j, mean, q.palette[j])


def test_quality_at_least_scikit_learn(photo):
    """PSNR in rgb mode against scikit-learn's KMeans(n_init=1) on every pixel."""
    sklearn = pytest.importorskip("sklearn.cluster")
    pix = photo.reshape(-1, 3).astype(np.float64)
    theirs = []
    for seed in range(3):
        km = sklearn.KMeans(16, n_init=1, random_state=seed).fit(pix)
        pal = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
        theirs.append(psnr(photo, pal[km.labels_].reshape(photo.shape)))
    ours = psnr(photo, quantize(photo, 16, space="rgb").image())
    assert ours >= np.mean(theirs) - 0.02, (ours, theirs)


def test_few_colours_are_kept_exactly():
    rng = np.random.default_rng(3)
    colours = rng.integers(0, 256, size=(7, 3), dtype=np.uint8)
    img = colours[rng.integers(0, 7, size=(30, 40))]
    for k in (7, 16):
        q = quantize(img, k)
        assert q.palette.shape == (7, 3)
        np.testing.assert_array_equal(q.image(), img)


def test_same_seed_same_result_and_seeds_matter(photo):
    a, b = quantize(photo, 16, random_state=5), quantize(photo, 16, random_state=5)
    np.testing.assert_array_equal(a.palette, b.palette)
    np.testing.assert_array_equal(a.indices, b.indices)
    c = quantize(photo, 16, random_state=6, n_init=1)
    d = quantize(photo, 16, random_state=7, n_init=1)
    assert not np.array_equal(c.palette, d.palette)


def test_same_result_for_any_thread_count(run_with_threads):
    code = ("import hashlib, numpy as np; from PIL import Image; "
            "from palettelab.core.quantization.pipeline import quantize; "
            "img = np.asarray(Image.open('resources/china.jpg').convert('RGB')); "
            "q = quantize(img, 16, dither='fs'); "
            "print(hashlib.sha256(q.palette.tobytes() + q.indices.tobytes()).hexdigest())")
    digests = {run_with_threads(code, threads).strip() for threads in (1, 2)}
    assert len(digests) == 1


# --- locked colours --------------------------------------------------------------------------


def test_locked_colours_are_in_the_palette_unchanged(photo):
    locked = ["#ff0000", "#0a0b0c", (0, 200, 255)]
    q = quantize(photo, 8, locked=locked)
    rows = {tuple(c) for c in q.palette.tolist()}
    assert {(255, 0, 0), (10, 11, 12), (0, 200, 255)} <= rows
    assert distinct(q.palette) == 8


def test_locked_colours_survive_another_k(photo):
    first = quantize(photo, 16)
    keep = [tuple(first.palette[3].tolist())]
    for k in (4, 9):
        q = quantize(photo, k, locked=keep)
        assert keep[0] in {tuple(c) for c in q.palette.tolist()}


def test_free_colours_adapt_around_locked_ones(photo):
    """Locking black should not leave a second near-black entry: the others move away."""
    q = quantize(photo, 6, locked=["#000000"], space="rgb")
    others = q.palette[(q.palette != 0).any(axis=1)].astype(int)
    assert np.sqrt((others ** 2).sum(axis=1)).min() > 20


def test_all_colours_locked(photo):
    pal = ["#000000", "#ffffff", "#808080"]
    q = quantize(photo, 3, locked=pal)
    assert {tuple(c) for c in q.palette.tolist()} == {(0, 0, 0), (255, 255, 255),
                                                      (128, 128, 128)}


def test_locked_colours_as_comma_string(photo):
    q = quantize(photo, 4, locked="#123456, #abcdef")
    assert {(0x12, 0x34, 0x56), (0xAB, 0xCD, 0xEF)} <= {tuple(c) for c in q.palette.tolist()}


def test_numpy_integers_and_rows_are_accepted(photo):
    locked = np.array([[0x12, 0x34, 0x56]], dtype=np.uint8)
    q = quantize(photo, np.int64(4), locked=locked, n_init=np.int32(1))
    assert q.palette.shape == (4, 3) and (0x12, 0x34, 0x56) in map(tuple, q.palette.tolist())


# --- alpha -------------------------------------------------------------------------------------


def test_transparent_pixels_stay_transparent_and_do_not_count(photo):
    alpha = np.full(photo.shape[:2], 255, np.uint8)
    alpha[:, :40] = 0
    rgba = np.dstack([photo, alpha])
    rgba[:, :40, :3] = [255, 0, 255]  # a colour only the transparent pixels have
    q = quantize(rgba, 8)
    out = q.image()
    assert out.shape == rgba.shape
    np.testing.assert_array_equal(out[..., 3], alpha)
    assert q.counts.sum() == (alpha > 0).sum()
    assert (255, 0, 255) not in {tuple(c) for c in q.palette.tolist()}
    assert distinct(q.palette) == 8
    assert q.palette_alpha is None  # on or off: opaque entries, each pixel's alpha kept
    # soft levels put alpha in the palette (tests/test_alpha.py); clear pixels stay clear
    alpha[:10, 40:] = 128
    soft = quantize(np.dstack([photo, alpha]), 8)
    assert (soft.alpha[alpha == 0] == 0).all() and soft.counts.sum() == (alpha > 0).sum()


def test_fully_transparent_image_is_refused():
    with pytest.raises(InputError, match="transparent"):
        quantize(np.zeros((4, 4, 4), np.uint8), 4)


# --- dithering ---------------------------------------------------------------------------------


def gradient() -> np.ndarray:
    x = np.linspace(0, 255, 96)
    return np.dstack([np.tile(x, (32, 1)), np.tile(x[::-1], (32, 1)),
                      np.full((32, 96), 90.0)]).round().astype(np.uint8)


@pytest.mark.parametrize("dither", ["fs", "bayer"])
def test_dithered_output_uses_only_palette_colours(photo, dither):
    q = quantize(photo, 8, dither=dither)
    assert q.indices.max() < 8
    assert {tuple(c) for c in q.image().reshape(-1, 3).tolist()} <= {
        tuple(c) for c in q.palette.tolist()}
    np.testing.assert_array_equal(q.counts, np.bincount(q.indices.ravel(), minlength=8))


@pytest.mark.parametrize("dither", ["fs", "bayer"])
def test_dithering_keeps_local_averages(dither):
    """Over 8x8 blocks a dithered gradient is closer to the original than a plain remap."""
    img = gradient()
    plain = quantize(img, 4, space="rgb").image().astype(float)
    dith = quantize(img, 4, space="rgb", dither=dither).image().astype(float)

    def block_error(out):
        diff = (out - img).reshape(4, 8, 12, 8, 3).mean(axis=(1, 3))
        return np.abs(diff).mean()

    assert block_error(dith) < 0.6 * block_error(plain)


@pytest.mark.parametrize("dither", ["fs", "bayer"])
def test_zero_strength_is_the_plain_remap(photo, dither):
    plain = quantize(photo, 8)
    zero = quantize(photo, 8, dither=dither, dither_strength=0.0)
    np.testing.assert_array_equal(plain.indices, zero.indices)


def test_ordered_dither_is_stable_and_positional():
    img = gradient()
    a = quantize(img, 4, dither="bayer")
    b = quantize(img, 4, dither="bayer")
    np.testing.assert_array_equal(a.indices, b.indices)
    # a flat area between two palette colours gets a repeating 8x8 pattern
    tile = a.indices[8:16, 40:48]
    np.testing.assert_array_equal(a.indices[16:24, 40:48], tile)


def test_fs_strength_scales_the_effect():
    img = gradient()
    plain = quantize(img, 4, space="rgb").indices
    half = quantize(img, 4, space="rgb", dither="fs", dither_strength=0.5).indices
    full = quantize(img, 4, space="rgb", dither="fs").indices
    assert 0 < (half != plain).sum() < (full != plain).sum()


# --- remap -------------------------------------------------------------------------------------


def test_remap_keeps_palette_order_and_picks_nearest(photo):
    pal = np.array([[250, 250, 250], [10, 10, 10], [200, 30, 30], [30, 30, 200]], np.uint8)
    for space in ("oklab", "lab", "rgb"):
        q = remap(photo, pal, space=space)
        np.testing.assert_array_equal(q.palette, pal)
        np.testing.assert_array_equal(q.indices, brute_nearest(photo, pal, space))


def test_remap_with_dither_uses_only_the_palette(photo):
    pal = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    q = remap(photo, pal, dither="fs")
    assert set(np.unique(q.indices).tolist()) == {0, 1}


# --- the exact bin pass (kernel) ---------------------------------------------------------------


@pytest.mark.parametrize("space", ["oklab", "rgb"])
def test_bin_pruned_pass_equals_brute_force(big_photo, space):
    colours = Q._visible_colours(big_photo, space, None)
    bins = Q._bins(colours)
    rng = np.random.default_rng(0)
    for k in (2, 16, 40):
        C = colours.values[rng.choice(colours.values.shape[0], k, replace=False)]
        labels = np.full(colours.values.shape[0], -1, np.int32)
        sums, wsums, inertia, changed = Q._exact_pass(colours, bins, C, labels)
        ref, sq = assign(colours.values, C)
        np.testing.assert_array_equal(labels, ref)
        assert changed == labels.size
        np.testing.assert_allclose(inertia, (colours.weights * sq).sum(), rtol=1e-9)
        np.testing.assert_allclose(wsums, np.bincount(ref, colours.weights, k))
        ref_sums = np.stack([np.bincount(ref, colours.weights * colours.values[:, t], k)
                             for t in range(3)], axis=1)
        np.testing.assert_allclose(sums, ref_sums, rtol=1e-9, atol=1e-9)


# --- progress ----------------------------------------------------------------------------------


def test_progress_reports_palettes_and_ends_at_one(big_photo):
    seen: list[Progress] = []
    quantize(big_photo, 8, progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    stages = [p.stage for p in seen]
    assert stages[0] == "histogram" and "clustering" in stages and "polishing" in stages
    assert stages[-1] == "remapping"
    assert all(p.palette.shape == (8, 3) for p in seen if p.palette is not None)


def test_an_exception_in_progress_cancels(photo):
    class Stop(Exception):
        pass

    def cancel(p: Progress):
        if p.stage == "clustering":
            raise Stop

    with pytest.raises(Stop):
        quantize(photo, 8, progress=cancel)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("image, match", [
    (np.zeros((4, 4), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((4, 4, 2), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((4, 4, 3), np.float32), "uint8"),
    (np.zeros((0, 4, 3), np.uint8), "empty"),
])
def test_bad_images(image, match):
    with pytest.raises(InputError, match=match):
        quantize(image, 2)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_colors": 0}, "between 1 and 256"),
    ({"n_colors": 257}, "between 1 and 256"),
    ({"n_colors": 2.5}, "integer"),
    ({"n_colors": True}, "integer"),
    ({"space": "hsv"}, "space"),
    ({"dither": "atkinson"}, "dither"),
    ({"dither_strength": 1.5}, "between 0 and 1"),
    ({"dither_strength": "lots"}, "number"),
    ({"locked": ["#12345"]}, "hex"),
    ({"locked": [(1, 2, 300)]}, "colour"),
    ({"n_colors": 2, "locked": ["#000000", "#ffffff", "#ff0000"]}, "do not fit"),
    ({"random_state": -1}, "random_state"),
    ({"n_init": 0}, "n_init"),
])
def test_bad_parameters(photo, kwargs, match):
    args = {"n_colors": 4, **kwargs}
    with pytest.raises(InputError, match=match):
        quantize(photo, **args)


@pytest.mark.parametrize("palette, match", [
    (np.zeros((0, 3), np.uint8), "k >= 1"),
    (np.zeros((3, 4), np.uint8), r"\(k, 3\)"),
    (np.zeros((300, 3), np.uint8), "at most 256"),
    (np.array([[0, 0, 256]]), "0..255"),
    (np.array([[0.5, 0, 0]]), "0..255"),
])
def test_bad_palettes(photo, palette, match):
    with pytest.raises(InputError, match=match):
        remap(photo, palette)


def test_remapper_equals_remap(photo):
    alpha = np.full(photo.shape[:2], 255, np.uint8)
    alpha[:5] = 0
    rgba = np.dstack([photo, alpha])
    previewer = Q.Remapper(rgba, "oklab")
    for k in (3, 16):
        pal = quantize(photo, k).palette
        np.testing.assert_array_equal(previewer.image(pal), remap(rgba, pal).image())


# --- quality and imports -----------------------------------------------------------------------


def test_mean_oklab_error_is_the_mean_oklab_distance(photo):
    other = np.ascontiguousarray(photo[::-1])
    want = np.linalg.norm(from_srgb(photo.reshape(-1, 3), "oklab")
                          - from_srgb(other.reshape(-1, 3), "oklab"), axis=1).mean()
    assert mean_oklab_error(photo, other) == pytest.approx(want, rel=1e-12)
    assert mean_oklab_error(photo, photo) == 0.0


def test_the_pipeline_does_not_load_palette_files():
    code = ("import sys, palettelab.core.quantization.pipeline; "
            "print('palettelab.core.formats.palettes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


# --- argument checks (issue 14) ------------------------------------------------------------------


def _small_image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)


def test_locked_none_means_no_locked_colours():
    img = _small_image()
    np.testing.assert_array_equal(quantize(img, 4, locked=None).palette,
                                  quantize(img, 4).palette)
    with pytest.raises(InputError, match=r"locked must be colours .* got 5"):
        quantize(img, 4, locked=5)


@pytest.mark.parametrize("seed", [-1, 2**32, "a", 0.5])
def test_bad_random_state_is_an_input_error(seed):
    with pytest.raises(InputError, match="random_state must be None, an integer from 0"):
        quantize(_small_image(), 4, random_state=seed)


def test_random_state_generator_and_int_seeds():
    """An integer seed keeps the streams quantize drew before it took Generators."""
    img = _small_image()
    by_int = quantize(img, 6, random_state=3).palette
    np.testing.assert_array_equal(quantize(img, 6, random_state=np.random.default_rng(3)).palette,
                                  by_int)
    seeds = np.random.SeedSequence(3).spawn(Q.DEFAULT_STARTS)
    drawn = np.random.default_rng(3).spawn(Q.DEFAULT_STARTS)
    assert [np.random.default_rng(s).random() for s in seeds] == [g.random() for g in drawn]
    assert quantize(img, 6, random_state=np.random.RandomState(1)).palette.shape == (6, 3)

"""The weighted colour histogram against a plain numpy computation."""

import numpy as np
import pytest

from palettelab.core.errors import InputError
from palettelab.core.quantization.histogram import color_histogram


def reference(pix: np.ndarray, bits: int):
    """Bins by numpy: keys, counts and exact means, in key order."""
    q = (pix >> (8 - bits)).astype(np.int64)
    keys = (q[:, 0] << (2 * bits)) | (q[:, 1] << bits) | q[:, 2]
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.zeros((uniq.size, 3))
    np.add.at(sums, inverse, pix.astype(np.float64))
    return counts, sums / counts[:, None]


@pytest.mark.parametrize("bits", [3, 5, 6])
def test_bins_match_numpy(bits):
    pix = np.random.default_rng(bits).integers(0, 256, size=(100_000, 3), dtype=np.uint8)
    h = color_histogram(pix, bits)
    counts, means = reference(pix, bits)
    np.testing.assert_array_equal(h.counts, counts)
    np.testing.assert_allclose(h.colors, means, rtol=1e-12)
    assert h.n_pixels == pix.shape[0]
    assert not h.exact


def test_few_colours_are_exact():
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, size=(12, 3), dtype=np.uint8)
    pix = palette[rng.integers(0, 12, size=50_000)]
    h = color_histogram(pix)
    assert h.exact
    got = dict(zip(map(tuple, h.colors.astype(int).tolist()), h.counts.tolist(), strict=True))
    uniq, counts = np.unique(pix, axis=0, return_counts=True)
    assert got == dict(zip(map(tuple, uniq.tolist()), counts.tolist(), strict=True))


def test_two_colours_in_one_bin_are_not_exact():
    pix = np.array([[10, 10, 10], [11, 10, 10]] * 10, dtype=np.uint8)
    h = color_histogram(pix)
    assert not h.exact
    np.testing.assert_allclose(h.colors, [[10.5, 10, 10]])


def test_same_bin_in_different_groups_is_not_exact():
    # the first colour of a bin differs between row groups: still detected as mixed
    pix = np.array([[10, 10, 10]] * 8 + [[11, 10, 10]] * 8, dtype=np.uint8)
    assert not color_histogram(pix).exact


def test_same_result_for_any_thread_count(run_with_threads):
    code = ("import hashlib, numpy as np; "
            "from palettelab.core.quantization.histogram import color_histogram; "
            "p = np.random.default_rng(5).integers(0, 256, (200_000, 3), dtype=np.uint8); "
            "h = color_histogram(p); "
            "print(hashlib.sha256(h.colors.tobytes() + h.counts.tobytes()).hexdigest())")
    outs = {run_with_threads(code, threads).strip() for threads in (1, 2)}
    assert len(outs) == 1


@pytest.mark.parametrize("bad, match", [
    (np.zeros((5, 4), np.uint8), r"\(n, 3\) uint8"),
    (np.zeros((5, 3), np.float64), r"\(n, 3\) uint8"),
    (np.zeros((0, 3), np.uint8), "no pixels"),
])
def test_bad_input(bad, match):
    with pytest.raises(InputError, match=match):
        color_histogram(bad)


def test_bad_bits():
    with pytest.raises(InputError, match="bits"):
        color_histogram(np.zeros((5, 3), np.uint8), bits=9)

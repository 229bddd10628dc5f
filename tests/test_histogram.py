"""The weighted colour histogram (distinct colours, then bins with exact means) against a plain
numpy computation."""

import numpy as np
import pytest

from palettelab.core.color.codes import color_codes
from palettelab.core.errors import InputError
from palettelab.core.quantization.histogram import bin_rows, distinct_colors, group_means


def reference(pix: np.ndarray, bits: int):
    """Bins by numpy: keys, counts and exact means, in key order."""
    q = (pix >> (8 - bits)).astype(np.int64)
    keys = (q[:, 0] << (2 * bits)) | (q[:, 1] << bits) | q[:, 2]
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.zeros((uniq.size, 3))
    np.add.at(sums, inverse, pix.astype(np.float64))
    return counts, sums / counts[:, None]


def bins(pix: np.ndarray, bits: int):
    """What the quantizer does: the distinct colours, then their bins' pixel counts and exact
    mean colours (bins in key order)."""
    distinct = distinct_colors(pix)
    rows, keys = bin_rows(distinct.colors, bits)
    means, counts = group_means(rows, distinct.colors, distinct.counts, keys.size)
    return counts, means


@pytest.mark.parametrize("bits", [3, 5, 6])
def test_bins_match_numpy(bits):
    pix = np.random.default_rng(bits).integers(0, 256, size=(100_000, 3), dtype=np.uint8)
    counts, means = bins(pix, bits)
    want_counts, want_means = reference(pix, bits)
    np.testing.assert_array_equal(counts, want_counts)
    np.testing.assert_allclose(means, want_means, rtol=1e-12)


def test_distinct_colours_match_numpy():
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, size=(12, 3), dtype=np.uint8)
    pix = palette[rng.integers(0, 12, size=50_000)]
    distinct = distinct_colors(pix)
    uniq, counts = np.unique(pix, axis=0, return_counts=True)  # rows in colour-code order
    np.testing.assert_array_equal(distinct.colors, uniq)
    np.testing.assert_array_equal(distinct.counts, counts)
    np.testing.assert_array_equal(distinct.table[color_codes(uniq)], np.arange(len(uniq)))


def test_two_colours_in_one_bin_average_exactly():
    pix = np.array([[10, 10, 10], [11, 10, 10]] * 10, dtype=np.uint8)
    counts, means = bins(pix, 6)
    np.testing.assert_array_equal(counts, [20])
    np.testing.assert_allclose(means, [[10.5, 10, 10]])


def test_same_result_for_any_thread_count(run_with_threads):
    code = ("import hashlib, numpy as np; "
            "from palettelab.core.quantization.histogram import distinct_colors; "
            "p = np.random.default_rng(5).integers(0, 256, (200_000, 3), dtype=np.uint8); "
            "d = distinct_colors(p); "
            "print(hashlib.sha256(d.colors.tobytes() + d.counts.tobytes()).hexdigest())")
    outs = {run_with_threads(code, threads).strip() for threads in (1, 2)}
    assert len(outs) == 1


@pytest.mark.parametrize("bad, match", [
    (np.zeros((5, 4), np.uint8), r"\(n, 3\) uint8"),
    (np.zeros((5, 3), np.float64), r"\(n, 3\) uint8"),
    (np.zeros((0, 3), np.uint8), "no pixels"),
])
def test_bad_input(bad, match):
    with pytest.raises(InputError, match=match):
        distinct_colors(bad)


def test_bad_bits():
    with pytest.raises(InputError, match="bits"):
        bin_rows(np.zeros((5, 3), np.uint8), bits=9)

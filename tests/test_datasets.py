"""Sample data sets: shapes, labels, determinism, and that each shape is the one it is named for."""


import numpy as np
import pytest

import palettelab.core.datasets
import palettelab.core.resources
from palettelab.core.datasets import DATASETS, MIN_CENTRE_DISTANCE, make_dataset
from palettelab.core.errors import InputError

SIZES = {"blobs": 300, "moons": 200, "circles": 200, "anisotropic": 300, "varied": 300,
         "uniform": 300, "iris": 150, "digits": 1797}
GENERATED = [name for name in DATASETS if name not in ("iris", "digits")]


@pytest.mark.parametrize("name", DATASETS)
def test_every_set_is_a_valid_point_set(name):
    points = make_dataset(name)
    assert points.path == f"dataset:{name}"
    assert points.X.shape[0] == SIZES[name] == len(points)
    assert points.X.dtype == np.float64 and points.X.flags.c_contiguous
    assert not points.X.flags.writeable
    assert np.isfinite(points.X).all()
    assert len(points.columns) == points.X.shape[1]
    if name == "uniform":
        assert points.labels is None and points.label_names == ()
    else:
        assert points.labels.dtype == np.int64
        assert set(np.unique(points.labels)) == set(range(len(points.label_names)))


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_are_deterministic(name):
    first, again = make_dataset(name, random_state=3), make_dataset(name, random_state=3)
    np.testing.assert_array_equal(first.X, again.X)
    if first.labels is not None:
        np.testing.assert_array_equal(first.labels, again.labels)
    assert not np.array_equal(first.X, make_dataset(name, random_state=4).X)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_are_two_dimensional_and_shuffled(name):
    points = make_dataset(name)
    assert points.columns == ("x0", "x1")
    if points.labels is not None:
        half = len(points) // 2
        assert len(np.unique(points.labels[:half])) > 1  # the groups are not in blocks


@pytest.mark.parametrize(("name", "n", "sizes"), [
    ("blobs", 10, [3, 3, 2, 2]),
    ("varied", 7, [3, 2, 2]),
    ("moons", 5, [3, 2]),
    ("circles", 1, [1]),
])
def test_n_samples_is_split_evenly(name, n, sizes):
    points = make_dataset(name, n_samples=n)
    assert len(points) == n
    np.testing.assert_array_equal(np.bincount(points.labels), sizes)


@pytest.mark.parametrize("seed", range(6))
def test_blobs_are_well_separated_for_any_seed(seed):
    points = make_dataset("blobs", random_state=seed)
    means = np.array([points.X[points.labels == k].mean(axis=0) for k in range(4)])
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)[np.triu_indices(4, 1)]
    assert gaps.min() > MIN_CENTRE_DISTANCE - 0.5
    nearest = np.argmin(np.linalg.norm(points.X[:, None] - means[None], axis=-1), axis=1)
    np.testing.assert_array_equal(nearest, points.labels)
    assert points.label_names == ("0", "1", "2", "3")


def test_varied_blobs_have_their_spreads():
    points = make_dataset("varied", n_samples=6000)
    stds = [points.X[points.labels == k].std(axis=0).mean() for k in range(3)]
    np.testing.assert_allclose(stds, [1.0, 2.5, 0.5], rtol=0.1)


def test_anisotropic_blobs_are_elongated():
    points = make_dataset("anisotropic")
    for k in range(3):
        spread = np.linalg.eigvalsh(np.cov(points.X[points.labels == k].T))
        assert spread[1] > 10 * spread[0]


def test_moons_are_two_interleaving_half_circles():
    points = make_dataset("moons")
    upper, lower = points.X[points.labels == 0], points.X[points.labels == 1]
    assert len(upper) == len(lower) == 100
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1, atol=0.25)
    np.testing.assert_allclose(np.linalg.norm(lower - [1, 0.5], axis=1), 1, atol=0.25)
    assert upper[:, 1].min() > -0.25 and lower[:, 1].max() < 0.75
    assert upper[:, 1].mean() > lower[:, 1].mean() + 0.5
    assert np.ptp(upper[:, 0]) > 1.8 and np.ptp(lower[:, 0]) > 1.8


def test_circles_have_radii_one_and_a_half():
    points = make_dataset("circles")
    radii = np.linalg.norm(points.X, axis=1)
    np.testing.assert_allclose(radii[points.labels == 0], 1.0, atol=0.25)
    np.testing.assert_allclose(radii[points.labels == 1], 0.5, atol=0.25)


def test_uniform_fills_the_unit_square():
    X = make_dataset("uniform").X
    assert X.min() >= 0 and X.max() <= 1
    assert (X.min(axis=0) < 0.05).all() and (X.max(axis=0) > 0.95).all()


def test_iris():
    points = make_dataset("iris")
    assert points.X.shape == (150, 4)
    assert points.columns == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert points.label_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(np.bincount(points.labels), [50, 50, 50])
    np.testing.assert_array_equal(points.X[0], [5.1, 3.5, 1.4, 0.2])
    np.testing.assert_array_equal(points.X, make_dataset("iris", random_state=9).X)


def test_digits():
    points = make_dataset("digits")
    assert points.X.shape == (1797, 64)
    assert points.columns[0] == "pixel_0_0" and points.columns[-1] == "pixel_7_7"
    assert points.label_names == tuple(str(d) for d in range(10))
    assert (np.bincount(points.labels) > 170).all()
    assert points.X.min() == 0 and points.X.max() == 16
    np.testing.assert_array_equal(points.X, np.round(points.X))


def test_subset_of_a_bundled_set():
    whole = make_dataset("iris")
    part = make_dataset("iris", n_samples=30, random_state=1)
    assert part.X.shape == (30, 4) and part.label_names == whole.label_names
    rows = [int(np.flatnonzero((whole.X == row).all(axis=1))[0]) for row in part.X]
    assert rows == sorted(rows)  # kept in file order
    np.testing.assert_array_equal(part.labels, whole.labels[rows])
    assert not np.array_equal(part.X, make_dataset("iris", n_samples=30, random_state=2).X)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "spirals"}, "unknown data set 'spirals'; expected one of blobs, moons"),
    ({"name": "blobs", "n_samples": 0}, "n_samples must be an integer between 1 and"),
    ({"name": "blobs", "n_samples": True}, "n_samples must be an integer"),
    ({"name": "blobs", "n_samples": 2.0}, "n_samples must be an integer"),
    ({"name": "digits", "n_samples": 1798},
     "n_samples=1798 is more than the 1797 points of the digits data set"),
    ({"name": "moons", "random_state": -1}, "random_state must be a non-negative integer"),
    ({"name": "moons", "random_state": None}, "random_state must be a non-negative integer"),
])
def test_bad_arguments(kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(InputError, match=match):
        make_dataset(name, **kwargs)


@pytest.mark.parametrize("name", ["blobs", "iris"])
def test_numpy_integers_are_accepted(name):
    """Sizes and seeds often come out of numpy (``arr.size``, ``rng.integers``)."""
    got = make_dataset(name, n_samples=np.int64(40), random_state=np.uint32(3))
    want = make_dataset(name, n_samples=40, random_state=3)
    np.testing.assert_array_equal(got.X, want.X)


def test_damaged_bundled_data_is_reported(tmp_path, monkeypatch):
    (tmp_path / "iris.csv").write_text("3,2,a,b\n1,2,0\n3,4,1\n")
    monkeypatch.setattr(palettelab.core.datasets, "resource_path", lambda name: tmp_path / name)
    with pytest.raises(InputError, match=r"iris\.csv: damaged bundled data \(2×3 values, "
                                         r"expected 3×3\); reinstall PaletteLab$"):
        make_dataset("iris")


def test_missing_resources_are_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.resources, "files", lambda package: tmp_path)
    with pytest.raises(InputError, match=r"bundled data file 'digits\.csv\.gz' not found "
                                         r"\(looked in: .*\); reinstall PaletteLab$"):
        make_dataset("digits")


def test_generated_sets_take_noise_and_spread():
    calm, noisy = make_dataset("moons", noise=0.0), make_dataset("moons", noise=0.3)
    radius = np.abs(np.hypot(calm.X[:, 0], calm.X[:, 1]) - 1.0)
    assert radius[calm.labels == 0].max() < 1e-9  # on the arc exactly without noise
    assert not np.array_equal(calm.X, noisy.X)
    tight, loose = make_dataset("blobs", spread=0.5), make_dataset("blobs", spread=2.0)
    within = [np.mean([p.X[p.labels == c].std(axis=0).mean() for c in range(4)])
              for p in (tight, loose)]
    assert within[1] == pytest.approx(4 * within[0], rel=0.05)
    with pytest.raises(InputError, match="noise"):
        make_dataset("moons", noise=-1)

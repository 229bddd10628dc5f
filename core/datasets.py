"""Sample point sets for the Points workspace: seeded toy shapes and two real data sets.

The toy shapes are the classic ones for showing what k-means does well and badly: round blobs
(easy), two moons and two circles (non-convex: k-means fails, spectral clustering works),
stretched blobs (anisotropic) and blobs of very different spreads (varied), and uniform noise (no
clusters at all).  They follow scikit-learn's generators in spirit (same shapes, defaults and
label meaning) but are our own code on :class:`numpy.random.Generator`, so they need no
scikit-learn and their numbers differ from it.  Iris and digits are read from the bundled files
in ``resources/`` (scikit-learn's copies of the UCI data sets).

Decisions:

* **Determinism.**  Every set is a pure function of ``(name, n_samples, random_state)``: one
  ``numpy.random.default_rng(random_state)`` drives everything, and the points are shuffled with
  it (as scikit-learn does), so that no group sits at the start of the array.
* **Well separated blobs.**  Blob centres are drawn uniformly in the box (-10, 10)² like
  scikit-learn's, but a draw is repeated until every two centres are at least
  :data:`MIN_CENTRE_DISTANCE` apart, so "blobs" is an easy problem for every seed, not only the
  default one.  "varied" keeps the same rule; its wide blob (std 2.5) overlapping a neighbour is
  the point of that set.
* **Labels** are the generating group (blob index; outer/upper shape 0 and inner/lower 1 for
  circles and moons), named by their code as text ("0", "1", ...); "uniform" has none.
  Coordinates are named ``x0``, ``x1``, as a headerless point file's columns are.
* **Sizes.**  ``n_samples`` (default per set) is split as evenly as possible between the groups,
  the first groups taking one more.  For iris and digits it takes a random subset of that size
  (by ``random_state``, kept in file order); None gives the whole set.
* **Bundled files** come from :func:`palettelab.core.resources.resource_path`.
* **Path.**  ``PointSet.path`` is ``"dataset:<name>"``, which the GUI can show as a title.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from palettelab.core.checks import check_int
from palettelab.core.errors import InputError
from palettelab.core.formats.points import DEFAULT_MAX_POINTS, PointSet, make_point_set
from palettelab.core.resources import resource_path

DATASETS = ("blobs", "moons", "circles", "anisotropic", "varied", "uniform", "iris", "digits")

#: least distance between two blob centres, in the units of the (-10, 10) box
MIN_CENTRE_DISTANCE = 5.0

_CENTRE_BOX = (-10.0, 10.0)
DEFAULT_SIZES = {"blobs": 300, "moons": 200, "circles": 200, "anisotropic": 300,
                  "varied": 300, "uniform": 300}
_NOISE = 0.05  # moons and circles
_CIRCLES_FACTOR = 0.5  # inner radius over outer
_BLOB_STDS = (0.6, 0.6, 0.6, 0.6)
_ANISOTROPIC_STDS = (1.0, 1.0, 1.0)
_ANISOTROPIC_MAP = np.array([[0.6, -0.6], [-0.4, 0.8]])  # scikit-learn's example's shear
_VARIED_STDS = (1.0, 2.5, 0.5)
_XY = ("x0", "x1")

_IRIS_COLUMNS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
_DIGITS_SIDE = 8

Generated = tuple[np.ndarray, np.ndarray | None, int]  # points, labels, number of groups


def make_dataset(name: str, *, n_samples: int | None = None, random_state: int = 0,
                 noise: float | None = None, spread: float = 1.0) -> PointSet:
    """The sample set ``name`` (one of :data:`DATASETS`), the same for the same arguments.

    ``n_samples`` None gives the set's usual size; ``random_state`` is a non-negative integer.
    The generated sets take settings, as a teaching canvas offers them: ``noise``, the
    standard deviation of the jitter of moons and circles (None: 0.05), and ``spread``, a
    factor on the blobs' standard deviations (blobs, anisotropic, varied; 1 as usual).
    Raises :class:`InputError` for an unknown name or an unusable size, seed or setting.
    """
    if name not in DATASETS:
        raise InputError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}")
    random_state = check_int(random_state, "random_state", low=0)
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=1, high=DEFAULT_MAX_POINTS)
    noise = _NOISE if noise is None else _check_setting(noise, "noise", 1.0)
    spread = _check_setting(spread, "spread", 10.0)
    rng = np.random.default_rng(random_state)
    if name in ("iris", "digits"):
        return _bundled(name, n_samples, rng)
    n = DEFAULT_SIZES[name] if n_samples is None else n_samples
    X, labels, groups = _GENERATORS[name](n, rng, noise, spread)
    label_names = tuple(str(code) for code in range(groups)) if labels is not None else ()
    return make_point_set(X, _XY, labels, label_names, f"dataset:{name}")


def _check_setting(value, name: str, high: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not 0.0 <= value <= high:
        raise InputError(f"{name} must be between 0 and {high:g}, got {value:g}")
    return value


# generated sets


def _blobs(n: int, rng: np.random.Generator, stds: tuple[float, ...]) -> Generated:
    """Gaussian blobs around separated centres, one per entry of ``stds``."""
    k = len(stds)
    centres = _separated_centres(k, rng)
    labels = _group_labels(n, k)
    X = centres[labels] + rng.standard_normal((n, 2)) * np.asarray(stds)[labels, None]
    return _shuffled(X, labels, k, rng)


def _separated_centres(k: int, rng: np.random.Generator) -> np.ndarray:
    """k centres uniform in the box, redrawn until no two are closer than the minimum."""
    while True:
        centres = rng.uniform(*_CENTRE_BOX, size=(k, 2))
        gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
        if gaps[np.triu_indices(k, 1)].min(initial=np.inf) >= MIN_CENTRE_DISTANCE:
            return centres


def _group_labels(n: int, k: int) -> np.ndarray:
    """n labels, group by group, the first ``n % k`` groups one point larger."""
    sizes = n // k + (np.arange(k) < n % k)
    return np.repeat(np.arange(k), sizes)


def _shuffled(X: np.ndarray, labels: np.ndarray, k: int,
              rng: np.random.Generator) -> Generated:
    order = rng.permutation(len(X))
    return X[order], labels[order], k


def _moons(n: int, rng: np.random.Generator, noise: float) -> Generated:
    """Two interleaving half circles: the upper one (0) over the lower one (1)."""
    labels = _group_labels(n, 2)
    angles = np.concatenate([np.linspace(0, np.pi, np.count_nonzero(labels == group))
                             for group in (0, 1)])
    upper = np.column_stack([np.cos(angles), np.sin(angles)])
    lower = np.column_stack([1 - np.cos(angles), 0.5 - np.sin(angles)])
    X = np.where((labels == 0)[:, None], upper, lower)
    X += rng.normal(scale=noise, size=X.shape)
    return _shuffled(X, labels, 2, rng)


def _circles(n: int, rng: np.random.Generator, noise: float) -> Generated:
    """Two concentric circles: the outer one (0) of radius 1, the inner one (1) smaller."""
    labels = _group_labels(n, 2)
    angles = np.concatenate([np.linspace(0, 2 * np.pi, np.count_nonzero(labels == group),
                                         endpoint=False) for group in (0, 1)])
    radii = np.where(labels == 0, 1.0, _CIRCLES_FACTOR)
    X = radii[:, None] * np.column_stack([np.cos(angles), np.sin(angles)])
    X += rng.normal(scale=noise, size=X.shape)
    return _shuffled(X, labels, 2, rng)


def _anisotropic(n: int, rng: np.random.Generator, spread: float) -> Generated:
    """Blobs sheared by a linear map: elongated clusters that k-means cuts the wrong way."""
    X, labels, k = _blobs(n, rng, tuple(s * spread for s in _ANISOTROPIC_STDS))
    return X @ _ANISOTROPIC_MAP, labels, k


def _uniform(n: int, rng: np.random.Generator) -> Generated:
    """Noise in the unit square: k-means still returns k clusters, which mean nothing."""
    return rng.uniform(0.0, 1.0, size=(n, 2)), None, 0


#: name -> generator(n, rng, noise, spread)
_GENERATORS: dict[str, Callable[[int, np.random.Generator, float, float], Generated]] = {
    "blobs": lambda n, rng, noise, spread: _blobs(n, rng, tuple(s * spread for s in _BLOB_STDS)),
    "moons": lambda n, rng, noise, spread: _moons(n, rng, noise),
    "circles": lambda n, rng, noise, spread: _circles(n, rng, noise),
    "anisotropic": lambda n, rng, noise, spread: _anisotropic(n, rng, spread),
    "varied": lambda n, rng, noise, spread: _blobs(n, rng,
                                                   tuple(s * spread for s in _VARIED_STDS)),
    "uniform": lambda n, rng, noise, spread: _uniform(n, rng),
}
#: the settings each generated set takes (the GUI enables those)
SETTINGS = {"blobs": ("spread",), "moons": ("noise",), "circles": ("noise",),
            "anisotropic": ("spread",), "varied": ("spread",), "uniform": ()}


# bundled sets


def _bundled(name: str, n_samples: int | None, rng: np.random.Generator) -> PointSet:
    X, labels, columns, label_names = _read_iris() if name == "iris" else _read_digits()
    if n_samples is not None:
        if n_samples > len(X):
            raise InputError(f"n_samples={n_samples} is more than the {len(X)} points of the "
                             f"{name} data set")
        keep = np.sort(rng.choice(len(X), size=n_samples, replace=False))
        X, labels = X[keep], labels[keep]
    return make_point_set(X, columns, labels, label_names, f"dataset:{name}")


def _read_iris() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """iris.csv: a first row ``150,4,setosa,versicolor,virginica``, then features and class."""
    path = resource_path("iris.csv")
    first, _, rest = path.read_text(encoding="ascii").partition("\n")
    count, width, *classes = first.strip().split(",")
    table = _table(rest, path, (int(count), int(width) + 1))
    return table[:, :-1], table[:, -1].astype(np.int64), _IRIS_COLUMNS, tuple(classes)


def _read_digits() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """digits.csv.gz: a header row, then 1797 rows of 64 pixel values (0..16, row by row) and
    the digit (the header makes the file usable as a point file too, label column and all)."""
    path = resource_path("digits.csv.gz")
    with gzip.open(path, "rt", encoding="ascii") as stream:
        table = _table(stream.read(), path, (1797, _DIGITS_SIDE**2 + 1), skiprows=1)
    columns = tuple(f"pixel_{row}_{column}" for row in range(_DIGITS_SIDE)
                    for column in range(_DIGITS_SIDE))
    return table[:, :-1], table[:, -1].astype(np.int64), columns, tuple(map(str, range(10)))


def _table(text: str, path: Path, shape: tuple[int, int], skiprows: int = 0) -> np.ndarray:
    """A bundled comma-separated table, checked against the shape it must have."""
    table = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, skiprows=skiprows)
    if table.shape != shape:
        raise InputError(f"{path}: damaged bundled data ({table.shape[0]}×{table.shape[1]} "
                         f"values, expected {shape[0]}×{shape[1]}); reinstall PaletteLab")
    return table

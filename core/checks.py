"""Checks of integer arguments, with one wording for every public function of the core.

An integer is a Python or numpy integer: ``np.int64`` out of numpy, e.g. ``labels.max() + 1``,
is as good as ``int`` (core/datasets.py and core/formats/points.py used to refuse it).  ``bool``
is refused although Python counts it as an integer: ``True`` where a count belongs is a
mistake.  Floats are refused even when whole, so that ``2.5`` is not silently truncated and
``2.0`` does not hide a computation gone wrong.
"""

from __future__ import annotations

import numbers

import numpy as np

from palettelab.core.errors import InputError

#: seeds accepted as integers: scikit-learn's range (numpy's legacy RandomState takes no more)
SEED_LIMIT = 2**32


def is_integer(value) -> bool:
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value, name: str, *, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is an integer from ``low`` to ``high`` (no upper bound when
    None); otherwise an :class:`InputError` saying what ``name`` must be."""
    if not is_integer(value) or value < low or (high is not None and value > high):
        raise InputError(f"{name} must be {_wanted(low, high)}, got {value!r}")
    return int(value)


def check_random_state(value, name: str = "random_state") -> np.random.Generator:
    """A numpy Generator from what scikit-learn users pass as ``random_state``.

    None (fresh entropy), an integer in [0, 2**32) (``numpy.random.default_rng(value)``, so
    the same seed gives the same numbers as before this check existed), a Generator (used as
    it is: its state advances), or a legacy RandomState (a Generator seeded from four of its
    draws, so that it can spawn independent streams as every other Generator can).  Anything
    else, -1 and ``'a'`` included, is an InputError: numpy's own ValueError/TypeError said
    nothing about which argument was wrong.
    """
    if value is None:
        return np.random.default_rng()
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, np.random.RandomState):  # seeded from its draws, so it can spawn
        return np.random.default_rng(value.randint(SEED_LIMIT, size=4, dtype=np.uint64).tolist())
    if is_integer(value) and 0 <= value < SEED_LIMIT:
        return np.random.default_rng(int(value))
    raise InputError(f"{name} must be None, an integer from 0 to {SEED_LIMIT - 1:,} or a "
                     f"numpy Generator, got {value!r}")


def _wanted(low: int, high: int | None) -> str:
    if high is not None:
        return f"an integer between {low:,} and {high:,}"
    if low == 0:
        return "a non-negative integer"
    if low == 1:
        return "a positive integer"
    return f"an integer of at least {low:,}"

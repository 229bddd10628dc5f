"""Checks of integer arguments, with one wording for every public function of the core.

An integer is a Python or numpy integer: ``np.int64`` out of numpy, e.g. ``labels.max() + 1``,
is as good as ``int`` (core/datasets.py and core/formats/points.py used to refuse it).  ``bool``
is refused although Python counts it as an integer: ``True`` where a count belongs is a
mistake.  Floats are refused even when whole, so that ``2.5`` is not silently truncated and
``2.0`` does not hide a computation gone wrong.
"""

from __future__ import annotations

import numbers

from palettelab.core.errors import InputError


def is_integer(value) -> bool:
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value, name: str, *, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is an integer from ``low`` to ``high`` (no upper bound when
    None); otherwise an :class:`InputError` saying what ``name`` must be."""
    if not is_integer(value) or value < low or (high is not None and value > high):
        raise InputError(f"{name} must be {_wanted(low, high)}, got {value!r}")
    return int(value)


def _wanted(low: int, high: int | None) -> str:
    if high is not None:
        return f"an integer between {low:,} and {high:,}"
    if low == 0:
        return "a non-negative integer"
    if low == 1:
        return "a positive integer"
    return f"an integer of at least {low:,}"

"""Argument types and usage checks shared by the batch commands (a failure here is a usage
error: argparse prints it with the usage line and exits 2)."""

from __future__ import annotations

import argparse

#: the seeds scikit-learn accepts as ``random_state`` (and numpy's legacy seeding)
SEED_MAX = 2**32 - 1


def seed(text: str) -> int:
    """``--seed``: an integer from 0 to :data:`SEED_MAX`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {SEED_MAX}, got {text}")
    return value


def check_distinct_outputs(parser: argparse.ArgumentParser,
                           outputs: list[tuple[str, str | None]]) -> None:
    """Usage error if two of the ``(option, path)`` outputs name one file (``./x``, symbolic
    and hard links included): the second write would destroy the first."""
    from palettelab.core.formats.atomic import first_repeated

    given = [(option, path) for option, path in outputs if path is not None]
    repeated = first_repeated([path for _, path in given])
    if repeated is not None:
        (first, a), (second, b) = given[repeated[0]], given[repeated[1]]
        same = repr(a) if a == b else f"{a!r} and {b!r}"
        parser.error(f"{first} and {second} name the same file ({same}); one would overwrite "
                     f"the other")


#: ``--format`` choices: Pillow format name and file extension of each
FORMATS = {"png": ("PNG", ".png"), "gif": ("GIF", ".gif"), "webp": ("WEBP", ".webp"),
           "tif": ("TIFF", ".tif"), "bmp": ("BMP", ".bmp")}


def positive_int(text: str) -> int:
    """``--jobs``: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value

"""The one locator of PaletteLab's bundled files (sample images, iris, digits, the icon).

``resources/`` is package data of ``palettelab``, found through :mod:`importlib.resources`, so the
same lookup works in an editable install (the source folder), a wheel install (site-packages)
and the PyInstaller bundle (the spec collects it as ``palettelab/resources``).
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from palettelab.core.errors import InputError

SAMPLE_IMAGE = "china.jpg"


def resource_path(name: str) -> Path:
    """Path of the bundled file ``name`` (e.g. ``"iris.csv"``).

    Raises InputError naming where it looked when the file is missing (a broken install): the
    CLI and the GUI show it as one line, like any other bad input.
    """
    entry = files("palettelab") / "resources" / name
    # Installed packages are plain folders (wheels are unpacked; the bundle's data too), so the
    # context manager hands back the real path and never a temporary copy.
    with as_file(entry) as path:
        if not Path(path).is_file():
            raise InputError(f"bundled data file {name!r} not found (looked in: {path}); "
                             "reinstall PaletteLab")
        return Path(path)


def sample_image() -> Path:
    """The image the GUI opens with (``china.jpg``)."""
    return resource_path(SAMPLE_IMAGE)

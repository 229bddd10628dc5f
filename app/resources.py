"""Locate the bundled sample data (``resources/`` at the repository root).

``resources/`` is a plain top-level folder, not a package. It is found next to the ``app``
package in a source checkout or an editable install, and under ``sys._MEIPASS`` in a PyInstaller
bundle (the spec must add it as ``("resources", "resources")``).
"""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLE_IMAGE = "china.jpg"


def resources_dir() -> Path:
    """The folder holding the sample data, or raise FileNotFoundError naming where it looked."""
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    for folder in candidates:
        if folder.is_dir():
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"PaletteLab resources folder not found (looked in: {looked})")


def resource_path(name: str) -> Path:
    """Path of the bundled file ``name`` (e.g. ``"iris.csv"``); FileNotFoundError if absent."""
    path = resources_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"PaletteLab resource {name!r} not found at {path}")
    return path


def sample_image() -> Path:
    """The default image the GUI opens with (``resources/china.jpg``)."""
    return resource_path(SAMPLE_IMAGE)

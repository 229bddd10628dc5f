"""PaletteLab: colour quantization and k-means exploration.

The public Python API, one import path for each name::

    from palettelab import KMeans, MiniBatchKMeans, assign, update, quantize, remap, load_image

The repository's top-level folders are this package: ``core/`` is ``palettelab.core`` (numpy and
Numba, never Qt), ``app/`` is ``palettelab.app`` (the command line and the Qt GUI) and
``resources/`` its bundled data (``pyproject.toml`` maps them; docs/DESIGN.md has the tree).

Names are imported on first use (PEP 562), so ``import palettelab`` and ``palettelab
--version`` load neither numpy nor Numba.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # k-means engine
    "KMeans": "palettelab.core.clustering.kmeans",
    "MiniBatchKMeans": "palettelab.core.clustering.kmeans",
    "assign": "palettelab.core.clustering.kmeans",
    "update": "palettelab.core.clustering.kmeans",
    "kmeans_plusplus": "palettelab.core.clustering.kmeans",
    "SpectralClustering": "palettelab.core.clustering.spectral",
    "TSNE": "palettelab.core.clustering.tsne",
    # quantization pipeline
    "quantize": "palettelab.core.quantization.pipeline",
    "remap": "palettelab.core.quantization.pipeline",
    "shared_palette": "palettelab.core.quantization.pipeline",
    "Quantized": "palettelab.core.quantization.pipeline",
    "psnr": "palettelab.core.quantization.quality",
    "mean_oklab_error": "palettelab.core.quantization.quality",
    # files
    "load_image": "palettelab.core.formats.image_read",
    "save_image": "palettelab.core.formats.image_write",
    "read_palette": "palettelab.core.formats.palettes",
    "write_palette": "palettelab.core.formats.palettes",
    "Palette": "palettelab.core.formats.palettes",
    "load_points": "palettelab.core.formats.points",
    "PointSet": "palettelab.core.formats.points",
    # the Points workflow
    "PointsSession": "palettelab.core.points_session",
    "make_dataset": "palettelab.core.datasets",
    "DATASETS": "palettelab.core.datasets",
    # errors
    "InputError": "palettelab.core.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'palettelab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


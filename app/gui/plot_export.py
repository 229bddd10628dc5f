"""Every plot as a figure: PNG or SVG, from its right-click menu (issue 18).

A PNG is pyqtgraph's image export at twice the size on screen (crisp on slides).  An SVG is the
plot widget painted into Qt's SVG generator: lines, points and text as vector shapes, images
(a Voronoi shading, a confusion matrix) embedded.  pyqtgraph's own SVG exporter was tried first
and fails on the paths this Qt writes ("M10 20 L..": it expects "x,y" pairs).  The file is
written through an atomic rename like every other output, so a failed export leaves nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from palettelab.core.errors import InputError
from palettelab.core.formats.atomic import check_output_suffix

#: what a plot can be saved as
PLOT_TYPES = (("PNG image", (".png",)), ("SVG drawing", (".svg",)))
#: a PNG is drawn this many times larger than the plot on screen
PNG_SCALE = 2


def export_plot(plot: pg.PlotWidget, path: str | os.PathLike) -> None:
    """Save ``plot`` to ``path`` as PNG or SVG (from the extension); InputError otherwise."""
    suffix = check_output_suffix(path, (".png", ".svg"), "plots are saved as PNG or SVG")
    target = Path(path)
    handle, temp = tempfile.mkstemp(suffix=suffix, prefix=".palettelab-", dir=target.parent)
    os.close(handle)
    try:
        if suffix == ".png":
            item = plot.getPlotItem()
            exporter = exporters.ImageExporter(item)
            exporter.parameters()["width"] = int(item.sceneBoundingRect().width() * PNG_SCALE)
            exporter.export(temp)
        else:
            _svg(plot, temp)
        if not os.path.getsize(temp):
            raise InputError(f"{target}: the plot could not be drawn")
        os.replace(temp, target)
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def _svg(plot: pg.PlotWidget, path: str) -> None:
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(plot.size())
    generator.setViewBox(plot.rect())
    generator.setTitle("PaletteLab plot")
    painter = QPainter(generator)
    try:
        plot.render(painter)
    finally:
        painter.end()


def add_export_action(plot: pg.PlotWidget, ask_path: Callable[[str], str],
                      report: Callable[[str, str], None]) -> None:
    """Put "Save Plot as PNG or SVG…" in ``plot``'s right-click menu; ``ask_path(title)``
    returns the chosen path ("" to cancel), ``report(title, message)`` shows an error."""
    menu = plot.getPlotItem().getViewBox().menu

    def save() -> None:
        path = ask_path("Save plot")
        if not path:
            return
        try:
            export_plot(plot, path)
        except InputError as exc:
            report("Cannot save the plot", str(exc))

    menu.addSeparator()
    menu.addAction("Save Plot as PNG or SVG…", save)

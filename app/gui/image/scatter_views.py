"""Views of the pixel cloud and of a k-means run for the main window's "colour space" tabs.

These widgets only display what they are given: the worker thread samples the image and converts
it to the clustering space with ``core``, then the GUI thread hands the arrays over.  Nothing here
converts colours beyond scaling 0..255 to 0..1.

* :class:`ColorScatter2D` -- two axes of the space at a time (pyqtgraph ``ScatterPlotItem``),
  each axis fitted to the data (equal scales on request).
* :class:`ColorScatter3D` -- the whole space (``pyqtgraph.opengl``); a label where GL is missing.
* :class:`ConvergenceChart` -- inertia per iteration of the current run, one colour and legend
  entry per kind of step.

``set_centers`` runs up to 30 times a second during a run, so it only calls ``setData`` on items
that already exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import atan, degrees, radians, tan
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QOpenGLContext, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from palettelab.core.color.codes import color_codes

SPACE_AXES = {"oklab": ("L", "a", "b"), "lab": ("L*", "a*", "b*"), "rgb": ("R", "G", "B")}

# Axis pairs offered by the 2D view: combo text -> (x column, y column) of the coordinates.
_PAIRS_RGB = {"R-G": (0, 1), "R-B": (0, 2), "G-B": (1, 2)}
_PAIRS_LAB = {"L-a": (0, 1), "a-b": (1, 2), "L-b": (0, 2)}
_AXIS_PAIRS = {"rgb": _PAIRS_RGB, "oklab": _PAIRS_LAB, "lab": _PAIRS_LAB}
_DEFAULT_PAIR = {"rgb": "R-G", "oklab": "a-b", "lab": "a-b"}

# The pixel cloud is drawn as an image of _CLOUD_GRID x _CLOUD_GRID cells, each in the mean
# colour of the pixels that fall in it: one ImageItem instead of 50,000 scatter symbols
# (pyqtgraph took 200-400 ms per 50k-point setData here; the splat takes a few ms).
_CLOUD_GRID = 320
# Centre colours are exact and change every iteration; forget them past this many.
_CENTER_BRUSH_LIMIT = 4096
_CENTER_SIZE_2D = 16
_RANGE_PADDING = 0.05


def _axis_pairs(space: str) -> dict[str, tuple[int, int]]:
    try:
        return _AXIS_PAIRS[space]
    except KeyError:
        raise ValueError(
            f"unknown colour space {space!r} (expected one of {', '.join(SPACE_AXES)})"
        ) from None


def _check_pair(rgb: np.ndarray, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as (n, 3), the same n; a mistake in the caller fails here, not in a paint."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    coords = np.asarray(coords, dtype=np.float64)
    if rgb.ndim != 2 or rgb.shape[1] != 3 or coords.shape != rgb.shape:
        raise ValueError(
            f"expected rgb and coords of the same (n, 3) shape, got {rgb.shape} and {coords.shape}"
        )
    return rgb, coords


def _count_text(shown: int, total: int) -> str:
    return f"{shown:,} of {total:,} pixels shown"


def _is_light(rgb: np.ndarray) -> np.ndarray:
    """Rough perceived lightness test, to pick a contrasting outline for each centre."""
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32) > 128


class ColorScatter2D(QWidget):
    """2D scatter of the pixel cloud in the clustering space, each point drawn in its own colour,
    with the palette centres drawn large in their colours.

    Call :meth:`set_space` before the data of a new space: coordinates belong to one space, so
    changing it clears the plot.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._space = "oklab"
        self._pixel_coords = np.empty((0, 3))
        self._pixel_rgb = np.empty((0, 3), dtype=np.uint8)
        self._center_coords = np.empty((0, 3))
        self._center_brushes: list[QBrush] = []
        self._center_pens: list[QPen] = []
        self._center_brush_cache: dict[int, QBrush] = {}
        self._outline_pens = (pg.mkPen("w", width=1.5), pg.mkPen("k", width=1.5))

        self._axes_combo = QComboBox()
        self._axes_combo.setToolTip("Which two axes of the colour space to plot")
        # Each axis fits the data by default: with equal units the 0-255 RGB cloud took a
        # quarter of a wide plot (x from -400 to 700), and L-a (L spans 1, a 0.2) a thin strip.
        self._equal_box = QCheckBox("Equal scales")
        self._equal_box.setToolTip("The same units on both axes, as k-means measures distance "
                                   "(the cloud then fills only part of a wide plot)")
        self._equal_box.toggled.connect(self._on_equal_toggled)
        self._count_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Axes:"))
        top.addWidget(self._axes_combo)
        top.addWidget(self._equal_box)
        top.addStretch(1)
        top.addWidget(self._count_label)

        self._plot = pg.PlotWidget()
        self._plot.getViewBox().disableAutoRange()  # the range is set once per set_pixels
        for side in ("bottom", "left"):  # "a (x0.001)" would hide the space's own units
            self._plot.getAxis(side).enableAutoSIPrefix(False)
        self._pixels = pg.ImageItem(axisOrder="row-major")
        # no symbol atlas: centre colours change every frame and would grow it without end
        self._centers = pg.ScatterPlotItem(pxMode=True, size=_CENTER_SIZE_2D, useCache=False)
        self._centers.setZValue(1)
        self._plot.addItem(self._pixels)
        self._plot.addItem(self._centers)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self._plot, 1)

        self._fill_combo(_DEFAULT_PAIR[self._space])
        self._axes_combo.currentTextChanged.connect(self._on_axes_changed)
        self._update_axis_labels()

    # -- public API ------------------------------------------------------------------------------

    def set_space(self, space: str) -> None:
        """Offer the axis pairs of ``space``, keeping the current pair when it exists there."""
        pairs = _axis_pairs(space)
        if space == self._space:
            return
        current = self._axes_combo.currentText()
        self._space = space
        self.clear()
        self._fill_combo(current if current in pairs else _DEFAULT_PAIR[space])
        self._update_axis_labels()

    def set_pixels(self, rgb: np.ndarray, coords: np.ndarray, total: int) -> None:
        """Show a sample of ``total`` image pixels: sRGB ``rgb`` (n, 3) at ``coords`` (n, 3)."""
        rgb, coords = _check_pair(rgb, coords)
        self._pixel_coords = coords
        self._pixel_rgb = rgb
        self._count_label.setText(_count_text(len(rgb), total))
        self._draw_pixels()
        self._update_range()

    def set_centers(self, rgb: np.ndarray, coords: np.ndarray) -> None:
        """Show the palette (k, 3) uint8 at its coordinates (k, 3); cheap enough for live runs."""
        rgb, coords = _check_pair(rgb, coords)
        self._center_coords = coords
        self._center_brushes = self._brushes_for_centers(rgb)
        white, black = self._outline_pens
        self._center_pens = [black if light else white for light in _is_light(rgb).tolist()]
        self._draw_centers()
        if not len(self._pixel_coords):
            self._update_range()

    def clear(self) -> None:
        """Remove pixels and centres; the space and axis choice stay."""
        self._pixel_coords = np.empty((0, 3))
        self._pixel_rgb = np.empty((0, 3), dtype=np.uint8)
        self._center_coords = np.empty((0, 3))
        self._center_brushes = []
        self._center_pens = []
        self._pixels.clear()
        self._centers.clear()
        self._count_label.clear()

    # -- internals -------------------------------------------------------------------------------

    def _fill_combo(self, choice: str) -> None:
        """Replace the combo entries without emitting a change per entry."""
        self._axes_combo.blockSignals(True)
        self._axes_combo.clear()
        self._axes_combo.addItems(list(_axis_pairs(self._space)))
        self._axes_combo.setCurrentText(choice)
        self._axes_combo.blockSignals(False)

    def _columns(self) -> tuple[int, int]:
        return _axis_pairs(self._space)[self._axes_combo.currentText()]

    def _update_axis_labels(self) -> None:
        names = SPACE_AXES[self._space]
        x, y = self._columns()
        self._plot.setLabel("bottom", names[x])
        self._plot.setLabel("left", names[y])

    def _on_axes_changed(self, _text: str) -> None:
        self._update_axis_labels()
        self._draw_pixels()
        self._draw_centers()
        self._update_range()

    def _on_equal_toggled(self, on: bool) -> None:
        self._plot.setAspectLocked(on)
        self._update_range()

    def _draw_pixels(self) -> None:
        """Splat the sample into a grid over its range, each cell in its pixels' mean colour."""
        c = self._pixel_coords
        if not len(c):
            self._pixels.clear()
            return
        x, y = self._columns()
        (x0, x1), (y0, y1) = self._extent(c[:, x]), self._extent(c[:, y])
        n = _CLOUD_GRID
        ix = np.clip(((c[:, x] - x0) / (x1 - x0) * n).astype(np.int64), 0, n - 1)
        iy = np.clip(((c[:, y] - y0) / (y1 - y0) * n).astype(np.int64), 0, n - 1)
        cell = iy * n + ix
        count = np.bincount(cell, minlength=n * n)
        image = np.zeros((n * n, 4), dtype=np.uint8)
        filled = count > 0
        for t in range(3):
            total = np.bincount(cell, weights=self._pixel_rgb[:, t], minlength=n * n)
            image[filled, t] = np.rint(total[filled] / count[filled])
        image[filled, 3] = 255
        self._pixels.setImage(image.reshape(n, n, 4), autoLevels=False, levels=(0, 255))
        self._pixels.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    @staticmethod
    def _extent(values: np.ndarray) -> tuple[float, float]:
        lo, hi = float(values.min()), float(values.max())
        pad = max(hi - lo, 1e-9) * 0.01
        return lo - pad, hi + pad

    def cloud_cell_colors(self) -> np.ndarray:
        """The colours of the occupied cells of the drawn cloud (for tests)."""
        image = self._pixels.image
        if image is None:
            return np.empty((0, 3), dtype=np.uint8)
        flat = image.reshape(-1, 4)
        return flat[flat[:, 3] > 0, :3]

    def _draw_centers(self) -> None:
        x, y = self._columns()
        c = self._center_coords
        self._centers.setData(
            x=c[:, x], y=c[:, y], brush=self._center_brushes, pen=self._center_pens
        )

    def _update_range(self) -> None:
        """Fit the view to the pixels (or the centres when there are none yet)."""
        c = self._pixel_coords if len(self._pixel_coords) else self._center_coords
        if not len(c):
            return
        x, y = self._columns()
        self._plot.setRange(
            xRange=(c[:, x].min(), c[:, x].max()),
            yRange=(c[:, y].min(), c[:, y].max()),
            padding=_RANGE_PADDING,
        )

    def _brushes_for_centers(self, rgb: np.ndarray) -> list[QBrush]:
        cache = self._center_brush_cache
        if len(cache) > _CENTER_BRUSH_LIMIT:
            cache.clear()
        brushes = []
        for code, color in zip(color_codes(rgb).tolist(), rgb.tolist(), strict=True):
            brush = cache.get(code)
            if brush is None:
                brush = cache[code] = QBrush(QColor(*color))
            brushes.append(brush)
        return brushes


# -- 3D ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scene:
    """How one space's coordinates become scene positions: ``coords[:, order] * scale + offset``.

    The scale is the same on all three axes so that the distances k-means minimises look the same
    in every direction; it only brings the units to about 1 (L up, like a colour solid).
    """

    order: tuple[int, int, int]
    scale: float
    offset: tuple[float, float, float]
    origin: tuple[float, float, float]  # where the drawn axes meet, in the space's units
    extent: tuple[tuple[float, float], ...]  # drawn range of each coordinate column
    distance: float  # default camera distance: the space fills most of the view's height

    def project(self, coords: np.ndarray) -> np.ndarray:
        pos = coords[:, list(self.order)] * self.scale + np.asarray(self.offset)
        return pos.astype(np.float32)


_SCENES = {
    # the RGB cube 0..255 -> [-0.5, 0.5]^3, axes from the black corner
    "rgb": _Scene((0, 1, 2), 1 / 255, (-0.5, -0.5, -0.5), (0.0, 0.0, 0.0),
                  ((0.0, 255.0), (0.0, 255.0), (0.0, 255.0)), 1.9),
    # OKLab is already about unit-sized: L 0..1 (centred on 0), a and b within ±0.4
    "oklab": _Scene((1, 2, 0), 1.0, (0.0, 0.0, -0.5), (0.5, 0.0, 0.0),
                    ((0.0, 1.0), (-0.4, 0.4), (-0.4, 0.4)), 1.5),
    # CIELAB /100: L 0..1 (centred on 0), a* and b* within about ±1.1 for sRGB colours
    "lab": _Scene((1, 2, 0), 1 / 100, (0.0, 0.0, -0.5), (50.0, 0.0, 0.0),
                  ((0.0, 100.0), (-110.0, 110.0), (-110.0, 110.0)), 2.4),
}
_CAMERA_ELEVATION = 25
_CAMERA_AZIMUTH = 45
#: field of view across the shorter side of the 3D view, degrees
_FOV_SHORT_SIDE = 60.0


def horizontal_fov(width: float, height: float) -> float:
    """The ``fov`` option for a ``width`` x ``height`` GL view: pyqtgraph's spans the width, so
    a fixed 60 degrees left a wide, short view (1000 x 280 px in the window's tab) only 19
    degrees of height and the cloud was cut off at the top and bottom.  This keeps
    ``_FOV_SHORT_SIDE`` across the shorter side, so the default distances fit every shape."""
    aspect = max(float(width), 1.0) / max(float(height), 1.0)
    return degrees(2.0 * atan(tan(radians(_FOV_SHORT_SIDE / 2.0)) * max(1.0, aspect)))


class _FovKeeper(QObject):
    """Event filter: re-derives the GL view's ``fov`` from its size after every resize."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            watched.opts["fov"] = horizontal_fov(watched.width(), watched.height())
        return False
_PIXEL_SIZE_3D = 2
_CENTER_SIZE_3D = 14
_CENTER_RING_3D = 18


def _gl_context_error() -> str | None:
    """Why no usable OpenGL context can be made on this platform, or None when one can.

    QOpenGLWidget does not raise when it has no context (it prints and stays black), so this is
    checked before building the view.  The version test is pyqtgraph's own (it raises inside
    ``initializeGL`` otherwise); it matters under ``QT_QPA_PLATFORM=offscreen`` with a
    ``DISPLAY``, where Qt gets a GLX context but reports it as OpenGL 2.0.
    """
    context = QOpenGLContext()
    if not context.create():
        return f"no OpenGL context on the {QGuiApplication.platformName()!r} platform"
    version = context.format().version()
    if not context.isOpenGLES() and version < (2, 1):
        return f"OpenGL {version[0]}.{version[1]} reported, 2.1 needed"
    return None


def _import_gl() -> tuple[Any, Any]:
    """``pyqtgraph.opengl`` and ``OpenGL.GL``, imported only when a 3D view is built."""
    import pyqtgraph.opengl as gl
    from OpenGL import GL

    return gl, GL


class ColorScatter3D(QWidget):
    """The pixel cloud and the palette centres in 3D (rotate with the mouse, zoom with the wheel).

    Where OpenGL is not available the widget shows a label saying so and its methods do nothing,
    so the rest of the app keeps working.  ``available`` tells which case this is.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._space = "oklab"
        self._axis_items: list[Any] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.available = False
        try:
            reason = _gl_context_error()
            if reason is None:
                content = self._build_view()
        except Exception as exc:  # PyOpenGL missing or broken, shader/driver trouble, ...
            reason = f"{type(exc).__name__}: {exc}"
        if reason is None:
            self.available = True
            layout.addWidget(content)
        else:
            label = QLabel(f"3D view unavailable: OpenGL could not be initialised ({reason})")
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)

    def _build_view(self) -> QWidget:
        """The GL view and its tool row, in a widget that is only shown when all went well."""
        gl, GL = _import_gl()
        # centres are drawn over the cloud (no depth test) so a palette colour is never hidden
        on_top = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: False}
        self._gl = gl
        self._view = gl.GLViewWidget()
        self._fov_keeper = _FovKeeper(self)
        self._view.installEventFilter(self._fov_keeper)
        # opaque: nearer pixels hide farther ones and keep their exact colour (no additive glow)
        self._pixels = gl.GLScatterPlotItem(pxMode=True, size=_PIXEL_SIZE_3D, glOptions="opaque")
        # each centre is a contrasting disc with the palette colour on top of it
        self._rings = gl.GLScatterPlotItem(pxMode=True, size=_CENTER_RING_3D, glOptions=on_top)
        self._centers = gl.GLScatterPlotItem(pxMode=True, size=_CENTER_SIZE_3D, glOptions=on_top)
        self._rings.setDepthValue(10)
        self._centers.setDepthValue(11)
        for item in (self._pixels, self._rings, self._centers):
            self._view.addItem(item)

        reset = QPushButton("Reset view")
        reset.setToolTip("Back to the default camera angle and distance")
        reset.clicked.connect(self.reset_view)
        self._count_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(reset)
        top.addStretch(1)
        top.addWidget(self._count_label)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self._view, 1)
        self._draw_axes()
        self._reset_camera()
        return content

    # -- public API ------------------------------------------------------------------------------

    def set_space(self, space: str) -> None:
        """Switch the axes to ``space``; coordinates belong to one space, so this clears."""
        _axis_pairs(space)  # validates the name
        if not self.available or space == self._space:
            return
        self._space = space
        self.clear()
        self._draw_axes()
        self._reset_camera()

    def set_pixels(self, rgb: np.ndarray, coords: np.ndarray, total: int) -> None:
        """Show a sample of ``total`` image pixels: sRGB ``rgb`` (n, 3) at ``coords`` (n, 3)."""
        if not self.available:
            return
        rgb, coords = _check_pair(rgb, coords)
        self._pixels.setData(pos=_SCENES[self._space].project(coords), color=self._rgba(rgb))
        self._pixels.setVisible(len(rgb) > 0)
        self._count_label.setText(_count_text(len(rgb), total))

    def set_centers(self, rgb: np.ndarray, coords: np.ndarray) -> None:
        """Show the palette (k, 3) uint8 at its coordinates (k, 3); cheap enough for live runs."""
        if not self.available:
            return
        rgb, coords = _check_pair(rgb, coords)
        pos = _SCENES[self._space].project(coords)
        ring = np.where(_is_light(rgb)[:, None], 0.0, 1.0).astype(np.float32)
        ring = np.concatenate([np.repeat(ring, 3, axis=1), np.ones_like(ring)], axis=1)
        self._rings.setData(pos=pos, color=ring)
        self._centers.setData(pos=pos, color=self._rgba(rgb))
        self._rings.setVisible(len(rgb) > 0)
        self._centers.setVisible(len(rgb) > 0)

    def clear(self) -> None:
        """Remove pixels and centres; the space and camera stay."""
        if not self.available:
            return
        for item in (self._pixels, self._rings, self._centers):
            item.setData(pos=np.empty((0, 3), dtype=np.float32))
            item.setVisible(False)
        self._count_label.clear()

    def reset_view(self) -> None:
        """Camera back to the default angle, with the whole space in view."""
        if self.available:
            self._reset_camera()

    # -- internals -------------------------------------------------------------------------------

    def _reset_camera(self) -> None:
        self._view.setCameraPosition(
            pos=pg.Vector(0, 0, 0),
            distance=_SCENES[self._space].distance,
            elevation=_CAMERA_ELEVATION,
            azimuth=_CAMERA_AZIMUTH,
        )

    @staticmethod
    def _rgba(rgb: np.ndarray) -> np.ndarray:
        rgba = np.ones((len(rgb), 4), dtype=np.float32)
        rgba[:, :3] = rgb / np.float32(255)
        return rgba

    def _draw_axes(self) -> None:
        """Three labelled axis lines for orientation, rebuilt when the space changes."""
        gl = self._gl
        for item in self._axis_items:
            self._view.removeItem(item)
        self._axis_items = []
        scene = _SCENES[self._space]
        names = SPACE_AXES[self._space]
        segments = []
        for column, (lo, hi) in enumerate(scene.extent):
            start, end = np.array([scene.origin, scene.origin])
            start[column], end[column] = lo, hi
            segments += [start, end]
            label_at = scene.project(end[None, :] + (end - start)[None, :] * 0.06)[0]
            text = gl.GLTextItem(pos=label_at, text=names[column], color=(220, 220, 220, 255))
            self._axis_items.append(text)
        lines = gl.GLLinePlotItem(
            pos=scene.project(np.array(segments)),
            color=(0.6, 0.6, 0.6, 1.0),
            width=1,
            mode="lines",
            glOptions="opaque",
        )
        self._axis_items.append(lines)
        for item in self._axis_items:
            self._view.addItem(item)


# -- convergence ----------------------------------------------------------------------------------


#: the quantizer's stages that report inertia -> (legend text, colour); each has its own data
#: (coarse bins, fine bins, exact colours), so their inertias are not on one curve
STAGE_KINDS = {
    "clustering": ("k-means starts", "#4e9ef5"),
    "refining": ("refine on finer bins", "#f5a623"),
    "improving": ("swap moves", "#b07cf5"),
    "polishing": ("polish on exact colours", "#4ec97a"),
}


#: a convergence curve's points drawn with markers; a longer curve is a line only
MARKERS_UP_TO = 300


class ConvergenceChart(QWidget):
    """Inertia per iteration of the current run, updated live as the worker reports.

    Each kind of step (the starts, refining, swap moves, polishing) is one colour with a legend
    entry, and every start or stage is its own segment: two starts used to show as five
    unexplained segments.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._log_box = QCheckBox("Log scale")
        self._log_box.setToolTip("Logarithmic inertia axis, to see the last small improvements")
        self._log_box.toggled.connect(self.set_log_y)
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self._log_box)

        self._plot = pg.PlotWidget()
        self._plot.setLabel("bottom", "k-means iteration (one segment per start and stage)")
        self._plot.setLabel("left", "inertia")
        self._plot.showGrid(x=True, y=True, alpha=0.3)
        self._legend = self._plot.addLegend(offset=(-10, 10))
        # NaN values separate the segments of one kind (connect="finite")
        self._curves = {
            stage: pg.PlotDataItem(symbol="o", symbolSize=4, pen=pg.mkPen(color, width=1.5),
                                   symbolPen=None, symbolBrush=color, connect="finite")
            for stage, (_name, color) in STAGE_KINDS.items()
        }
        for curve in self._curves.values():
            self._plot.addItem(curve)
        self._points: dict[str, tuple[list[float], list[float]]] = {}
        self._last: tuple[str, int] | None = None  # stage and iteration of the last live point

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self._plot, 1)

    def clear(self) -> None:
        """Forget the points of the previous run."""
        self._points = {}
        self._last = None
        self._legend.clear()
        for curve in self._curves.values():
            curve.setData([], [])

    def add_point(self, step: int, inertia: float, stage: str, iteration: int) -> None:
        """Append one live point: ``iteration`` within ``stage``, ``step`` of the whole run.
        A new stage, or an iteration count that went back (the next start), starts a segment."""
        if stage not in self._curves:
            return
        xs, ys = self._series(stage)
        if xs and self._last is not None and (self._last[0] != stage
                                              or iteration <= self._last[1]):
            xs.append(np.nan)
            ys.append(np.nan)
        xs.append(float(step))
        ys.append(float(inertia))
        self._last = (stage, iteration)
        self._draw(stage, np.asarray(xs), np.asarray(ys))

    def set_points(self, inertia, stages) -> None:
        """Replace the curves with a finished run's history: ``inertia`` per step, NaN between
        segments, and the stage of each entry (x is the step number, from 1)."""
        y = np.asarray(inertia, dtype=np.float64)
        kinds = np.asarray(stages, dtype=object)
        if kinds.shape != y.shape:
            raise ValueError(f"expected one stage per inertia value, got {kinds.shape} stages "
                             f"for {y.shape} values")
        present = [stage for stage in self._curves if (kinds == stage).any()]
        for stage in [stage for stage in self._points if stage not in present]:
            self._legend.removeItem(self._curves[stage])  # the live run's entries that stay
            del self._points[stage]  # are kept: rebuilding the legend took 15 ms
        self._last = None
        x = np.arange(1, len(y) + 1, dtype=np.float64)
        for stage in self._curves:
            if stage in present:
                self._series(stage)
                self._draw(stage, x, np.where(kinds == stage, y, np.nan))
            else:
                self._curves[stage].setData([], [])

    def _draw(self, stage: str, x: np.ndarray, y: np.ndarray) -> None:
        """Set a kind's curve; markers only while it has at most :data:`MARKERS_UP_TO`
        points (pyqtgraph drew the markers of a long run's 2,000 points in 20 ms, on the GUI
        thread, at every update)."""
        curve = self._curves[stage]
        symbol = "o" if int(np.isfinite(y).sum()) <= MARKERS_UP_TO else None
        if curve.opts["symbol"] != symbol:
            curve.setSymbol(symbol)
        curve.setData(x, y)

    def segments(self) -> dict[str, int]:
        """Segments drawn per legend text (for tests and the status line)."""
        counts = {}
        for stage, curve in self._curves.items():
            _x, y = curve.getData()
            if y is not None and len(y):
                finite = np.isfinite(np.asarray(y, dtype=np.float64))
                starts = finite & ~np.concatenate([[False], finite[:-1]])
                counts[STAGE_KINDS[stage][0]] = int(starts.sum())
        return counts

    def legend_texts(self) -> list[str]:
        """The legend's entries, in order."""
        return [label.text for _sample, label in self._legend.items]

    def _series(self, stage: str) -> tuple[list[float], list[float]]:
        """The live points of ``stage``; the first use adds its legend entry."""
        if stage not in self._points:
            self._points[stage] = ([], [])
            self._legend.addItem(self._curves[stage], STAGE_KINDS[stage][0])
        return self._points[stage]

    def set_log_y(self, on: bool) -> None:
        """Logarithmic y axis (off by default); the check box follows."""
        self._log_box.setChecked(on)
        self._plot.setLogMode(y=on)

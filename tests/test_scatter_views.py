"""The colour-space views: axis choices per space, what the plot items hold after set_pixels and
set_centers, re-projection on an axis change, the 3D view and its no-OpenGL fallback, the
convergence chart, and the cost of live centre updates (up to 30 a second during a run)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from palettelab.app.gui.image import scatter_views
from palettelab.app.gui.image.scatter_views import (
    _SCENES,
    SPACE_AXES,
    ColorScatter2D,
    ColorScatter3D,
    ConvergenceChart,
)

UNAVAILABLE = "3D view unavailable: OpenGL could not be initialised ("


def cloud(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random colours and unrelated random coordinates: the views must not care how they match."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3), dtype=np.uint8), rng.normal(size=(n, 3))


def combo_items(view: ColorScatter2D) -> list[str]:
    combo = view._axes_combo
    return [combo.itemText(i) for i in range(combo.count())]


def xy(item) -> tuple[np.ndarray, np.ndarray]:
    x, y = item.getData()
    return np.asarray(x), np.asarray(y)


def cloud_extent(view: ColorScatter2D, x: np.ndarray, y: np.ndarray) -> None:
    """The cloud image covers the sample's range on the chosen axes (with a 1 % margin)."""
    rect = view._pixels.mapRectToParent(view._pixels.boundingRect())
    for lo, hi, values in ((rect.left(), rect.right(), x), (rect.top(), rect.bottom(), y)):
        span = values.max() - values.min()
        assert lo <= values.min() and values.max() <= hi
        assert hi - lo <= span * 1.03


def label_texts(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.text()]


@pytest.fixture
def view2d(qtbot):
    widget = ColorScatter2D()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def view3d(qtbot):
    widget = ColorScatter3D()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# -- 2D ------------------------------------------------------------------------------------------


def test_axis_choices_follow_the_space(view2d):
    assert combo_items(view2d) == ["L-a", "a-b", "L-b"]
    assert view2d._axes_combo.currentText() == "a-b"

    view2d.set_space("rgb")
    assert combo_items(view2d) == ["R-G", "R-B", "G-B"]
    assert view2d._axes_combo.currentText() == "R-G"

    view2d.set_space("lab")
    assert combo_items(view2d) == ["L-a", "a-b", "L-b"]
    assert view2d._axes_combo.currentText() == "a-b"
    assert view2d._plot.getAxis("bottom").labelText == "a*"
    assert view2d._plot.getAxis("left").labelText == "b*"


def test_the_axis_choice_is_kept_between_lab_spaces(view2d):
    view2d._axes_combo.setCurrentText("L-b")
    view2d.set_space("lab")
    assert view2d._axes_combo.currentText() == "L-b"
    view2d.set_space("rgb")  # no L-b there
    assert view2d._axes_combo.currentText() == "R-G"


def test_unknown_space_is_refused(view2d):
    with pytest.raises(ValueError, match="unknown colour space 'hsv'"):
        view2d.set_space("hsv")


def test_pixels_and_centres_are_drawn_on_the_chosen_axes(view2d):
    rgb, coords = cloud(1000)
    pal, centres = cloud(8, seed=1)
    view2d.set_pixels(rgb, coords, 12_000_000)
    view2d.set_centers(pal, centres)

    cloud_extent(view2d, coords[:, 1], coords[:, 2])  # "a-b": x = a, y = b
    x, y = xy(view2d._centers)
    np.testing.assert_array_equal(x, centres[:, 1])
    np.testing.assert_array_equal(y, centres[:, 2])
    assert view2d._count_label.text() == "1,000 of 12,000,000 pixels shown"

    # the centres keep their exact colours
    colours = [b.color().getRgb()[:3] for b in view2d._centers.data["brush"]]
    assert colours == [tuple(c) for c in pal.tolist()]


def test_switching_axes_reprojects_pixels_and_centres(view2d):
    rgb, coords = cloud(500)
    pal, centres = cloud(5, seed=1)
    view2d.set_pixels(rgb, coords, 500)
    view2d.set_centers(pal, centres)

    view2d._axes_combo.setCurrentText("L-a")
    cloud_extent(view2d, coords[:, 0], coords[:, 1])
    x, y = xy(view2d._centers)
    np.testing.assert_array_equal(x, centres[:, 0])
    np.testing.assert_array_equal(y, centres[:, 1])
    assert view2d._plot.getAxis("bottom").labelText == SPACE_AXES["oklab"][0]
    # the view follows the new axes: L is in x now
    (x0, x1), _ = view2d._plot.getViewBox().viewRange()
    assert x0 <= coords[:, 0].min() and coords[:, 0].max() <= x1


def test_centres_get_a_contrasting_outline(view2d):
    view2d.set_centers(np.array([[20, 20, 20], [240, 240, 240]], np.uint8), np.zeros((2, 3)))
    assert [p.color().name() for p in view2d._centers.data["pen"]] == ["#ffffff", "#000000"]


def test_cloud_cells_take_the_mean_colour_of_their_pixels(view2d):
    rgb = np.array([[200, 100, 50], [202, 104, 52], [0, 0, 0], [255, 255, 255]], dtype=np.uint8)
    coords = np.array([[0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [0.5, 1.0, 1.0], [0.5, 1.0, -1.0]])
    view2d.set_pixels(rgb, coords, 4)
    cells = {tuple(c) for c in view2d.cloud_cell_colors().tolist()}
    assert cells == {(201, 102, 51), (0, 0, 0), (255, 255, 255)}


def test_the_range_is_set_by_pixels_not_by_centre_updates(view2d):
    rgb, coords = cloud(2000)
    view2d.set_pixels(rgb, coords, 2000)
    before = view2d._plot.getViewBox().viewRange()
    view2d.set_centers(*cloud(4, seed=2))
    view2d.set_centers(np.zeros((1, 3), np.uint8), np.full((1, 3), 50.0))  # far outside
    assert view2d._plot.getViewBox().viewRange() == before


def test_clear_empties_the_plot(view2d):
    view2d.set_pixels(*cloud(100), 100)
    view2d.set_centers(*cloud(3, seed=1))
    view2d.clear()
    assert len(view2d.cloud_cell_colors()) == 0
    assert len(view2d._centers.data) == 0
    assert view2d._count_label.text() == ""
    view2d._axes_combo.setCurrentText("L-a")  # re-projecting nothing is fine


def test_a_new_space_clears_the_old_coordinates(view2d):
    view2d.set_pixels(*cloud(100), 100)
    view2d.set_space("oklab")  # same space: nothing happens
    assert len(view2d.cloud_cell_colors()) > 0
    view2d.set_space("rgb")
    assert len(view2d.cloud_cell_colors()) == 0


def test_mismatched_arrays_are_refused(view2d):
    rgb, coords = cloud(10)
    with pytest.raises(ValueError, match="same"):
        view2d.set_pixels(rgb, coords[:9], 10)
    with pytest.raises(ValueError, match="same"):
        view2d.set_centers(rgb[:, :2], coords)


def test_centre_updates_are_cheap(view2d):
    view2d.set_pixels(*cloud(5000), 5000)
    palettes = [cloud(16, seed=s) for s in range(100)]
    start = time.perf_counter()
    for pal, centres in palettes:
        view2d.set_centers(pal, centres)
    assert time.perf_counter() - start < 1.0


# -- 3D ------------------------------------------------------------------------------------------


def test_scene_normalisation_keeps_each_space_near_a_unit_cube():
    np.testing.assert_allclose(
        _SCENES["rgb"].project(np.array([[255.0, 0.0, 0.0], [0.0, 255.0, 255.0]])),
        [[0.5, -0.5, -0.5], [-0.5, 0.5, 0.5]],
    )
    # lab-like spaces: x = a, y = b, z = L centred on 0, the same scale on all three axes
    np.testing.assert_allclose(
        _SCENES["oklab"].project(np.array([[1.0, 0.1, -0.1]])), [[0.1, -0.1, 0.5]], atol=1e-7
    )
    np.testing.assert_allclose(
        _SCENES["lab"].project(np.array([[50.0, 20.0, -30.0]])), [[0.2, -0.3, 0.0]], atol=1e-7
    )


def test_3d_view_holds_the_points_or_says_why_not(view3d):
    rgb, coords = cloud(300)
    pal, centres = cloud(6, seed=1)
    view3d.set_space("rgb")
    view3d.set_pixels(rgb, coords, 9000)
    view3d.set_centers(pal, centres)
    view3d.reset_view()
    if not view3d.available:
        assert any(t.startswith(UNAVAILABLE) for t in label_texts(view3d))
        return
    assert len(view3d._pixels.pos) == 300
    np.testing.assert_allclose(view3d._pixels.pos, coords / 255 - 0.5, rtol=1e-6)
    np.testing.assert_allclose(view3d._pixels.color[:, :3], rgb / 255, rtol=1e-6)
    assert len(view3d._centers.pos) == 6
    assert view3d._count_label.text() == "300 of 9,000 pixels shown"
    view3d.clear()
    assert len(view3d._pixels.pos) == 0
    assert not view3d._centers.visible()


def test_3d_falls_back_to_a_label_without_pyopengl(qtbot, monkeypatch):
    monkeypatch.setattr(scatter_views, "_gl_context_error", lambda: None)
    monkeypatch.setitem(sys.modules, "pyqtgraph.opengl", None)  # import fails
    widget = ColorScatter3D()
    qtbot.addWidget(widget)
    assert widget.available is False
    (text,) = label_texts(widget)
    assert text.startswith(UNAVAILABLE) and "pyqtgraph.opengl" in text


def test_3d_falls_back_to_a_label_without_a_context_and_does_nothing(qtbot, monkeypatch):
    monkeypatch.setattr(scatter_views, "_gl_context_error", lambda: "no context here")
    widget = ColorScatter3D()
    qtbot.addWidget(widget)
    assert widget.available is False
    assert label_texts(widget) == [UNAVAILABLE + "no context here)"]
    widget.set_space("lab")
    widget.set_pixels(*cloud(10), 10)
    widget.set_centers(*cloud(2))
    widget.reset_view()
    widget.clear()
    with pytest.raises(ValueError):  # a wrong space name is still the caller's mistake
        widget.set_space("xyz")


# -- convergence chart ---------------------------------------------------------------------------


def test_chart_appends_points_and_clears(qtbot):
    chart = ConvergenceChart()
    qtbot.addWidget(chart)
    for i in range(300):  # one long start
        chart.add_point(i, 1000.0 / (i + 1), "clustering", i + 1)
    x, y = chart._curves["clustering"].getData()
    np.testing.assert_array_equal(x, np.arange(300))
    np.testing.assert_allclose(y, 1000.0 / np.arange(1, 301))

    chart.set_log_y(True)
    assert chart._log_box.isChecked()
    chart._log_box.setChecked(False)
    assert not chart._plot.getPlotItem().ctrl.logYCheck.isChecked()

    chart.clear()
    x, y = chart._curves["clustering"].getData()
    assert x is None or len(x) == 0
    assert chart.legend_texts() == []
    chart.add_point(0, 5.0, "polishing", 1)
    x, y = chart._curves["polishing"].getData()
    np.testing.assert_array_equal(y, [5.0])

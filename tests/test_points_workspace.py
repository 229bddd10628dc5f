"""The student's points workspace, driven through its real widgets (pytest-qt, offscreen).

Every expectation is recomputed here with ``core`` on the same state the workspace showed, so
the tests check that the GUI shows what k-means does, not a re-implementation of it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from palettelab.app.gui.launch import create_app
from palettelab.app.gui.points.worker import DRAW_LIMIT
from palettelab.app.gui.points.workspace import PointsWorkspace, cluster_color
from palettelab.core.clustering.kmeans import assign, update
from palettelab.core.clustering.metrics import adjusted_rand_index, confusion_matrix

TIMEOUT = 300_000  # ms: a fresh checkout compiles every kernel on the first job


@pytest.fixture
def workspace(qtbot):
    create_app()
    ws = PointsWorkspace(initial_dataset=None)
    qtbot.addWidget(ws)
    ws.resize(1200, 800)
    ws.show()
    errors: list[tuple[str, str]] = []
    ws.show_error = lambda title, message: errors.append((title, message))
    ws.errors = errors
    yield ws
    ws.close_worker()


def load(qtbot, ws: PointsWorkspace, name: str):
    """Load a data set and wait for its starting centres."""
    with qtbot.waitSignal(ws.initialised, timeout=TIMEOUT):
        ws.load_dataset(name)
    return ws.points()


def click(qtbot, ws: PointsWorkspace, button) -> object:
    """Click a step button and return the state it produced."""
    with qtbot.waitSignal(ws.stepDone, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_assign_then_update_match_core(qtbot, workspace):
    X = load(qtbot, workspace, "blobs").X
    start = workspace.centers()
    assert workspace.labels() is None
    click(qtbot, workspace, workspace.assign_button)
    expected_labels, sq_dist = assign(X, start)
    np.testing.assert_array_equal(workspace.labels(), expected_labels)
    np.testing.assert_array_equal(workspace.centers(), start)  # E leaves the centres alone
    assert workspace.inertia_label.text() == f"inertia {sq_dist.sum():,.1f}"
    click(qtbot, workspace, workspace.update_button)
    np.testing.assert_allclose(workspace.centers(),
                               update(X, expected_labels, 4, old_centers=start))
    np.testing.assert_array_equal(workspace.labels(), expected_labels)  # M leaves the labels
    assert workspace.iteration_label.text().startswith("iteration 1")
    assert len(workspace.trail.xData) == 2 * 4  # one old -> new segment per centre
    assert workspace.voronoi.image is not None  # 2-D data: regions shaded
    qtbot.waitUntil(lambda: len(workspace.inertia_curve.xData) == 2)  # drawn in a turn of its own
    # reset goes back to the starting centres
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.reset_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(workspace.centers(), start)
    assert workspace.labels() is None


def test_voronoi_cells_take_their_centres_colour(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    image = workspace.voronoi.image
    if workspace.voronoi.axisOrder != "row-major":
        image = image.swapaxes(0, 1)
    (x0, x1), (y0, y1) = workspace.view_box.viewRange()
    rows, cols = image.shape[:2]
    for i, (x, y) in enumerate(workspace.centers()):
        col = round((x - x0) / (x1 - x0) * (cols - 1))
        row = round((y - y0) / (y1 - y0) * (rows - 1))
        assert tuple(image[row, col, :3]) == cluster_color(i).getRgb()[:3]


def test_play_runs_to_convergence(qtbot, workspace):
    X = load(qtbot, workspace, "blobs").X
    workspace.speed_slider.setValue(20)
    qtbot.mouseClick(workspace.play_button, Qt.MouseButton.LeftButton)
    assert workspace.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not workspace.play_button.isChecked(), timeout=TIMEOUT)
    assert "Converged" in workspace.status_label.text()
    labels, _ = assign(X, workspace.centers())
    np.testing.assert_array_equal(workspace.labels(), labels)  # a fixed point of E


def data_to_widget(ws: PointsWorkspace, x: float, y: float):
    scene = ws.view_box.mapViewToScene(QPointF(x, y))
    return ws.plot_widget.mapFromScene(scene)


def test_manual_init_places_clicked_centres(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    workspace.init_combo.setCurrentText("manual")
    assert workspace.centers() is None
    assert not workspace.assign_button.isEnabled()
    (x0, x1), (y0, y1) = workspace.view_box.viewRange()
    wanted = [(x0 + f * (x1 - x0), y0 + g * (y1 - y0))
              for f, g in ((0.2, 0.3), (0.7, 0.2), (0.4, 0.8), (0.8, 0.7))]
    clicked = []
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        for x, y in wanted:
            pos = data_to_widget(workspace, x, y)
            qtbot.mouseClick(workspace.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                             pos=pos)
            # the click lands on a whole pixel: the centre is that pixel's data point
            back = workspace.view_box.mapSceneToView(workspace.plot_widget.mapToScene(pos))
            clicked.append((back.x(), back.y()))
    np.testing.assert_allclose(workspace.centers(), np.array(clicked))
    np.testing.assert_allclose(workspace.centers(), np.array(wanted),
                               atol=0.02 * max(x1 - x0, y1 - y0))


def test_several_starts_listed_with_best(qtbot, workspace):
    load(qtbot, workspace, "varied")
    workspace.init_combo.setCurrentText("random")
    workspace.starts_spin.setValue(6)
    with qtbot.waitSignal(workspace.startsReady, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(workspace.starts_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    items = [workspace.starts_list.item(i).text() for i in range(workspace.starts_list.count())]
    assert len(items) == 6
    assert all(text.startswith(f"start {i + 1}: inertia ") for i, text in enumerate(items))
    best = [i for i, text in enumerate(items) if "★ best" in text]
    assert best == [int(np.argmin([s.inertia for s in result.starts]))]
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT):
        workspace.starts_list.setCurrentRow(best[0])
    np.testing.assert_array_equal(workspace.centers(), result.starts[best[0]].centers)
    np.testing.assert_array_equal(workspace.labels(), result.starts[best[0]].labels)


def test_elbow_and_silhouette_plotted(qtbot, workspace):
    from palettelab.core.clustering.metrics import elbow

    X = load(qtbot, workspace, "blobs").X
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    workspace.k_min_spin.setValue(2)
    workspace.k_max_spin.setValue(6)
    with qtbot.waitSignal(workspace.elbowReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.elbow_button, Qt.MouseButton.LeftButton)
    assert list(workspace.elbow_curve.xData) == [2, 3, 4, 5, 6]
    assert len(workspace.silhouette_curve.yData) == 5
    np.testing.assert_allclose(workspace.elbow_curve.yData, elbow(X, range(2, 7)))
    assert workspace.silhouette_note.text() == "silhouette: exact"
    assert int(np.argmax(workspace.silhouette_curve.yData)) == 2  # four blobs: k = 4 is best
    bars = [item for item in workspace.bars_plot.getPlotItem().items
            if isinstance(item, pg.BarGraphItem)]
    assert len(bars) == 4  # one bar group per cluster
    # issue 18: clicking a k on either chart uses it
    workspace.tabs.setCurrentIndex(1)
    for chart, k in ((workspace.elbow_plot, 5), (workspace.silhouette_plot, 3)):
        qtbot.waitUntil(chart.isVisible)
        y = float(np.mean(chart.getViewBox().viewRange()[1]))
        scene = chart.getViewBox().mapViewToScene(QPointF(k + 0.1, y))
        with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
            qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton,
                             pos=chart.mapFromScene(scene))
        assert workspace.k_spin.value() == k and len(workspace.centers()) == k


def test_spectral_separates_moons(qtbot, workspace):
    points = load(qtbot, workspace, "moons")
    workspace.k_spin.setValue(2)
    workspace.method_combo.setCurrentText("spectral")
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].method == "spectral"
    assert adjusted_rand_index(workspace.labels(), points.labels) >= 0.95
    assert workspace.voronoi.image is None  # regions would be wrong for a non-linear split


def test_digits_centre_images_and_accuracy(qtbot, workspace):
    points = load(qtbot, workspace, "digits")
    assert points.X.shape[1] == 64
    assert workspace.k_spin.value() == 10  # from the number of known classes
    assert workspace.view_combo.currentText() == "PCA"
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    assert len(workspace.centre_images) == 10
    assert all(image.shape == (8, 8) for image in workspace.centre_images)
    assert workspace.strip_area.isVisible()
    text = workspace.accuracy_label.text()
    assert text.startswith("accuracy ") and "most common label" in text
    assert float(text.split()[1]) > 0.5
    image = workspace.confusion_image.image
    if workspace.confusion_image.axisOrder != "row-major":
        image = image.swapaxes(0, 1)
    matrix = confusion_matrix(points.labels, workspace.labels())
    order = workspace.confusion_order  # issue 18: matches on the diagonal
    np.testing.assert_array_equal(image, matrix[:, order])
    assert sorted(order.tolist()) == list(range(10))
    majority = matrix.argmax(axis=0)
    assert (np.diff(majority[order]) >= 0).all()  # each class's clusters side by side
    assert (np.diag(matrix[:, order]) == matrix[:, order].max(axis=0)).sum() >= 7
    # each centre image is captioned with its cluster's most common digit
    names = points.label_names
    for cluster, caption in enumerate(workspace.centre_captions):
        assert caption.startswith(f"→ {names[majority[cluster]]} (")


def test_bad_file_reports_and_keeps_data(qtbot, workspace, tmp_path):
    previous = load(qtbot, workspace, "blobs")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    workspace.open_path(str(bad))
    qtbot.waitUntil(lambda: bool(workspace.errors), timeout=TIMEOUT)
    assert "bad.csv" in workspace.errors[0][1]
    assert workspace.points() is previous
    assert workspace.data_combo.currentText() == "blobs"


def choose_labels(qtbot, ws: PointsWorkspace, text: str):
    """Pick ``text`` in the Labels box and wait for the file to be read again."""
    with qtbot.waitSignal(ws.initialised, timeout=TIMEOUT):
        ws.labels_combo.setCurrentText(text)
    return ws.points()


def test_labels_box_picks_the_label_column(qtbot, workspace, tmp_path):
    load(qtbot, workspace, "blobs")
    assert not workspace.labels_combo.isEnabled()  # a sample set: nothing to choose
    path = tmp_path / "xy.csv"
    path.write_text("x,y,label\n0,0,0\n0,1,0\n5,5,1\n5,6,1\n9,0,2\n")
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace.open_path(str(path))
    combo = workspace.labels_combo
    assert combo.isEnabled()
    assert [combo.itemText(i) for i in range(combo.count())] == ["auto", "none", "x", "y",
                                                                 "label"]
    assert combo.currentText() == "auto"
    assert workspace.points().X.shape == (5, 2) and workspace.points().label_names == ("0", "1",
                                                                                      "2")
    points = choose_labels(qtbot, workspace, "none")
    assert points.X.shape == (5, 3) and points.columns == ("x", "y", "label")
    assert points.labels is None
    assert [workspace.x_combo.itemText(i) for i in range(3)] == ["x", "y", "label"]
    assert workspace.accuracy_label.text() == "No ground-truth labels in this data."
    points = choose_labels(qtbot, workspace, "label")
    assert points.columns == ("x", "y")
    np.testing.assert_array_equal(points.labels, [0, 0, 1, 1, 2])
    assert combo.currentText() == "label"
    points = choose_labels(qtbot, workspace, "x")
    assert points.columns == ("y", "label") and points.label_names == ("0", "5", "9")
    assert not workspace.errors


def test_labels_box_goes_back_after_a_failed_read(qtbot, workspace, tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("x,y,label\n0,0,a\n0,1,a\n5,5,b\n")
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace.open_path(str(path))
    previous = workspace.points()
    workspace.labels_combo.setCurrentText("none")  # 'a' is not a number
    qtbot.waitUntil(lambda: bool(workspace.errors), timeout=TIMEOUT)
    assert "row 2, column 'label'" in workspace.errors[0][1]
    assert workspace.points() is previous
    assert workspace.labels_combo.currentText() == "auto"


def test_large_sets_show_a_sample(qtbot, workspace, tmp_path):
    path = tmp_path / "many.npy"
    np.save(path, np.random.default_rng(0).normal(size=(30_000, 2)))
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace.open_path(str(path))
    assert workspace.shown_label.text() == f"{DRAW_LIMIT:,} of 30,000 points shown"
    assert sum(workspace.cloud.counts()) == DRAW_LIMIT


def test_close_worker_stops_the_thread(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    workspace.close_worker()
    assert workspace.worker.thread().isFinished()
    assert not workspace.worker.is_running()


# --- issue 13: what a first-time student hits ---------------------------------------------------


def test_spectral_disables_the_steps_and_k_means_starts_anew(qtbot, workspace):
    """Assign, Update and Play step k-means: with spectral they are off (one Assign used to
    turn the spectral result into a k-means step, accuracy 1.00 -> 0.79, under "spectral:
    done."); back on k-means the student gets new starting centres, and is told so."""
    points = load(qtbot, workspace, "moons")
    workspace.k_spin.setValue(2)
    qtbot.waitUntil(lambda: workspace.centers() is not None
                    and len(workspace.centers()) == 2, timeout=TIMEOUT)
    workspace.method_combo.setCurrentText("spectral")
    steps = (workspace.assign_button, workspace.update_button, workspace.play_button)
    assert not any(button.isEnabled() for button in steps)
    assert "press Run to convergence" in workspace.status_label.text()
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    spectral = workspace.labels()
    assert adjusted_rand_index(spectral, points.labels) >= 0.95
    assert not any(button.isEnabled() for button in steps)
    assert not workspace.reset_button.isEnabled()  # a spectral result has no starting centres
    qtbot.mouseClick(workspace.assign_button, Qt.MouseButton.LeftButton)  # disabled: no-op
    qtbot.wait(200)
    np.testing.assert_array_equal(workspace.labels(), spectral)
    assert workspace.status_label.text().startswith("spectral: done.")
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace.method_combo.setCurrentText("k-means")
    assert workspace.labels() is None
    assert all(button.isEnabled() for button in steps)
    assert workspace.status_label.text().startswith("Starting centres placed: press Assign (E)")


def test_mini_batch_has_no_half_steps(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    workspace.method_combo.setCurrentText("mini-batch")
    assert not workspace.assign_button.isEnabled() and not workspace.play_button.isEnabled()
    assert workspace.reset_button.isEnabled()  # back to the starting centres still applies
    workspace.method_combo.setCurrentText("k-means")  # nothing else was shown: nothing lost
    assert workspace.assign_button.isEnabled()


def test_manual_init_several_starts_say_they_use_k_means_plus_plus(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    workspace.init_combo.setCurrentText("manual")
    workspace.starts_spin.setValue(3)
    with qtbot.waitSignal(workspace.startsReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.starts_button, Qt.MouseButton.LeftButton)
        assert "from k-means++ centres (manual init" in workspace.status_label.text()
    text = workspace.status_label.text()
    assert text.startswith("3 k-means starts from k-means++ centres (manual init places only "
                           "one start, by hand)")


def test_manual_init_run_waits_for_the_centres(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    workspace.init_combo.setCurrentText("manual")
    with qtbot.assertNotEmitted(workspace.resultReady, wait=500):
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    assert workspace.status_label.text().startswith("Place the 4 starting centres first")


def test_hint_follows_the_state(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    assert workspace.status_label.text() == "Starting centres placed: press Assign (E), or Play."
    click(qtbot, workspace, workspace.assign_button)
    assert "press Update (M)" in workspace.status_label.text()
    assert "Assign" not in workspace.status_label.text()
    click(qtbot, workspace, workspace.update_button)
    assert "press Assign (E)" in workspace.status_label.text()
    assert workspace.stats_label.text().startswith("k-means  k=4  iteration 1 (after M)  inertia")


def test_data_box_names_the_opened_file(qtbot, workspace, tmp_path):
    load(qtbot, workspace, "blobs")
    path = tmp_path / "pts.csv"
    path.write_text("a,b\n0,0\n0,1\n5,5\n5,6\n9,0\n9,1\n", encoding="utf-8")
    with qtbot.waitSignal(workspace.fileLoaded, timeout=TIMEOUT) as opened:
        workspace.open_path(str(path))
    assert opened.args == [str(path)]
    qtbot.waitUntil(lambda: workspace.centers() is not None, timeout=TIMEOUT)
    combo = workspace.data_combo
    assert combo.currentText() == "pts.csv"
    assert combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) == str(path)
    assert combo.itemText(combo.count() - 1) == "Open file…"
    load(qtbot, workspace, "moons")
    assert combo.currentText() == "moons"
    with qtbot.waitSignal(workspace.fileLoaded, timeout=TIMEOUT):  # the file's item reads it
        combo.activated.emit(combo.findText("pts.csv"))
    assert combo.currentText() == "pts.csv" and workspace.points().X.shape == (6, 2)


def bar_rects(ws: PointsWorkspace) -> list:
    """The scene rectangle of every bar of the silhouette plot (one per point)."""
    rects = []
    for item in ws.bars_plot.getPlotItem().items:
        if isinstance(item, pg.BarGraphItem):
            opts = item.opts
            for x0, w, y in zip(opts["x0"], opts["width"], opts["y"], strict=True):
                rect = item.mapRectToScene(QRectF(min(x0, x0 + w), y - 0.5, abs(w), 1.0))
                rects.append(rect)
    return rects


def test_silhouette_mean_is_not_written_over_the_bars(qtbot, workspace):
    load(qtbot, workspace, "blobs")
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    workspace.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(workspace.elbowReady, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(workspace.elbow_button, Qt.MouseButton.LeftButton)
    qtbot.wait(100)  # layout
    texts = []
    for item in workspace.bars_plot.getPlotItem().items:
        if isinstance(item, pg.TextItem):
            texts.append(item)
        if isinstance(item, pg.InfiniteLine) and getattr(item, "label", None) is not None:
            texts.append(item.label)
    bars = bar_rects(workspace)
    assert bars
    assert not [t for t in texts for bar in bars if t.sceneBoundingRect().intersects(bar)]
    mean = float(blocker.args[0].samples.mean())
    assert f"mean {mean:.2f}" in workspace.bars_plot.getPlotItem().titleLabel.text
    ticks = workspace.bars_plot.getAxis("left")._tickLevels[0]
    assert [label for _, label in ticks] == ["0", "1", "2", "3"]


# --- exports (issue 18) -----------------------------------------------------------------------


def test_labels_animation_and_plots_export(qtbot, workspace, tmp_path):
    from PIL import Image

    from palettelab.app.gui.plot_export import export_plot

    load(qtbot, workspace, "blobs")
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    per_x, per_y = workspace.view_box.viewPixelSize()  # equal scales: circles stay round
    assert per_x == pytest.approx(per_y, rel=0.01)
    # labels: chosen type's extension added, one integer a line in file order
    workspace._ask_save_path = lambda title, types: str(tmp_path / "labels.csv")
    with qtbot.waitSignal(workspace.exported, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.export_labels_button, Qt.MouseButton.LeftButton)
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert lines[0] == "label"
    np.testing.assert_array_equal([int(v) for v in lines[1:]], workspace.labels())
    # the animation: one frame per step of the run shown, the last with its labels
    workspace._ask_save_path = lambda title, types: str(tmp_path / "run.gif")
    with qtbot.waitSignal(workspace.exported, timeout=TIMEOUT):
        qtbot.mouseClick(workspace.export_animation_button, Qt.MouseButton.LeftButton)
    with Image.open(tmp_path / "run.gif") as im:
        assert im.n_frames == workspace._state.iteration >= 2
    # every plot as PNG and SVG
    for name, plot in (("scatter", workspace.plot_widget), ("inertia", workspace.inertia_plot)):
        export_plot(plot, tmp_path / f"{name}.png")
        export_plot(plot, tmp_path / f"{name}.svg")
        with Image.open(tmp_path / f"{name}.png") as im:
            assert im.width >= 2 * plot.getPlotItem().sceneBoundingRect().width() - 2
        assert "<svg" in (tmp_path / f"{name}.svg").read_text()
    menu = workspace.plot_widget.getPlotItem().getViewBox().menu
    assert any(a.text() == "Save Plot as PNG or SVG…" for a in menu.actions())


# --- the t-SNE view (issue 18, item 1) ---------------------------------------------------------


def test_the_tsne_view_animates_and_shows_the_map(qtbot, workspace):

    from palettelab.core.clustering.tsne import TSNE

    points = load(qtbot, workspace, "iris")  # small: the digits took 20 s of the suite here
    frames = []
    workspace.worker.embedding.connect(lambda e: frames.append(e.iteration))
    with qtbot.waitSignal(workspace.embedded, timeout=TIMEOUT) as done:
        workspace.view_combo.setCurrentText("t-SNE")
    shown = workspace._loaded.shown
    expected = TSNE().fit_transform(points.X)[shown]
    np.testing.assert_array_equal(done.args[0].coords, expected)
    np.testing.assert_array_equal(workspace._coords, expected)
    assert len(frames) >= 3 and frames == sorted(frames)  # it moved on screen as it formed
    assert not workspace.x_combo.isEnabled()
    assert workspace.plot_widget.getAxis("bottom").labelText == "t-SNE 1"
    with qtbot.waitSignal(workspace.resultReady, timeout=TIMEOUT) as result:
        qtbot.mouseClick(workspace.run_button, Qt.MouseButton.LeftButton)
    labels = result.args[0].labels[shown]
    centres = workspace.centres_item.getData()
    for c in range(workspace.k_spin.value()):
        mean = expected[labels == c].mean(axis=0)
        assert centres[0][c] == pytest.approx(mean[0]) and centres[1][c] == pytest.approx(mean[1])
    with qtbot.waitSignal(workspace.embedded, timeout=TIMEOUT):  # made once: sent at once
        workspace.view_combo.setCurrentText("PCA")
        workspace._tsne_coords = None
        workspace.view_combo.setCurrentText("t-SNE")


# --- the canvas (issue 18, item 3) -------------------------------------------------------------


def _plot_pos(ws: PointsWorkspace, x: float, y: float):
    """Widget coordinates of data point (x, y) in the scatter."""
    scene = ws.view_box.mapViewToScene(QPointF(x, y))
    return ws.plot_widget.mapFromScene(scene)


def test_drag_a_centre_add_and_remove_points_and_undo(qtbot, workspace):
    X = load(qtbot, workspace, "blobs").X
    viewport = workspace.plot_widget.viewport()
    start = workspace.centers()
    # drag centre 0 to the middle of the data, with the real mouse
    workspace.canvas_buttons["drag"].click()
    target = X.mean(axis=0)
    begin = _plot_pos(workspace, *start[0])
    end = _plot_pos(workspace, *target)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=begin)
    for t in (0.3, 0.6, 1.0):
        qtbot.mouseMove(viewport, begin + (end - begin) * t)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    qtbot.waitUntil(lambda: workspace._state.phase == "edit", timeout=TIMEOUT)
    moved = workspace.centers()
    assert np.linalg.norm(moved[0] - target) < 0.05 * np.ptp(X, axis=0).max()
    np.testing.assert_array_equal(moved[1:], start[1:])
    # add two points by clicking, remove one by clicking on it
    workspace.canvas_buttons["add"].click()
    assert not workspace.canvas_buttons["drag"].isChecked()
    corner = X.max(axis=0) + 1.0
    for offset in (0.0, 0.5):
        with qtbot.waitSignal(workspace.pointsEdited, timeout=TIMEOUT):
            qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                             pos=_plot_pos(workspace, *(corner + offset)))
    assert len(workspace.points().X) == len(X) + 2
    np.testing.assert_allclose(workspace.points().X[-2], corner, atol=0.05)
    workspace.canvas_buttons["remove"].click()
    with qtbot.waitSignal(workspace.pointsEdited, timeout=TIMEOUT):
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                         pos=_plot_pos(workspace, *workspace.points().X[5]))
    after = workspace.points().X
    assert len(after) == len(X) + 1
    assert not any(np.array_equal(row, X[5]) for row in after)
    # undo, step by step: the point back, the added points gone, the centre back
    for n in (len(X) + 2, len(X) + 1, len(X)):
        with qtbot.waitSignal(workspace.pointsEdited, timeout=TIMEOUT):
            qtbot.mouseClick(workspace.undo_edit_button, Qt.MouseButton.LeftButton)
        assert len(workspace.points().X) == n
    qtbot.mouseClick(workspace.undo_edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: np.array_equal(workspace.centers(), start), timeout=TIMEOUT)
    np.testing.assert_array_equal(workspace.points().X, X)


def test_the_canvas_is_for_2d_data_only(qtbot, workspace):
    load(qtbot, workspace, "iris")
    assert not any(b.isEnabled() for b in workspace.canvas_buttons.values())
    load(qtbot, workspace, "moons")
    assert all(b.isEnabled() for b in workspace.canvas_buttons.values())


def test_generated_sets_take_their_settings(qtbot, workspace):
    from palettelab.core.datasets import make_dataset

    workspace.data_combo.setCurrentText("moons")
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace._data_chosen(workspace.data_combo.currentIndex())
    assert workspace.size_spin.value() == 200 and workspace.noise_spin.isEnabled()
    assert not workspace.spread_spin.isEnabled()
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace.noise_spin.setValue(0.2)
    np.testing.assert_array_equal(workspace.points().X,
                                  make_dataset("moons", noise=0.2).X)
    with qtbot.waitSignal(workspace.initialised, timeout=TIMEOUT):
        workspace.size_spin.setValue(500)
    assert len(workspace.points().X) == 500
    load(qtbot, workspace, "digits")
    assert not workspace.size_spin.isEnabled()

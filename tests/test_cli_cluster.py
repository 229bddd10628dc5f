"""``palettelab cluster``: label files, JSON summary, methods, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from palettelab.app.cli.main import main
from palettelab.core.clustering.metrics import adjusted_rand_index
from palettelab.core.datasets import make_dataset


def write_csv(path: Path, X: np.ndarray, labels: np.ndarray | None = None) -> Path:
    header = ",".join(f"x{i}" for i in range(X.shape[1]))
    rows = [",".join(f"{v:.6f}" for v in row) for row in X]
    if labels is not None:
        header += ",label"
        rows = [f"{r},{int(c)}" for r, c in zip(rows, labels, strict=True)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def read_labels(path: Path) -> np.ndarray:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label"
    return np.array([int(v) for v in lines[1:]])


@pytest.fixture
def blobs(tmp_path) -> tuple[Path, np.ndarray]:
    data = make_dataset("blobs")
    return write_csv(tmp_path / "blobs.csv", data.X, data.labels), data.labels


@pytest.mark.parametrize("method", ["kmeans", "minibatch", "spectral"])
def test_each_method_recovers_the_blobs(blobs, tmp_path, capsys, method):
    path, truth = blobs
    out = tmp_path / "labels.csv"
    assert main(["cluster", str(path), "-k", "4", "-o", str(out), "--method", method,
                 "--json", "--n-init", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"n_clusters", "inertia", "n_iter", "seconds"} <= summary.keys()
    assert summary["n_clusters"] == 4 and summary["accuracy"] >= 0.99
    labels = read_labels(out)
    assert labels.shape == truth.shape and set(labels.tolist()) == {0, 1, 2, 3}
    assert adjusted_rand_index(labels, truth) >= 0.99


def test_spectral_separates_the_moons_where_kmeans_cannot(tmp_path, capsys):
    data = make_dataset("moons")
    path = write_csv(tmp_path / "moons.csv", data.X)
    scores = {}
    for method in ("kmeans", "spectral"):
        out = tmp_path / f"{method}.csv"
        assert main(["cluster", str(path), "-k", "2", "-o", str(out), "--method", method]) == 0
        scores[method] = adjusted_rand_index(read_labels(out), data.labels)
    assert scores["spectral"] >= 0.95 and scores["kmeans"] < 0.7


def test_same_seed_same_labels_and_init_choice(blobs, tmp_path):
    path, _ = blobs
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.csv"
        assert main(["cluster", str(path), "-k", "5", "-o", str(out), "--init", "random",
                     "--seed", "3"]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.parametrize("args, code, message", [
    (["-k", "0"], 2, "-k must be at least 1"),
    (["-k", "x"], 2, "invalid int value"),
    (["-k", "3", "--method", "dbscan"], 2, "invalid choice"),
    (["-k", "3", "--n-init", "0"], 2, "--n-init must be at least 1"),
    (["-k", "10000"], 1, "n_clusters"),
])
def test_bad_arguments(blobs, tmp_path, capsys, args, code, message):
    path, _ = blobs
    argv = ["cluster", str(path), *args, "-o", str(tmp_path / "l.csv")]
    if code == 2:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    else:
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "l.csv").exists()


def test_bad_files_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,oops\n", encoding="utf-8")
    cases = [(tmp_path / "missing.csv", "no such file"), (bad, "row 3")]
    for path, message in cases:
        assert main(["cluster", str(path), "-k", "2", "-o", str(tmp_path / "l.csv")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("palettelab: error: ") and message in err and "\n" not in err


def test_missing_output_folder_is_checked_first(blobs, tmp_path, capsys):
    path, _ = blobs
    assert main(["cluster", str(path), "-k", "2", "-o", str(tmp_path / "no" / "l.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_existing_labels_survive_a_failed_run(tmp_path):
    out = tmp_path / "labels.csv"
    out.write_text("label\n7\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n1,nan\n", encoding="utf-8")
    assert main(["cluster", str(bad), "-k", "1", "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "label\n7\n"


# --- --animate (issue 18, item 2) --------------------------------------------------------------


def _frames(path: Path) -> list[np.ndarray]:
    from PIL import Image

    with Image.open(path) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB")))
        return out


def test_animate_writes_one_frame_per_step(blobs, tmp_path, capsys):
    path, _truth = blobs
    gif = tmp_path / "steps.gif"
    assert main(["cluster", str(path), "-k", "4", "--init", "random", "-o",
                 str(tmp_path / "l.csv"), "--animate", str(gif), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    frames = _frames(gif)
    assert len(frames) == summary["frames"] == summary["n_iter"] >= 3
    assert frames[0].shape == (480, 640, 3)
    assert not np.array_equal(frames[0], frames[-1])  # the centres moved


def test_the_replayed_run_ends_in_the_labels_written(blobs, tmp_path):
    from palettelab.core.points_session import PointsSession

    path, _truth = blobs
    session = PointsSession.load(path, k=4, init="k-means++", seed=3)
    session.fit("k-means", n_init=5)
    steps = session.replay()
    np.testing.assert_array_equal(steps[-1].labels, session.labels)
    assert steps[-1].inertia == pytest.approx(session.inertia)


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "spectral"], "--method kmeans"),
    (["--animate", "steps.png"], "use .gif"),
])
def test_animate_usage(blobs, tmp_path, capsys, args, message):
    path, _truth = blobs
    argv = ["cluster", str(path), "-k", "3", "-o", str(tmp_path / "l.csv")]
    if "--animate" not in args:
        argv += ["--animate", str(tmp_path / "s.gif")]
    argv += [a if a != "steps.png" else str(tmp_path / "steps.png") for a in args]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code in (1, 2)
    assert message in capsys.readouterr().err
    assert not (tmp_path / "l.csv").exists()

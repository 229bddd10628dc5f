"""Hostile input and faults on the command line (issue 14): usage errors exit 2, failures one line
naming the file and exit 1, Ctrl-C and SIGTERM exit 130, no traceback, no damaged or leftover
file.  The item numbers are the issue's."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab.app.cli.main import check_display, main
from palettelab.app.cli.runtime import batch_process
from palettelab.core.errors import InputError
from palettelab.core.formats.image_write import check_image_size, save_image
from palettelab.core.quantization import _remap_kernels as remap_kernels
from palettelab.core.quantization.pipeline import remap

REPO = Path(__file__).resolve().parent.parent
LINUX = sys.platform.startswith("linux")


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "in.png"
    Image.fromarray(_noise(24, 32)).save(path)
    return path


@pytest.fixture
def points(tmp_path) -> Path:
    X = np.random.default_rng(0).normal(size=(300, 2))
    path = tmp_path / "points.csv"
    path.write_text("x,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in X), encoding="utf-8")
    return path


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("palettelab: error: "), err
    return lines[0]


def _usage(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def _run(*args, cwd: Path, env: dict | None = None, timeout: float = 300,
         **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "palettelab", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout, **kwargs)


# --- item 3: seeds are checked by argparse --------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1e3", "x"])
@pytest.mark.parametrize("command", ["quantize", "kmeans", "minibatch", "spectral"])
def test_a_bad_seed_is_a_usage_error(tmp_path, photo, points, capsys, command, seed):
    out = tmp_path / ("out.png" if command == "quantize" else "labels.csv")
    if command == "quantize":
        line = _usage(capsys, "quantize", photo, "-k", 4, "-o", out, "--seed", seed)
    else:
        line = _usage(capsys, "cluster", points, "-k", 2, "-o", out, "--method", command,
                      "--seed", seed)
    assert "--seed" in line and seed in line
    assert not out.exists()


def test_the_largest_seed_is_accepted(tmp_path, points):
    assert main(["cluster", str(points), "-k", "2", "-o", str(tmp_path / "l.csv"),
                 "--seed", str(2**32 - 1)]) == 0


# --- item 5: format size limits, before the work ----------------------------------------------


@pytest.mark.parametrize("ext, width, limit", [(".gif", 65536, "65,535"),
                                              (".webp", 16384, "16,383")])
def test_an_image_too_wide_for_the_format_is_refused_before_quantizing(tmp_path, capsys, ext,
                                                                        width, limit):
    source = tmp_path / "wide.png"
    Image.fromarray(_noise(1, width)).save(source)
    out = tmp_path / f"out{ext}"
    assert main(["quantize", str(source), "-k", "4", "-o", str(out)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"palettelab: error: {out}: ") and limit in line
    assert _names(tmp_path) == ["wide.png"]


@pytest.mark.parametrize("name, height, width, alpha, match", [
    ("x.gif", 65536, 1, False, "65,535"),
    ("x.bmp", 70000, 70000, False, "4 GiB"),
    ("x.tif", 40000, 40000, True, "4 GiB"),
    ("x.png", 2**31, 1, False, "2,147,483,647"),
])
def test_format_limits(name, height, width, alpha, match):
    with pytest.raises(InputError, match=match):
        check_image_size(name, height, width, alpha=alpha)


def test_limits_leave_storable_sizes_alone():
    check_image_size("x.tif", 40000, 40000, alpha=False)  # 1.5 GiB indexed
    check_image_size("x.gif", 65535, 65535, alpha=False)
    check_image_size("x.webp", 16383, 16383, alpha=True)


def test_save_image_checks_the_limit_too(tmp_path):
    q = remap(_noise(1, 16384), np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    with pytest.raises(InputError, match="16,383"):
        save_image(tmp_path / "x.webp", q)
    assert _names(tmp_path) == []


# --- item 6: all outputs of a run or none -------------------------------------------------


def _fail_fsync_of(monkeypatch, fragment: str) -> None:
    """A full disk while one file is written: fsync of a temporary file whose name contains
    ``fragment`` fails with ENOSPC."""
    real_fsync = os.fsync

    def fsync(fd):
        if fragment in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not LINUX, reason="reads /proc/self/fd")
def test_a_failed_palette_write_keeps_the_image(tmp_path, photo, capsys, monkeypatch):
    out, pal = tmp_path / "out.png", tmp_path / "pal.gpl"
    out.write_bytes(b"previous image")
    pal.write_bytes(b"previous palette")
    _fail_fsync_of(monkeypatch, "pal.gpl")
    assert main(["quantize", str(photo), "-k", "4", "-o", str(out), "--palette", str(pal)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert line == f"palettelab: error: {pal}: cannot write (No space left on device)"
    assert out.read_bytes() == b"previous image"
    assert pal.read_bytes() == b"previous palette"
    assert _names(tmp_path) == ["in.png", "out.png", "pal.gpl"]


# --- item 7: one file for two outputs is a usage error ----------------------------------------


@pytest.mark.parametrize("how", ["same", "dot", "symlink", "hardlink"])
def test_one_file_for_two_outputs_is_a_usage_error(tmp_path, photo, capsys, how):
    out = tmp_path / "x.png"
    out.write_bytes(b"keep me")
    other = {"same": out, "dot": tmp_path / "." / "x.png", "symlink": tmp_path / "sym.png",
             "hardlink": tmp_path / "hard.png"}[how]
    if how == "symlink":
        other.symlink_to(out)
    elif how == "hardlink":
        os.link(out, other)
    line = _usage(capsys, "quantize", photo, "-k", 4, "-o", out, "--palette", other)
    assert "-o and --palette name the same file" in line
    assert out.read_bytes() == b"keep me"


# --- items 8, 9: Ctrl-C and SIGTERM -----------------------------------------------------------


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_exits_130_in_one_line_and_leaves_no_file(tmp_path, signum):
    source = tmp_path / "big.bmp"
    Image.fromarray(_noise(2400, 3200)).save(source)
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")
    child = subprocess.Popen([sys.executable, "-m", "palettelab", "quantize", str(source),
                              "-k", "64", "--dither", "fs", "-o", str(out), "--palette",
                              str(tmp_path / "pal.gpl")], cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # numpy is imported inside the command (its BLAS threads appear): the run has begun
    deadline = time.monotonic() + 120
    while child.poll() is None and _threads(child.pid) == 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    child.send_signal(signum)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert stdout == ""
    assert stderr == "palettelab: interrupted\n"
    assert out.read_bytes() == b"previous result"
    assert _names(tmp_path) == ["big.bmp", "out.png"]


def test_floyd_steinberg_bands_give_the_same_bytes(monkeypatch):
    """The kernel runs in bands so that signals are handled between them; the result must
    not depend on where the bands split (one row per band against one band)."""
    rgba = np.dstack([_noise(37, 53, seed=4), np.full((37, 53), 255, np.uint8)])
    rgba[5:9, 10:20, 3] = 0  # transparent pixels take no part in the diffusion
    palette = _noise(1, 12, seed=5)[0]
    for image in (rgba, rgba[..., :3].copy()):
        results = []
        for band in (1 << 40, 53 * 5, 1):  # one call, five rows a call, one row a call
            monkeypatch.setattr(remap_kernels, "FS_BAND_PIXELS", band)
            results.append(remap(image, palette, dither="fs", dither_strength=0.8).indices)
        np.testing.assert_array_equal(results[0], results[1])
        np.testing.assert_array_equal(results[0], results[2])


def test_a_run_removes_stale_temporary_files_of_killed_runs(tmp_path, photo):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.png.plab{dead.pid}-abcd1234.part"
    stale.write_bytes(b"left by kill -9")
    then = time.time() - 3600
    os.utime(stale, (then, then))
    assert main(["quantize", str(photo), "-k", "4", "-o", str(tmp_path / "out.png")]) == 0
    assert _names(tmp_path) == ["in.png", "out.png"]


# --- item 10: long names -------------------------------------------------------------------


def test_the_longest_names_can_be_written(tmp_path, photo, points):
    stem = "n" * (os.pathconf(tmp_path, "PC_NAME_MAX") - 4)
    out, pal, labels = (tmp_path / f"{stem}{ext}" for ext in (".png", ".gpl", ".csv"))
    assert main(["quantize", str(photo), "-k", "4", "-o", str(out), "--palette", str(pal)]) == 0
    assert main(["cluster", str(points), "-k", "2", "-o", str(labels)]) == 0
    assert all(p.stat().st_size > 0 for p in (out, pal, labels))


# --- item 11: write errors name the output, never the temporary file --------------------------


@pytest.mark.skipif(not LINUX, reason="reads /proc/self/fd")
@pytest.mark.parametrize("command", ["quantize", "cluster"])
def test_write_errors_name_the_output(tmp_path, photo, points, capsys, monkeypatch, command):
    _fail_fsync_of(monkeypatch, ".part")
    if command == "quantize":
        out = tmp_path / "out.png"
        status = main(["quantize", str(photo), "-k", "4", "-o", str(out)])
    else:
        out = tmp_path / "labels.csv"
        status = main(["cluster", str(points), "-k", "2", "-o", str(out)])
    assert status == 1
    line = _error_line(capsys.readouterr().err)
    assert line == f"palettelab: error: {out}: cannot write (No space left on device)"
    assert not out.exists()


# --- item 12: the overwrite rule ----------------------------------------------------------


def test_a_replaced_output_keeps_its_mode(tmp_path, photo):
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    out.chmod(0o600)
    assert main(["quantize", str(photo), "-k", "4", "-o", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_read_only_output_is_refused_before_the_run(tmp_path, photo, capsys):
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    out.chmod(0o444)
    assert main(["quantize", str(photo), "-k", "4", "-o", str(out), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    line = _error_line(captured.err)
    assert line.startswith(f"palettelab: error: {out}: is read-only")
    assert out.read_bytes() == b"keep me"


# --- item 14: cluster -o --------------------------------------------------------------------


def test_cluster_dash_writes_the_labels_to_stdout(tmp_path, points, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["cluster", str(points), "-k", "2", "-o", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "label" and len(lines) == 301
    assert set(lines[1:]) == {"0", "1"}
    assert _names(tmp_path) == ["points.csv"]  # no file named "-"


@pytest.mark.parametrize("name", ["labels.png", "labels.json", "labels", "labels.csv.gz"])
def test_cluster_refuses_a_type_it_does_not_write(tmp_path, points, capsys, name):
    assert main(["cluster", str(points), "-k", "2", "-o", str(tmp_path / name)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert str(tmp_path / name) in line and ".csv, .tsv, .txt" in line
    assert _names(tmp_path) == ["points.csv"]


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".txt", ".CSV"])
def test_cluster_writes_csv_tsv_and_txt(tmp_path, points, ext):
    out = tmp_path / f"labels{ext}"
    assert main(["cluster", str(points), "-k", "2", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "label"


def test_cluster_dash_and_json_is_a_usage_error(points, capsys):
    assert "standard output" in _usage(capsys, "cluster", points, "-k", 2, "-o", "-", "--json")


# --- item 15: --json is JSON or an error, warnings never raw ------------------------------------


def test_an_overflowing_inertia_is_null_with_a_note(tmp_path):
    X = np.random.default_rng(0).uniform(-1, 1, size=(60, 2)) * 1.7e308
    source = tmp_path / "huge.csv"
    source.write_text("x,y\n" + "".join(f"{a:.6e},{b:.6e}\n" for a, b in X), encoding="utf-8")
    proc = _run("cluster", source, "-k", 2, "-o", tmp_path / "l.csv", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout, parse_constant=pytest.fail)  # no NaN/Infinity tokens
    assert summary["inertia"] is None
    assert proc.stderr == ("palettelab: note: inertia is not a finite number (float64 "
                           "overflow); written as null\n")


def test_json_with_stdout_closed_is_an_error_before_the_run(tmp_path, photo):
    out = tmp_path / "out.png"
    proc = _run("quantize", photo, "-k", 4, "-o", out, "--json", cwd=tmp_path,
                stdout=None, pass_fds=(), preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1
    assert proc.stderr == ("palettelab: error: standard output is closed; the JSON summary "
                           "would be lost\n")
    assert not out.exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_json_write_is_an_error(tmp_path, points):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "palettelab", "cluster", str(points), "-k",
                               "2", "-o", str(tmp_path / "l.csv"), "--json"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr == ("palettelab: error: standard output: cannot write the JSON summary "
                           "(No space left on device)\n")


def test_warnings_are_one_line_or_dropped(capsys):
    with batch_process():
        warnings.warn("something odd\nsecond line", UserWarning, stacklevel=1)
        warnings.warn("overflow encountered in square", RuntimeWarning, stacklevel=1)
    assert capsys.readouterr().err == "palettelab: warning: something odd\n"


# --- item 16: no display ----------------------------------------------------------------------


def _without_display() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env


@pytest.mark.skipif(not LINUX, reason="the display variables are X11/Wayland's")
def test_no_display_is_one_line_exit_1(tmp_path, photo):
    proc = _run(photo, cwd=tmp_path, env=_without_display(), timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == ("palettelab: error: no display to open the window on (DISPLAY and "
                           "WAYLAND_DISPLAY are not set); use the batch commands (palettelab "
                           "quantize, palettelab cluster) or set QT_QPA_PLATFORM=offscreen\n")


@pytest.mark.skipif(not LINUX, reason="the display variables are X11/Wayland's")
@pytest.mark.parametrize("env, ok", [
    ({}, False),
    ({"DISPLAY": ":0"}, True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, True),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, True),
    ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}, True),
])
def test_display_detection(monkeypatch, env, ok):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if ok:
        check_display()
    else:
        with pytest.raises(InputError, match="no display"):
            check_display()


def test_a_map_palette_too_big_for_an_indexed_image_names_the_file(tmp_path, photo, capsys):
    palette = tmp_path / "brand.txt"
    palette.write_text("".join(f"#{i:06x}\n" for i in range(257)), encoding="ascii")
    out = tmp_path / "out.png"
    assert main(["quantize", str(photo), "--map", str(palette), "-o", str(out)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert "brand.txt" in line and "257" in line
    assert not out.exists()


def _dropping_callback():
    """A ctypes callback that takes a Ctrl-C and drops it, as llvmlite's does when the signal
    lands while Numba loads a cached kernel ("Exception ignored on calling ctypes callback")."""
    import ctypes

    @ctypes.CFUNCTYPE(None)
    def callback():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs here, inside the callback
            time.sleep(0.001)

    return callback


@pytest.mark.skipif(not LINUX, reason="POSIX signals")
@pytest.mark.parametrize("command", ["quantize", "cluster"])
def test_a_ctrl_c_dropped_inside_a_callback_still_stops_the_run(tmp_path, photo, points, capsys,
                                                                monkeypatch, command):
    """One run in ten signalled 0.5 s in went on, wrote its outputs and exited 0."""
    import palettelab.core.clustering.kmeans as kmeans_module
    import palettelab.core.quantization.pipeline as pipeline_module

    callback = _dropping_callback()
    module, name = ((pipeline_module, "quantize") if command == "quantize"
                    else (kmeans_module.KMeans, "fit"))
    real = getattr(module, name)

    def interrupted(*args, **kwargs):
        callback()  # the KeyboardInterrupt is raised in the callback and dropped there
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupted)
    out = tmp_path / ("out.png" if command == "quantize" else "labels.csv")
    out.write_bytes(b"previous result")
    source = photo if command == "quantize" else points
    assert main([command, str(source), "-k", "3", "-o", str(out)]) == 130
    assert capsys.readouterr().err == "palettelab: interrupted\n"
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("status", [0, 1, 130])
def test_the_command_exits_with_main_s_status_and_flushes_its_line(tmp_path, status):
    """``entry`` ends an interrupted run with ``os._exit(130)`` (CPython once turned a 130 into
    death by SIGINT at exit, status -2, after main had printed its line): the line still comes
    out, and other statuses go through ``sys.exit``."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "from palettelab.app.cli import main as cli\n"
        "def fake(argv=None):\n"
        "    print('palettelab: interrupted', file=sys.stderr, end='\\n')\n"
        f"    return {status}\n"
        "cli.main = fake\n"
        "cli.entry()\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == status
    assert done.stderr == "palettelab: interrupted\n"

"""``palettelab quantize`` in pipelines: many inputs, batch errors, --shared, pipes, Ctrl-C."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from palettelab.app.cli import batch, runtime
from palettelab.app.cli import main as cli
from palettelab.core.color.codes import hex_color
from palettelab.core.formats.palettes import read_palette
from palettelab.core.quantization.pipeline import shared_palette

REPO = Path(__file__).resolve().parent.parent


def _photo(path: Path, seed: int, size=(40, 56)) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    smooth = np.kron(base, np.ones((size[0] // 4, size[1] // 4, 1), dtype=np.uint8))
    noise = rng.integers(-20, 20, smooth.shape)
    Image.fromarray(np.clip(smooth + noise, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def photos(tmp_path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    return [_photo(folder / f"p{i}.{ext}", i) for i, ext in enumerate(["png", "bmp", "tif"])]


def _quantize(*args) -> int:
    return cli.main(["quantize", *map(str, args)])


def _palette_of(path: Path) -> list[tuple[int, int, int]]:
    with Image.open(path) as im:
        entries = np.array(im.getpalette()[: 3 * len(im.getcolors())]).reshape(-1, 3)
        return sorted(map(tuple, entries.tolist()))


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "palettelab", "quantize", *map(str, args)],
                          capture_output=True, timeout=300, **kwargs)


# --- many inputs ------------------------------------------------------------------------------


def test_each_output_is_byte_identical_to_a_one_by_one_run(tmp_path, photos, capsys):
    """The batch's workers run Numba with one thread, the single runs with every core."""
    assert _quantize(*photos, "-k", 8, "--dither", "fs", "-o", tmp_path / "out",
                     "--jobs", 2) == 0
    for photo in photos:
        single = tmp_path / f"single-{photo.stem}.png"
        assert _quantize(photo, "-k", 8, "--dither", "fs", "-o", single) == 0
        assert (tmp_path / "out" / f"{photo.stem}.png").read_bytes() == single.read_bytes()


def test_a_directory_input_and_the_format_name_the_outputs(tmp_path, photos):
    (photos[0].parent / "notes.txt").write_text("not an image")
    assert _quantize(photos[0].parent, "-k", 4, "--format", "gif", "-o",
                     tmp_path / "made" / "here", "--jobs", 1) == 0
    made = sorted(p.name for p in (tmp_path / "made" / "here").iterdir())
    assert made == ["p0.gif", "p1.gif", "p2.gif"]


def test_a_trailing_slash_makes_one_input_a_directory_output(tmp_path, photos):
    assert _quantize(photos[0], "-k", 4, "-o", f"{tmp_path / 'one'}/") == 0
    assert (tmp_path / "one" / "p0.png").is_file()


@pytest.mark.parametrize("args, match", [
    (["{0}", "{copy}"], "would both be written to"),
    (["{0}", "{1}", "-o", "{dir}"], "would overwrite its input"),
    (["{0}", "{1}", "--palette", "{tmp}/x.gpl"], "needs --shared"),
    (["{0}", "{1}", "-o", "-"], "takes one input"),
    (["-", "{1}"], "only input"),
    (["{0}", "--format", "gif", "-o", "{tmp}/x.png"], "does not match"),
    (["{0}", "--jobs", "0"], "must be at least 1"),
])
def test_batch_usage_errors_come_before_any_work(tmp_path, photos, capsys, args, match):
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    (copy / "p0.png").write_bytes(photos[0].read_bytes())
    names = {"0": photos[0], "1": photos[1], "copy": copy / "p0.png", "tmp": tmp_path,
             "dir": photos[0].parent}
    filled = [a.format(*[photos[0], photos[1]], **{k: v for k, v in names.items()
                                                    if not k.isdigit()}) for a in args]
    if "-o" not in filled:
        filled += ["-o", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exc:
        _quantize(*filled, "-k", 4)
    assert exc.value.code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- errors in a batch ------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_bad_files_get_one_line_each_and_the_others_are_written(tmp_path, photos, capsys, jobs):
    text = photos[0].parent / "bad.png"
    text.write_text("hello")
    missing = tmp_path / "missing.png"
    status = _quantize(photos[0], text, missing, photos[1], "-k", 4, "-o", tmp_path / "out",
                       "--jobs", jobs)
    assert status == 1
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("palettelab: error: ")]
    assert len(errors) == 2, err
    assert any(str(text) in line for line in errors)
    assert any(str(missing) in line for line in errors)
    assert "Traceback" not in "\n".join(err)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p0.png", "p1.png"]


def test_an_empty_directory_is_an_error_line(tmp_path, photos, capsys):
    (tmp_path / "empty").mkdir()
    assert _quantize(tmp_path / "empty", photos[0], "-k", 4, "-o", tmp_path / "out") == 1
    assert "no image files" in capsys.readouterr().err
    assert (tmp_path / "out" / "p0.png").is_file()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_the_batch_leaves_no_partial_file_and_exits_130(tmp_path, signum):
    folder = tmp_path / "big"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)).save(
            folder / f"n{i}.png")
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "palettelab", "quantize", str(folder), "-k",
                              "64", "--dither", "fs", "-o", str(out), "--jobs", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline:  # the run has started
        time.sleep(0.05)
    time.sleep(1.0)
    os.killpg(child.pid, signum)  # the whole group, as a terminal's Ctrl-C does
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert err.decode().strip().splitlines()[-1] == "palettelab: interrupted"
    assert b"Traceback" not in err
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
    for done in out.iterdir():  # what was finished is whole
        with Image.open(done) as im:
            im.load()


_STUCK_WORKER = """
import os, signal, sys, time
from pathlib import Path
from palettelab.app.cli import image_job
from palettelab.app.cli.main import main
from palettelab.core.formats.atomic import atomic_write

def run(job, settings):  # a worker deep in Numba's compiler: deaf to SIGTERM for a long time
    with atomic_write(job.output) as handle:
        handle.write(b"partial")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        Path(sys.argv[1], str(os.getpid())).touch()
        time.sleep(60)

image_job.run = run
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_ends_the_batch_soon_even_if_workers_do_not_react(tmp_path, photos, signum):
    # with a cold Numba cache the workers compile for minutes and may swallow SIGTERM's
    # SystemExit (raised in an LLVM callback): the run must still end within seconds
    marks = tmp_path / "marks"
    marks.mkdir()
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", _STUCK_WORKER, str(marks), "quantize",
                              *map(str, photos), "-k", "4", "-o", str(out), "--jobs", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(out.iterdir())) == 2  # both workers hold a temporary file
    os.killpg(child.pid, signum)
    sent = time.monotonic()
    try:
        _, err = child.communicate(timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    assert time.monotonic() - sent < 10
    assert child.returncode == 130, err
    assert err.decode().strip().splitlines() == ["palettelab: interrupted"]
    assert list(out.iterdir()) == []  # the killed workers' temporary files are gone
    for pid in marks.iterdir():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid.name), 0)


# --- --json -----------------------------------------------------------------------------------


def test_batch_json_lists_every_file_in_input_order(tmp_path, photos, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\0\1\2")
    assert _quantize(photos[1], bad, photos[0], "-k", 4, "-o", tmp_path / "out",
                     "--json", "--jobs", 2) == 1
    summary = json.loads(capsys.readouterr().out)
    files = summary["files"]
    assert [f["input"] for f in files] == [str(photos[1]), str(bad), str(photos[0])]
    assert files[1]["error"].startswith(str(bad))
    assert files[0]["n_colors"] == 4 and len(files[0]["palette"]) == 4
    assert files[0]["output"] == str(tmp_path / "out" / "p1.png")
    assert summary["failed"] == 1 and summary["seconds"] >= 0


# --- --shared ---------------------------------------------------------------------------------


def test_shared_writes_one_palette_into_every_output_and_the_palette_file(tmp_path, photos):
    assert _quantize(*photos, "-k", 6, "--shared", "--lock", "#ff00ff", "--palette",
                     tmp_path / "set.gpl", "-o", tmp_path / "out") == 0
    images = [np.asarray(Image.open(p).convert("RGB")) for p in photos]
    expected, _ = shared_palette(images, 6, locked="#ff00ff")
    written = read_palette(tmp_path / "set.gpl").colors
    np.testing.assert_array_equal(written, expected)
    for photo in photos:
        with Image.open(tmp_path / "out" / f"{photo.stem}.png") as im:
            entries = np.array(im.getpalette()[:18]).reshape(-1, 3)
        np.testing.assert_array_equal(entries, expected)
    assert [255, 0, 255] in expected.tolist()


# --- pipes ------------------------------------------------------------------------------------


def test_stdin_to_stdout_gives_the_bytes_of_a_file_run(tmp_path, photos):
    assert _quantize(photos[0], "-k", 5, "-o", tmp_path / "file.png") == 0
    piped = _run("-", "-k", 5, "-o", "-", input=photos[0].read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == (tmp_path / "file.png").read_bytes()


def test_stdout_takes_the_format_option(tmp_path, photos):
    piped = _run(photos[0], "-k", 5, "-o", "-", "--format", "gif")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith(b"GIF8")


def test_bad_stdin_is_one_error_line(tmp_path):
    piped = _run("-", "-k", 5, "-o", tmp_path / "x.png", input=b"not an image")
    assert piped.returncode == 1
    assert piped.stderr.decode().startswith("palettelab: error: standard input: ")
    assert not (tmp_path / "x.png").exists()


def test_stdout_and_json_together_is_a_usage_error(photos, capsys):
    with pytest.raises(SystemExit) as exc:
        _quantize(photos[0], "-k", 4, "-o", "-", "--json")
    assert exc.value.code == 2


# --- progress ---------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_shows_on_a_terminal_unless_quiet(tmp_path, photos, monkeypatch, quiet):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    args = ["--quiet"] if quiet else []
    assert _quantize(*photos, "-k", 4, "-o", tmp_path / "out", *args) == 0
    shown = terminal.getvalue()
    assert ("palettelab: 3/3 files" in shown) is not quiet
    assert (shown == "") is quiet


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path, photos, capsys):
    assert _quantize(*photos, "-k", 4, "-o", tmp_path / "out") == 0
    assert capsys.readouterr().err == ""


def test_default_jobs_is_the_usable_cores():
    assert 1 <= batch.default_jobs() <= (os.cpu_count() or 1)


def test_shared_leaves_out_an_unreadable_file_with_its_error_line(tmp_path, photos, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("text")
    assert _quantize(photos[0], bad, photos[1], "-k", 4, "--shared", "-o", tmp_path / "out",
                     "--json") == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith(f"palettelab: error: {bad}: ")
    summary = json.loads(captured.out)
    assert [f["input"] for f in summary["files"]] == [str(photos[0]), str(photos[1])]
    assert len(summary["errors"]) == 1 and summary["failed"] == 1
    expected, _ = shared_palette([np.asarray(Image.open(p).convert("RGB"))
                                  for p in photos[:2]], 4)
    for entry in summary["files"]:
        assert entry["palette"] == [hex_color(c) for c in expected]


# --- start-up ---------------------------------------------------------------------------------


def test_a_small_file_loads_only_what_it_needs(tmp_path, photos):
    """No Qt, no SciPy (Numba's BLAS probe), no palette module, no 64 MB code table."""
    probe = (
        "import sys\n"
        "from palettelab.app.cli.main import main\n"
        f"status = main(['quantize', {str(photos[0])!r}, '-k', '4', '-o', "
        f"{str(tmp_path / 'o.png')!r}])\n"
        "from palettelab.core.quantization.histogram import TABLES\n"
        "loaded = [m for m in ('PySide6', 'scipy.linalg', 'palettelab.core.formats.palettes',"
        " 'palettelab.app.gui') if m in sys.modules]\n"
        "print(status, loaded, TABLES._spare is None)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300)
    assert proc.stdout.split("\n")[0] == "0 [] True", proc.stderr


@pytest.mark.parametrize("dither", ["none", "fs"])
def test_the_bytes_do_not_depend_on_numba_threads(tmp_path, photos, dither):
    outputs = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}.png"
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        proc = _run(photos[0], "-k", 8, "--dither", dither, "-o", out, env=env)
        assert proc.returncode == 0, proc.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def _half_built_fallout():
    """The argument Python hands ``sys.unraisablehook`` for an AttributeError raised in the
    ``__del__`` of an object whose ``__init__`` was cut short."""

    class HalfBuilt:
        def __del__(self):
            raise AttributeError("'PassBuilder' object has no attribute '_as_parameter_'")

    caught = []
    hook, sys.unraisablehook = sys.unraisablehook, caught.append
    try:
        HalfBuilt()  # dropped at once: __del__ runs and its exception is unraisable
    finally:
        sys.unraisablehook = hook
    return caught[0]


def test_no_traceback_for_what_a_stop_leaves_half_built(capsys, monkeypatch):
    """CI, cold cache: SIGTERM struck a worker inside llvmlite's ``PassBuilder.__init__``, and
    the half-built object's ``__del__`` printed an AttributeError traceback before
    "palettelab: interrupted"; the parent's Ctrl-C could do the same."""
    fallout = _half_built_fallout()
    monkeypatch.setattr(batch, "_stopping", threading.Event())
    batch._quiet_unraisable(fallout)  # not stopping: a real bug, shown
    assert "AttributeError" in capsys.readouterr().err
    monkeypatch.setattr(batch.signal, "signal", lambda *args: None)
    with pytest.raises(SystemExit):
        batch._exit_on_sigterm(signal.SIGTERM, None)
    batch._quiet_unraisable(fallout)
    assert capsys.readouterr().err == ""

    monkeypatch.setattr(runtime, "_interrupted", threading.Event())
    runtime._quiet_dropped_interrupt(fallout)
    assert "AttributeError" in capsys.readouterr().err
    runtime._interrupted.set()
    runtime._quiet_dropped_interrupt(fallout)
    assert capsys.readouterr().err == ""

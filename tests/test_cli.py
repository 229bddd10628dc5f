"""The ``palettelab`` command line: version, opening the GUI, usage errors, no Qt in batch runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import palettelab
from palettelab.app.cli import main as cli
from palettelab.core.errors import InputError
from palettelab.core.resources import resource_path, sample_image

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "palettelab", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version_prints_name_and_version():
    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"palettelab {palettelab.__version__}"
    assert proc.stderr == ""


@pytest.fixture
def fake_gui(monkeypatch):
    """Replace the GUI entry point: these tests check what the CLI asks it to open."""
    opened: list[str] = []
    module = types.ModuleType("palettelab.app.gui.launch")
    module.run = lambda path: opened.append(path) or 0
    monkeypatch.setitem(sys.modules, "palettelab.app.gui.launch", module)
    return opened


def test_no_arguments_opens_the_gui_on_the_sample(fake_gui):
    assert cli.main([]) == 0
    assert fake_gui == [str(sample_image())]


def test_file_argument_opens_the_gui_on_it(fake_gui, tmp_path):
    image = tmp_path / "photo.png"
    image.write_bytes(b"checked by the GUI's loader, not by the CLI")
    assert cli.main([str(image)]) == 0
    assert fake_gui == [str(image)]


def test_missing_file_is_a_one_line_error_exit_1(tmp_path):
    missing = tmp_path / "nope.png"
    proc = run_cli(str(missing))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip() == f"palettelab: error: {missing}: no such file"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [("frobnicate",), ("--no-such-option",), ("frobnicate", "extra"), ("a.png", "b.png")],
)
def test_bad_usage_exits_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "usage: palettelab" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_main_returns_status_in_process(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"palettelab {palettelab.__version__}"


def test_batch_commands_do_not_import_qt(tmp_path):
    code = (
        "import json, sys\n"
        "from palettelab.app.cli.main import main\n"
        "main(['quantize', 'resources/china.jpg', '-k', '4', '-o', sys.argv[1]])\n"
        "qt = sorted(m for m in sys.modules\n"
        "            if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(json.dumps(qt))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out.png")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_bundled_resources_are_found():
    image = sample_image()
    assert image.name == "china.jpg"
    assert image.stat().st_size > 0
    for name in ("flower.jpg", "iris.csv", "digits.csv.gz", "LICENSES.md"):
        assert resource_path(name).is_file()
    with pytest.raises(InputError, match="no-such-resource"):
        resource_path("no-such-resource.bin")

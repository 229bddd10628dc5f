"""The package layout: one import package ``palettelab``, its public API, its import contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import palettelab

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parent.parent


def test_pyproject_lists_every_package_folder():
    """pyproject maps the root to ``palettelab`` and lists the subpackages by hand: a folder
    left out of the list would be missing from the wheel (the editable install hides that)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"palettelab": "."}
    on_disk = {"palettelab"} | {
        "palettelab." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("core", "app") for init in (ROOT / top).rglob("__init__.py")
    }
    assert set(config["packages"]) == on_disk


def test_public_api_names_resolve():
    for name in palettelab.__all__:
        assert getattr(palettelab, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        palettelab.nope  # noqa: B018


def test_importing_the_package_loads_no_compute_or_qt():
    """``palettelab --version`` and the CLI's start-up pay for what they use only."""
    code = ("import sys, palettelab; palettelab.__version__; "
            "print(sorted(m for m in ('numpy', 'numba', 'PySide6', 'pyqtgraph') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_cli_and_core_never_import_qt():
    """Importing every CLI and core module leaves Qt unloaded (the import contracts below
    check the same statically, including imports inside functions)."""
    modules = [f"palettelab.{'.'.join(p.with_suffix('').relative_to(ROOT).parts)}"
               for top in ("core", "app/cli") for p in (ROOT / top).rglob("*.py")]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m.removesuffix('.__init__'))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'OpenGL') or m.startswith('palettelab.app.gui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "2 kept, 0 broken" in proc.stdout

"""Issue 15: kernels compiled once, loaded from any copy of the package, for the right CPU."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from palettelab.app import user_dirs
from palettelab.core import kernel_cache
from palettelab.core.kernel_cache import X86_64_V3, pick_tier, seed

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_ENV = dict(os.environ)  # at import, before any test of this module

PROBE = """
import sys
from pathlib import Path
from palettelab.core import kernel_cache
kernel_cache.activate(Path(sys.argv[1]), sys.argv[2])
import numpy as np
import palettelab
from palettelab.core.clustering._kmeans_kernels import transpose_centres
assert Path(palettelab.__file__).parent == Path(sys.argv[3]), palettelab.__file__
centres, transposed = np.arange(6.0).reshape(2, 3), np.empty((3, 2))
transpose_centres(centres, transposed)
print(float((transposed * [[1, 2], [3, 4], [5, 6]]).sum()))
"""
#: the module of the probe's kernel (a small one: each probe compiles it afresh)
PROBED = ("core", "clustering", "_kmeans_kernels.py")


def copy_package(folder: Path) -> Path:
    """The package's root module and core, copied to ``folder/palettelab`` (no caches)."""
    target = folder / "palettelab"
    shutil.copytree(ROOT / "core", target / "core",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "__init__.py", target / "__init__.py")
    return target


def run_probe(package: Path, kernels: Path, tier: str) -> tuple[str, str]:
    """Run :data:`PROBE` on the copy ``package``: (its result, Numba's cache log)."""
    env = dict(os.environ, PYTHONPATH=str(package.parent), NUMBA_DEBUG_CACHE="1")
    for name in ("NUMBA_CACHE_DIR", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", PROBE, str(kernels), tier, str(package)],
                          capture_output=True, text=True, env=env, cwd=package.parent,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return lines[-1], "\n".join(lines[:-1])


def test_kernels_compiled_in_one_copy_load_in_another(tmp_path):
    """The bundle's case: kernels compiled from the staged package at build time, loaded from
    wherever the user unpacked the app, with other file times."""
    built = copy_package(tmp_path / "build")
    result, log = run_probe(built, tmp_path / "kernels", "generic")
    assert "data saved" in log
    unpacked = copy_package(tmp_path / "elsewhere")
    for path in unpacked.rglob("*.py"):
        os.utime(path, (1e9, 1e9))
    shutil.copytree(tmp_path / "kernels", tmp_path / "user-kernels")
    again, log = run_probe(unpacked, tmp_path / "user-kernels", "generic")
    assert again == result
    assert "data loaded" in log and "data saved" not in log


def test_a_kernel_of_another_tier_or_source_is_compiled_anew(tmp_path):
    package = copy_package(tmp_path / "a")
    run_probe(package, tmp_path / "kernels", "generic")
    _, log = run_probe(package, tmp_path / "kernels", "x86-64")  # another CPU: not loaded
    assert "data saved" in log and "data loaded" not in log
    source = package.joinpath(*PROBED)
    source.write_text(source.read_text() + "\n# edited\n")
    _, log = run_probe(package, tmp_path / "kernels", "generic")  # edited source: stale
    assert "data saved" in log and "data loaded" not in log


def test_pick_tier_takes_the_best_tier_the_host_runs(monkeypatch):
    monkeypatch.setattr(kernel_cache.platform, "machine", lambda: "x86_64")
    both = ["generic", "x86-64-v3"]
    assert pick_tier(both, set(X86_64_V3) | {"avx512f"}) == "x86-64-v3"
    assert pick_tier(both, set(X86_64_V3) - {"fma"}) == "generic"
    assert pick_tier(["x86-64-v3"], {"sse3"}) is None
    assert pick_tier([], set(X86_64_V3)) is None
    monkeypatch.setattr(kernel_cache.platform, "machine", lambda: "arm64")
    assert pick_tier(both, set(X86_64_V3)) == "generic"  # never x86 code on an ARM host


def test_seed_copies_the_shipped_kernels_once_and_whole(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    (shipped / "core").mkdir(parents=True)
    (shipped / "core" / "k.nbi").write_bytes(b"index")
    target = tmp_path / "user" / "0.1.0-generic"
    assert seed(shipped, target) == target
    assert (target / "core" / "k.nbi").read_bytes() == b"index"
    (target / "core" / "new.nbi").write_bytes(b"compiled later")
    assert seed(shipped, target) == target and (target / "core" / "new.nbi").exists()

    def fails_halfway(source, destination):
        Path(destination).mkdir(parents=True)
        raise OSError("disk full")

    monkeypatch.setattr(kernel_cache.shutil, "copytree", fails_halfway)
    other = tmp_path / "user" / "0.2.0-generic"
    assert seed(shipped, other) == shipped  # read in place; no half copy is left to use
    assert not other.exists() and not other.with_name(other.name + ".partial").exists()


def test_the_frozen_app_uses_the_shipped_tier(tmp_path, monkeypatch):
    shipped = tmp_path / "bundle" / "kernels"
    (shipped / "generic" / "core").mkdir(parents=True)
    monkeypatch.setattr(kernel_cache, "shipped_folder", lambda: shipped)
    monkeypatch.setattr(kernel_cache, "pick_tier", lambda tiers: "generic" if tiers else None)
    monkeypatch.setattr(user_dirs, "numba_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    for name in ("NUMBA_CACHE_DIR", kernel_cache.KERNEL_DIR_ENV, "NUMBA_CPU_NAME",
                 "NUMBA_CPU_FEATURES", "NUMBA_CACHE_LOCATOR_CLASSES"):
        # setenv first: delenv of an absent name records nothing to undo, and what
        # activate() writes then leaked into every later test's subprocesses (a generic-CPU
        # Numba recompiled every kernel there: 117 s more for the k-means thread test)
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    user_dirs.prepare_frozen_environment()
    from palettelab import __version__

    folder = tmp_path / "cache" / "shipped" / f"{__version__}-generic"
    assert os.environ[kernel_cache.KERNEL_DIR_ENV] == str(folder) and folder.is_dir()
    assert os.environ["NUMBA_CPU_NAME"] == "generic" and "NUMBA_CACHE_DIR" not in os.environ
    assert os.environ["NUMBA_CACHE_LOCATOR_CLASSES"].startswith(kernel_cache.LOCATOR)

    os.environ.pop(kernel_cache.KERNEL_DIR_ENV)  # restored at the end with the others
    shutil.rmtree(shipped / "generic")  # a CPU no tier fits: compile into the user cache
    user_dirs.prepare_frozen_environment()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "cache")


def test_the_frozen_app_test_leaves_no_numba_setting_behind():
    """Runs after the test above: Numba's settings of the pytest process are as they were."""
    for name in ("NUMBA_CACHE_DIR", kernel_cache.KERNEL_DIR_ENV, "NUMBA_CPU_NAME",
                 "NUMBA_CPU_FEATURES", "NUMBA_CACHE_LOCATOR_CLASSES"):
        assert os.environ.get(name) == ORIGINAL_ENV.get(name), name


@pytest.mark.parametrize("machine, tiers", [("x86_64", ("x86-64-v3", "generic")),
                                            ("AMD64", ("x86-64-v3", "generic")),
                                            ("arm64", ("generic",))])
def test_tiers_built_per_architecture(machine, tiers):
    assert kernel_cache.tiers_for_machine(machine) == tiers

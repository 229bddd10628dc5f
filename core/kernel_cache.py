"""Compiled kernels that travel with the package: a Numba cache locator that does not depend on
the install path, and CPU tiers to compile them for (issue 15).

Numba's own locators tie a cached kernel to where it was compiled.  They hash the source
folder's absolute path into the cache folder's name, and a frozen app stamps every index with a
hash of its executable.  A bundle unpacked anywhere else would find nothing and compile
everything again (21 s for a first ``quantize``, minutes for the window).

:class:`~palettelab.core.kernel_locator.PackageKernelLocator` keys each kernel on the module's
path *inside* the ``palettelab`` package and on a hash of its source text, so a folder of
kernels compiled by ``packaging/build.py`` loads in any copy of the app.  It is chosen through
Numba's ``NUMBA_CACHE_LOCATOR_CLASSES`` by :func:`activate`, which must run before Numba is
imported.
Functions outside the package fall through to Numba's user-wide locator.

Compiled code is specific to a CPU.  The build compiles each :data:`TIERS` entry with
``NUMBA_CPU_NAME`` set to the tier's LLVM CPU name and no extra features; :func:`pick_tier`
chooses, at start-up, the best tier whose instructions the host has (Numba's index key holds
the CPU name and features, so a kernel of another tier is never loaded by mistake).
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

#: the environment variable that holds the active kernel folder
KERNEL_DIR_ENV = "PALETTELAB_KERNEL_DIR"
#: the locator class, by import path (its module imports Numba; this one must not)
LOCATOR = "palettelab.core.kernel_locator.PackageKernelLocator"

#: (tier = LLVM CPU name, LLVM features the host must have), best first.  x86-64-v3 is the
#: AVX2/FMA level of every x86 CPU since 2015 (Haswell, Zen); "generic" runs on any CPU of the
#: architecture.
X86_64_V3 = frozenset({
    "avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave",  # v3
    "cx16", "popcnt", "sahf", "sse3", "sse4.1", "sse4.2", "ssse3",  # v2
})
TIERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("x86-64-v3", X86_64_V3),
    ("generic", frozenset()),
)


def tiers_for_machine(machine: str | None = None) -> tuple[str, ...]:
    """The tiers worth building on an architecture (``platform.machine()`` by default)."""
    machine = (machine or platform.machine()).lower()
    if machine in ("x86_64", "amd64"):
        return tuple(name for name, _ in TIERS)
    return ("generic",)


def pick_tier(available: list[str] | tuple[str, ...],
              host_features: set[str] | None = None) -> str | None:
    """The best tier of ``available`` that the host can run, or None."""
    if host_features is None:
        from llvmlite import binding

        host_features = {name for name, on in binding.get_host_cpu_features().items() if on}
    for name, needs in TIERS:
        if name in available and name in tiers_for_machine() and needs <= host_features:
            return name
    return None


def environment(folder: Path, tier: str) -> dict[str, str]:
    """The environment variables that make Numba read and write this package's kernels in
    ``folder``, compiled for ``tier``."""
    return {
        KERNEL_DIR_ENV: str(folder),
        "NUMBA_CACHE_LOCATOR_CLASSES": f"{LOCATOR},UserWideCacheLocator",
        "NUMBA_CPU_NAME": tier,
        "NUMBA_CPU_FEATURES": "",  # the tier's own features, none of the host's
    }


def activate(folder: Path, tier: str) -> None:
    """Set :func:`environment` in this process.  Call before Numba is imported (its
    configuration is read once, at import)."""
    os.environ.update(environment(folder, tier))


def shipped_folder() -> Path:
    """Where an installed package keeps the kernels compiled at build time, one subfolder per
    tier (only the standalone app has it; ``packaging/build.py`` fills it)."""
    return Path(__file__).resolve().parent.parent / "kernels"


def use_shipped(user_folder: Path, version: str) -> str | None:
    """If this install ships kernels for a tier the host can run, activate them (seeded into
    ``user_folder``) and return the tier; else change nothing and return None."""
    shipped = shipped_folder()
    tiers = [p.name for p in shipped.iterdir() if p.is_dir()] if shipped.is_dir() else []
    tier = pick_tier(tiers)
    if tier is not None:
        activate(seed(shipped / tier, user_folder / f"{version}-{tier}"), tier)
    return tier


def seed(shipped: Path, target: Path) -> Path:
    """Copy the shipped kernel folder ``shipped`` to the writable ``target`` once, and return
    the folder to use: ``target``, or ``shipped`` itself if ``target`` cannot be written (a
    kernel the shipped folder lacks then cannot be saved, but every shipped one loads)."""
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(shipped, partial)
        partial.replace(target)  # whole or not at all: a half copy is never used
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        return target if target.is_dir() else shipped
    return target

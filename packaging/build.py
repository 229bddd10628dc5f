"""Build the standalone app with PyInstaller.

    python packaging/build.py             # dist/palettelab/palettelab (one folder) + archive
    python packaging/build.py --onefile   # dist/palettelab (one file)

Installs PyInstaller into the running Python if it is missing, makes the Windows and macOS icons
from resources/icon.png, builds the wheel and unpacks it into build/src (so the bundle holds
exactly what a wheel install holds: the ``palettelab`` package and its resources; PyInstaller's
analysis cannot follow the import mapping of an editable install), compiles every kernel of
the staged package for each CPU tier into build/kernels (shipped in the bundle, see
``palettelab.core.kernel_cache``), runs packaging/palettelab.spec, and packs the one-folder app
into the download (dist/palettelab-VERSION-linux-x86_64.tar.xz; a zip on Windows).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from icu_data import slim_library  # packaging/ is no package

ROOT = Path(__file__).resolve().parent.parent
ICON_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def make_icons(folder: Path) -> None:
    """palettelab.ico (Windows) and palettelab.icns (macOS) from the PNG source."""
    folder.mkdir(parents=True, exist_ok=True)
    source = Image.open(ROOT / "resources" / "icon.png").convert("RGBA")
    source.save(folder / "palettelab.ico", sizes=ICON_SIZES)
    source.resize((1024, 1024), Image.LANCZOS).save(folder / "palettelab.icns")


def stage_package(folder: Path) -> None:
    """Unpack the project's wheel into ``folder``: ``folder/palettelab`` is the package."""
    shutil.rmtree(folder, ignore_errors=True)
    wheels = folder / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("palettelab-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)


def compile_kernels(staged: Path, out: Path) -> None:
    """Compile every kernel of the staged package into ``out/<tier>`` for each CPU tier of
    this machine's architecture, the tiers in parallel (one process each).  The kernels are
    compiled from ``staged`` (the files the bundle ships: Numba keys them on a hash of the
    source), by the kernel warm-up's groups and the CLI's own paths."""
    sys.path.insert(0, str(staged))
    from palettelab.core.kernel_cache import environment, tiers_for_machine

    shutil.rmtree(out, ignore_errors=True)
    sample = staged / "palettelab" / "resources" / "china.jpg"
    points = staged / "palettelab" / "resources" / "iris.csv"
    scratch = out / "scratch"
    scratch.mkdir(parents=True)
    python = [sys.executable, "-m"]

    def compile_tier(tier: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(staged), QT_QPA_PLATFORM="offscreen",
                   **environment(out / tier, tier))
        for step in ([*python, "palettelab.core.kernel_warmup"],
                     [*python, "palettelab", "quantize", str(sample), "-k", "16", "-o",
                      str(scratch / f"{tier}.png"), "--palette", str(scratch / f"{tier}.gpl")],
                     [*python, "palettelab", "cluster", str(points), "-k", "3",
                      "-o", str(scratch / f"{tier}.csv")],
                     [*python, "palettelab", "cluster", str(points), "-k", "3", "--embed",
                      "tsne", "-o", str(scratch / f"{tier}-tsne.csv")]):
            subprocess.run(step, env=env, check=True, stdout=subprocess.DEVNULL)

    tiers = tiers_for_machine()
    with ThreadPoolExecutor(len(tiers)) as pool:  # one process a tier, side by side
        list(pool.map(compile_tier, tiers))
    shutil.rmtree(scratch)
    for tier in tiers:
        print(f"kernels for {tier}: {folder_size(out / tier) / 1e6:.1f} MB")


def ensure_pyinstaller() -> None:
    if importlib.util.find_spec("PyInstaller") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "pyinstaller>=6.6"], check=True)


def is_shared_library(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and ".so" in path.name


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED names of an ELF file."""
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.*)\]", out)


def prune_libraries(bundle: Path) -> list[Path]:
    """Delete the shared libraries nothing in the bundle links to, and return them.  PyInstaller
    collects the dependencies of every plugin and module it sees, also of those the spec then
    drops (the GTK theme plugin brings cairo, pango and gio).  What is kept: Python extension
    modules, Qt plugins, the executable and what their DT_NEEDED entries reach; libpython and
    LLVM are opened by path, so they are roots too."""
    files = [p for p in bundle.rglob("*") if is_shared_library(p)]
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.name, []).append(path)

    def is_root(path: Path) -> bool:
        return (not path.name.startswith("lib") or "plugins" in path.parts
                or path.name.startswith(("libpython", "libllvmlite")))

    stack = [p for p in files if is_root(p)] + [bundle / "palettelab"]
    reached: set[Path] = set()
    while stack:
        path = stack.pop()
        if path not in reached:
            reached.add(path)
            stack.extend(q for name in needed_libraries(path) for q in by_name.get(name, []))
    unused = [p for p in files if p not in reached]
    for path in unused:
        path.unlink()
    for link in bundle.rglob("*"):
        if link.is_symlink() and not link.exists():  # pointed at a library dropped here
            link.unlink()
    return unused


def strip_binaries(bundle: Path) -> int:
    """Strip the symbol tables of the bundle's own ELF files (libpython, LLVM, Qt, the extension
    modules) and return the bytes saved.  Not the libraries of auditwheel-repaired wheels
    (``numpy.libs``, ``pillow.libs``): patchelf moved their segments, and strip breaks them
    ("ELF load command ... not page-aligned" from OpenBLAS)."""
    strip = shutil.which("strip")
    if not strip or not sys.platform.startswith("linux"):
        return 0
    saved = 0
    for path in bundle.rglob("*.so*"):  # never the executable: its archive is appended to it
        if not is_shared_library(path) or any(part.endswith(".libs") for part in path.parts):
            continue
        before = path.stat().st_size
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
        saved += before - path.stat().st_size
    return saved


def size_table(bundle: Path) -> list[tuple[str, int]]:
    """(component, bytes) of the one-folder app, largest first: the top folders of
    ``_internal``, with the loose files there summed as "loose libraries"."""
    internal = bundle / "_internal"
    sizes: dict[str, int] = {"executable": folder_size(bundle / "palettelab")}
    for path in internal.iterdir():
        if path.is_symlink():  # PyInstaller's links to libraries in package folders
            continue
        key = path.name if path.is_dir() else "loose libraries and Python"
        sizes[key] = sizes.get(key, 0) + folder_size(path)
    sizes["kernels (palettelab/kernels)"] = folder_size(internal / "palettelab" / "kernels")
    sizes["palettelab"] -= sizes["kernels (palettelab/kernels)"]
    return sorted(sizes.items(), key=lambda item: -item[1])


def make_archive(bundle: Path, version: str) -> Path:
    """The download: the one-folder app as ``palettelab-VERSION-linux-x86_64.tar.xz`` (a zip
    on Windows), written to a temporary name and renamed into place."""
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    stem = f"palettelab-{version}-{system}-{platform.machine().lower()}"
    if sys.platform == "win32":
        target = bundle.parent / f"{stem}.zip"
        partial = bundle.parent / f"{stem}.zip.partial"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for path in sorted(bundle.rglob("*")):
                archive.write(path, Path(stem) / path.relative_to(bundle))
    else:
        target = bundle.parent / f"{stem}.tar.xz"
        partial = bundle.parent / f"{stem}.tar.xz.partial"
        xz = shutil.which("xz")
        if xz:  # multi-threaded, much faster than Python's lzma at the same ratio
            tar = subprocess.Popen(["tar", "-C", str(bundle.parent), "-cf", "-",
                                    f"--transform=s,^{bundle.name},{stem},", bundle.name],
                                   stdout=subprocess.PIPE)
            with open(partial, "wb") as out:
                subprocess.run([xz, "-9", "-T0", "-c"], stdin=tar.stdout, stdout=out, check=True)
            if tar.wait() != 0:
                raise SystemExit("tar failed")
        else:
            with tarfile.open(partial, "w:xz", preset=9) as archive:
                archive.add(bundle, arcname=stem)
    partial.replace(target)
    return target


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onefile", action="store_true", help="one executable file")
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.xz download")
    args = parser.parse_args()
    ensure_pyinstaller()
    make_icons(ROOT / "build" / "icons")
    staged = ROOT / "build" / "src"
    stage_package(staged)
    compile_kernels(staged, ROOT / "build" / "kernels")
    env = dict(os.environ, PALETTELAB_ONEFILE="1" if args.onefile else "0")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build" / "work"),
                    str(ROOT / "packaging" / "palettelab.spec")], check=True, env=env)
    target = ROOT / "dist" / "palettelab"
    if args.onefile:
        print(f"built {target} ({folder_size(target) / 1e6:.0f} MB)")
        return 0
    saved = strip_binaries(target)
    unused = prune_libraries(target)
    print(f"stripped {saved / 1e6:.0f} MB of symbols; dropped {len(unused)} unused libraries "
          f"({', '.join(p.name for p in unused)})")
    for library in target.rglob("libicudata.so.*"):
        if is_shared_library(library):
            print(f"slimmed {library.name} by {slim_library(library) / 1e6:.1f} MB "
                  f"(packaging/icu_data.py)")
    print(f"built {target} ({folder_size(target) / 1e6:.0f} MB)")
    for name, size in size_table(target):
        print(f"  {size / 1e6:7.1f} MB  {name}")
    if not args.no_archive:
        from palettelab import __version__  # the staged package (compile_kernels put it first)

        archive = make_archive(target, __version__)
        print(f"packed {archive} ({archive.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the standalone app with PyInstaller.

    python packaging/build.py             # dist/palettelab/palettelab (one folder)
    python packaging/build.py --onefile   # dist/palettelab (one file)

Installs PyInstaller into the running Python if it is missing, makes the Windows and macOS icons
from resources/icon.png, builds the wheel and unpacks it into build/src (so the bundle holds
exactly what a wheel install holds: the ``palettelab`` package and its resources; PyInstaller's
analysis cannot follow the import mapping of an editable install), runs
packaging/palettelab.spec and prints the size of the result.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from PIL import Image

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


def ensure_pyinstaller() -> None:
    if importlib.util.find_spec("PyInstaller") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "pyinstaller>=6.6"], check=True)


def strip_llvmlite(bundle: Path) -> None:
    """Drop the debug symbols of LLVM (about 20 MB); only that library: stripping every binary
    breaks numpy's OpenBLAS."""
    strip = shutil.which("strip")
    for lib in bundle.rglob("libllvmlite.so"):
        if strip and sys.platform.startswith("linux"):
            subprocess.run([strip, "--strip-debug", str(lib)], check=True)


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onefile", action="store_true", help="one executable file")
    args = parser.parse_args()
    ensure_pyinstaller()
    make_icons(ROOT / "build" / "icons")
    stage_package(ROOT / "build" / "src")
    env = dict(os.environ, PALETTELAB_ONEFILE="1" if args.onefile else "0")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build" / "work"),
                    str(ROOT / "packaging" / "palettelab.spec")], check=True, env=env)
    target = ROOT / "dist" / "palettelab"
    if not args.onefile:
        strip_llvmlite(target)
    print(f"built {target} ({folder_size(target) / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

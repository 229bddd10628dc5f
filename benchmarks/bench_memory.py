"""Peak memory (RSS) of the readers and the quantizer on large and hostile inputs.

    python benchmarks/bench_memory.py [--rows 5000000] [--megapixels 60]

Each case runs in its own child process; its peak RSS is GNU time's ``%M`` (``/usr/bin/time``,
Debian package ``time``), so the figure includes the interpreter, numpy and, for the image,
Numba (about 60-250 MB before any data).  The inputs are made once in a temporary folder:

* ``image``: a Lanczos upscale of resources/china.jpg to ``--megapixels`` (JPEG), then
  ``load_image`` + ``quantize(k=16)``;
* ``csv``: ``--rows`` rows of three numeric columns (6 significant digits), ``load_points``;
* ``csv+text labels``: the same with a fourth column of text labels (``cat``/``dog``/...);
* ``gzip bomb``: a 2 MB ``.csv.gz`` expanding to 2 GiB of blank lines, ``load_points``;
* ``gzip bomb of rows``: the same size of ``0,0`` rows (the row limit stops it);
* ``/dev/zero``: symlinks named ``.csv``, ``.gpl``, ``.png`` read by ``load_points``,
  ``read_palette`` and ``load_image``.

Hostile inputs must end in an InputError within 1 GB and 10 s (issue 14).  The whole run takes
two to four minutes on a 2-core machine, most of it writing the inputs.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, time
started = time.perf_counter()
kind, path = sys.argv[1], sys.argv[2]
try:
    if kind == "image":
        from palettelab.core.formats.image_read import load_image
        from palettelab.core.quantization.pipeline import quantize
        q = quantize(load_image(path).pixels, 16)
        result = f"{q.indices.size / 1e6:.0f} MP quantized"
    elif kind == "points":
        from palettelab.core.formats.points import load_points
        points = load_points(path)
        result = f"{points.X.shape[0]:,} x {points.X.shape[1]} points" + (
            f", {len(points.label_names)} labels" if points.labels is not None else "")
    elif kind == "palette":
        from palettelab.core.formats.palettes import read_palette
        result = f"{len(read_palette(path).colors)} colours"
    else:
        from palettelab.core.formats.image_read import load_image
        result = str(load_image(path).pixels.shape)
except ValueError as error:  # InputError
    result = "InputError: " + str(error).replace(path, "FILE")
print(f"{time.perf_counter() - started:.2f}\\t{result}")
"""


def run_child(kind: str, path: Path) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, result) of one child process, measured by GNU time.

    Not ``os.wait4``: on Linux a child's ``ru_maxrss`` starts from its parent's RSS at the
    fork, and this process holds hundreds of MB while it writes the inputs (every case then
    read 281 MB, /dev/zero included).
    """
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", sys.executable, "-c", CHILD,
                             kind, str(path)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = result.stderr.strip().splitlines()
    rss = int(lines[-1].split()[1]) / 1024 if lines and lines[-1].startswith("MAXRSS") else 0.0
    if result.returncode != 0:
        return rss, wall, f"exit {result.returncode}: {' '.join(lines[-3:-1])[-200:]}"
    return rss, wall, result.stdout.strip().split("\t", 1)[1]


def make_image(folder: Path, megapixels: float) -> Path:
    from PIL import Image

    path = folder / "big.jpg"
    with Image.open(ROOT / "resources" / "china.jpg") as photo:
        scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
        size = (round(photo.width * scale), round(photo.height * scale))
        photo.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(path, quality=92)
    return path


def make_csv(folder: Path, rows: int, labels: bool) -> Path:
    path = folder / ("labelled.csv" if labels else "numbers.csv")
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "bird", "fish", "horse"])
    with path.open("w") as out:
        out.write("x,y,z,label\n" if labels else "x,y,z\n")
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            X = rng.normal(size=(n, 3))
            if labels:
                table = np.column_stack([X.astype(object), names[rng.integers(0, 5, n)]])
                np.savetxt(out, table, fmt=["%.6g", "%.6g", "%.6g", "%s"], delimiter=",")
            else:
                np.savetxt(out, X, fmt="%.6g", delimiter=",")
    return path


def make_bomb(folder: Path, name: str, block: bytes, total: int) -> Path:
    path = folder / name
    with gzip.open(path, "wb", compresslevel=9) as out:
        chunk = block * ((1 << 20) // len(block))
        for _ in range(total // len(chunk)):
            out.write(chunk)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--megapixels", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        cases = [
            ("image", f"{args.megapixels:g} MP JPEG, load + quantize k=16",
             make_image(folder, args.megapixels)),
            ("points", f"CSV, {args.rows:,} rows x 3 numbers",
             make_csv(folder, args.rows, labels=False)),
            ("points", f"CSV, {args.rows:,} rows x 3 numbers + text label",
             make_csv(folder, args.rows, labels=True)),
            ("points", "gzip bomb: 2 GiB of blank lines",
             make_bomb(folder, "blank.csv.gz", b"\n", 2 << 30)),
            ("points", "gzip bomb: 2 GiB of '0,0' rows",
             make_bomb(folder, "rows.csv.gz", b"0,0\n", 2 << 30)),
        ]
        for kind, name in (("points", "zero.csv"), ("palette", "zero.gpl"),
                           ("zero-image", "zero.png")):
            link = folder / name
            link.symlink_to("/dev/zero")
            cases.append((kind, f"/dev/zero as {name}", link))
        print(f"inputs made in {time.perf_counter() - started:.0f} s\n")
        print("| input | size on disk | peak RSS | time | result |")
        print("| --- | --- | --- | --- | --- |")
        for kind, label, path in cases:
            size = path.stat().st_size if path.is_file() and not path.is_symlink() else 0
            rss, wall, result = run_child(kind, path)
            shown = f"{size / 1e6:,.1f} MB" if size else "-"
            print(f"| {label} | {shown} | {rss:,.0f} MB | {wall:.1f} s | {result} |",
                  flush=True)


if __name__ == "__main__":
    main()

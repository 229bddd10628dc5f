"""Quantization against its peers on the same images, in one run: quality and time.

    python benchmarks/bench_quantize.py [--repeat 3] [--quick] [--skip-big]
    python benchmarks/bench_quantize.py --alpha

``--alpha``: soft transparency instead (issue 17).  resources/logo.png (a badge with
anti-aliased edges and a blurred shadow) at 4 to 128 colours, ours in OKLab and RGB against
``pngquant --speed 1 --nofs``: PSNR and mean OKLab error of what is seen over black and white
(:mod:`palettelab.core.quantization.quality`), file size of the 8-bit PNG with tRNS, time.

Images: china.jpg and flower.jpg (resources/) and a 12-megapixel Lanczos upscale of china.jpg
(4000x3000, made once in a temporary folder).  k=16, no dithering.  Engines:

* ``ours-oklab`` / ``ours-rgb``: ``palettelab.core.quantization.pipeline.quantize`` (default OKLab,
and RGB, which
  maximises PSNR), timed after a warm-up call, in process: image already decoded.
* ``sklearn``: scikit-learn ``KMeans(16, n_init=1, random_state=0)`` on every pixel (float64),
  fit + labels; one run on the 12 MP image (it takes seconds).
* ``pillow-mediancut`` / ``pillow-fastoctree``: ``Image.quantize(16, method=...)``.
* ``libimagequant``: PyPI ``imagequant`` (``dithering_level=0``), if installed.
* ``pngquant``: ``pngquant --speed 1 --nofs 16`` (Debian package), whole process on a PNG.

Each engine runs in its own child process (scikit-learn's OpenMP threads keep spinning after a
fit and would slow Numba down in the same process).  Reported per image: PSNR (RGB), mean OKLab
distance (lower is better), time, and the time ratio ours-oklab / engine.

Then the whole command line on the 12 MP PNG: ``palettelab quantize`` versus ``pngquant`` as
processes, wall time and peak memory (RSS) of each.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

K = 16
ENGINES = ("ours-oklab", "ours-rgb", "sklearn", "pillow-mediancut", "pillow-fastoctree",
           "libimagequant", "pngquant")


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _run_engine(engine: str, png: Path, repeat: int) -> dict:
    """Quantize ``png`` with one engine; returns the recoloured RGB image's scores and time."""
    from palettelab.core.quantization.quality import mean_oklab_error, psnr

    img = _rgb(png)
    if engine.startswith("ours"):
        from palettelab.core.quantization.pipeline import quantize

        space = engine.split("-")[1]
        quantize(img, K, space=space)  # warm-up: kernels loaded from the numba cache
        seconds, q = _timed(lambda: quantize(img, K, space=space), repeat)
        out = q.image()
    elif engine == "sklearn":
        from sklearn.cluster import KMeans

        X = img.reshape(-1, 3).astype(np.float64)
        reps = 1 if X.shape[0] > 1_000_000 else repeat
        seconds, km = _timed(lambda: KMeans(K, n_init=1, random_state=0).fit(X), reps)
        pal = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
        out = pal[km.labels_].reshape(img.shape)
    elif engine.startswith("pillow"):
        method = {"pillow-mediancut": Image.Quantize.MEDIANCUT,
                  "pillow-fastoctree": Image.Quantize.FASTOCTREE}[engine]
        im = Image.fromarray(img)
        seconds, res = _timed(lambda: im.quantize(K, method=method, dither=Image.Dither.NONE),
                              repeat)
        out = np.asarray(res.convert("RGB"))
    elif engine == "libimagequant":
        import imagequant

        im = Image.fromarray(img).convert("RGBA")
        seconds, res = _timed(lambda: imagequant.quantize_pil_image(
            im, dithering_level=0.0, max_colors=K), repeat)
        out = np.asarray(res.convert("RGB"))
    else:  # pngquant: the whole process, file in, file out
        target = png.with_name(png.stem + "-pngquant.png")

        def run():
            subprocess.run(["pngquant", "--speed", "1", "--nofs", str(K), "--force",
                            "--output", str(target), str(png)], check=True)

        seconds, _ = _timed(run, 1 if img.size > 3_000_000 else repeat)
        out = _rgb(target)
    n_colors = len(np.unique(out.reshape(-1, 3), axis=0))
    return {"engine": engine, "seconds": seconds, "psnr": psnr(img, out),
            "oklab": mean_oklab_error(img, out), "n_colors": n_colors}


def _available(engine: str) -> str | None:
    """None if the engine can run here, else why not."""
    if engine == "pngquant" and shutil.which("pngquant") is None:
        return "pngquant not installed (Debian package pngquant)"
    modules = {"sklearn": "sklearn", "libimagequant": "imagequant"}
    if engine in modules:
        try:
            __import__(modules[engine])
        except ImportError:
            return f"python package {modules[engine]} not installed"
    return None


def _child(engine: str, png: Path, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", engine, str(png),
                          "--repeat", str(repeat)], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} on {png.name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process (``wait4``: this child's own)."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {child.stderr.read().decode()}")
    child.stderr.close()
    return seconds, usage.ru_maxrss / 1024.0


def _images(folder: Path, quick: bool, skip_big: bool) -> list[tuple[str, Path]]:
    images = []
    for name in ("china.jpg", "flower.jpg"):
        png = folder / (Path(name).stem + ".png")
        Image.open(ROOT / "resources" / name).convert("RGB").save(png)
        images.append((name, png))
    if not (quick or skip_big):
        big = folder / "china-4000x3000.png"
        Image.open(ROOT / "resources" / "china.jpg").convert("RGB").resize(
            (4000, 3000), Image.LANCZOS).save(big, compress_level=1)
        images.append(("china.jpg upscaled to 4000x3000", big))
    return images


def _table(name: str, rows: list[dict]) -> None:
    ours = next(r for r in rows if r["engine"] == "ours-oklab")["seconds"]
    print(f"\n{name}")
    print("| engine | PSNR dB | mean OKLab error | colours | time ms | ours-oklab / engine |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ratio = ours / r["seconds"]
        print(f"| {r['engine']} | {r['psnr']:.3f} | {r['oklab']:.5f} | {r['n_colors']} | "
              f"{1000 * r['seconds']:.0f} | {ratio:.3f} |")
    by = {r["engine"]: r for r in rows}
    checks = []
    for peer in ("sklearn", "pngquant"):
        if peer in by:
            gain = by["ours-rgb"]["psnr"] - by[peer]["psnr"]
            checks.append(f"PSNR ours-rgb - {peer}: {gain:+.3f} dB")
    if "pngquant" in by:
        checks.append(f"OKLab error ours-oklab / pngquant: "
                      f"{by['ours-oklab']['oklab'] / by['pngquant']['oklab']:.3f}")
    print("; ".join(checks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    parser.add_argument("--quick", action="store_true", help="only the two small images")
    parser.add_argument("--skip-big", action="store_true", help="no 12 MP image")
    parser.add_argument("--alpha", action="store_true",
                        help="soft transparency: resources/logo.png against pngquant")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PNG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run_engine(args.child[0], Path(args.child[1]), args.repeat)))
        return 0
    if args.alpha:
        return _alpha(args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        skipped = {e: why for e in ENGINES if (why := _available(e))}
        for engine, why in skipped.items():
            print(f"skipping {engine}: {why}")
        images = _images(folder, args.quick, args.skip_big)
        for name, png in images:
            rows = [_child(e, png, args.repeat) for e in ENGINES if e not in skipped]
            _table(name, rows)
        big = images[-1][1]
        if big.name.startswith("china-4000") and "pngquant" not in skipped:
            print(f"\nwhole process on {big.name} (decode, quantize k={K}, encode PNG):")
            print("| command | seconds | peak RSS MB |")
            print("| --- | ---: | ---: |")
            cli = [sys.executable, "-m", "palettelab", "quantize", str(big), "-k", str(K), "-o",
                   str(folder / "ours.png")]
            _process(cli)  # warm the numba cache for this interpreter
            ours = _process(cli)
            theirs = _process(["pngquant", "--speed", "1", "--nofs", str(K), "--force",
                               "--output", str(folder / "pq.png"), str(big)])
            print(f"| palettelab quantize | {ours[0]:.2f} | {ours[1]:.0f} |")
            print(f"| pngquant --speed 1 --nofs | {theirs[0]:.2f} | {theirs[1]:.0f} |")
            print(f"ratio palettelab / pngquant: {ours[0] / theirs[0]:.3f}")
    return 0


def _alpha(repeat: int) -> int:
    """Soft transparency: our palettes with alpha against pngquant's, on resources/logo.png."""
    from palettelab.core.formats.image_read import load_image
    from palettelab.core.formats.image_write import save_image
    from palettelab.core.quantization.pipeline import quantize
    from palettelab.core.quantization.quality import mean_oklab_error, psnr

    if shutil.which("pngquant") is None:
        print("pngquant not installed (Debian package pngquant)")
        return 1
    logo = ROOT / "resources" / "logo.png"
    img = load_image(logo).pixels
    quantize(img, 8)  # load the kernels
    print(f"{logo.name}: {img.shape[1]}x{img.shape[0]}, "
          f"{np.unique(img[..., 3]).size} alpha levels")
    print("| k | engine | PSNR dB | OKLab error | PNG bytes | seconds | PSNR - pngquant |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for k in (4, 8, 16, 32, 64, 128):
            theirs_png = Path(tmp) / "pq.png"
            seconds = _process(["pngquant", "--speed", "1", "--nofs", str(k), "--force",
                                "--output", str(theirs_png), str(logo)])[0]
            theirs = np.asarray(Image.open(theirs_png).convert("RGBA"))
            base = psnr(img, theirs)
            rows = [("pngquant", base, mean_oklab_error(img, theirs),
                     theirs_png.stat().st_size, seconds)]
            for space in ("oklab", "rgb"):
                seconds, q = _timed(lambda s=space, k=k: quantize(img, k, space=s), repeat)
                ours_png = Path(tmp) / f"ours-{space}.png"
                save_image(ours_png, q)
                seen = np.asarray(Image.open(ours_png).convert("RGBA"))
                rows.append((f"ours-{space}", psnr(img, seen), mean_oklab_error(img, seen),
                             ours_png.stat().st_size, seconds))
            for name, value, error, size, secs in rows:
                print(f"| {k} | {name} | {value:.2f} | {error:.4f} | {size} | {secs:.3f} | "
                      f"{value - base:+.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

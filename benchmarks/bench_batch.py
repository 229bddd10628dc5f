"""The command line in a pipeline: a folder of web-sized images in one call, against pngquant.

    python benchmarks/bench_batch.py [--files 40] [--skip-big]

* **Folder**: ``--files`` PNGs of 200-400 px a side, each a random crop of ``china.jpg`` or
  ``flower.jpg`` (resources/) resized with Lanczos, from its own seed.  Ours: one
  ``palettelab quantize FOLDER -k 16 --space rgb -o OUT --quiet`` (``--jobs``: every core).
  ``--space rgb`` because PSNR is an RGB measure: the default OKLab minimises perceptual error
  and scored 0.1-1.3 dB below its own RGB mode (and 0.05-1.0 below pngquant) on these files.
  pngquant:
  ``xargs -P<cores> -n1 pngquant --speed 1 --nofs 16`` over the same files, so both use every
  core.  Wall time of each, their ratio (target <= 1.0), and per-file PSNR (RGB, target: ours
  >= pngquant's on every file).
* **One small file**: ``palettelab quantize china.jpg -k 16 -o x.png``, best wall time and
  its peak RSS over three runs (``/usr/bin/time -f "%e %M"``; targets <= 0.6 s, <= 200 MB),
  and pngquant on the same picture as PNG.
* **Start-up floor**: best of 5 new processes for ``pass``, ``import numpy``,
  ``import numba`` and Numba with one cached kernel: what a small file pays before any work.
* **12 MP**: china.jpg Lanczos-upscaled to 4000x3000, both commands once (target: ours <= 0.5
  of pngquant's time).

Numba's cache should be warm (run any ``palettelab quantize`` once first); the script runs one
warm-up call itself.
"""

from __future__ import annotations

import argparse
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
PALETTELAB = [sys.executable, "-m", "palettelab"]
PNGQUANT = ["pngquant", "--speed", "1", "--nofs", "--force", "--ext", ".pq.png", str(K)]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def make_folder(folder: Path, n: int) -> list[Path]:
    """``n`` web-sized PNGs cut from the bundled photos, one seed each."""
    photos = [Image.open(ROOT / "resources" / name).convert("RGB")
              for name in ("china.jpg", "flower.jpg")]
    made = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        photo = photos[seed % 2]
        w, h = photo.size
        cw, ch = int(rng.integers(w // 3, w + 1)), int(rng.integers(h // 3, h + 1))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        side = int(rng.integers(200, 401))
        scale = side / max(cw, ch)
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        path = folder / f"web{seed:02d}.png"
        photo.crop((x, y, x + cw, y + ch)).resize(size, Image.LANCZOS).save(path)
        made.append(path)
    return made


def _wall(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def _time_and_peak(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB) of a command, from GNU time."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], check=True,
                          capture_output=True, text=True)
    seconds, kb = proc.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kb)


def _psnr(original: Path, result: Path) -> float:
    a = np.asarray(Image.open(original).convert("RGB"), dtype=np.float64)
    b = np.asarray(Image.open(result).convert("RGB"), dtype=np.float64)
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def folder_run(work: Path, n: int) -> None:
    folder = work / "web"
    folder.mkdir()
    files = make_folder(folder, n)
    cores = _cores()
    ours = _wall([*PALETTELAB, "quantize", str(folder), "-k", str(K), "--space", "rgb", "-o",
                  str(work / "ours"), "--quiet"])
    listing = "\0".join(str(f) for f in files).encode()
    theirs = _wall(["xargs", "-0", f"-P{cores}", "-n1", *PNGQUANT], input=listing)
    print(f"{n} web-sized PNGs (200-400 px), {cores} cores: ours {ours:.2f} s, "
          f"pngquant (xargs -P{cores}) {theirs:.2f} s, ratio {ours / theirs:.2f}")
    worse = 0
    print("file            ours dB  pngquant dB")
    for f in files:
        mine = _psnr(f, work / "ours" / f.name)
        their = _psnr(f, f.with_name(f.stem + ".pq.png"))
        worse += mine < their
        print(f"{f.name:14s} {mine:8.2f} {their:11.2f}{'  <' if mine < their else ''}")
    print(f"files where ours is below pngquant: {worse} of {n}")


def small_file(work: Path) -> None:
    china = ROOT / "resources" / "china.jpg"
    runs = [_time_and_peak([*PALETTELAB, "quantize", str(china), "-k", str(K), "-o",
                            str(work / "small.png")]) for _ in range(3)]
    seconds, kb = min(runs)
    png = work / "china.png"
    Image.open(china).save(png)
    pq = min(_time_and_peak([*PNGQUANT, str(png)]) for _ in range(3))
    print(f"one small file (china.jpg, 0.27 MP): ours {seconds:.2f} s / {kb / 1024:.0f} MB "
          f"(best of 3: {', '.join(f'{s:.2f} s' for s, _ in runs)}); "
          f"pngquant {pq[0]:.2f} s / {pq[1] / 1024:.0f} MB")


#: what a small file's run is made of, each in a new process: the floor under it
FLOOR = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "import numba": "import numba",
    "import numba + one cached kernel": (
        "from palettelab.app.cli.startup import skip_blas_probe; skip_blas_probe(); "
        "import numpy as np; from palettelab.core.color.spaces import from_srgb; "
        "from_srgb(np.zeros((4, 3), np.uint8), 'oklab')"),
}


def startup_floor() -> None:
    """Best of 5 wall times of :data:`FLOOR`: how much of a small file's run is start-up."""
    for name, code in FLOOR.items():
        best = min(_wall([sys.executable, "-c", code]) for _ in range(5))
        print(f"  start-up floor: {name}: {best:.3f} s")


def big_file(work: Path) -> None:
    big = work / "china-12mp.png"
    Image.open(ROOT / "resources" / "china.jpg").convert("RGB").resize(
        (4000, 3000), Image.LANCZOS).save(big, compress_level=1)
    ours = _wall([*PALETTELAB, "quantize", str(big), "-k", str(K), "-o", str(work / "b.png")])
    theirs = _wall([*PNGQUANT, str(big)])
    print(f"12 MP: ours {ours:.2f} s, pngquant {theirs:.2f} s, ratio {ours / theirs:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    if shutil.which("pngquant") is None:
        sys.exit("pngquant is not installed (Debian: apt-get install -y pngquant)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warm = work / "warm.png"
        Image.open(ROOT / "resources" / "flower.jpg").save(warm)
        subprocess.run([*PALETTELAB, "quantize", str(warm), "-k", "4", "-o",
                        str(work / "w.png")], check=True)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        small_file(work)
        startup_floor()
        folder_run(work, args.files)
        if not args.skip_big:
            big_file(work)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

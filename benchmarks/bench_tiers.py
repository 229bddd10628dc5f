"""Speed of the kernels the standalone app ships (issue 15): each CPU tier against kernels
compiled for this very host, on the workloads of bench_quantize.py and bench_kmeans.py.

    python benchmarks/bench_tiers.py [--repeat 3] [--skip-big]

Three child processes run the same workloads, each after an untimed warm-up call, best of
``--repeat``:

* ``host``: Numba's default, code for this machine's CPU (``NUMBA_CACHE_DIR`` a new folder);
* ``x86-64-v3`` and ``generic``: ``palettelab.core.kernel_cache.activate`` as the bundle does,
  on a copy of ``build/kernels/<tier>`` when ``packaging/build.py`` has made it (otherwise the
  warm-up compiles the same code for that tier).

Workloads: ``quantize`` k=16 in OKLab and RGB on china.jpg, flower.jpg and their 12-megapixel
upscale (bench_quantize.py's images), and ``KMeans.fit`` from k-means++ starts on three of
bench_kmeans.py's cases.  Printed: seconds per workload and config, and tier / host ratios
(1.05 means 5 % slower than host-compiled code).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_kmeans import best_of, case_data  # noqa: E402
from bench_quantize import K, _images, _rgb  # noqa: E402

KMEANS_CASES = ("n=1,000,000 d=3 k=16", "n=1,000,000 d=8 k=64", "digits")
CONFIGS = ("host", "x86-64-v3", "generic")


def child(folder: Path, repeat: int, skip_big: bool) -> None:
    """Time every workload in this process; print one JSON line {workload: seconds}."""
    from palettelab.core.clustering.kmeans import KMeans
    from palettelab.core.quantization.pipeline import quantize

    times = {}

    def timed(name: str, run) -> None:
        run()  # warm-up: kernels loaded (or compiled), thread pool started
        times[name] = best_of(run, repeat)[0]

    for name, png in _images(folder, quick=False, skip_big=skip_big):
        pixels = _rgb(png)
        for space in ("oklab", "rgb"):
            timed(f"quantize {space} {name}", partial(quantize, pixels, K, space=space))
    rng = np.random.default_rng(0)
    for case in KMEANS_CASES:
        X, k = case_data(case)
        start = X[rng.choice(len(X), k, replace=False)]
        timed(f"KMeans {case}", partial(KMeans(k, init=start, n_init=1).fit, X))
    print(json.dumps(times))


def config_env(config: str, tmp: Path) -> dict[str, str]:
    from palettelab.core.kernel_cache import environment

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("NUMBA_CPU", "NUMBA_CACHE", "PALETTELAB_KERNEL"))}
    if config == "host":
        env["NUMBA_CACHE_DIR"] = str(tmp / "host-cache")
        return env
    folder = tmp / config
    built = ROOT / "build" / "kernels" / config
    if built.is_dir():
        shutil.copytree(built, folder)
    return {**env, **environment(folder, config)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    parser.add_argument("--skip-big", action="store_true", help="no 12 MP image")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.repeat, args.skip_big)
        return 0
    results = {}
    with tempfile.TemporaryDirectory(prefix="plab-tiers-") as tmp:
        for config in CONFIGS:
            command = [sys.executable, __file__, "--child", tmp, "--repeat", str(args.repeat)]
            if args.skip_big:
                command.append("--skip-big")
            out = subprocess.run(command, env=config_env(config, Path(tmp)), check=True,
                                 capture_output=True, text=True, cwd=ROOT)
            results[config] = json.loads(out.stdout.strip().splitlines()[-1])
    print("| workload | host ms | x86-64-v3 ms | generic ms | v3 / host | generic / host |")
    print("| --- | --- | --- | --- | --- | --- |")
    for workload, host in results["host"].items():
        v3, generic = results["x86-64-v3"][workload], results["generic"][workload]
        print(f"| {workload} | {host * 1000:.1f} | {v3 * 1000:.1f} | {generic * 1000:.1f} "
              f"| {v3 / host:.3f} | {generic / host:.3f} |")
    for tier in CONFIGS[1:]:
        ratios = [results[tier][w] / results["host"][w] for w in results["host"]]
        print(f"{tier} / host: geometric mean {float(np.exp(np.mean(np.log(ratios)))):.3f}, "
              f"worst {max(ratios):.3f}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

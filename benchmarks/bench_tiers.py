"""Speed of the kernels the standalone app ships (issue 15): each CPU tier against kernels
compiled for this very host, on the workloads of bench_quantize.py and bench_kmeans.py.

    python benchmarks/bench_tiers.py [--rounds 20] [--seconds 0.3] [--skip-big] [--save F]

Child processes run the same workloads, each after an untimed warm-up call, best of as many
runs as fit in ``--seconds`` (at least three), under three configurations:

* ``host``: Numba's default, code for this machine's CPU (``NUMBA_CACHE_DIR`` a new folder);
* ``x86-64-v3`` and ``generic``: ``palettelab.core.kernel_cache.activate`` as the bundle does,
  on a copy of ``build/kernels/<tier>`` when ``packaging/build.py`` has made it (otherwise the
  warm-up compiles the same code for that tier).

The configurations take turns, ``--rounds`` times over in a rotating order, and each ratio is
the median over the rounds of the tier's time over host's in the same round.  This machine's
speed drifts by 30 % from one minute to the next: one child per configuration in a row had put
that drift into the ratios, and seven runs of the 2 ms digits case once read 1.9 for the AVX2
tier (1,000 runs in each of three rounds: 0.98-1.04).  What is left is an effect of the process:
the 12 MP image's histogram pass, a scatter into a 64 MB table, took 47-71 ms a call in
different processes of the same configuration.  Twenty rounds of 0.3 s (18 minutes) put the
AVX2 tier's geometric mean at 1.025, 0.98-1.08 with 95 % confidence (the interval printed comes
from resampling the rounds; ``--save`` keeps every round's times).

Workloads: ``quantize`` k=16 in OKLab and RGB on china.jpg, flower.jpg and their 12-megapixel
upscale (bench_quantize.py's images), and ``KMeans.fit`` on three of bench_kmeans.py's cases,
started from the same random rows.  Printed: seconds per workload and config, and tier / host
ratios (1.05 means 5 % slower than host-compiled code), per benchmark and in all.
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
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_kmeans import case_data  # noqa: E402
from bench_quantize import K, _images, _rgb  # noqa: E402

KMEANS_CASES = ("n=1,000,000 d=3 k=16", "n=1,000,000 d=8 k=64", "digits")
CONFIGS = ("host", "x86-64-v3", "generic")


def best_within(run, seconds: float) -> float:
    """The shortest of at least three timed runs, as many as fit in ``seconds``."""
    best, spent, runs = np.inf, 0.0, 0
    while runs < 3 or spent < seconds:
        t = time.perf_counter()
        run()
        took = time.perf_counter() - t
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def child(folder: Path, seconds: float, skip_big: bool) -> None:
    """Time every workload in this process; print one JSON line {workload: seconds}."""
    from palettelab.core.clustering.kmeans import KMeans
    from palettelab.core.quantization.pipeline import quantize

    times = {}

    def timed(name: str, run) -> None:
        run()  # warm-up: kernels loaded (or compiled), thread pool started
        times[name] = best_within(run, seconds)

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


def geometric_ratio(rounds: list[dict[str, dict[str, float]]], tier: str,
                    workloads: list[str]) -> float:
    """The geometric mean over ``workloads`` of the median over ``rounds`` of tier / host."""
    medians = [np.median([r[tier][w] / r["host"][w] for r in rounds]) for w in workloads]
    return float(np.exp(np.mean(np.log(medians))))


def report(rounds: list[dict[str, dict[str, float]]]) -> None:
    """Print each workload's best time per config and each tier's ratio to host (the median of
    the rounds' ratios: a tier and host timed minutes apart are never compared), then per
    benchmark the geometric mean with a 95 % interval from resampling the rounds."""
    workloads = list(rounds[0]["host"])
    print("| workload | host ms | x86-64-v3 ms | generic ms | v3 / host | generic / host |")
    print("| --- | --- | --- | --- | --- | --- |")
    for w in workloads:
        print(f"| {w} | " + " | ".join(f"{min(r[c][w] for r in rounds) * 1000:.1f}"
                                       for c in CONFIGS)
              + " | " + " | ".join(f"{geometric_ratio(rounds, c, [w]):.3f}"
                                   for c in CONFIGS[1:]) + " |")
    rng = np.random.default_rng(0)
    for tier in CONFIGS[1:]:
        for bench in ("quantize", "KMeans", ""):
            chosen = [w for w in workloads if w.startswith(bench)]
            resampled = [geometric_ratio([rounds[i] for i in rng.integers(0, len(rounds),
                                                                          len(rounds))],
                                         tier, chosen) for _ in range(1000)]
            low, high = np.percentile(resampled, [2.5, 97.5])
            print(f"{tier} / host, {bench or 'all'}: geometric mean "
                  f"{geometric_ratio(rounds, tier, chosen):.3f} (95 %: {low:.3f}-{high:.3f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="turns of the configurations")
    parser.add_argument("--seconds", type=float, default=0.3,
                        help="timed runs per workload: as many as fit (at least three)")
    parser.add_argument("--skip-big", action="store_true", help="no 12 MP image")
    parser.add_argument("--save", type=Path, help="also write every round's times here (JSON)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.seconds, args.skip_big)
        return 0
    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="plab-tiers-") as tmp:
        envs = {config: config_env(config, Path(tmp)) for config in CONFIGS}
        command = [sys.executable, __file__, "--child", tmp, "--seconds", str(args.seconds)]
        if args.skip_big:
            command.append("--skip-big")
        for turn in range(args.rounds):
            times = {}
            for config in CONFIGS[turn % 3:] + CONFIGS[:turn % 3]:  # no config always first
                out = subprocess.run(command, env=envs[config], check=True,
                                     capture_output=True, text=True, cwd=ROOT)
                times[config] = json.loads(out.stdout.strip().splitlines()[-1])
            rounds.append(times)
    if args.save:
        args.save.write_text(json.dumps(rounds, indent=1))
    report(rounds)
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

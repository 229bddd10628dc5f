"""What each kernel costs to compile (issue 15, item 4): the compile bill, kernel by kernel.

    python benchmarks/bench_compile.py [--groups "first picture,points"] [--baseline REV]

Runs the kernel groups of ``palettelab.core.kernel_warmup`` (every kernel the app uses) in a
child process whose ``NUMBA_CACHE_DIR`` is a new, empty folder, with a listener on Numba's
``numba:compile`` events.  A kernel that calls another jitted function compiles it inside its
own compilation, so each compilation's own time is its duration minus that of the
compilations nested in it.  Printed: per kernel (module.function), its signatures and its own
compile seconds, largest first; per group, its wall time; and the total, which is the JIT CPU
time of the whole app on one core (Numba compiles one function at a time).

``--baseline REV`` also measures, in the same run and the same way, what the app compiled at
start-up in revision REV (a ``git archive`` of it on ``PYTHONPATH``), and prints the ratio.
The default, 53f9603, is the tree issue 15 was filed against: the image worker warmed every
quantization variant and the quality figures, the points worker every k-means kernel for
float32 and float64.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

#: what the GUI compiled at start-up in the baseline revision (its two workers' warm-ups)
BASELINE_WARMUP = """
import numpy as np
from palettelab.core.clustering.kmeans import warm_up as points_warm_up
from palettelab.core.quantization.pipeline import warm_up
from palettelab.core.quantization.quality import mean_oklab_error, psnr

warm_up()
for channels in (3, 4):
    tiny = np.zeros((2, 2, channels), dtype=np.uint8)
    psnr(tiny, tiny)
    mean_oklab_error(tiny, tiny)
points_warm_up()
"""
BASELINE_REV = "53f9603"


def child(names: list[str]) -> None:
    """Compile the groups (or, with the name ``baseline``, :data:`BASELINE_WARMUP`) here and
    print one JSON line: kernels and groups."""
    from numba.core import event

    own: dict[str, float] = defaultdict(float)
    signatures: dict[str, int] = defaultdict(int)
    stack: list[list] = []  # [name, start, time of nested compilations]

    class Listener(event.Listener):
        def on_start(self, ev) -> None:
            dispatcher = ev.data["dispatcher"]
            func = dispatcher.py_func
            stack.append([f"{func.__module__.removeprefix('palettelab.')}.{func.__qualname__}",
                          time.perf_counter(), 0.0])

        def on_end(self, ev) -> None:
            name, start, nested = stack.pop()
            took = time.perf_counter() - start
            own[name] += took - nested
            signatures[name] += 1
            if stack:
                stack[-1][2] += took

    groups = {}
    with event.install_listener("numba:compile", Listener()):
        if names == ["baseline"]:
            start = time.perf_counter()
            exec(BASELINE_WARMUP, {})
            groups["baseline"] = time.perf_counter() - start
        else:
            from palettelab.core import kernel_warmup

            for name, compile_group in kernel_warmup.GROUPS:
                if name in names:
                    start = time.perf_counter()
                    compile_group()
                    groups[name] = time.perf_counter() - start
    kernels = {name: {"seconds": own[name], "signatures": signatures[name]} for name in own}
    print(json.dumps({"kernels": kernels, "groups": groups}))


def measure(names: list[str], source: Path | None = None) -> tuple[dict, float]:
    """Run :func:`child` in a new process with an empty cache (on the package found in
    ``source``, a folder holding ``palettelab/``, if given); its result and wall time."""
    with tempfile.TemporaryDirectory(prefix="plab-compile-") as cache:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("NUMBA_CACHE", "PALETTELAB_KERNEL"))}
        env["NUMBA_CACHE_DIR"] = cache
        if source is not None:
            env["PYTHONPATH"] = str(source)
        started = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", ",".join(names)], env=env,
                             check=True, capture_output=True, text=True,
                             cwd=source or Path.cwd())
        wall = time.perf_counter() - started
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def measure_revision(rev: str) -> tuple[dict, float]:
    """:func:`measure` of :data:`BASELINE_WARMUP` on a ``git archive`` of ``rev``."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="plab-baseline-") as tree:
        package = Path(tree) / "palettelab"
        package.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", rev], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
        return measure(["baseline"], Path(tree))


def total_seconds(result: dict) -> float:
    return sum(k["seconds"] for k in result["kernels"].values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", help="comma-separated kernel groups (default: all)")
    parser.add_argument("--baseline", nargs="?", const=BASELINE_REV, metavar="REV",
                        help=f"also measure revision REV (default {BASELINE_REV})")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child.split(","))
        return 0
    from palettelab.core.kernel_warmup import NAMES

    names = args.groups.split(",") if args.groups else list(NAMES)
    result, wall = measure(names)
    kernels = sorted(result["kernels"].items(), key=lambda item: -item[1]["seconds"])
    total = total_seconds(result)
    print("| kernel | signatures | compile s | share |")
    print("| --- | --- | --- | --- |")
    for name, k in kernels:
        print(f"| {name} | {k['signatures']} | {k['seconds']:.2f} | "
              f"{100 * k['seconds'] / total:.1f} % |")
    print(f"\n{len(kernels)} kernels, {sum(k['signatures'] for _, k in kernels)} signatures, "
          f"{total:.1f} s of compilation")
    for name, seconds in result["groups"].items():
        print(f"group {name}: {seconds:.1f} s")
    print(f"child process wall time {wall:.1f} s, load average {os.getloadavg()[0]:.2f}")
    if args.baseline:
        base, base_wall = measure_revision(args.baseline)
        base_total = total_seconds(base)
        print(f"baseline {args.baseline}: {len(base['kernels'])} kernels, "
              f"{sum(k['signatures'] for k in base['kernels'].values())} signatures, "
              f"{base_total:.1f} s of compilation (wall {base_wall:.1f} s)")
        print(f"compile bill now / baseline: {total / base_total:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

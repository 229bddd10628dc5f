"""What each kernel costs to compile (issue 15, item 4): the compile bill, kernel by kernel.

    python benchmarks/bench_compile.py [--groups "first picture,points"]

Runs the kernel groups of ``palettelab.core.kernel_warmup`` (every kernel the app uses) in a
child process whose ``NUMBA_CACHE_DIR`` is a new, empty folder, with a listener on Numba's
``numba:compile`` events.  A kernel that calls another jitted function compiles it inside its
own compilation, so each compilation's own time is its duration minus that of the
compilations nested in it.  Printed: per kernel (module.function), its signatures and its own
compile seconds, largest first; per group, its wall time; and the total, which is the JIT CPU
time of the whole app on one core (Numba compiles one function at a time).
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


def child(names: list[str]) -> None:
    """Compile the groups here and print one JSON line: kernels and groups."""
    from numba.core import event

    from palettelab.core import kernel_warmup

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
        for name, compile_group in kernel_warmup.GROUPS:
            if name in names:
                start = time.perf_counter()
                compile_group()
                groups[name] = time.perf_counter() - start
    kernels = {name: {"seconds": own[name], "signatures": signatures[name]} for name in own}
    print(json.dumps({"kernels": kernels, "groups": groups}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", help="comma-separated kernel groups (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child.split(","))
        return 0
    from palettelab.core.kernel_warmup import NAMES

    names = args.groups.split(",") if args.groups else list(NAMES)
    with tempfile.TemporaryDirectory(prefix="plab-compile-") as cache:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("NUMBA_CACHE", "PALETTELAB_KERNEL"))}
        env["NUMBA_CACHE_DIR"] = cache
        started = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", ",".join(names)], env=env,
                             check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
    result = json.loads(out.stdout.strip().splitlines()[-1])
    kernels = sorted(result["kernels"].items(), key=lambda item: -item[1]["seconds"])
    total = sum(k["seconds"] for _, k in kernels)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

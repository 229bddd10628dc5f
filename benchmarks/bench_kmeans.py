"""k-means speed and agreement: PaletteLab against scikit-learn in the same run.

Every case clusters the same data from the same initial centres (scikit-learn's k-means++ with a
fixed seed) once with each engine, after one untimed warm-up run of each, and prints the time
ratio (ours / scikit-learn: below 1 is faster), the relative inertia difference, the label
agreement and the iteration counts.  scikit-learn-intelex is timed too when it is installed.

    python benchmarks/bench_kmeans.py                 # all cases of the issue
    python benchmarks/bench_kmeans.py --quick         # small n, a smoke run
    python benchmarks/bench_kmeans.py --minibatch     # also the 12-megapixel mini-batch case

JIT compile time (empty numba cache) and cached-load time are measured in fresh subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def blobs(n: int, d: int, n_centers: int, seed: int, dtype=np.float64) -> np.ndarray:
    """Gaussian blobs with unequal spreads: a realistic, not too easy clustering problem."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(n_centers, d))
    spread = rng.uniform(0.5, 2.5, size=n_centers)
    which = rng.integers(0, n_centers, size=n)
    X = centers[which] + rng.normal(size=(n, d)) * spread[which, None]
    return X.astype(dtype)


def digits() -> np.ndarray:
    """The bundled digits (1797 x 64), a writable copy: the point set's array is read-only."""
    from palettelab.core.datasets import make_dataset

    return np.array(make_dataset("digits").X)


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def case_data(name: str) -> tuple[np.ndarray, int]:
    """The data and k of a named case, regenerated identically in every process."""
    if name.startswith("digits"):
        return digits(), 10
    n, d, k = (int(part.split("=")[1].replace(",", "")) for part in name.split())
    return blobs(n, d, 2 * k, seed=d * 1000 + k), k


def child(engine: str, name: str, init_path: str, out_path: str, repeat: int) -> None:
    """Time one engine on one case in this process; print JSON, save the labels."""
    X, k = case_data(name)
    C0 = np.load(init_path)
    if engine == "ours":
        from palettelab.core.clustering.kmeans import KMeans

        fit = lambda: KMeans(k, init=C0, n_init=1).fit(X)  # noqa: E731
    elif engine == "sklearn":
        from sklearn.cluster import KMeans as SKKMeans

        fit = lambda: SKKMeans(k, init=C0, n_init=1, algorithm="lloyd").fit(X)  # noqa: E731
    else:
        from sklearnex.cluster import KMeans as XKMeans

        fit = lambda: XKMeans(k, init=C0, n_init=1).fit(X)  # noqa: E731
    fit()  # warm-up: kernels loaded, thread pools started
    t, km = best_of(fit, repeat)
    np.save(out_path, np.asarray(km.labels_))
    print(json.dumps({"seconds": t, "inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}))


def run_case(name, repeat, engines):
    """Each engine runs in its own process: OpenMP/OpenBLAS threads spinning after a
    scikit-learn call would otherwise steal this 2-core machine from numba's threads."""
    from sklearn.cluster import kmeans_plusplus

    X, k = case_data(name)
    C0, _ = kmeans_plusplus(X, k, random_state=0)
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        init_path = os.path.join(tmp, "init.npy")
        np.save(init_path, C0)
        for engine in engines:
            out = os.path.join(tmp, f"{engine}.npy")
            proc = subprocess.run(
                [sys.executable, __file__, "--child", engine, "--only", name,
                 "--init", init_path, "--out", out, "--repeat", str(repeat)],
                cwd=ROOT, capture_output=True, text=True, check=True)
            res[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
            res[engine]["labels"] = np.load(out)
    ours, sk = res["ours"], res["sklearn"]
    row = {
        "case": name,
        "ours_s": ours["seconds"],
        "sklearn_s": sk["seconds"],
        "ratio": ours["seconds"] / sk["seconds"],
        "d_inertia": ours["inertia"] / sk["inertia"] - 1,
        "labels_equal": float(np.mean(ours["labels"] == sk["labels"])),
        "iters": f"{ours['n_iter']}/{sk['n_iter']}",
    }
    if "sklearnex" in res:
        row["ratio_intelex"] = ours["seconds"] / res["sklearnex"]["seconds"]
    return row


def compile_times() -> tuple[float, float]:
    """Seconds for warm_up() in a fresh process: with an empty cache, then with it filled."""
    code = ("import time; t=time.perf_counter(); "
            "from palettelab.core.clustering.kmeans import warm_up; warm_up(); "
            "print(time.perf_counter()-t)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = []
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            out.append(float(res.stdout.strip().splitlines()[-1]))
    return out[0], out[1]


def minibatch_case(repeat):
    """12M RGB pixels (china.jpg Lanczos-upscaled to 4000x3000) as float32, k=16."""
    from PIL import Image

    from palettelab.core.clustering.kmeans import KMeans, MiniBatchKMeans

    img = Image.open(ROOT / "resources" / "china.jpg").convert("RGB")
    img = img.resize((4000, 3000), Image.Resampling.LANCZOS)
    X = np.asarray(img, dtype=np.float32).reshape(-1, 3)
    fit = lambda: MiniBatchKMeans(16, random_state=0).fit(X)  # noqa: E731
    fit()
    t_mb, mb = best_of(fit, repeat)
    t_full, full = best_of(lambda: KMeans(16, random_state=0).fit(X), 1)
    return {"case": "minibatch 12M x 3 f32 k=16", "ours_s": t_mb, "full_kmeans_s": t_full,
            "d_inertia_vs_full": mb.inertia_ / full.inertia_ - 1, "steps": mb.n_steps_}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small n, for a smoke run")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per engine (best kept)")
    ap.add_argument("--minibatch", action="store_true", help="add the 12 MP mini-batch case")
    ap.add_argument("--no-compile", action="store_true", help="skip the JIT timing subprocesses")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--init", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.only, args.init, args.out, args.repeat)
        return 0

    engines = ["ours", "sklearn"]
    try:
        import sklearnex  # noqa: F401

        engines.append("sklearnex")
    except ImportError:
        print("# scikit-learn-intelex not installed: not compared")
    import numba
    import sklearn

    print(f"# numba {numba.__version__}, scikit-learn {sklearn.__version__}, "
          f"threads {numba.get_num_threads()}, numpy {np.__version__}")

    if not args.no_compile:
        cold, warm = compile_times()
        print(f"JIT compile (empty cache): {cold:.1f} s; load from cache: {warm:.2f} s")

    n_big = 20_000 if args.quick else 1_000_000
    n_mid = 5_000 if args.quick else 200_000
    cases = [f"n={n_big:,} d={d} k={k}" for d in (2, 3, 8) for k in (8, 16, 64)]
    cases.append(f"n={n_mid:,} d=64 k=64")
    header = f"{'case':<26}{'ours s':>9}{'sklearn s':>11}{'ratio':>7}{'d inertia':>11}" \
             f"{'labels eq':>11}{'iters':>9}"
    print(header)
    rows = []
    for name in cases:
        if args.only not in name:
            continue
        rows.append(run_case(name, args.repeat, engines))
    if args.only in "digits 1797 x 64 k=10":
        rows.append(run_case("digits 1797 x 64 k=10", max(args.repeat, 20), engines))
    for r in rows:
        extra = f"  intelex ratio {r['ratio_intelex']:.2f}" if "ratio_intelex" in r else ""
        print(f"{r['case']:<26}{r['ours_s']:>9.3f}{r['sklearn_s']:>11.3f}{r['ratio']:>7.2f}"
              f"{r['d_inertia']:>11.1e}{r['labels_equal']:>11.6f}{r['iters']:>9}{extra}")
    if rows:
        print(f"worst ratio {max(r['ratio'] for r in rows):.2f}, "
              f"largest |d inertia| {max(abs(r['d_inertia']) for r in rows):.1e}")
    if args.minibatch:
        r = minibatch_case(max(1, args.repeat))
        print(f"{r['case']}: {r['ours_s']:.2f} s ({r['steps']} steps), full KMeans "
              f"{r['full_kmeans_s']:.2f} s, inertia vs full {r['d_inertia_vs_full']:+.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

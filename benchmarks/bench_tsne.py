"""t-SNE on the digits against scikit-learn, side by side in one run (issue 18).

    python benchmarks/bench_tsne.py

* **ours**: the whole command line, as a pipeline runs it: ``palettelab cluster DIGITS.csv -k 10
  --embed tsne --n-init 10 --json`` (rows shuffled, a text label column), one process from
  start to exit, after a first run has filled Numba's cache.
* **scikit-learn**: ``TSNE(init="pca", random_state=0)`` then ``KMeans(10, n_init=10)`` in one
  process, timed from the data in memory to the labels (imports not counted), as the issue's
  4.1 s was measured.

Printed: seconds and their ratio, matched accuracy of each, and the embeddings' KL divergence
and trustworthiness (5 neighbours) computed the same way for both.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from palettelab.core.datasets import make_dataset  # noqa: E402


def _write_digits(path: Path) -> np.ndarray:
    digits = make_dataset("digits")
    order = np.random.default_rng(5).permutation(len(digits.X))
    names = np.array([f"digit-{n}" for n in digits.label_names])
    with open(path, "w") as out:
        out.write(",".join([*(f"p{i}" for i in range(64)), "class"]) + "\n")
        for row, label in zip(digits.X[order], names[digits.labels[order]], strict=True):
            out.write(",".join(str(int(v)) for v in row) + f",{label}\n")
    return order


def _ours(path: Path, out: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "palettelab", "cluster", str(path), "-k", "10", "--embed",
           "tsne", "--n-init", "10", "-o", str(out), "--json"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)  # fill the cache
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, json.loads(done.stdout)


def _theirs() -> str:
    return '''
import json, sys, time
import numpy as np
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE
X = np.load(sys.argv[1])
start = time.perf_counter()
tsne = TSNE(init="pca", random_state=0)
Y = tsne.fit_transform(X)
labels = KMeans(10, n_init=10, random_state=0).fit_predict(Y)
seconds = time.perf_counter() - start
np.save(sys.argv[2], Y)
print(json.dumps({"seconds": seconds, "kl": float(tsne.kl_divergence_),
                  "labels": labels.tolist()}))
'''


def main() -> int:
    from sklearn.manifold import trustworthiness

    from palettelab.core.clustering.metrics import matched_accuracy
    from palettelab.core.clustering.tsne import TSNE

    digits = make_dataset("digits")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        order = _write_digits(folder / "digits.csv")
        X = np.asarray(digits.X[order], dtype=np.float64)
        truth = digits.labels[order]
        ours_seconds, summary = _ours(folder / "digits.csv", folder / "labels.csv")
        np.save(folder / "X.npy", X)
        done = subprocess.run([sys.executable, "-c", _theirs(), str(folder / "X.npy"),
                               str(folder / "Z.npy")], check=True, capture_output=True,
                              text=True)
        theirs = json.loads(done.stdout)
        Z = np.load(folder / "Z.npy")
    ours = TSNE(random_state=0)
    Y = ours.fit_transform(X)
    print("digits: 1,797 rows, 64 columns, k=10, n_init=10\n")
    print("| | palettelab (whole CLI process) | scikit-learn TSNE + KMeans (in process) |")
    print("| --- | ---: | ---: |")
    print(f"| seconds | {ours_seconds:.2f} | {theirs['seconds']:.2f} |")
    print(f"| matched accuracy | {summary['accuracy']:.3f} | "
          f"{matched_accuracy(np.array(theirs['labels']), truth):.3f} |")
    print(f"| KL divergence | {ours.kl_divergence_:.4f} | {theirs['kl']:.4f} |")
    print(f"| trustworthiness (5) | {trustworthiness(X, Y, n_neighbors=5):.4f} | "
          f"{trustworthiness(X, Z, n_neighbors=5):.4f} |")
    print(f"\nratio of seconds, palettelab / scikit-learn: {ours_seconds / theirs['seconds']:.2f}")
    print(f"ratio of KL divergences: {ours.kl_divergence_ / theirs['kl']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

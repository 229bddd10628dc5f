"""The library kernels the tests use beyond the app's groups, compiled into the Numba cache by
one child process beside the app's two lanes before the test processes start
(``conftest.pytest_sessionstart``).

On a fresh clone each test process compiled what its own tests needed of these: 98 s of
compilation measured in one process (float32 k-means and k-d tree, float inputs of the colour
conversions, spectral clustering, silhouettes), some of it twice.  With this child the fresh
clone's suite went from 256 s to 232 s of wall time (docs/PERFORMANCE.md).

    python tests/library_kernels.py
"""

import numpy as np


def main() -> None:
    from palettelab.core.clustering.kmeans import warm_up
    from palettelab.core.clustering.metrics import silhouette_samples
    from palettelab.core.clustering.spectral import SpectralClustering
    from palettelab.core.color.spaces import SPACES, from_srgb, to_srgb_float
    from palettelab.core.kernel_warmup import serialize_cache_saves

    serialize_cache_saves()
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        rows = rng.normal(size=(60, 3)).astype(dtype)
        silhouette_samples(rows, np.arange(60) % 3)
        SpectralClustering(n_clusters=2, random_state=0).fit(rows)
        for space in SPACES:
            from_srgb(rows * 100.0, space)
            to_srgb_float(rows, space)
    warm_up((np.float32,))


if __name__ == "__main__":
    main()

"""PaletteLab's compute core: pure numpy + Numba, no Qt (an import contract checks it).

Usable from the CLI, the GUI's worker thread, notebooks, tests and benchmarks alike. Grouped by
job: ``clustering`` (the k-means engine, spectral clustering, metrics), ``quantization`` (the
image pipeline: histogram, k-means, sort, remap, dither, quality), ``color`` (colour spaces and
codes), ``formats`` (image, palette and point files, atomic writes), and the Points workflow
(``points_session``, ``datasets``, ``projection``).
"""

"""PaletteLab's compute core: pure numpy + numba, no Qt.

Usable from the CLI, the GUI worker thread, tests and benchmarks alike.
"""

__version__ = "0.1.0"

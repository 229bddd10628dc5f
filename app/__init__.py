"""PaletteLab's Qt layer: the command line entry point, the GUI and its worker thread.

``app`` depends on ``core``; ``core`` never imports ``app`` (nor Qt). Modules here import Qt
lazily where they can, so that ``app.cli`` stays usable without a display.
"""

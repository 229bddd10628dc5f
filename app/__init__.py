"""PaletteLab's front ends: ``cli`` (the command line, never imports Qt) and ``gui`` (the Qt
window, its two workspaces and the worker thread that runs ``core`` for them).

``app`` depends on ``core``; ``core`` never imports ``app`` nor Qt (import contracts in
pyproject.toml, checked by CI).
"""

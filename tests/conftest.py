"""Shared test set-up.

Qt must run without a display here and in CI, so the offscreen platform is chosen before any
test module imports Qt.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

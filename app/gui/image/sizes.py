"""What each export would weigh, before saving (issue 17, item 8), as Save for Web shows it.

After each finished result the image is encoded, in memory, as every type the export offers
(a large image: bands of its rows, scaled)
(indexed PNG, GIF, lossless WebP) in a background thread: the encoders (zlib, libwebp) release
the GIL, so the window stays live, and the worker thread stays free for the next run.  A newer
result supersedes an older one between two formats; the sizes of an old result are never shown.
Measured: the sample photo (0.27 MP, 16 colours) takes 150-250 ms for all three (2 cores, CI
running alongside); WebP is the smallest there (56 KB against 72 KB for PNG and GIF).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

#: the types measured, as (label, Pillow format)
FORMATS = (("PNG", "PNG"), ("GIF", "GIF"), ("WebP", "WEBP"))


def human_size(size: int) -> str:
    """Bytes as a short text: 950 B, 12.3 KB, 4.56 MB."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.2f} MB"


class SizeEstimator(QObject):
    """Encodes results in a background thread; ``estimated(job, {label: (bytes, exact) or
    None})``: a large image is estimated from bands of its rows
    (:func:`palettelab.core.formats.image_write.estimate_size`)."""

    estimated = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = 0
        self._lock = threading.Lock()

    def request(self, job: int, quantized) -> None:
        """Measure ``quantized``; a later request makes this one stop at its next format."""
        with self._lock:
            self._latest = job
        threading.Thread(target=self._measure, args=(job, quantized), daemon=True,
                         name="PaletteLab export sizes").start()

    def cancel(self) -> None:
        """Nothing in flight is wanted any more (a new image, a new run)."""
        with self._lock:
            self._latest = -1

    def _current(self, job: int) -> bool:
        with self._lock:
            return job == self._latest

    def _measure(self, job: int, quantized) -> None:
        from palettelab.core.errors import InputError
        from palettelab.core.formats.image_write import estimate_size

        sizes: dict[str, tuple[int, bool] | None] = {}
        for label, fmt in FORMATS:
            if not self._current(job):
                return
            try:
                sizes[label] = estimate_size(quantized, fmt)
            except InputError:  # too large for the type (WebP 16,383 px a side)
                sizes[label] = None
        if self._current(job):
            self.estimated.emit(job, sizes)

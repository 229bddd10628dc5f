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
    """Encodes results in one background thread; ``estimated(job, {label: (bytes, exact) or
    None})``: a large image is estimated from bands of its rows
    (:func:`palettelab.core.formats.image_write.estimate_size`)."""

    estimated = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._wanted = threading.Condition()
        self._request: tuple[int, object] | None = None  # the newest, not yet taken
        self._latest = -1
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="PaletteLab export sizes")
        self._thread.start()

    def request(self, job: int, quantized) -> None:
        """Measure ``quantized``; a later request makes this one stop at its next format."""
        with self._wanted:
            self._request = (job, quantized)
            self._latest = job
            self._wanted.notify()

    def cancel(self) -> None:
        """Nothing in flight is wanted any more (a new image)."""
        with self._wanted:
            self._request = None
            self._latest = -1

    def close(self) -> None:
        """Stop the thread (the window closes); what it is encoding is dropped."""
        with self._wanted:
            self._closed = True
            self._request = None
            self._latest = -1
            self._wanted.notify()
        self._thread.join(timeout=5)

    def _current(self, job: int) -> bool:
        with self._wanted:
            return job == self._latest and not self._closed

    def _serve(self) -> None:
        while True:
            with self._wanted:
                while self._request is None and not self._closed:
                    self._wanted.wait()
                if self._closed:
                    return
                job, quantized = self._request
                self._request = None
            self._measure(job, quantized)

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

"""How fast ``palettelab quantize`` reacts to Ctrl-C inside Floyd-Steinberg (issue 14, item 8).

    python benchmarks/bench_interrupt.py            # both variants
    python benchmarks/bench_interrupt.py bands      # or one: "one-call" / "bands"

A 60 MP image (7500 x 8000 gradients with noise, written once to the temp folder) is quantized
with k=64 and ``--dither fs``; the child says when the diffusion starts, the parent sends
SIGINT one second later and times the one-line message and the exit.  "one-call" sets
``FS_BAND_PIXELS`` so high that the whole image is one kernel call (the code before the
change), "bands" keeps the default.  Measured on the 2 shared cores here: one call 39.7 s
(the rest of the image), bands of 2**18 pixels 0.02 s to the message and 0.5 s to the exit;
both exit 130 with ``palettelab: interrupted``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

FOLDER = os.path.join(tempfile.gettempdir(), "palettelab-bench-interrupt")
SOURCE = os.path.join(FOLDER, "60mp.bmp")

CHILD = r'''
import sys
from palettelab.core.quantization import _remap_kernels as rk
if sys.argv[1] == "one-call":
    rk.FS_BAND_PIXELS = 1 << 40
real = rk.floyd_steinberg
def announced(*args, **kwargs):
    print("FS", flush=True, file=sys.stderr)
    return real(*args, **kwargs)
rk.floyd_steinberg = announced
from palettelab.app.cli.main import main
sys.exit(main(["quantize", sys.argv[2], "-k", "64", "--dither", "fs", "-o", sys.argv[3]]))
'''


def make_source() -> None:
    if os.path.exists(SOURCE):
        return
    os.makedirs(FOLDER, exist_ok=True)
    h, w = 7500, 8000
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], -1)
    noise = np.random.default_rng(0).integers(-20, 21, (h, w, 3))
    Image.fromarray(np.clip(img + noise, 0, 255).astype(np.uint8)).save(SOURCE)


def measure(variant: str) -> None:
    out = os.path.join(FOLDER, "out.png")
    child = subprocess.Popen([sys.executable, "-c", CHILD, variant, SOURCE, out],
                             stderr=subprocess.PIPE, text=True)
    for line in child.stderr:
        if line.startswith("FS"):
            break
    time.sleep(1.0)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    message = child.stderr.readline()
    to_message = time.perf_counter() - sent
    rest = child.stderr.read()
    child.wait()
    print(f"{variant}: exit {child.returncode}, message after {to_message:.2f} s, exit after "
          f"{time.perf_counter() - sent:.2f} s, stderr {message + rest!r}")


if __name__ == "__main__":
    make_source()
    for variant in sys.argv[1:] or ["one-call", "bands"]:
        measure(variant)

"""Draw resources/logo.png: a soft-edged RGBA logo, the sample for transparency.

A gradient badge with anti-aliased shapes and a blurred drop shadow, on a fully transparent
background: most of its pixels are at alpha 0 or 255, and the edges and the shadow hold every
level between, which is what an 8-bit PNG with alpha in its palette (tRNS) must keep.  The
tests and ``benchmarks/bench_quantize.py --alpha`` use it.  Run once when it should change (the
PNG is committed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent

SIZE = 384
SUPER = 4  # drawn 4x larger and reduced: anti-aliased edges


def _badge(size: int) -> Image.Image:
    """The badge's colours: a vertical teal-to-violet gradient."""
    t = np.linspace(0.0, 1.0, size)[:, None, None]
    top, bottom = np.array([20, 170, 160]), np.array([110, 40, 170])
    rows = (top * (1 - t) + bottom * t).astype(np.uint8)
    return Image.fromarray(np.repeat(rows, size, axis=1), "RGB").convert("RGBA")


def main() -> None:
    big = SIZE * SUPER
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    pad = big // 8
    draw.rounded_rectangle((pad, pad, big - pad, big - pad), radius=big // 6, fill=255)
    logo = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    logo.paste(_badge(big), (0, 0), mask)
    ink = ImageDraw.Draw(logo)
    c = big // 2
    ink.ellipse((c - big // 5, c - big // 5, c + big // 5, c + big // 5), fill=(250, 205, 60, 255))
    ink.polygon([(c - big // 9, c + big // 9), (c, c - big // 7), (c + big // 9, c + big // 9)],
                fill=(230, 60, 70, 255))
    ink.ellipse((c - big // 20, c + big // 7, c + big // 20, c + big // 7 + big // 10),
                fill=(255, 255, 255, 190))  # a half-transparent dot
    logo = logo.resize((SIZE, SIZE), Image.LANCZOS)
    alpha = np.asarray(mask.resize((SIZE, SIZE), Image.LANCZOS))
    shadow_alpha = Image.fromarray((alpha * 0.55).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(SIZE / 40))
    shadow = Image.new("RGBA", (SIZE, SIZE), (20, 20, 40, 0))
    shadow.putalpha(shadow_alpha)
    out = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    out.alpha_composite(shadow, (SIZE // 40, SIZE // 30))
    out.alpha_composite(logo)
    out.save(ROOT / "resources" / "logo.png", optimize=True)


if __name__ == "__main__":
    main()

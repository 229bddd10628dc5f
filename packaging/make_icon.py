"""Draw resources/icon.png: the 16-colour palette of the sample photo as a 4 x 4 swatch grid.

Run once when the look should change (the PNG is committed); ``build.py`` derives the Windows
.ico and macOS .icns from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from palettelab.core.color.spaces import from_srgb
from palettelab.core.formats.image_read import load_image
from palettelab.core.quantization.pipeline import quantize

ROOT = Path(__file__).resolve().parent.parent

SIZE = 1024


def main() -> None:
    pixels = load_image(ROOT / "resources" / "china.jpg").pixels
    palette = quantize(pixels, 16).palette
    palette = palette[np.argsort(from_srgb(palette, "oklab")[:, 0])]  # dark to light
    icon = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    margin, gap = SIZE // 16, SIZE // 48
    draw.rounded_rectangle((margin, margin, SIZE - margin, SIZE - margin), radius=SIZE // 8,
                           fill=(250, 250, 250, 255))
    cell = (SIZE - 2 * margin - 5 * gap) // 4
    for i, colour in enumerate(palette.tolist()):
        row, col = divmod(i, 4)
        x = margin + gap + col * (cell + gap)
        y = margin + gap + row * (cell + gap)
        draw.rounded_rectangle((x, y, x + cell, y + cell), radius=SIZE // 32,
                               fill=(*colour, 255))
    icon.save(ROOT / "resources" / "icon.png")


if __name__ == "__main__":
    main()

"""What the Image workspace's export dialogs offer, and the words for what a file type loses.

* The file types of the two save dialogs, and :func:`with_chosen_extension`: a name typed
  without an extension gets the extension of the type chosen in the dialog, as desktop apps do
  (before, "PNG, indexed" with the name ``logo`` failed with "unknown image type (no
  extension)").  A name that already ends in one of the offered extensions is kept, whatever
  type is selected: the user typed it.
* :func:`transparency_question`: the plain explanation shown, before anything is written, when
  the chosen type cannot keep the image's transparency (the writer's own notes are short and
  used to reach the user only as a status-bar line, cut off by the progress bar).
"""

from __future__ import annotations

from pathlib import Path

#: (dialog text, extensions; the first is the one appended)
IMAGE_TYPES = (
    ("PNG, indexed", (".png",)),
    ("GIF", (".gif",)),
    ("WebP, lossless", (".webp",)),
    ("TIFF", (".tif", ".tiff")),
    ("BMP", (".bmp",)),
)
PALETTE_TYPES = (
    ("GIMP palette", (".gpl",)),
    ("Adobe swatch exchange", (".ase",)),
    ("Photoshop swatches", (".aco",)),
    ("CSS custom properties", (".css",)),
    ("JSON", (".json",)),
    ("Hex list", (".txt",)),
    ("PNG swatch strip", (".png",)),
)

#: what each image type does with transparency it cannot store, in the user's words
_WHY = {
    ".png": ("An indexed PNG is written with at most one fully transparent palette entry. "
             "This image has partly transparent pixels (soft edges or shadows), or a full "
             "256-colour palette with no entry left for transparency, so the file will be "
             "written as a 32-bit RGBA PNG instead: every pixel is kept, but the file is "
             "larger and has no palette."),
    ".gif": ("A GIF pixel is either fully transparent or fully opaque, so partly transparent "
             "pixels (soft edges or shadows) cannot be kept: a palette with alpha is blended "
             "onto the matte colour (Matte, beside the export buttons), a dithered image is "
             "written opaque. (With a full 256-colour palette a GIF has no entry left for "
             "transparency at all.)"),
    ".bmp": "A BMP file has no transparency: every pixel will be written fully opaque.",
    ".tif": ("This image's transparency needs a full alpha channel, so the TIFF will be "
             "written as 32-bit RGBA instead of indexed."),
}
_WHY[".tiff"] = _WHY[".tif"]


def file_filter(types: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """The dialog's filter string, one entry per type."""
    return ";;".join(_entry(name, extensions) for name, extensions in types)


def _entry(name: str, extensions: tuple[str, ...]) -> str:
    return f"{name} ({' '.join('*' + e for e in extensions)})"


def with_chosen_extension(path: str, chosen: str,
                          types: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """``path``, with the extension of the ``chosen`` filter entry appended unless it already
    ends in an offered one (the first type's when the entry is not one of ``types``)."""
    if Path(path).suffix.lower() in {e for _name, extensions in types for e in extensions}:
        return path
    extension = next((extensions[0] for name, extensions in types
                      if _entry(name, extensions) == chosen), types[0][1][0])
    return path.rstrip(".") + extension


def transparency_question(path: str, notes: list[str]) -> tuple[str, str]:
    """(text, details) of the dialog asking whether to write ``path`` anyway: the plain
    explanation for its type, and the writer's own ``notes``."""
    why = _WHY.get(Path(path).suffix.lower(),
                   "This file type cannot keep the image's transparency as it is.")
    text = (f"“{Path(path).name}” cannot keep this image's transparency as it is.\n\n{why}\n\n"
            f"Export as PNG to keep soft transparency. Save anyway?")
    return text, "\n".join(notes)

"""Files in and out: images, palettes, point files, and the atomic writes they all use."""

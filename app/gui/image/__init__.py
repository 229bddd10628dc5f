"""The Image workspace: original and recoloured views, palette, colour-space scatters."""

"""Colour spaces (sRGB, linear RGB, CIELAB, OKLab) and colour codes (hex, 24-bit)."""

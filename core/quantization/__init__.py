"""The image quantization pipeline: histogram, k-means on it, sort, remap, dither, quality."""

"""The Points workspace: k-means step by step on point data, starts, elbow, spectral."""

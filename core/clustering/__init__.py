"""The k-means engine (Lloyd, Hamerly, the filtering tree), mini-batch and spectral
clustering, and clustering metrics."""

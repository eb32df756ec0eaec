"""Local model store: weights assembled from registry packages, or a user's own directory."""

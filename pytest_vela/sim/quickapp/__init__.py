"""The simulated watch's quick-app runtime: a node process running built rpk bundles."""

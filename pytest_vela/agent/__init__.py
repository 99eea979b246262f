"""The on-watch agent: a small quick app kept as source, and the tooling to build it under a
user's package name."""

"""Rig files: the validated schema and the lookup of ``<rig-dir>/NAME.toml``."""

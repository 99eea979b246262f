"""Helpers shared by the plugin's own tests (not part of the installed package)."""

"""The watch as a device: shell, resets, transfers, flashing and app management over the console."""

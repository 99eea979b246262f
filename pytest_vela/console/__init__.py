"""The serial console: the port reader, its timestamped log and the ``expect`` window."""

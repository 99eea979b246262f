"""The serial console: the port reader, its timestamped log, the ``expect`` window and
complete lines for listeners, behind the ``Console`` of ``port``."""

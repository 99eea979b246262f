"""Serving a built report on 127.0.0.1: the directory form loads its data with requests that a
browser refuses to pages opened from ``file://`` (it shows a spinner for ever), so it is read
over http."""

from __future__ import annotations

import functools
import http.server
import sys
from pathlib import Path
from typing import Any


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(directory: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """An http server for the report on 127.0.0.1 only."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve(directory: Path, port: int = 0) -> None:
    server = make_server(directory, port)
    print(f"serving the report at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C ends)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

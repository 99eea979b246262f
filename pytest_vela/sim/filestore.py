"""The simulated watch's file system: virtual absolute paths over a real directory."""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path


class FileStore:
    """Maps watch paths such as ``/data/app/x.rpk`` into ``root``; ``..`` stops at the root,
    as on the device, so no path leads out of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for d in ("bin", "data/app", "data/ota", "dev", "etc", "proc", "tmp"):
            (root / d).mkdir(parents=True, exist_ok=True)

    def resolve(self, path: str, cwd: str = "/") -> Path:
        full = posixpath.normpath(posixpath.join(cwd, path))
        if not full.startswith("/"):
            full = "/" + full
        return self.root / full.lstrip("/")

    def exists(self, path: str, cwd: str = "/") -> bool:
        return self.resolve(path, cwd).exists()

    def is_dir(self, path: str, cwd: str = "/") -> bool:
        return self.resolve(path, cwd).is_dir()

    def listdir(self, path: str, cwd: str = "/") -> list[str]:
        target = self.resolve(path, cwd)
        return sorted(p.name + ("/" if p.is_dir() else "") for p in target.iterdir())

    def sha256(self, path: str, cwd: str = "/") -> tuple[str, int]:
        digest = hashlib.sha256()
        target = self.resolve(path, cwd)
        with target.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest(), target.stat().st_size

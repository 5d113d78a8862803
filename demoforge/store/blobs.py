"""Content-addressed, zstd-compressed blob files (screenshots, DOM snapshots).

A blob's name is the sha256 of its *uncompressed* bytes, so the recorder can
name it before upload and a re-upload lands on the same file. Files are
written to a temporary name, fsynced and renamed into place, so a reader
never sees half a blob and a crash leaves either nothing or the whole file.
Each contributor has a folder of their own (see ``models.Blob``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import zstandard

from demoforge.store.sealing import Sealer

#: zstd level 3 is zstd's default: most of the gain at a fraction of the CPU of higher levels.
ZSTD_LEVEL = 3


class BlobError(ValueError):
    """A blob's bytes do not match its name, or it is missing."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobFiles:
    """Blob bytes on the filesystem under ``root``; the database keeps the index."""

    def __init__(self, root: Path, sealer: Sealer) -> None:
        self.root = root
        self.sealer = sealer

    def path(self, contributor_id: str, sha: str) -> Path:
        return self.root / contributor_id / sha[:2] / f"{sha}.zst"

    def write(self, contributor_id: str, sha: str, data: bytes) -> int:
        """Store ``data`` (already checked against ``sha``); returns bytes on disk."""
        path = self.path(contributor_id, sha)
        if path.exists():
            return path.stat().st_size
        stored = self.sealer.seal(
            contributor_id, zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(stored)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return len(stored)

    def read(self, contributor_id: str, sha: str) -> bytes:
        """The blob's original bytes, checked against its name."""
        try:
            stored = self.path(contributor_id, sha).read_bytes()
        except FileNotFoundError as exc:
            raise BlobError(f"blob {sha} is missing from {self.root}") from exc
        try:
            data = zstandard.ZstdDecompressor().decompress(self.sealer.open_(contributor_id, stored))
        except (ValueError, zstandard.ZstdError) as exc:
            raise BlobError(f"blob {sha} is corrupt: {exc}") from exc
        if sha256_hex(data) != sha:
            raise BlobError(f"blob {sha} is corrupt: its bytes hash to {sha256_hex(data)}")
        return data


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

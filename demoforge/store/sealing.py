"""The one place where stored bytes are sealed and opened.

Every event payload and every blob goes through a ``Sealer`` on its way to
disk and back, keyed by the contributor it belongs to. ``Store.open``'s
default is per-contributor AES-GCM (``demoforge.privacy.keys``);
``Plaintext`` changes nothing, for tests that look at bytes as stored. Sealing is keyed by
contributor so that dropping one contributor's key makes exactly their data
unreadable (crypto-erasure).
"""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    def seal(self, contributor_id: str, data: bytes) -> bytes:
        """Bytes as they will be stored for ``contributor_id``."""
        ...

    def open_(self, contributor_id: str, data: bytes) -> bytes:
        """The original bytes back; raises if they cannot be opened."""
        ...


class Plaintext:
    """Stores bytes as they are: the default until a contributor has a key."""

    def seal(self, contributor_id: str, data: bytes) -> bytes:
        return data

    def open_(self, contributor_id: str, data: bytes) -> bytes:
        return data

"""The store: database models, Alembic migrations and the content-addressed blob files."""

from demoforge.store.blobs import BlobError
from demoforge.store.sealing import Plaintext, Sealer
from demoforge.store.store import (
    DeviceInfo,
    IngestError,
    IngestResult,
    SessionInfo,
    SessionOwnershipError,
    Store,
)

__all__ = [
    "BlobError",
    "DeviceInfo",
    "IngestError",
    "IngestResult",
    "Plaintext",
    "Sealer",
    "SessionInfo",
    "SessionOwnershipError",
    "Store",
]

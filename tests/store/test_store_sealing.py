"""Every payload and blob goes through the store's sealer, keyed by contributor."""

from __future__ import annotations

import hashlib

import zstandard
from sqlalchemy import select

from demoforge.store import Store
from demoforge.store.models import EventRow


class Reversing:
    """A sealer whose output differs from its input, to see that it is used both ways."""

    def __init__(self) -> None:
        self.owners: set[str] = set()

    def seal(self, contributor_id: str, data: bytes) -> bytes:
        self.owners.add(contributor_id)
        return b"SEALED" + data[::-1]

    def open_(self, contributor_id: str, data: bytes) -> bytes:
        assert data.startswith(b"SEALED")
        return data[len(b"SEALED"):][::-1]


def test_payloads_and_blobs_are_sealed_at_rest(db_url, demoforge_home, make_session):
    sealer = Reversing()
    events, blobs = make_session(20)
    contributor = None
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs", sealer=sealer) as store:
        contributor = store.create_contributor()
        store.ingest(events, blobs, contributor_id=contributor)
        with store.engine.connect() as conn:
            payloads = conn.scalars(select(EventRow.payload)).all()
        assert all(p.startswith(b"SEALED") for p in payloads)
        sha, data = next(iter(blobs.items()))
        stored = store.blob_files.path(contributor, sha).read_bytes()
        assert stored.startswith(b"SEALED")
        assert zstandard.ZstdDecompressor().decompress(stored[6:][::-1]) == data
        assert store.get_blob(sha) == data
        assert [e.id for e in store.events(events[0].session_id)] == [e.id for e in events]
    assert sealer.owners == {contributor}
    assert hashlib.sha256(data).hexdigest() == sha

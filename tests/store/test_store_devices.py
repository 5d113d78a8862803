"""Devices authenticate with a token that the store never keeps in the clear."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from demoforge.store import IngestError
from demoforge.store.models import Device


def test_a_device_token_identifies_its_contributor(store):
    contributor = store.create_contributor()
    token = store.add_device(contributor)
    device = store.device_for_token(token)
    assert device is not None and device.contributor_id == contributor
    assert store.device_for_token(token + "x") is None
    assert store.device_for_token("") is None


def test_only_the_token_hash_is_stored(store):
    token = store.add_device(store.create_contributor())
    with store.engine.connect() as conn:
        rows = conn.execute(select(Device.__table__)).all()
    assert len(rows) == 1
    assert token not in repr(rows)
    if store.engine.dialect.name == "sqlite":
        store.engine.dispose()
        db_files = store.blob_files.root.parent.glob("demoforge.db*")
        assert all(token.encode() not in f.read_bytes() for f in db_files)


def test_a_device_needs_an_existing_contributor(store):
    with pytest.raises(IngestError):
        store.add_device("nobody")

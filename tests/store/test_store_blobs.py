"""Blobs: content-addressed by the sha256 of their bytes, zstd on disk, checked on read."""

from __future__ import annotations

import hashlib

import pytest
import zstandard

from demoforge.store import BlobError, Plaintext, Store


@pytest.fixture
def store(db_url, demoforge_home):
    """Unsealed, so that the tests can look at the files as stored."""
    s = Store.open(db_url, blobs_dir=demoforge_home / "blobs", sealer=Plaintext())
    yield s
    s.close()


def test_blob_round_trip_is_compressed_and_named_by_its_hash(store):
    data = b'{"elements": []}' * 4096
    sha = store.put_blob(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.get_blob(sha) == data
    files = list(store.blob_files.root.rglob("*.zst"))
    assert [f.name for f in files] == [f"{sha}.zst"]
    assert zstandard.ZstdDecompressor().decompress(files[0].read_bytes()) == data
    assert files[0].stat().st_size < len(data) / 10
    assert not list(store.blob_files.root.rglob("*.tmp"))


def test_the_same_blob_twice_is_one_file(store):
    assert store.put_blob(b"x" * 100) == store.put_blob(b"x" * 100)
    assert len(list(store.blob_files.root.rglob("*.zst"))) == 1


def test_a_corrupted_file_is_detected_on_read(store):
    sha = store.put_blob(b"original bytes" * 10)
    [path] = store.blob_files.root.rglob("*.zst")
    path.write_bytes(zstandard.ZstdCompressor().compress(b"tampered"))
    with pytest.raises(BlobError, match="corrupt"):
        store.get_blob(sha)


def test_unknown_blob_is_an_error(store):
    with pytest.raises(BlobError):
        store.get_blob("0" * 64)


def test_blobs_are_kept_per_contributor(store):
    alice, bob = store.create_contributor(), store.create_contributor()
    sha = store.put_blob(b"shared screenshot", contributor_id=alice)
    store.put_blob(b"shared screenshot", contributor_id=bob)
    assert store.get_blob(sha, contributor_id=bob) == b"shared screenshot"
    owners = {p.parent.parent.name for p in store.blob_files.root.rglob("*.zst")}
    assert owners == {alice, bob}

"""Per-contributor encryption at rest, crypto-shredding, and the audit log's chain."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass

import pytest
import zstandard
from sqlalchemy import func, select, update

from demoforge.privacy.audit import AuditLog
from demoforge.privacy.erasure import erase_contributor, erase_session
from demoforge.privacy.keys import ContributorKeys, KeyErased, LocalKms, master_key_from_env_or_home
from demoforge.privacy.models import AuditEntry, ContributorKey
from demoforge.store import Store
from demoforge.store.models import Blob, EventRow, Session


@pytest.fixture
def sealed(db_url, demoforge_home, monkeypatch):
    monkeypatch.setenv("DEMOFORGE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        assert isinstance(store.sealer, ContributorKeys)  # encrypted by default
        yield store, store.sealer


def _all_bytes(store: Store) -> bytes:
    with store.engine.connect() as conn:
        rows = b"".join(conn.scalars(select(EventRow.payload)))
    files = b"".join(p.read_bytes() for p in store.blob_files.root.rglob("*.zst"))
    return rows + files


def test_events_and_blobs_are_encrypted_and_round_trip(sealed, make_session):
    store, keys = sealed
    events, blobs = make_session(10)
    owner = store.create_contributor()
    store.ingest(events, blobs, contributor_id=owner)
    stored = _all_bytes(store)
    assert events[0].session_id.encode() not in stored  # payload JSON is not readable at rest
    for path in store.blob_files.root.rglob("*.zst"):
        with pytest.raises(zstandard.ZstdError):
            zstandard.ZstdDecompressor().decompress(path.read_bytes())
    assert [e.id for e in store.events(events[0].session_id)] == [e.id for e in events]
    sha, data = next(iter(blobs.items()))
    assert store.get_blob(sha) == data


def test_each_contributor_has_their_own_key(sealed, make_session):
    store, keys = sealed
    a, b = store.create_contributor(), store.create_contributor()
    sealed_a = keys.seal(a, b"same bytes")
    with pytest.raises(ValueError):
        keys.open_(b, sealed_a)  # another person's key (and associated data) does not open it
    with store.engine.connect() as conn:
        wrapped = dict(conn.execute(select(ContributorKey.contributor_id, ContributorKey.wrapped_key)).all())
    assert set(wrapped) == {a, b} and wrapped[a] != wrapped[b]
    assert keys.open_(a, sealed_a) == b"same bytes"


@dataclass
class TwoPeople:
    """A person about to leave and one who stays, each with one stored session."""

    store: Store
    keys: ContributorKeys
    audit: AuditLog
    leaving: str
    staying: str
    gone: tuple[list, dict]  # the leaving person's (events, blobs): 12 events
    kept: tuple[list, dict]  # the staying person's: 5 events


@pytest.fixture
def two_people(sealed, make_session, demoforge_home) -> TwoPeople:
    store, keys = sealed
    people = TwoPeople(store, keys, AuditLog(store.engine, demoforge_home / "audit.anchor"),
                       store.create_contributor(), store.create_contributor(), make_session(12), make_session(5))
    store.ingest(*people.gone, contributor_id=people.leaving)
    store.ingest(*people.kept, contributor_id=people.staying)
    return people


def test_erasure_shreds_the_key_and_removes_rows_and_blobs(two_people: TwoPeople):
    store, keys, audit, owner = two_people.store, two_people.keys, two_people.audit, two_people.leaving
    (events, blobs), (other_events, _) = two_people.gone, two_people.kept
    with store.engine.connect() as conn:
        ciphertext = conn.scalar(select(EventRow.payload).where(EventRow.session_id == events[0].session_id).limit(1))

    erased = erase_contributor(store, audit, owner, actor="test")

    assert erased.session_ids == [events[0].session_id] and erased.blobs == len(blobs)
    fresh = ContributorKeys(keys.engine, keys.kms)  # no cached key either
    with pytest.raises(KeyErased):
        fresh.open_(owner, ciphertext)
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(EventRow).where(EventRow.session_id == events[0].session_id)) == 0
        assert conn.scalar(select(func.count()).select_from(Blob).where(Blob.contributor_id == owner)) == 0
        assert conn.scalar(select(func.count()).select_from(Session).where(Session.contributor_id == owner)) == 0
    assert not (store.blob_files.root / owner).exists()
    # The other person's data is untouched and readable.
    assert len(list(store.events(other_events[0].session_id))) == 5
    assert audit.verify().ok


def test_erasing_one_session_keeps_the_others(sealed, make_session, demoforge_home):
    store, keys = sealed
    audit = AuditLog(store.engine, demoforge_home / "audit.anchor")
    owner = store.create_contributor()
    first, first_blobs = make_session(6)
    second, second_blobs = make_session(6)
    store.ingest(first, first_blobs, contributor_id=owner)
    store.ingest(second, second_blobs, contributor_id=owner)
    erase_session(store, audit, first[0].session_id, actor=owner)
    assert store.session(first[0].session_id) is None
    assert len(list(store.events(second[0].session_id))) == 6
    for sha in second_blobs:
        assert store.get_blob(sha, owner) == second_blobs[sha]


def test_generated_master_key_is_private(tmp_path, monkeypatch):
    monkeypatch.delenv("DEMOFORGE_MASTER_KEY", raising=False)
    key = master_key_from_env_or_home(tmp_path)
    assert len(key) == 32
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    assert master_key_from_env_or_home(tmp_path) == key


def test_bad_master_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMOFORGE_MASTER_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="32 bytes"):
        master_key_from_env_or_home(tmp_path)


def test_a_key_wrapped_for_one_contributor_does_not_unwrap_for_another():
    kms = LocalKms(os.urandom(32))
    wrapped = kms.wrap(b"k" * 32, "alice")
    assert kms.unwrap(wrapped, "alice") == b"k" * 32
    with pytest.raises(ValueError):
        kms.unwrap(wrapped, "bob")


def test_audit_verifier_detects_edit_and_removal(db_url, demoforge_home):
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        audit = AuditLog(store.engine, demoforge_home / "audit.anchor")
        for i in range(5):
            audit.record("admin", "read_session", f"c{i}", session=f"s{i}")
        assert audit.verify().ok and audit.verify().entries == 5

        with store.engine.begin() as conn:
            conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(subject="someone-else"))
        verdict = audit.verify()
        assert not verdict.ok and "entry 3 was edited" in verdict.problem


def test_audit_verifier_detects_removed_entries(db_url, demoforge_home):
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        audit = AuditLog(store.engine, demoforge_home / "audit.anchor")
        for i in range(4):
            audit.record("admin", "set_gate", None, n=i)
        with store.engine.begin() as conn:
            conn.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == 2))
        assert "entry 2 is missing" in audit.verify().problem
        with store.engine.begin() as conn:
            conn.execute(AuditEntry.__table__.delete().where(AuditEntry.seq >= 3))
        verdict = audit.verify()
        assert not verdict.ok and "anchor" in verdict.problem


def test_erasure_rebuilds_datasets_without_the_person(two_people: TwoPeople, demoforge_home, db_url):
    import json

    from demoforge.dataset.build import build_dataset
    from demoforge.privacy.derived import rebuild_without

    store, audit, leaving = two_people.store, two_people.audit, two_people.leaving
    gone, kept = two_people.gone[0], two_people.kept[0]
    out = demoforge_home / "datasets" / "d1"
    build_dataset(store, out, db_url=db_url, blobs_dir=store.blob_files.root)
    assert gone[0].session_id in json.loads((out / "build.json").read_text())["sessions"]

    erased = erase_contributor(store, audit, leaving, actor="test")
    rebuilt = rebuild_without(store, db_url, set(erased.session_ids), [demoforge_home])

    assert rebuilt == [out]
    assert json.loads((out / "build.json").read_text())["sessions"] == [kept[0].session_id]
    assert not (out / "STALE").exists()

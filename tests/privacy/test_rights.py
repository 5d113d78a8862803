"""Data export, retention caps, aggregate-only statistics and the identity map."""

from __future__ import annotations

import json
import zipfile

import pytest

from demoforge import events as ev
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry
from demoforge.privacy.identity import IDENTITY_ROLE, IdentityMap
from demoforge.privacy.retention import DAY_MS, enforce, stored_bytes
from demoforge.privacy.rights import MIN_GROUP, TooFewContributors, export_person, session_stats
from demoforge.store import Store


@pytest.fixture
def world(db_url, demoforge_home):
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        audit = AuditLog(store.engine, demoforge_home / "audit.anchor")
        yield store, audit, ConsentRegistry(store.engine, audit)


def _task(session_id: str, task: str, outcome: str = "success") -> list:
    return [
        ev.TaskStart(session_id=session_id, seq=10_000, ts=1_700_000_000_000, instruction="do it", task=task),
        ev.TaskEnd(session_id=session_id, seq=10_001, ts=1_700_000_000_500, outcome=outcome),
    ]


def test_export_holds_everything_about_the_person_and_nothing_else(world, make_session, tmp_path):
    store, audit, consent = world
    me, other = store.create_contributor(), store.create_contributor()
    consent.grant(me, consent.notice()[0])
    mine, my_blobs = make_session(14)
    theirs, their_blobs = make_session(8)
    store.ingest(mine, my_blobs, contributor_id=me)
    store.ingest(theirs, their_blobs, contributor_id=other)

    path = export_person(store, consent, audit, me, tmp_path / "me.zip")

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert json.loads(zf.read("contributor.json"))["consent"] == "active"
        lines = zf.read(f"sessions/{mine[0].session_id}/events.jsonl").decode().splitlines()
        assert [json.loads(line)["id"] for line in lines] == [e.id for e in mine]  # decrypted, complete
        assert {f"media/{sha}.jpg" for sha in my_blobs} <= names
        assert not any(theirs[0].session_id in n for n in names)
        assert not any(sha in n for sha in their_blobs for n in names)
        assert any(entry["action"] == "consent_grant" for entry in json.loads(zf.read("audit.json")))
    assert not list(tmp_path.glob("*.tmp"))


def test_retention_time_cap_then_size_cap(world, make_session):
    store, audit, _ = world
    owner = store.create_contributor()
    day0 = 1_700_000_000_000
    ids = []
    for age_days in (40, 20, 10, 1):
        events, blobs = make_session(12, start_ts=day0 - age_days * DAY_MS)
        store.ingest(events, blobs, contributor_id=owner)
        ids.append(events[0].session_id)

    result = enforce(store, audit, max_age_days=30, max_bytes=None, now=day0)
    assert result.expired == 1 and store.session(ids[0]) is None and store.session(ids[1]) is not None

    one_session = stored_bytes(store) // 3
    result = enforce(store, audit, max_age_days=None, max_bytes=one_session + 10, now=day0)
    assert result.over_size == 2 and result.bytes_after <= one_session + 10
    assert [s.id for s in store.sessions()] == [ids[3]]  # the newest stays
    assert audit.verify().ok
    with pytest.raises(ValueError):
        enforce(store, audit, max_age_days=-1, max_bytes=None)


def test_statistics_refuse_groups_of_fewer_than_five(world):
    store, audit, _ = world
    people = [store.create_contributor() for _ in range(MIN_GROUP)]
    for i, person in enumerate(people[:-1]):
        store.ingest(_task(f"s-{i}", "login-user"), contributor_id=person)
    with pytest.raises(TooFewContributors):
        session_stats(store, audit, actor="admin")

    store.ingest(_task("s-last", "login-user", "failure"), contributor_id=people[-1])
    store.ingest(_task("s-rare", "rare-task"), contributor_id=people[0])  # one person only
    rows, withheld = session_stats(store, audit, actor="admin")
    assert [(r.task, r.contributors, r.sessions, r.successes) for r in rows] == [("login-user", 5, 5, 4)]
    assert withheld == 1


def test_identity_map_needs_the_identity_role_and_is_audited(world):
    store, audit, _ = world
    person = store.create_contributor()
    ids = IdentityMap(store.engine, audit)
    with pytest.raises(PermissionError):
        ids.link(person, "ada@example.com", actor="hr", role="admin")
    ids.link(person, "ada@example.com", actor="hr", role=IDENTITY_ROLE)
    with pytest.raises(PermissionError):
        ids.lookup(person, actor="manager", role="admin")
    assert ids.lookup(person, actor="dpo", role=IDENTITY_ROLE) == "ada@example.com"
    assert [(e.actor, e.action) for e in audit.entries()][-1] == ("dpo", "read_identity")

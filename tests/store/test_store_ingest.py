"""Store.ingest: one transaction, idempotent by event id, sessions kept in step."""

from __future__ import annotations

import io
import json
import threading
import uuid

import pytest
from sqlalchemy import func, select

from demoforge import events as ev
from demoforge.store import IngestError, SessionOwnershipError, Store
from demoforge.store.models import Blob, EventRow, Session


def _count(store: Store, model) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_ingest_stores_every_event_once_and_in_order(store, make_session):
    events, blobs = make_session(300)
    sid = events[0].session_id
    first = store.ingest(events, blobs)
    again = store.ingest(list(reversed(events)), blobs)
    assert (first.accepted, first.duplicates) == (300, 0)
    assert (again.accepted, again.duplicates) == (0, 300)
    back = list(store.events(sid))
    assert [e.seq for e in back] == list(range(300))
    assert [ev.dump_event(e) for e in back] == [ev.dump_event(e) for e in events]
    info = store.session(sid)
    assert info.event_count == 300
    assert (info.instruction, info.task, info.outcome, info.reward) == (
        "Type a name", "enter-text", "success", 1.0,
    )
    assert (info.started_at, info.ended_at) == (events[0].ts, events[-1].ts)


def test_overlapping_batches_count_only_new_events(store, make_session):
    events, blobs = make_session(100)
    r1 = store.ingest(events[:60], blobs)
    r2 = store.ingest(events[40:], blobs)
    assert (r1.accepted, r2.accepted, r2.duplicates) == (60, 40, 20)
    assert store.session(events[0].session_id).event_count == 100


def test_a_repeated_id_inside_one_batch_is_stored_once(store, make_session):
    events, _ = make_session(10)
    result = store.ingest(events + events[:3])
    assert (result.accepted, result.duplicates) == (10, 3)
    assert store.count_events() == 10


def test_session_meta_sets_columns_and_merges_meta(store, make_session):
    events, _ = make_session(20)
    sid = events[0].session_id
    store.ingest(events[:10], session_meta={"source": "miniwob-demos", "worker": "w1"})
    store.ingest(events[10:], session_meta={"raw_reward": 1, "task": "login-user"})
    info = store.session(sid)
    assert info.source == "miniwob-demos"
    assert info.task == "login-user"
    assert info.meta == {"worker": "w1", "raw_reward": 1}
    assert info.event_count == 20


def test_a_bad_blob_refuses_the_whole_batch(store, make_session):
    events, blobs = make_session(30)
    sha = next(iter(blobs))
    blobs[sha] = b"not the bytes this name promises"
    with pytest.raises(IngestError, match="sha256"):
        store.ingest(events, blobs)
    assert _count(store, EventRow) == _count(store, Session) == _count(store, Blob) == 0
    assert not (store.blob_files.root).exists() or not any(store.blob_files.root.rglob("*.zst"))


def test_another_contributors_session_is_refused(store, make_session):
    events, _ = make_session(10)
    alice, bob = store.create_contributor(), store.create_contributor()
    store.ingest(events[:5], contributor_id=alice)
    with pytest.raises(SessionOwnershipError):
        store.ingest(events[5:], contributor_id=bob)
    assert store.count_events() == 5
    assert store.session(events[0].session_id).event_count == 5


def test_an_unknown_contributor_is_refused(store, make_session):
    events, _ = make_session(5)
    with pytest.raises(IngestError):
        store.ingest(events, contributor_id="nobody")
    assert store.count_events() == 0


def test_concurrent_retries_of_the_same_batch_store_it_once(store, make_session):
    events, blobs = make_session(400)
    results = []

    def send() -> None:
        results.append(store.ingest(events, blobs))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.accepted for r in results) == 400
    assert sum(r.duplicates for r in results) == 3 * 400
    assert store.count_events() == 400
    assert store.session(events[0].session_id).event_count == 400


def test_sessions_list_latest_first_and_export_jsonl(store, make_session):
    old, _ = make_session(5, start_ts=1_000)
    new, _ = make_session(7, start_ts=2_000_000)
    store.ingest(old)
    store.ingest(new)
    assert [s.id for s in store.sessions()] == [new[0].session_id, old[0].session_id]
    assert store.last_session_id() == new[0].session_id
    assert len(store.sessions(limit=1)) == 1
    out = io.StringIO()
    assert store.export_jsonl(old[0].session_id, out) == 5
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [ev.dump_event(e) for e in old]
    assert lines[0]["type"] == "task_start" and "instruction" in lines[0]


def test_export_of_an_unknown_session_is_an_error(store):
    with pytest.raises(KeyError):
        store.export_jsonl(str(uuid.uuid4()), io.StringIO())

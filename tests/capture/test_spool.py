"""The client spool: durable, ordered, bounded, and honest when it is full."""

from __future__ import annotations

import pytest

from demoforge.capture.spool import Spool, SpoolFull


@pytest.fixture
def spool(tmp_path):
    with Spool(tmp_path / "spool.db") as s:
        yield s


def test_pending_returns_blobs_before_the_events_that_need_them(spool, make_session):
    events, blobs = make_session(13)
    spool.append(events[:7], {e.blob: blobs[e.blob] for e in events[:7] if hasattr(e, "blob")})
    spool.append(events[7:], {})
    batch = spool.pending(limit=100)
    assert [e.id for e in batch.events] == [e.id for e in events]
    assert batch.blobs == {e.blob: blobs[e.blob] for e in events[:7] if hasattr(e, "blob")}
    assert spool.pending(limit=1).blobs and not spool.pending(limit=1).events


def test_mark_sent_forgets_only_what_was_acknowledged(spool, make_session):
    events, _ = make_session(10)
    spool.append(events, {})
    first = spool.pending(limit=4)
    spool.mark_sent(first.keys)
    assert spool.pending_count() == 6
    assert [e.seq for e in spool.pending(limit=100).events] == list(range(4, 10))
    spool.mark_sent(spool.pending(limit=100).keys)
    assert spool.pending_count() == 0 and spool.pending_bytes() == 0


def test_entries_survive_reopening(tmp_path, make_session):
    events, blobs = make_session(20)
    with Spool(tmp_path / "spool.db") as s:
        s.append(events, blobs)
    with Spool(tmp_path / "spool.db") as s:
        batch = s.pending(limit=1000)
    assert [e.id for e in batch.events] == [e.id for e in events]
    assert batch.blobs == blobs


def test_the_same_entry_twice_is_kept_once(spool, make_session):
    events, blobs = make_session(6)
    spool.append(events, blobs)
    size = spool.pending_bytes()
    spool.append(events, blobs)
    assert spool.pending_count() == len(events) + len(blobs)
    assert spool.pending_bytes() == size


def test_a_full_spool_refuses_the_whole_append(tmp_path, make_session):
    events, _ = make_session(40)
    with Spool(tmp_path / "spool.db", max_bytes=6_000) as s:
        s.append(events[:10], {})
        before = (s.pending_count(), s.pending_bytes())
        with pytest.raises(SpoolFull, match="bound"):
            s.append(events[10:], {})
        assert (s.pending_count(), s.pending_bytes()) == before
        s.mark_sent(s.pending(limit=100).keys)
        s.append(events[10:20], {})  # room again once the collector took the rest
        assert s.pending_count() == 10


def test_batches_respect_a_byte_budget_but_always_make_progress(spool, make_session):
    events, _ = make_session(50)
    spool.append(events, {})
    small = spool.pending(limit=100, max_bytes=1)
    assert len(small.events) == 1
    medium = spool.pending(limit=100, max_bytes=2_000)
    assert 1 < len(medium.events) < 50 and medium.size <= 2_000


def test_rejected_entries_are_kept_apart_with_their_reason(spool, make_session):
    events, _ = make_session(5)
    spool.append(events, {})
    spool.reject([events[2].id], "HTTP 409: session belongs to another contributor")
    assert spool.pending_count() == 4
    assert spool.rejected() == [(events[2].id, "HTTP 409: session belongs to another contributor")]

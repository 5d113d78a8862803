"""Crash safety: kill -9 the collector mid-stream, restart it, and lose nothing.

Real processes: ``demoforge server`` runs as a child process and is killed
with SIGKILL while the uploader is sending; the store must end with every
event exactly once.
"""

from __future__ import annotations

import time

from demoforge.capture.spool import Spool
from demoforge.capture.uploader import Backoff, HttpTransport, Uploader
from demoforge.store import Store

N = 2400
CHUNK = 100


def _wait_for(condition, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_collector_killed_mid_stream_loses_and_duplicates_nothing(
    db_url, demoforge_home, tmp_path, collector, make_session, consenting_device
):
    events, blobs = make_session(N)
    sid = events[0].session_id
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        token = consenting_device(store)
        collector.start()
        spool = Spool(tmp_path / "spool.db")
        uploader = Uploader(
            spool,
            HttpTransport(collector.url, token),
            batch_events=40,
            backoff=Backoff(base=0.05, cap=0.5),
        )
        uploader.start(interval=0.02)
        for start in range(0, N, CHUNK):
            chunk = events[start : start + CHUNK]
            spool.append(chunk, {e.blob: blobs[e.blob] for e in chunk if hasattr(e, "blob")})
            if start == N // 2:
                _wait_for(lambda: store.count_events(sid) > N // 4)
                collector.kill9()
                killed_at = store.count_events(sid)
        assert 0 < killed_at < N
        assert spool.pending_count() > 0  # the stream really was cut short
        collector.start()
        assert uploader.stop(flush_timeout=600)
        assert spool.pending_count() == 0 and spool.rejected() == []

        stored = list(store.events(sid))
        assert [e.id for e in stored] == [e.id for e in events]
        assert [e.seq for e in stored] == list(range(N))
        assert store.session(sid).event_count == N
        for sha, data in blobs.items():
            assert store.get_blob(sha) == data
        spool.close()

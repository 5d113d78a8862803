"""The uploader: drains the spool through a real collector or the embedded store,
halves batches that are too big, sets refused entries aside, honours Retry-After."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from demoforge.capture.spool import Spool
from demoforge.capture.uploader import (
    Backoff,
    HttpTransport,
    LocalTransport,
    NotAuthorized,
    Uploader,
    retry_after,
)
from demoforge.collect.app import CollectorLimits, create_app
from demoforge.store import Store


@pytest.fixture
def spool(tmp_path):
    with Spool(tmp_path / "spool.db") as s:
        yield s


def _http(store: Store, token: str, limits: CollectorLimits | None = None) -> HttpTransport:
    client = TestClient(create_app(store, limits))
    return HttpTransport(str(client.base_url), token, client=client)


def test_local_transport_drains_into_the_embedded_store(store, spool, make_session):
    events, blobs = make_session(700)
    spool.append(events, blobs)
    uploader = Uploader(spool, LocalTransport(store), batch_events=128)
    assert uploader.drain()
    assert spool.pending_count() == 0
    assert store.count_events(events[0].session_id) == 700
    assert store.get_blob(next(iter(blobs))) == next(iter(blobs.values()))


def test_http_transport_drains_through_the_collector(store, spool, make_session):
    events, blobs = make_session(300)
    spool.append(events, blobs)
    token = store.add_device(store.create_contributor())
    assert Uploader(spool, _http(store, token)).drain()
    assert [e.id for e in store.events(events[0].session_id)] == [e.id for e in events]


def test_batches_over_the_collectors_limit_are_split(store, spool, make_session):
    events, blobs = make_session(90)
    spool.append(events, blobs)
    token = store.add_device(store.create_contributor())
    transport = _http(store, token, CollectorLimits(max_events=16))
    assert Uploader(spool, transport, batch_events=100).drain()
    assert store.count_events() == 90 and spool.rejected() == []


def test_refused_entries_are_set_aside_and_the_rest_goes_through(store, spool, make_session):
    mine, _ = make_session(12)
    theirs, _ = make_session(4)
    store.ingest(theirs[:1], contributor_id=store.create_contributor())
    spool.append(mine[:6] + theirs[1:] + mine[6:], {})
    token = store.add_device(store.create_contributor())
    assert Uploader(spool, _http(store, token), batch_events=100).drain()
    assert store.count_events(mine[0].session_id) == 12
    rejected = spool.rejected()
    assert sorted(key for key, _ in rejected) == sorted(e.id for e in theirs[1:])
    assert all("409" in reason for _, reason in rejected)


def test_an_unknown_token_stops_the_upload_and_keeps_everything(store, spool, make_session):
    events, blobs = make_session(20)
    spool.append(events, blobs)
    with pytest.raises(NotAuthorized):
        Uploader(spool, _http(store, "dfd_revoked")).drain()
    assert spool.pending_count() == 20 + len(blobs)


def test_background_upload_sends_what_an_earlier_run_left_first(store, tmp_path, make_session):
    old, _ = make_session(50)
    new, _ = make_session(30)
    with Spool(tmp_path / "spool.db") as first_run:
        first_run.append(old, {})  # the recorder died before uploading
    with Spool(tmp_path / "spool.db") as spool:
        uploader = Uploader(spool, LocalTransport(store))
        uploader.start(interval=0.01)
        spool.append(new, {})
        assert uploader.stop(flush_timeout=60)
    assert store.count_events(old[0].session_id) == 50
    assert store.count_events(new[0].session_id) == 30


class _Busy(BaseHTTPRequestHandler):
    """A collector in front of a busy store: answers 503 with Retry-After, then 429, then 200."""

    answers: list[tuple[int, str | None]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        status, wait = self.answers.pop(0)
        body = b'{"accepted": 1, "duplicates": 0}' if status == 200 else b'{"detail": "busy"}'
        self.send_response(status)
        if wait is not None:
            self.send_header("Retry-After", wait)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_retry_after_is_honoured_for_503_and_429(spool, make_session):
    events, _ = make_session(3)
    spool.append(events, {})
    _Busy.answers = [(503, "7"), (429, "3"), (502, None), (200, None)]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slept: list[float] = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        backoff = Backoff(base=0.5, cap=60)
        assert Uploader(spool, HttpTransport(url, "t"), backoff=backoff, sleep=slept.append).drain()
    finally:
        server.shutdown()
    assert slept[:2] == [7.0, 3.0]
    assert 0 <= slept[2] <= 0.5 * 2**2  # no Retry-After: jittered backoff, third attempt
    assert spool.pending_count() == 0


def test_retry_after_forms():
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert retry_after("30") == 30.0
    assert 100 < retry_after(format_datetime(later, usegmt=True)) <= 120
    assert retry_after(None) is None and retry_after("soon") is None


def test_backoff_grows_with_full_jitter_and_is_capped():
    random.seed(1)
    backoff = Backoff(base=0.5, cap=8, max_retry_after=60)
    for attempt in range(10):
        assert 0 <= backoff.delay(attempt) <= min(8, 0.5 * 2**attempt)
    assert max(backoff.delay(9) for _ in range(200)) > 4  # it does reach the cap's range
    assert backoff.delay(0, server_wish=3600) == 60


def test_an_entry_too_big_for_the_collector_is_set_aside(store, spool, make_session):
    events, _ = make_session(6)
    huge = os.urandom(512 << 10)  # incompressible: stays over the limit once zstd'd
    sha = hashlib.sha256(huge).hexdigest()
    spool.append(events[:3], {sha: huge})
    spool.append(events[3:], {})
    token = store.add_device(store.create_contributor())
    limits = CollectorLimits(max_body_bytes=64 << 10)
    assert Uploader(spool, _http(store, token, limits)).drain()
    assert [key for key, _ in spool.rejected()] == [sha]
    assert store.count_events() == 6

"""The collector's HTTP API against a real store: ingest, listing, export, refusals."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
import zstandard
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from demoforge import events as ev
from demoforge.capture.wire import encode_batch
from demoforge.collect.app import CollectorLimits, create_app
from demoforge.store import Store
from demoforge.store.models import Blob, EventRow, Session

LIMITS = CollectorLimits(max_body_bytes=256 << 10, max_json_bytes=1 << 20, max_events=200)


@pytest.fixture
def client(store):
    with TestClient(create_app(store, LIMITS)) as c:
        yield c


@pytest.fixture
def token(store):
    return store.add_device(store.create_contributor())


def post(client, token, body: bytes, encoding: str = "zstd", **headers):
    headers = {"Authorization": f"Bearer {token}", "Content-Encoding": encoding, **headers}
    return client.post("/v1/events", content=body, headers=headers)


def assert_nothing_stored(store: Store) -> None:
    with store.engine.connect() as conn:
        for model in (EventRow, Session, Blob):
            assert conn.scalar(select(func.count()).select_from(model)) == 0, model.__tablename__
    assert not list(store.blob_files.root.rglob("*.zst")) if store.blob_files.root.exists() else True


@pytest.mark.parametrize("encoding", ["zstd", "gzip", "identity"])
def test_a_batch_is_stored_once_however_often_it_is_sent(client, store, token, make_session, encoding):
    events, blobs = make_session(120)
    body = encode_batch(events, blobs, encoding)
    first = post(client, token, body, encoding)
    again = post(client, token, body, encoding)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 120, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 120}
    assert store.count_events() == 120
    sha, data = next(iter(blobs.items()))
    assert store.get_blob(sha) == data


def test_sessions_are_listed_and_exported_for_their_contributor_only(client, store, token, make_session):
    events, blobs = make_session(30)
    post(client, token, encode_batch(events, blobs))
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/v1/sessions", headers=auth).json()
    assert [s["id"] for s in listed] == [events[0].session_id]
    assert listed[0]["event_count"] == 30
    export = client.get(f"/v1/sessions/{events[0].session_id}/events", headers=auth)
    assert export.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in export.text.splitlines()] == [ev.dump_event(e) for e in events]

    stranger = {"Authorization": f"Bearer {store.add_device(store.create_contributor())}"}
    assert client.get("/v1/sessions", headers=stranger).json() == []
    assert client.get(f"/v1/sessions/{events[0].session_id}/events", headers=stranger).status_code == 404


def test_openapi_schema_is_served(client):
    schema = client.get("/openapi.json").json()
    ingest = schema["paths"]["/v1/events"]["post"]
    assert "events" in ingest["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"/v1/sessions", "/v1/sessions/{session_id}/events"} <= set(schema["paths"])


def _raw(obj) -> bytes:
    return zstandard.ZstdCompressor().compress(json.dumps(obj).encode())


def _event_dict(**changes) -> dict:
    event = ev.Click(session_id="s1", seq=0, ts=1, x=1, y=2)
    return {**ev.dump_event(event), **changes}


BAD_BODIES = {
    "malformed JSON": (lambda: zstandard.ZstdCompressor().compress(b'{"events": [}'), 400, "not JSON"),
    "not zstd at all": (lambda: b"plain bytes", 400, "zstd"),
    "unknown schema version": (lambda: _raw({"events": [_event_dict(schema_version=99)]}), 422, "unknown schema_version 99"),
    "unknown event type": (lambda: _raw({"events": [_event_dict(type="teleport")]}), 422, "teleport"),
    "not a UUIDv7 id": (lambda: _raw({"events": [_event_dict(id="1234")]}), 422, "UUID"),
    "one bad event among good": (
        lambda: _raw({"events": [_event_dict(), _event_dict(id=ev.new_event_id(), seq=1, x="left")]}),
        422,
        "x",
    ),
    "blob not matching its name": (
        lambda: _raw({"events": [_event_dict()], "blobs": {"a" * 64: base64.b64encode(b"x").decode()}}),
        422,
        "sha256",
    ),
    "blob name not a sha256": (
        lambda: _raw({"events": [], "blobs": {"../../etc/passwd": "eA=="}}),
        422,
        "pattern",
    ),
    "too many events": (
        lambda: _raw({"events": [_event_dict(id=ev.new_event_id(), seq=i) for i in range(201)]}),
        413,
        "limit of 200",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_input_is_refused_clearly_and_stores_nothing(client, store, token, case):
    make_body, status, reason = BAD_BODIES[case]
    response = post(client, token, make_body())
    assert response.status_code == status, response.text
    assert reason in json.dumps(response.json()["detail"])
    assert_nothing_stored(store)


def test_a_refusal_never_echoes_the_submitted_values(client, store, token):
    secret = "hunter2-typed-by-a-person"
    body = _raw({"events": [_event_dict(type="change", value=secret, x=None)]})
    response = post(client, token, body)
    assert response.status_code == 422
    assert secret not in response.text
    assert_nothing_stored(store)


def test_an_oversized_body_is_refused_before_it_is_read(client, store, token):
    response = post(client, token, b"x" * (LIMITS.max_body_bytes + 1), "identity")
    assert response.status_code == 413
    assert_nothing_stored(store)


def test_a_zip_bomb_is_refused(client, store, token):
    inflated = b'{"events": [], "padding": "' + b" " * (8 << 20) + b'"}'
    for encoding, body in (
        ("zstd", zstandard.ZstdCompressor().compress(inflated)),
        ("gzip", gzip.compress(inflated)),
    ):
        assert len(body) < LIMITS.max_body_bytes
        response = post(client, token, body, encoding)
        assert response.status_code == 413, (encoding, response.text)
    assert_nothing_stored(store)


def test_unsupported_compression_is_refused(client, store, token, make_session):
    events, _ = make_session(5)
    response = post(client, token, encode_batch(events, {}, "identity"), "br")
    assert response.status_code == 415
    assert_nothing_stored(store)


@pytest.mark.parametrize("auth", [None, "Bearer dfd_not-a-real-token", "Basic dXNlcjpwYXNz"])
def test_unknown_or_missing_tokens_are_refused(client, store, make_session, auth):
    events, blobs = make_session(5)
    headers = {"Content-Encoding": "zstd"} | ({"Authorization": auth} if auth else {})
    response = client.post("/v1/events", content=encode_batch(events, blobs), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/sessions", headers=headers).status_code == 401
    assert_nothing_stored(store)


def test_another_contributors_session_is_a_conflict(client, store, token, make_session):
    events, blobs = make_session(10)
    other = store.add_device(store.create_contributor())
    assert post(client, token, encode_batch(events[:5], blobs)).status_code == 200
    response = post(client, other, encode_batch(events[5:], {}))
    assert response.status_code == 409
    assert store.count_events() == 5

"""The collector's logs carry counts and reasons, never what a person typed."""

from __future__ import annotations

import io
import json
import logging

import zstandard
from fastapi.testclient import TestClient

from demoforge import events as ev
from demoforge.capture.wire import encode_batch
from demoforge.collect.app import create_app
from demoforge.collect.logs import JsonFormatter

SECRET = "s3cret-typed-value-4711"


def test_logs_are_json_and_never_contain_event_values(store, make_session):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("demoforge")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        token = store.add_device(store.create_contributor())
        events, blobs = make_session(10)
        typed = ev.Change(session_id=events[0].session_id, seq=10, ts=2, value=SECRET)
        headers = {"Authorization": f"Bearer {token}", "Content-Encoding": "zstd"}
        bad = {**ev.dump_event(typed), "seq": -1, "checked": SECRET}
        with TestClient(create_app(store)) as client:
            assert client.post("/v1/events", content=encode_batch([*events, typed], blobs), headers=headers).status_code == 200
            body = zstandard.ZstdCompressor().compress(json.dumps({"events": [bad]}).encode())
            assert client.post("/v1/events", content=body, headers=headers).status_code == 422
            assert client.post("/v1/events", content=body, headers={"Authorization": "Bearer " + SECRET}).status_code == 401
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {line["msg"] for line in lines} >= {"upload stored", "upload invalid", "unknown device token"}
    assert SECRET not in stream.getvalue()

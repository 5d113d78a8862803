"""Generated uploads: no payload causes a 5xx, and without consent none stores an event.

Hypothesis draws bodies from three families: well-formed batches of
schema-valid events (which would be stored with consent), near-valid
batches with fields of the wrong type or extra keys, and arbitrary JSON or
bytes. ``DEMOFORGE_FUZZ_EXAMPLES`` sets the number per property (200 by
default; ``bench/ingest_fuzz.py`` runs 10,000).
"""

from __future__ import annotations

import base64
import json
import os
import uuid

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demoforge import events as ev
from demoforge.collect.app import create_app
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry
from demoforge.privacy.ingest import install
from demoforge.store import Store

EXAMPLES = int(os.environ.get("DEMOFORGE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

_text = st.text(max_size=40)
_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text)
_json = st.recursive(_json_scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4), max_leaves=12)


@st.composite
def valid_event(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(ev.EVENT_TYPES))
    base = {"type": kind, "id": ev.new_event_id(), "session_id": str(uuid.UUID(int=draw(st.integers(0, 3)))),
            "seq": draw(st.integers(0, 10_000)), "ts": draw(st.integers(0, 2**42))}
    extra = {
        "pointer_move": {"x": 1.0, "y": 2.0}, "pointer_down": {"x": 1, "y": 2}, "pointer_up": {"x": 1, "y": 2},
        "click": {"x": 3, "y": 4}, "dblclick": {"x": 3, "y": 4}, "wheel": {"x": 0, "y": 0, "dy": 3},
        "key_down": {"key": draw(st.text(min_size=1, max_size=3))}, "key_up": {"key": "a"},
        "input": {"value": draw(_text)}, "change": {"value": draw(_text)}, "focus": {},
        "scroll": {"scroll_x": 0, "scroll_y": 10}, "navigation": {"url": draw(st.sampled_from(["https://crm.example.com/", "file:///x.html", "about:blank"]))},
        "dom_snapshot": {"blob": "0" * 64}, "screenshot": {"blob": "1" * 64},
        "task_start": {"instruction": draw(_text)}, "task_end": {"outcome": "success"},
    }[kind]
    return {**base, **extra}


@st.composite
def body(draw: st.DrawFn) -> bytes:
    family = draw(st.integers(0, 3))
    if family == 0:
        return json.dumps({"events": draw(st.lists(valid_event(), min_size=1, max_size=8))}).encode()
    if family == 1:
        events = draw(st.lists(valid_event(), min_size=1, max_size=4))
        for e in events:
            e[draw(st.sampled_from(sorted(e)))] = draw(_json)  # one field of the wrong shape
        blobs = draw(st.dictionaries(st.sampled_from(["0" * 64, "zz"]), st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode()), max_size=2))
        return json.dumps({"events": events, "blobs": blobs}).encode()
    if family == 2:
        return json.dumps(draw(_json)).encode()
    return draw(st.binary(max_size=200))


def _world(tmp_path, consent: bool):
    store = Store.open(f"sqlite:///{tmp_path / 'fuzz.db'}", blobs_dir=tmp_path / "blobs")
    app = create_app(store)
    install(app, store)
    registry = ConsentRegistry(store.engine, AuditLog(store.engine, tmp_path / "audit.anchor"))
    contributor = store.create_contributor()
    registry.set_gate("fuzz", "DPIA-f", "WA-f", actor="tests")
    registry.allow_origin("https://crm.example.com", actor="tests")
    if consent:
        registry.grant(contributor, registry.notice()[0])
    return store, TestClient(app), store.add_device(contributor)


def _post(client: TestClient, token: str, data: bytes):
    return client.post("/v1/events", content=data, headers={"Authorization": f"Bearer {token}"})


def test_without_consent_no_payload_stores_anything_or_fails_the_server(demoforge_home, tmp_path):
    store, client, token = _world(tmp_path, consent=False)

    @FUZZ
    @given(body())
    def upload(data: bytes) -> None:
        response = _post(client, token, data)
        assert response.status_code < 500, response.text
        assert response.status_code != 200

    with client:
        upload()
    assert store.count_events() == 0
    store.close()


def test_with_consent_no_payload_fails_the_server(demoforge_home, tmp_path):
    store, client, token = _world(tmp_path, consent=True)
    statuses: set[int] = set()

    @FUZZ
    @given(body())
    def upload(data: bytes) -> None:
        response = _post(client, token, data)
        statuses.add(response.status_code)
        assert response.status_code < 500, response.text

    with client:
        upload()
    assert 200 in statuses and statuses & {400, 409, 422}  # both stored and refused batches were drawn
    store.close()

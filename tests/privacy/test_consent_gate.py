"""Consent, gate and allowlist at the collector: refused uploads store nothing; allowed ones are redacted."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from demoforge import events as ev
from demoforge.capture.wire import encode_batch
from demoforge.collect.app import create_app
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry, ConsentState, NoConsent, NotAllowed, origin_of
from demoforge.privacy.ingest import install
from demoforge.store import Store
from demoforge.store.models import Blob, EventRow, Session

CANARY_CARD = "4242 4242 4242 4242"
CANARY_EMAIL = "canary.person@example.com"


@pytest.fixture
def world(db_url, demoforge_home, monkeypatch):
    monkeypatch.setenv("DEMOFORGE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        app = create_app(store)
        install(app, store)
        registry = ConsentRegistry(store.engine, AuditLog(store.engine, demoforge_home / "audit.anchor"))
        contributor = store.create_contributor()
        token = store.add_device(contributor)
        with TestClient(app) as client:
            yield store, store.sealer, registry, contributor, token, client


def _post(client, token, events, blobs=None):
    return client.post(
        "/v1/events",
        content=encode_batch(events, blobs or {}, "zstd"),
        headers={"Authorization": f"Bearer {token}", "Content-Encoding": "zstd"},
    )


def _stored(store) -> int:
    with store.engine.connect() as conn:
        return sum(conn.scalar(select(func.count()).select_from(m)) for m in (EventRow, Session, Blob))


def _page(url="https://crm.example.com/contacts/1"):
    sid = str(uuid.uuid4())
    return sid, [ev.Navigation(session_id=sid, seq=0, ts=1_700_000_000_000, url=url, title="Contact")]


def _open_gate(registry, contributor):
    version, _ = registry.notice()
    registry.grant(contributor, version)
    registry.set_gate("train form-filling agents", "DPIA-2026-07", "BV-12/2026", actor="admin")
    registry.allow_origin("https://crm.example.com", actor="admin")


def test_without_consent_nothing_is_stored_and_the_answer_is_403(world):
    store, _, registry, contributor, token, client = world
    registry.set_gate("p", "d", "w", actor="admin")
    registry.allow_origin("https://crm.example.com", actor="admin")
    _, events = _page()
    response = _post(client, token, events)
    assert response.status_code == 403, response.text
    assert _stored(store) == 0


@pytest.mark.parametrize("action", ["pause", "revoke"])
def test_paused_or_revoked_consent_refuses(world, action):
    store, _, registry, contributor, token, client = world
    _open_gate(registry, contributor)
    getattr(registry, action)(contributor)
    _, events = _page()
    assert _post(client, token, events).status_code == 403
    assert _stored(store) == 0
    if action == "pause":
        registry.resume(contributor)
        assert _post(client, token, events).status_code == 200
    else:
        with pytest.raises(ValueError, match="grant it again"):
            registry.resume(contributor)


def test_without_gate_or_off_the_allowlist_the_answer_is_409(world):
    store, _, registry, contributor, token, client = world
    registry.grant(contributor, registry.notice()[0])
    _, events = _page()
    assert _post(client, token, events).status_code == 409  # no gate yet
    registry.set_gate("p", "d", "w", actor="admin")
    assert _post(client, token, events).status_code == 409  # origin not allowlisted
    _, elsewhere = _page("https://mail.example.org/inbox")
    registry.allow_origin("https://crm.example.com", actor="admin")
    assert _post(client, token, elsewhere).status_code == 409
    assert _stored(store) == 0
    assert _post(client, token, events).status_code == 200


def test_a_new_notice_needs_a_new_opt_in(world):
    store, _, registry, contributor, token, client = world
    _open_gate(registry, contributor)
    registry.publish_notice("Version 2 of the notice.", actor="admin")
    assert not registry.status(contributor).active
    with pytest.raises(ValueError, match="current notice"):
        registry.grant(contributor, 1)
    _, events = _page()
    assert _post(client, token, events).status_code == 403


def test_session_allowlist_is_scoped_to_that_person_and_session(world):
    _, _, registry, contributor, _, _ = world
    registry.allow_origin("file:///tmp/form.html", actor=contributor, contributor_id=contributor, session_id="s1")
    assert registry.origin_allowed("file:///other/page.html", contributor, "s1")
    assert not registry.origin_allowed("file:///tmp/form.html", contributor, "s2")
    assert not registry.origin_allowed("file:///tmp/form.html", "someone-else", "s1")
    assert origin_of("HTTPS://CRM.example.com:8443/x?y=1") == "https://crm.example.com:8443"


def test_check_raises_the_right_refusal(world):
    _, _, registry, contributor, _, _ = world
    with pytest.raises(NoConsent):
        registry.check(contributor, [], require_gate=False)
    registry.grant(contributor, registry.notice()[0])
    registry.check(contributor, [], require_gate=False)
    with pytest.raises(NotAllowed):
        registry.check(contributor, [], require_gate=True)
    assert registry.status(contributor).state is ConsentState.ACTIVE


def test_allowed_uploads_are_redacted_before_storage(world):
    store, keys, registry, contributor, token, client = world
    _open_gate(registry, contributor)
    sid, events = _page()
    field = ev.Target(tag="input", id="card", selector="#card", name="Card number")
    seq = 1
    typed = ""
    for ch in CANARY_CARD:
        typed += ch
        events.append(ev.KeyDown(session_id=sid, seq=seq, ts=1_700_000_000_000 + seq, key=ch, code=None, target=field))
        events.append(ev.Input(session_id=sid, seq=seq + 1, ts=1_700_000_000_000 + seq, value=typed, target=field))
        events.append(ev.KeyUp(session_id=sid, seq=seq + 2, ts=1_700_000_000_000 + seq, key=ch, code=None, target=field))
        seq += 3
    events.append(ev.Change(session_id=sid, seq=seq, ts=1_700_000_000_100, value=CANARY_CARD, target=field))
    snapshot = ev.DomSnapshot(
        url="https://crm.example.com/contacts/1",
        elements=[ev.Element(ref=1, tag="p", text=f"Write to {CANARY_EMAIL}", box=ev.Box(x=0, y=0, width=10, height=10))],
    ).model_dump_json().encode()
    sha = hashlib.sha256(snapshot).hexdigest()
    events.append(ev.DomSnapshotEvent(session_id=sid, seq=seq + 1, ts=1_700_000_000_101, blob=sha))

    response = _post(client, token, events, {sha: snapshot})
    assert response.status_code == 200, response.text

    stored = list(store.events(sid))
    assert len(stored) == len(events)
    digits = CANARY_CARD.replace(" ", "")
    typed_back = "".join(e.key for e in stored if isinstance(e, ev.KeyDown))
    assert digits not in typed_back.replace(" ", "") and set(typed_back) <= {"*", " "}
    assert all(e.masked for e in stored if isinstance(e, ev.KeyUp) and e.key != " ")
    values = [e.value for e in stored if isinstance(e, (ev.Input, ev.Change))]
    assert values[-1] == "[CARD]"
    assert not any(len([c for c in v if c.isdigit()]) > 4 for v in values), values
    [snap_event] = [e for e in stored if isinstance(e, ev.DomSnapshotEvent)]
    assert snap_event.blob != sha
    text = store.get_blob(snap_event.blob, contributor).decode()
    assert CANARY_EMAIL not in text and "[EMAIL]" in text


def test_screenshot_regions_with_redacted_text_are_painted_over():
    import io

    from PIL import Image

    from demoforge.privacy.event_redaction import BatchRedactor

    sid, action = str(uuid.uuid4()), ev.new_event_id()
    box = ev.Box(x=100, y=50, width=200, height=20)
    snapshot = ev.DomSnapshot(elements=[
        ev.Element(ref=1, tag="p", text=f"Mail {CANARY_EMAIL}", box=box),
        ev.Element(ref=2, tag="p", text="Nothing to hide", box=ev.Box(x=100, y=200, width=200, height=20)),
    ]).model_dump_json().encode()
    image = io.BytesIO()
    Image.new("RGB", (800, 600), (255, 255, 255)).save(image, format="JPEG")
    shot = image.getvalue()
    snap_sha, shot_sha = hashlib.sha256(snapshot).hexdigest(), hashlib.sha256(shot).hexdigest()
    redactor = BatchRedactor()
    # The snapshot and the screenshot of one action arrive in separate batches, as they do.
    redactor.redact([ev.DomSnapshotEvent(session_id=sid, seq=1, ts=1, blob=snap_sha, action_id=action)], {snap_sha: snapshot})
    events, blobs = redactor.redact(
        [ev.Screenshot(session_id=sid, seq=2, ts=2, blob=shot_sha, action_id=action, width=400, height=300)], {shot_sha: shot}
    )
    [painted_sha] = blobs
    assert events[0].blob == painted_sha != shot_sha
    painted = Image.open(io.BytesIO(blobs[painted_sha]))
    assert max(painted.getpixel((400, 120))) < 40  # inside the e-mail's box, at 2x scale: black
    assert min(painted.getpixel((400, 420))) > 215  # the other element: untouched


def test_a_screenshot_that_is_not_an_image_is_refused_not_a_crash():
    from demoforge.privacy.event_redaction import BatchRedactor

    sid, action = str(uuid.uuid4()), ev.new_event_id()
    snapshot = ev.DomSnapshot(elements=[ev.Element(ref=1, tag="p", text=CANARY_EMAIL, box=ev.Box(x=0, y=0, width=9, height=9))])
    data = snapshot.model_dump_json().encode()
    sha = hashlib.sha256(data).hexdigest()
    redactor = BatchRedactor()
    redactor.redact([ev.DomSnapshotEvent(session_id=sid, seq=1, ts=1, blob=sha, action_id=action)], {sha: data})
    junk = b"not a jpeg"
    junk_sha = hashlib.sha256(junk).hexdigest()
    with pytest.raises(ValueError, match="not an image"):
        redactor.redact([ev.Screenshot(session_id=sid, seq=2, ts=2, blob=junk_sha, action_id=action)], {junk_sha: junk})

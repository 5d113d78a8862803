"""The collector's privacy step, run on every upload before anything is stored.

Recorders ask ``GET /v1/consent`` before they start and before every batch.
On upload, first the consent, deployment-gate and allowlist check (403 without active
consent, 409 without the gate or off the allowlist), then redaction of the
batch. Installed on the collector app by ``install``; the app calls each of
its ``ingest_hooks`` with the parsed batch and the uploading device.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from demoforge.capture.wire import UploadBatch
from demoforge.collect.app import Device
from demoforge.events import Navigation
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry, RecordingRefused
from demoforge.privacy.event_redaction import BatchRedactor
from demoforge.store import DeviceInfo, Store


class PrivacyIngest:
    """Refuse what may not be recorded; redact what may."""

    def __init__(self, consent: ConsentRegistry, redactor: BatchRedactor | None = None) -> None:
        self.consent = consent
        self.redactor = redactor or BatchRedactor()

    def __call__(self, batch: UploadBatch, device: DeviceInfo) -> UploadBatch:
        pages = [(e.session_id, e.url) for e in batch.events if isinstance(e, Navigation)]
        try:
            self.consent.check(device.contributor_id, pages, require_gate=True)
        except RecordingRefused as exc:
            raise HTTPException(exc.status, str(exc)) from exc
        try:
            events, blobs = self.redactor.redact(batch.events, dict(batch.blobs))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return UploadBatch.model_construct(events=events, blobs=blobs)


class ConsentAnswer(BaseModel):
    """What a recorder asks before it starts and before every batch."""

    recording_allowed: bool
    consent: str | None
    gate: bool


def install(app: FastAPI, store: Store) -> PrivacyIngest:
    """Put the privacy step in front of the store of a collector app made by ``create_app``,
    and answer recorders' ``GET /v1/consent``."""
    consent = ConsentRegistry(store.engine, AuditLog(store.engine))
    hook = PrivacyIngest(consent)
    app.state.ingest_hooks.append(hook)

    @app.get("/v1/consent", response_model=ConsentAnswer, summary="May this device's person be recorded now?")
    def consent_status(device: Device) -> ConsentAnswer:
        status = consent.status(device.contributor_id)
        gate = consent.gate() is not None
        return ConsentAnswer(
            recording_allowed=status.active and gate,
            consent=status.state.value if status.state else None,
            gate=gate,
        )

    return hook

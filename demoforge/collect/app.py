"""The collector: a FastAPI service that takes batches from devices into the store.

Every refusal happens before the store is touched or inside the store's one
transaction, so a refused batch leaves nothing behind. Refusals are 4xx with
a reason a client can act on: 400 malformed body, 401 token, 409 someone
else's session, 413 too big, 415 unknown compression, 422 not the schema.
A store that is busy or unreachable is a 503 with ``Retry-After``, which the
uploader honours.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from demoforge.capture.wire import UploadBatch
from demoforge.collect.body import BodyError, decompress, read_limited
from demoforge.store import DeviceInfo, IngestError, SessionInfo, SessionOwnershipError, Store

log = logging.getLogger(__name__)

#: Seconds a client should wait when the store is busy.
BUSY_RETRY_AFTER = 1


class CollectorLimits(BaseModel):
    """What one upload may weigh; checked before the body is parsed."""

    max_body_bytes: int = 16 << 20
    max_json_bytes: int = 64 << 20
    max_events: int = 10_000


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int


class Refused(Exception):
    """A request answered with ``status`` and ``detail`` (and optional headers)."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


_bearer = HTTPBearer(auto_error=False, description="a device token from `demoforge devices add`")


def _errors(exc: ValidationError | RequestValidationError) -> list[dict[str, Any]]:
    """Validation errors without the offending input: a reply must not echo what was typed."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


def current_device(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DeviceInfo:
    """The device behind the request's bearer token, or 401 before the body is read."""
    store: Store = request.app.state.store
    device = store.device_for_token(credentials.credentials) if credentials else None
    if device is None:
        log.info("unknown device token", extra={"status": 401})
        raise HTTPException(
            401, "missing or unknown device token", headers={"WWW-Authenticate": "Bearer"}
        )
    return device


Device = Annotated[DeviceInfo, Depends(current_device)]


def create_app(store: Store, limits: CollectorLimits | None = None) -> FastAPI:
    """The collector app over ``store``; portal pages add their routers to it."""
    limits = limits or CollectorLimits()
    app = FastAPI(
        title="demoforge collector",
        summary="Batch ingest of recorded events, session listing and export.",
        version="1",
    )
    app.state.store = store
    app.state.limits = limits
    app.state.ingest_hooks = []

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _errors(exc)}, 422)

    @app.post(
        "/v1/events",
        response_model=IngestResponse,
        summary="Upload a batch of events and blobs",
        description=(
            "Body: JSON `{\"events\": [...], \"blobs\": {sha256: base64}}`, compressed as a "
            "whole and sent with `Content-Encoding: zstd` or `gzip` (or uncompressed). "
            "Idempotent: events already stored are counted as duplicates."
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": UploadBatch.model_json_schema()}},
            }
        },
        responses={
            400: {"description": "malformed JSON or compression"},
            401: {"description": "missing or unknown device token"},
            409: {"description": "a session of another contributor"},
            413: {"description": "body, decompressed body or event count over the limit"},
            415: {"description": "unsupported Content-Encoding"},
            422: {"description": "not the event schema (e.g. unknown schema_version)"},
            503: {"description": "store busy; retry after Retry-After seconds"},
        },
    )
    async def ingest_events(request: Request, device: Device) -> IngestResponse:
        try:
            body = await read_limited(
                request.stream(), request.headers.get("content-length"), limits.max_body_bytes
            )
            raw = decompress(body, request.headers.get("content-encoding", ""), limits.max_json_bytes)
        except BodyError as exc:
            log.info("upload refused", extra={"device": device.id, "status": exc.status, "reason": str(exc)})
            raise Refused(exc.status, str(exc)) from exc
        result = await run_in_threadpool(_ingest, raw, device)
        log.info(
            "upload stored",
            extra={"device": device.id, "status": 200, "body_bytes": len(body), **result.model_dump()},
        )
        return result

    def _ingest(raw: bytes, device: DeviceInfo) -> IngestResponse:
        batch = _parse(raw, device)
        # Privacy hooks (consent gate, redaction; see demoforge.privacy.ingest) may refuse
        # with an HTTPException or return the batch redacted.
        for hook in app.state.ingest_hooks:
            batch = hook(batch, device)
        try:
            result = store.ingest(batch.events, batch.blobs, contributor_id=device.contributor_id)
        except SessionOwnershipError as exc:
            raise Refused(409, str(exc)) from exc
        except IngestError as exc:
            raise Refused(422, str(exc)) from exc
        except OperationalError as exc:
            log.warning("store unavailable", extra={"device": device.id, "status": 503})
            raise Refused(
                503, "store busy, retry later", {"Retry-After": str(BUSY_RETRY_AFTER)}
            ) from exc
        return IngestResponse(accepted=result.accepted, duplicates=result.duplicates)

    def _parse(raw: bytes, device: DeviceInfo) -> UploadBatch:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Refused(400, f"body is not JSON: {exc}") from exc
        if isinstance(data, dict) and isinstance(data.get("events"), list):
            if len(data["events"]) > limits.max_events:
                raise Refused(
                    413, f"{len(data['events'])} events exceed the limit of {limits.max_events}"
                )
        try:
            return UploadBatch.model_validate(data)
        except ValidationError as exc:
            errors = _errors(exc)
            log.info(
                "upload invalid",
                extra={
                    "device": device.id,
                    "status": 422,
                    "error_types": sorted({e["type"] for e in errors}),
                    "error_locs": [e["loc"][:3] for e in errors[:10]],
                },
            )
            raise Refused(422, errors) from exc

    @app.get("/v1/sessions", response_model=list[SessionInfo], summary="This contributor's sessions")
    def list_sessions(
        device: Device, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
    ) -> list[SessionInfo]:
        return store.sessions(limit=limit, contributor_id=device.contributor_id)

    @app.get(
        "/v1/sessions/{session_id}/events",
        summary="Export one session as JSON Lines",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}}, 404: {}},
    )
    def export_session(session_id: str, device: Device) -> StreamingResponse:
        info = store.session(session_id)
        if info is None or info.contributor_id != device.contributor_id:
            raise HTTPException(404, f"no session {session_id!r}")
        return StreamingResponse(store.jsonl_lines(session_id), media_type="application/x-ndjson")

    return app

"""Retention: time and size caps on stored recordings, enforced by a job.

Sessions older than the time cap go first; then, while the store holds more
than the size cap, the oldest remaining sessions go. Each deletion goes
through ``erase_session`` (rows, then blobs no other session uses) and so
into the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from demoforge.events import now_ms
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.erasure import erase_session
from demoforge.store import Store
from demoforge.store.models import Blob, EventRow, Session

DAY_MS = 86_400_000


@dataclass(frozen=True)
class RetentionResult:
    expired: int
    over_size: int
    bytes_before: int
    bytes_after: int


def stored_bytes(store: Store) -> int:
    """Bytes held for recordings: event payloads plus blob files as stored."""
    with store.engine.connect() as conn:
        payloads = conn.scalar(select(func.coalesce(func.sum(func.length(EventRow.payload)), 0))) or 0
        blobs = conn.scalar(select(func.coalesce(func.sum(Blob.stored_size), 0))) or 0
    return int(payloads) + int(blobs)


def enforce(store: Store, audit: AuditLog, *, max_age_days: float | None, max_bytes: int | None, now: int | None = None) -> RetentionResult:
    """Delete what the caps do not allow; either cap may be None (no limit)."""
    if max_age_days is not None and max_age_days < 0 or max_bytes is not None and max_bytes < 0:
        raise ValueError("retention caps must not be negative")
    now = now_ms() if now is None else now
    before = stored_bytes(store)
    oldest_first = select(Session.id, Session.started_at).order_by(Session.started_at.asc().nulls_first(), Session.id)
    with store.engine.connect() as conn:
        sessions = conn.execute(oldest_first).all()
    expired = 0
    if max_age_days is not None:
        cutoff = now - int(max_age_days * DAY_MS)
        for row in sessions:
            if row.started_at is not None and row.started_at < cutoff:
                erase_session(store, audit, row.id, actor="retention")
                expired += 1
        sessions = [r for r in sessions if r.started_at is None or r.started_at >= cutoff]
    over = 0
    if max_bytes is not None:
        for row in sessions:
            if stored_bytes(store) <= max_bytes:
                break
            erase_session(store, audit, row.id, actor="retention")
            over += 1
    return RetentionResult(expired, over, before, stored_bytes(store))

"""Erasure: a person's whole data (crypto-shredding), or one session.

Erasing a contributor destroys their data key *first*: from that moment
every copy of their ciphertext (database pages, blob files, backups) is
unreadable, even if a later step is interrupted. Then their blob files and
rows go (the contributor row cascades to sessions, events, blob rows,
devices, consent, allowlist entries and identity). Each erasure is an
audit-log entry.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from demoforge.privacy.audit import AuditLog
from demoforge.privacy.keys import ContributorKeys
from demoforge.store import Store
from demoforge.store.engine import writing
from demoforge.store.models import Blob, Contributor, EventRow, Session


@dataclass(frozen=True)
class Erased:
    contributor_id: str
    session_ids: list[str]
    blobs: int


def erase_contributor(store: Store, audit: AuditLog, contributor_id: str, actor: str) -> Erased:
    """Shred the contributor's key (on an encrypted store), then delete their blobs and rows."""
    with store.engine.connect() as conn:
        if conn.scalar(select(Contributor.id).where(Contributor.id == contributor_id)) is None:
            raise LookupError(f"no contributor {contributor_id!r}")
        session_ids = list(conn.scalars(select(Session.id).where(Session.contributor_id == contributor_id)))
        blobs = conn.scalar(select(func.count()).select_from(Blob).where(Blob.contributor_id == contributor_id)) or 0
    if isinstance(store.sealer, ContributorKeys):
        store.sealer.destroy(contributor_id)
    shutil.rmtree(store.blob_files.root / contributor_id, ignore_errors=True)
    with writing(store.engine) as conn:
        conn.execute(delete(Contributor).where(Contributor.id == contributor_id))
    audit.record(actor, "erase_contributor", contributor_id, sessions=len(session_ids), blobs=blobs)
    return Erased(contributor_id, session_ids, blobs)


def erase_session(store: Store, audit: AuditLog, session_id: str, actor: str) -> Erased:
    """Delete one session's rows and the blobs no other session of the same person uses."""
    with store.engine.connect() as conn:
        owner = conn.scalar(select(Session.contributor_id).where(Session.id == session_id))
        if owner is None:
            raise LookupError(f"no session {session_id!r}")
        mine = set(conn.scalars(select(EventRow.blob_sha256).where(EventRow.session_id == session_id, EventRow.blob_sha256.is_not(None))))
        shared = set(
            conn.scalars(
                select(EventRow.blob_sha256)
                .join(Session, Session.id == EventRow.session_id)
                .where(Session.contributor_id == owner, EventRow.session_id != session_id, EventRow.blob_sha256.in_(mine))
            )
        )
    only_mine = sorted(mine - shared)
    with writing(store.engine) as conn:
        conn.execute(delete(Session).where(Session.id == session_id))
        if only_mine:
            conn.execute(delete(Blob).where(Blob.contributor_id == owner, Blob.sha256.in_(only_mine)))
    for sha in only_mine:
        store.blob_files.path(owner, sha).unlink(missing_ok=True)
    audit.record(actor, "erase_session", owner, session=session_id, blobs=len(only_mine))
    return Erased(owner, [session_id], len(only_mine))

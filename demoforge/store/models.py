"""The store's tables, as SQLAlchemy 2 declarative models.

The schema is owned by the Alembic migrations in ``migrations/versions``;
these models describe the same tables for queries, and a test checks that the
two never drift apart.

Events are kept whole: ``payload`` is the event's JSON exactly as the schema
dumps it (after sealing, see ``sealing.py``), so a future field never needs a
migration. The few columns beside it (``session_id``, ``seq``, ``ts``,
``type``, ``blob_sha256``) exist only to order, filter and count without
opening payloads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Contributor(Base):
    """A person who records, known only by a random pseudonymous id."""

    __tablename__ = "contributors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    label: Mapped[str | None] = mapped_column(
        String(64), doc="what kind of contributor, e.g. 'local' or 'miniwob-demos'; never a name"
    )


def contributor_fk(*, primary_key: bool = False, nullable: bool = False, index: bool = False) -> Mapped[str]:
    """A column pointing at a contributor, deleted with them: erasure is one
    ``DELETE FROM contributors`` that cascades to every per-person row."""
    return mapped_column(
        String(64),
        ForeignKey("contributors.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=nullable,
        index=index,
    )


class Device(Base):
    """A machine that uploads on a contributor's behalf; only its token's hash is kept."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contributor_id: Mapped[str] = contributor_fk(index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Session(Base):
    """One recorded stream of events, usually one task attempt."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contributor_id: Mapped[str] = contributor_fk(index=True)
    source: Mapped[str] = mapped_column(String(64))
    task: Mapped[str | None] = mapped_column(String(256))
    instruction: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reward: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[int | None] = mapped_column(BigInteger, doc="ms since the epoch")
    ended_at: Mapped[int | None] = mapped_column(BigInteger, doc="ms since the epoch")
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_sessions_started_at", "started_at"),)


class EventRow(Base):
    """One event; ``id`` (a UUIDv7) is the dedup key every upload is checked against."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("sessions.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    ts: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    blob_sha256: Mapped[str | None] = mapped_column(
        String(64), doc="the blob a dom_snapshot/screenshot event points at"
    )
    payload: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_events_session_seq", "session_id", "seq"),
        Index("ix_events_blob_sha256", "blob_sha256"),
    )


class Blob(Base):
    """A content-addressed file under the blobs folder, per contributor.

    Blobs are keyed by (contributor, sha256) rather than sha256 alone: sharing
    one file between contributors would tell one that another holds the same
    bytes, and would stop a contributor's blobs from being erased (or sealed
    with their own key) independently.
    """

    __tablename__ = "blobs"

    contributor_id: Mapped[str] = contributor_fk(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, doc="bytes before compression")
    stored_size: Mapped[int] = mapped_column(BigInteger, doc="bytes on disk")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_blobs_sha256", "sha256"),)


metadata = Base.metadata

# The privacy tables (keys, consent, audit log...) share this metadata so that one
# migration history and one drift check cover the whole schema.
from demoforge.privacy import models as _privacy_models  # noqa: E402,F401

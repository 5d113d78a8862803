"""Initial schema: contributors, devices, sessions, events, blobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _contributor_fk(primary_key: bool = False) -> sa.Column:
    return sa.Column(
        "contributor_id",
        sa.String(64),
        sa.ForeignKey("contributors.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "contributors",
        sa.Column("id", sa.String(64), primary_key=True),
        _created_at(),
        sa.Column("label", sa.String(64), nullable=True),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _contributor_fk(),
        _created_at(),
    )
    op.create_index("ix_devices_contributor_id", "devices", ["contributor_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        _contributor_fk(),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("task", sa.String(256), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("reward", sa.Float(), nullable=True),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("meta", _json, nullable=False),
        _created_at(),
    )
    op.create_index("ix_sessions_contributor_id", "sessions", ["contributor_id"])
    op.create_index("ix_sessions_started_at", "sessions", ["started_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(64),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("blob_sha256", sa.String(64), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_events_session_seq", "events", ["session_id", "seq"])
    op.create_index("ix_events_blob_sha256", "events", ["blob_sha256"])
    op.create_table(
        "blobs",
        _contributor_fk(primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("stored_size", sa.BigInteger(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_blobs_sha256", "blobs", ["sha256"])


def downgrade() -> None:
    for table in ("blobs", "events", "sessions", "devices", "contributors"):
        op.drop_table(table)

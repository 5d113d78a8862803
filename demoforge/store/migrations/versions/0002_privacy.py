"""Privacy tables: data keys, consent and notices, gate, allowlist, audit log, identities, portal accounts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _contributor_fk(primary_key: bool = False, nullable: bool = False) -> sa.Column:
    return sa.Column(
        "contributor_id",
        sa.String(64),
        sa.ForeignKey("contributors.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "contributor_keys",
        _contributor_fk(primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        _ts(),
    )
    op.create_table(
        "consent_notices",
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        _ts(),
    )
    op.create_table(
        "consents",
        _contributor_fk(primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column(
            "notice_version",
            sa.Integer(),
            sa.ForeignKey("consent_notices.version"),
            nullable=False,
        ),
        _ts("granted_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "deployment_gates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("dpia_ref", sa.String(256), nullable=False),
        sa.Column("works_agreement_ref", sa.String(256), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        _ts("recorded_at"),
    )
    op.create_table(
        "allowed_origins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(512), nullable=False),
        _contributor_fk(nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("added_by", sa.String(128), nullable=False),
        _ts(),
    )
    op.create_index("ix_allowed_origins_origin", "allowed_origins", ["origin"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        _ts("ts"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "identities",
        _contributor_fk(primary_key=True),
        sa.Column("identity", sa.String(320), nullable=False),
        _ts(),
    )
    op.create_table(
        "portal_accounts",
        sa.Column("username", sa.String(128), primary_key=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _contributor_fk(nullable=True),
        _ts(),
    )


def downgrade() -> None:
    for table in (
        "portal_accounts",
        "identities",
        "audit_log",
        "allowed_origins",
        "deployment_gates",
        "consents",
        "consent_notices",
        "contributor_keys",
    ):
        op.drop_table(table)

"""The privacy tables: data keys, consent, gate, allowlist, audit log, identities, portal accounts.

They live in the store's metadata (``demoforge.store.models.Base``) so that
one Alembic history and one drift check cover the whole schema; their
migration is ``0002_privacy``. Every per-person row hangs off
``contributors`` with ``ON DELETE CASCADE``, so erasing a contributor
removes their keys, consent, allowlist entries and identity in the same
statement as their sessions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from demoforge.store.models import Base, contributor_fk, utcnow


class ContributorKey(Base):
    """A contributor's data key, wrapped by the master key; deleting it shreds their data."""

    __tablename__ = "contributor_keys"

    contributor_id: Mapped[str] = contributor_fk(primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(64), doc="which master key wrapped it")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsentNotice(Base):
    """One version of the notice text people consent to; versions are never edited."""

    __tablename__ = "consent_notices"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Consent(Base):
    """A person's current consent: ``active``, ``paused`` or ``revoked``, and to which notice."""

    __tablename__ = "consents"

    contributor_id: Mapped[str] = contributor_fk(primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    notice_version: Mapped[int] = mapped_column(Integer, ForeignKey("consent_notices.version"))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeploymentGate(Base):
    """What an admin recorded before any recording in the organisation; the newest row counts."""

    __tablename__ = "deployment_gates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(Text)
    dpia_ref: Mapped[str] = mapped_column(String(256))
    works_agreement_ref: Mapped[str] = mapped_column(String(256))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AllowedOrigin(Base):
    """An origin recording may happen on: organisation-wide, or one person's one session."""

    __tablename__ = "allowed_origins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(512))
    contributor_id: Mapped[str | None] = contributor_fk(nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(64), doc="None: every session")
    added_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_allowed_origins_origin", "origin"),)


class AuditEntry(Base):
    """One link of the hash-chained audit log (see ``audit.py``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text, doc="canonical JSON")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Identity(Base):
    """The map from a pseudonymous contributor to a real identity; read only by the identity role."""

    __tablename__ = "identities"

    contributor_id: Mapped[str] = contributor_fk(primary_key=True)
    identity: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PortalAccount(Base):
    """A local portal sign-in: an argon2 hash, a role, and (for people) their contributor id."""

    __tablename__ = "portal_accounts"

    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), doc="person or admin")
    contributor_id: Mapped[str | None] = contributor_fk(nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OidcLink(Base):
    """An OIDC subject (issuer + ``sub``) and the portal account it signs in as; erased with the account."""

    __tablename__ = "oidc_links"

    issuer: Mapped[str] = mapped_column(String(512), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    username: Mapped[str] = mapped_column(
        String(128), ForeignKey("portal_accounts.username", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

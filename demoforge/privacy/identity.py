"""Pseudonymisation: the map from contributor ids to real identities, behind a role.

Everything else in demoforge knows people only by a random contributor id.
The one table that says who an id is can be read only by the ``identity``
role (the HR or data-protection function that must answer a person's
request), and every lookup is in the audit log.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from demoforge.privacy.audit import AuditLog
from demoforge.privacy.models import Identity
from demoforge.store.engine import writing
from demoforge.store.models import utcnow

IDENTITY_ROLE = "identity"


class IdentityMap:
    def __init__(self, engine: Engine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    def link(self, contributor_id: str, identity: str, *, actor: str, role: str) -> None:
        self._require(role)
        with writing(self.engine) as conn:
            conn.execute(Identity.__table__.insert().values(contributor_id=contributor_id, identity=identity, created_at=utcnow()))
        self.audit.record(actor, "link_identity", contributor_id)

    def lookup(self, contributor_id: str, *, actor: str, role: str) -> str | None:
        """Who ``contributor_id`` is; audited, and refused to anyone without the identity role."""
        self._require(role)
        self.audit.record(actor, "read_identity", contributor_id)
        with self.engine.connect() as conn:
            return conn.scalar(select(Identity.identity).where(Identity.contributor_id == contributor_id))

    @staticmethod
    def _require(role: str) -> None:
        if role != IDENTITY_ROLE:
            raise PermissionError(f"the identity map is readable only by the {IDENTITY_ROLE!r} role")

"""Local portal accounts: argon2id password hashes, two roles.

A ``person`` account belongs to one contributor and sees only that
contributor's data; an ``admin`` account sets the gate, allowlist and
retention and sees aggregate statistics, never a person's sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update

from demoforge.privacy.models import PortalAccount
from demoforge.store.engine import writing
from demoforge.store.models import utcnow

ROLES = ("person", "admin")
_hasher = PasswordHasher()
#: Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("demoforge-no-such-user")


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    contributor_id: str | None


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, username: str, password: str, role: str, contributor_id: str | None = None) -> Account:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        if role == "person" and contributor_id is None:
            raise ValueError("a person's account needs their contributor id")
        if len(password) < 12:
            raise ValueError("passwords need at least 12 characters")
        with writing(self.engine) as conn:
            if conn.scalar(select(PortalAccount.username).where(PortalAccount.username == username)):
                raise ValueError(f"account {username!r} exists")
            conn.execute(
                PortalAccount.__table__.insert().values(
                    username=username, password_hash=_hasher.hash(password), role=role,
                    contributor_id=contributor_id, created_at=utcnow(),
                )
            )
        return Account(username, role, contributor_id)

    def authenticate(self, username: str, password: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(PortalAccount.__table__).where(PortalAccount.username == username)).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            with writing(self.engine) as conn:
                conn.execute(update(PortalAccount).where(PortalAccount.username == username).values(password_hash=_hasher.hash(password)))
        return Account(row.username, row.role, row.contributor_id)

    def get(self, username: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(PortalAccount.__table__).where(PortalAccount.username == username)).first()
        return Account(row.username, row.role, row.contributor_id) if row else None

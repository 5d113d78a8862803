"""OIDC sign-in for the portal: its settings, and which portal account a provider's subject is.

OIDC is an option next to local accounts, off unless an issuer is
configured. A subject is the pair (issuer, ``sub``): ``sub`` is only unique
within one issuer. On first sign-in the subject gets a fresh pseudonymous
contributor and a ``person`` account with a random user name, so nothing
the provider says about the person (name, e-mail) is stored; the account
has no usable password, so only the provider can sign in as it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from demoforge.privacy.accounts import Account
from demoforge.privacy.models import OidcLink, PortalAccount
from demoforge.store.engine import writing
from demoforge.store.models import Contributor, utcnow

ENV = {
    "issuer": "DEMOFORGE_OIDC_ISSUER",
    "client_id": "DEMOFORGE_OIDC_CLIENT_ID",
    "client_secret": "DEMOFORGE_OIDC_CLIENT_SECRET",
    "redirect_url": "DEMOFORGE_OIDC_REDIRECT_URL",
}
NAME_ENV = "DEMOFORGE_OIDC_NAME"
#: Not an argon2 hash, so ``Accounts.authenticate`` can never accept a password for the account.
NO_PASSWORD = "!oidc"
_LINK_LOCK = 0xDE40F01DC


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_url: str
    name: str = ""

    @property
    def provider_name(self) -> str:
        """What the sign-in button says: the configured name, or the issuer's host."""
        return self.name or urlsplit(self.issuer).hostname or self.issuer

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @classmethod
    def from_env(cls) -> OidcSettings | None:
        """The settings from ``DEMOFORGE_OIDC_*``; None when no issuer is set (OIDC off).

        A half-configured provider is an error at start-up rather than a broken button.
        """
        values = {field: os.environ.get(var, "") for field, var in ENV.items()}
        if not values["issuer"]:
            return None
        if missing := [ENV[field] for field, value in values.items() if not value]:
            raise ValueError(f"OIDC sign-in needs {', '.join(missing)} as well as {ENV['issuer']}")
        return cls(**values, name=os.environ.get(NAME_ENV, ""))


def account_for_subject(engine: Engine, issuer: str, subject: str) -> Account:
    """The portal account linked to (issuer, subject), created with its contributor on first sign-in.

    Contributor, account and link are written in one transaction, so a failure leaves none of them.
    """
    with writing(engine, _LINK_LOCK) as conn:
        row = conn.execute(
            select(PortalAccount.__table__)
            .join(OidcLink, OidcLink.username == PortalAccount.username)
            .where(OidcLink.issuer == issuer, OidcLink.subject == subject)
        ).first()
        if row is not None:
            return Account(row.username, row.role, row.contributor_id)
        now = utcnow()
        contributor_id, username = secrets.token_hex(16), f"oidc-{secrets.token_hex(8)}"
        conn.execute(Contributor.__table__.insert().values(id=contributor_id, created_at=now))
        conn.execute(
            PortalAccount.__table__.insert().values(
                username=username, password_hash=NO_PASSWORD, role="person",
                contributor_id=contributor_id, created_at=now,
            )
        )
        conn.execute(OidcLink.__table__.insert().values(issuer=issuer, subject=subject, username=username, created_at=now))
    return Account(username, "person", contributor_id)

"""Consent, the deployment gate and the allowlist: whether anything may be recorded at all.

Three conditions, each checked by the recorder before it starts and before
every batch, and again by the collector on every upload:

* **consent** (per person): a versioned notice, an explicit opt-in, and the
  person's own revoke / pause / resume. Only ``active`` consent to the
  *current* notice counts; a new notice version needs a new opt-in.
* **deployment gate** (per organisation): before any recording an admin
  records the purpose, the data-protection impact assessment reference and
  the works-agreement reference.
* **allowlist**: the origins (``https://crm.example.com``, ``file://``)
  recording may happen on, organisation-wide or for one person's session.

Every change is an audit-log entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import Engine, or_, select, update

from demoforge.privacy.audit import AuditLog
from demoforge.privacy.models import AllowedOrigin, Consent, ConsentNotice, DeploymentGate
from demoforge.store.engine import writing
from demoforge.store.models import utcnow

DEFAULT_NOTICE = """\
demoforge records how you work in the web applications your organisation has
listed, so that software agents can learn to do the same tasks.

What is recorded: mouse and keyboard actions, what you type into fields,
simplified snapshots of the page and screenshots, only while the recording
indicator is shown, only on the listed sites, never in private windows.
Passwords and fields marked private never leave the page; e-mail addresses,
phone, card and account numbers, national ids and keys are removed before
storage. Your recordings are encrypted under a key of your own.

You are known by a random id. Nobody receives reports about you: statistics
cover groups of at least 5 people. You can pause or revoke at any time, see
and delete each of your sessions, and download everything kept about you.
Revoking stops recording; erasing destroys your key and your data.
"""


class ConsentState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    REVOKED = "revoked"


class RecordingRefused(Exception):
    """Recording (or storing) is not allowed; ``status`` is the HTTP code the collector answers."""

    status = 409


class NoConsent(RecordingRefused):
    status = 403


class NotAllowed(RecordingRefused):
    status = 409


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL; every ``file:`` URL has the one origin ``file://``."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file://"
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} has no origin (expected scheme://host)")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class ConsentStatus:
    state: ConsentState | None
    notice_version: int | None
    current_notice: int

    @property
    def active(self) -> bool:
        return self.state is ConsentState.ACTIVE and self.notice_version == self.current_notice


class ConsentRegistry:
    """Consent, gate and allowlist in the store's database."""

    def __init__(self, engine: Engine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    # --- notice and consent ---------------------------------------------------

    def notice(self) -> tuple[int, str]:
        """The current notice (version, text); version 1 is ``DEFAULT_NOTICE`` until an admin publishes another."""
        with self.engine.connect() as conn:
            row = conn.execute(select(ConsentNotice.version, ConsentNotice.text).order_by(ConsentNotice.version.desc()).limit(1)).first()
        if row is None:
            return self.publish_notice(DEFAULT_NOTICE, actor="system"), DEFAULT_NOTICE
        return row.version, row.text

    def publish_notice(self, text: str, actor: str) -> int:
        """A new notice version; everyone's consent must be given again to it."""
        if not text.strip():
            raise ValueError("the notice text is empty")
        with writing(self.engine) as conn:
            latest = conn.scalar(select(ConsentNotice.version).order_by(ConsentNotice.version.desc()).limit(1)) or 0
            conn.execute(ConsentNotice.__table__.insert().values(version=latest + 1, text=text, created_at=utcnow()))
        self.audit.record(actor, "publish_notice", None, version=latest + 1)
        return latest + 1

    def status(self, contributor_id: str) -> ConsentStatus:
        current, _ = self.notice()
        with self.engine.connect() as conn:
            row = conn.execute(select(Consent.state, Consent.notice_version).where(Consent.contributor_id == contributor_id)).first()
        if row is None:
            return ConsentStatus(None, None, current)
        return ConsentStatus(ConsentState(row.state), row.notice_version, current)

    def grant(self, contributor_id: str, notice_version: int) -> None:
        """Explicit opt-in to ``notice_version``, which must be the notice the person was shown."""
        current, _ = self.notice()
        if notice_version != current:
            raise ValueError(f"consent must be given to the current notice (version {current}), not {notice_version}")
        now = utcnow()
        with writing(self.engine) as conn:
            exists = conn.scalar(select(Consent.contributor_id).where(Consent.contributor_id == contributor_id))
            values = {"state": ConsentState.ACTIVE.value, "notice_version": current, "granted_at": now, "updated_at": now}
            if exists:
                conn.execute(update(Consent).where(Consent.contributor_id == contributor_id).values(**values))
            else:
                conn.execute(Consent.__table__.insert().values(contributor_id=contributor_id, **values))
        self.audit.record(contributor_id, "consent_grant", contributor_id, notice_version=current)

    def revoke(self, contributor_id: str) -> None:
        self._set_state(contributor_id, ConsentState.REVOKED, allowed_from=set(ConsentState))

    def pause(self, contributor_id: str) -> None:
        self._set_state(contributor_id, ConsentState.PAUSED, allowed_from={ConsentState.ACTIVE, ConsentState.PAUSED})

    def resume(self, contributor_id: str) -> None:
        """Back to recording after a pause; a revoked consent needs a new grant instead."""
        self._set_state(contributor_id, ConsentState.ACTIVE, allowed_from={ConsentState.PAUSED, ConsentState.ACTIVE})

    def _set_state(self, contributor_id: str, state: ConsentState, allowed_from: set[ConsentState]) -> None:
        current = self.status(contributor_id).state
        if current is None:
            raise ValueError("no consent has been given yet: nothing to change")
        if current not in allowed_from:
            raise ValueError(f"consent is {current.value}; it cannot become {state.value} (grant it again)")
        with writing(self.engine) as conn:
            conn.execute(update(Consent).where(Consent.contributor_id == contributor_id).values(state=state.value, updated_at=utcnow()))
        self.audit.record(contributor_id, f"consent_{state.value}", contributor_id)

    # --- deployment gate and allowlist ---------------------------------------

    def set_gate(self, purpose: str, dpia_ref: str, works_agreement_ref: str, actor: str) -> None:
        fields = {"purpose": purpose, "DPIA reference": dpia_ref, "works-agreement reference": works_agreement_ref}
        missing = [name for name, value in fields.items() if not value.strip()]
        if missing:
            raise ValueError(f"the deployment gate needs: {', '.join(missing)}")
        row = {"purpose": purpose, "dpia_ref": dpia_ref, "works_agreement_ref": works_agreement_ref,
               "recorded_by": actor, "recorded_at": utcnow()}
        self._insert_audited(DeploymentGate, row, actor, "set_gate", None,
                             dpia_ref=dpia_ref, works_agreement_ref=works_agreement_ref)

    def _insert_audited(self, model: type, row: dict, actor: str, action: str, subject: str | None, **details: object) -> None:
        """Insert one row of an admin setting, then say so in the audit log."""
        with writing(self.engine) as conn:
            conn.execute(model.__table__.insert().values(**row))
        self.audit.record(actor, action, subject, **details)

    def gate(self) -> DeploymentGate | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(DeploymentGate.__table__).order_by(DeploymentGate.id.desc()).limit(1)).first()
        return DeploymentGate(**row._mapping) if row else None

    def allow_origin(self, url: str, actor: str, contributor_id: str | None = None, session_id: str | None = None) -> str:
        """Allowlist ``url``'s origin: organisation-wide, or for one person's one session."""
        origin = origin_of(url)
        row = {"origin": origin, "contributor_id": contributor_id, "session_id": session_id,
               "added_by": actor, "created_at": utcnow()}
        self._insert_audited(AllowedOrigin, row, actor, "allow_origin", contributor_id,
                             origin=origin, session=session_id)
        return origin

    def origin_allowed(self, url: str, contributor_id: str, session_id: str) -> bool:
        try:
            origin = origin_of(url)
        except ValueError:
            return False
        with self.engine.connect() as conn:
            return (
                conn.scalar(
                    select(AllowedOrigin.id)
                    .where(AllowedOrigin.origin == origin)
                    .where(or_(AllowedOrigin.contributor_id.is_(None), AllowedOrigin.contributor_id == contributor_id))
                    .where(or_(AllowedOrigin.session_id.is_(None), AllowedOrigin.session_id == session_id))
                    .limit(1)
                )
                is not None
            )

    # --- the check ----------------------------------------------------------------

    def check(self, contributor_id: str, pages: list[tuple[str, str]], *, require_gate: bool) -> None:
        """Raise ``NoConsent`` or ``NotAllowed`` unless recording may go on.

        ``pages`` is (session id, URL) for every page the batch was recorded on.
        ``require_gate``: organisation deployments (the collector) need the
        admin's gate; a person recording on their own machine does not.
        """
        if not self.status(contributor_id).active:
            raise NoConsent("no active consent for this contributor: nothing is recorded or stored")
        if require_gate and self.gate() is None:
            raise NotAllowed("no deployment gate: an admin must record purpose, DPIA and works-agreement references")
        for session_id, url in pages:
            if not self.origin_allowed(url, contributor_id, session_id):
                raise NotAllowed("a page of this batch is outside the allowlisted origins")

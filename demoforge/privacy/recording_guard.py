"""The recorder's privacy guard: between the page and the durable spool.

Everything the pages send passes through ``GuardedSink.append`` before it
reaches the spool, so what is refused or redacted here never touches disk:

* **consent, before every batch**: without active consent the batch is
  dropped (pausing or revoking takes effect at the next batch);
* **allowlist**: the URL the person started ``demoforge record`` on is
  allowlisted for this session (its origin; one origin for all ``file:``
  pages); events from a frame whose page is on another origin, and the
  blobs they point at, are dropped;
* **redaction, before anything is durable**: keys typed into a field
  arrive one per batch, and a card number is only recognisable once it is
  whole. Events are therefore held in memory while a typing run is open and
  redacted together (see ``event_redaction``) when the person leaves the
  field (pointer down, click, focus, change, Enter/Tab, navigation, end of
  task). The cost: a crash loses at most the typing run in progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import httpx

from demoforge.events import (
    Change,
    Click,
    DomSnapshotEvent,
    Event,
    Focus,
    KeyDown,
    Navigation,
    PointerDown,
    Screenshot,
    TaskEnd,
)
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry, NoConsent
from demoforge.privacy.event_redaction import BatchRedactor

#: Events that mean the person has left the field they were typing in.
_LEAVES_FIELD = (PointerDown, Click, Focus, Change, Navigation, TaskEnd)
_RUN_ENDERS = {"Enter", "Tab"}
#: A typing run longer than this is redacted and spooled anyway, to bound memory.
MAX_HELD_EVENTS = 5_000


class Sink(Protocol):
    def append(self, events: list[Event], blobs: dict[str, bytes]) -> None: ...


class Permission(Protocol):
    """Whether recording may go on now: asked before every batch."""

    def recording_allowed(self) -> bool: ...


class LocalConsent:
    """The embedded default: the person's consent and this session's allowlist, in the local store."""

    def __init__(self, registry: ConsentRegistry, contributor_id: str, start_url: str) -> None:
        self.registry = registry
        self.contributor_id = contributor_id
        self.start_url = start_url
        self._sessions: set[str] = set()

    def recording_allowed(self) -> bool:
        return self.registry.status(self.contributor_id).active

    def page_allowed(self, url: str, session_id: str) -> bool:
        """Allowlist the start URL's origin for a session on first sight, then check ``url``."""
        if session_id not in self._sessions:
            self.registry.allow_origin(self.start_url, actor=self.contributor_id, contributor_id=self.contributor_id, session_id=session_id)
            self._sessions.add(session_id)
        return self.registry.origin_allowed(url, self.contributor_id, session_id)


class CollectorConsent:
    """Recording for a collector: it holds consent, gate and allowlist; ask it (at most once a second)."""

    RECHECK_S = 1.0

    def __init__(self, server: str, token: str) -> None:
        self.url = server.rstrip("/") + "/v1/consent"
        self.headers = {"Authorization": f"Bearer {token}"}
        self._checked_at = -self.RECHECK_S
        self._allowed = False

    def recording_allowed(self) -> bool:
        now = time.monotonic()
        if now - self._checked_at >= self.RECHECK_S:
            try:
                reply = httpx.get(self.url, headers=self.headers, timeout=5)
                self._allowed = reply.status_code == 200 and bool(reply.json().get("recording_allowed"))
            except httpx.HTTPError:
                self._allowed = False  # unreachable: record nothing rather than guess
            self._checked_at = now
        return self._allowed


class GuardedSink:
    """A ``Sink`` that checks permission (and, locally, the allowlist) and redacts before passing on."""

    def __init__(self, sink: Sink, permission: Permission, redactor: BatchRedactor | None = None) -> None:
        self.sink = sink
        self.permission = permission
        self.redactor = redactor or BatchRedactor()
        self.dropped = 0
        self._frame_allowed: dict[str | None, bool] = {}
        self._held: list[Event] = []
        self._held_blobs: dict[str, bytes] = {}
        self._typing = False

    def append(self, events: list[Event], blobs: dict[str, bytes]) -> None:
        if not self.permission.recording_allowed():
            self.dropped += len(events)
            return
        kept = [e for e in events if self._allowed(e)]
        self.dropped += len(events) - len(kept)
        wanted = {getattr(e, "blob", None) for e in kept if isinstance(e, (DomSnapshotEvent, Screenshot))}
        self._held += kept
        self._held_blobs.update({sha: data for sha, data in blobs.items() if sha in wanted})
        for e in kept:
            if isinstance(e, KeyDown) and not e.masked:
                self._typing = e.key not in _RUN_ENDERS
            elif isinstance(e, _LEAVES_FIELD):
                self._typing = False
        if not self._typing or len(self._held) > MAX_HELD_EVENTS:
            self.flush()

    def flush(self) -> None:
        """Redact what is held and hand it to the spool."""
        if not self._held:
            return
        events, blobs = self.redactor.redact(self._held, self._held_blobs)
        self._held, self._held_blobs, self._typing = [], {}, False
        self.sink.append(events, blobs)

    def _allowed(self, e: Event) -> bool:
        """Track each frame's page origin (locally; a collector checks its own allowlist)."""
        if not isinstance(self.permission, LocalConsent):
            return True
        if isinstance(e, Navigation):
            self._frame_allowed[e.frame] = self.permission.page_allowed(e.url, e.session_id)
        elif not self._frame_allowed:
            self.permission.page_allowed(self.permission.start_url, e.session_id)  # registers the session
        return self._frame_allowed.get(e.frame, self._frame_allowed.get(None, True))


@contextmanager
def local_guard(start_url: str, db: str | None = None) -> Iterator[Callable[[Sink], GuardedSink]]:
    """The guard for a person recording into the embedded store; refuses to start without consent."""
    from demoforge.store import Store

    store = Store.open(db)
    try:
        consent = LocalConsent(ConsentRegistry(store.engine, AuditLog(store.engine)), store.local_contributor(), start_url)
        if not consent.recording_allowed():
            raise NoConsent("no active consent on this machine: run `demoforge consent grant` first")
        yield lambda sink: GuardedSink(sink, consent)
    finally:
        store.close()


def collector_guard(server: str, token: str) -> Callable[[Sink], GuardedSink]:
    """The guard when recording for a collector; refuses to start unless the collector allows recording."""
    consent = CollectorConsent(server, token)
    if not consent.recording_allowed():
        raise NoConsent("the collector does not allow recording for this device: consent, or the deployment gate, is missing")
    return lambda sink: GuardedSink(sink, consent)

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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

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


class GuardedSink:
    """A ``Sink`` that checks consent and the allowlist and redacts before passing on.

    ``consent`` None: recording for a collector, which holds consent and the
    organisation's allowlist and checks them on every upload; only redaction
    happens here.
    """

    def __init__(
        self,
        sink: Sink,
        consent: ConsentRegistry | None,
        contributor_id: str | None,
        start_url: str,
        redactor: BatchRedactor | None = None,
    ) -> None:
        self.sink = sink
        self.consent = consent
        self.contributor_id = contributor_id
        self.start_url = start_url
        self.redactor = redactor or BatchRedactor()
        self.dropped = 0
        self._sessions: set[str] = set()
        self._frame_allowed: dict[str | None, bool] = {}
        self._held: list[Event] = []
        self._held_blobs: dict[str, bytes] = {}
        self._typing = False

    def append(self, events: list[Event], blobs: dict[str, bytes]) -> None:
        if self.consent is not None and not self.consent.status(self.contributor_id).active:
            self.dropped += len(events)
            return
        kept = [e for e in events if self._allowed(e)] if self.consent is not None else events
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
        """Register this session's start origin on first sight; track each frame's page origin."""
        assert self.consent is not None and self.contributor_id is not None
        if e.session_id not in self._sessions:
            self.consent.allow_origin(
                self.start_url, actor=self.contributor_id, contributor_id=self.contributor_id, session_id=e.session_id
            )
            self._sessions.add(e.session_id)
        if isinstance(e, Navigation):
            self._frame_allowed[e.frame] = self.consent.origin_allowed(e.url, self.contributor_id, e.session_id)
        return self._frame_allowed.get(e.frame, self._frame_allowed.get(None, True))


@contextmanager
def local_guard(start_url: str, db: str | None = None) -> Iterator[Callable[[Sink], GuardedSink]]:
    """The guard for a person recording into the embedded store; refuses to start without consent."""
    from demoforge.store import Store

    store = Store.open(db)
    try:
        registry = ConsentRegistry(store.engine, AuditLog(store.engine))
        contributor = store.local_contributor()
        if not registry.status(contributor).active:
            raise NoConsent("no active consent on this machine: run `demoforge consent grant` first")
        yield lambda sink: GuardedSink(sink, registry, contributor, start_url)
    finally:
        store.close()


def collector_guard() -> Callable[[Sink], GuardedSink]:
    """The guard when recording for a collector: redaction only, the collector checks consent."""
    return lambda sink: GuardedSink(sink, None, None, "")

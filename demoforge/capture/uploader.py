"""Drain the client spool to a collector, in compressed batches, until it is empty.

Delivery is at-least-once: a batch leaves the spool only after the collector
acknowledged it, and the collector deduplicates by event id, so a batch sent
twice (lost acknowledgement, collector killed mid-request) is stored once.
Failures are sorted into three kinds, as Glean and Segment do:

- transient (no connection, timeout, 5xx, 429): retry the same batch after an
  exponential backoff with full jitter, or after the server's ``Retry-After``;
- too large (413): retry with half as many entries;
- refused for good (400, 409, 422): move the batch to the spool's ``rejected``
  table with the reason (kept, not lost, not retried forever), go on;
- not authorised (401, 403): stop and tell the caller; nothing is dropped.

Whatever is pending when an uploader starts (from a run that was killed) is
sent first, because the spool hands out its oldest entries first.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy.exc import OperationalError

from demoforge.capture.spool import Spool, SpoolBatch
from demoforge.capture.wire import encode_batch
from demoforge.events import Event

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The batch may succeed later; ``after`` is the server's wish in seconds, if any."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class BatchTooLarge(Exception):
    """The collector refused the batch's size; a smaller one may pass."""


class BatchRejected(Exception):
    """The collector refused the batch's content; sending it again will not help."""


class _Split(Exception):
    """Retry a refused batch in halves: one bad or oversized entry must not hold
    back the rest, and only an entry refused on its own is set aside."""


class NotAuthorized(Exception):
    """The collector does not accept this device's token."""


class Transport(Protocol):
    def send(self, events: list[Event], blobs: dict[str, bytes]) -> None:
        """Deliver one batch or raise one of the exceptions above."""
        ...


class HttpTransport:
    """POST batches to a collector's ``/v1/events`` with a device token."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        encoding: str = "zstd",
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = server.rstrip("/") + "/v1/events"
        self.encoding = encoding
        self.client = client or httpx.Client(timeout=timeout)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": encoding,
        }

    def send(self, events: list[Event], blobs: dict[str, bytes]) -> None:
        body = encode_batch(events, blobs, self.encoding)
        try:
            response = self.client.post(self.url, content=body, headers=self.headers)
        except httpx.TransportError as exc:
            raise RetryLater(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status < 300:
            return
        reason = f"HTTP {status}: {_detail(response)}"
        if status in (401, 403):
            raise NotAuthorized(reason)
        if status == 413:
            raise BatchTooLarge(reason)
        if status in (408, 429) or status >= 500:
            raise RetryLater(reason, retry_after(response.headers.get("Retry-After")))
        raise BatchRejected(reason)


class EventSink(Protocol):
    """What ``LocalTransport`` writes into: ``demoforge.store.Store`` (capture does
    not import the store, a stage to its right, until it is asked to)."""

    def ingest(
        self, events: list[Event], blobs: dict[str, bytes] | None, contributor_id: str | None
    ) -> object: ...


class LocalTransport:
    """Straight into an embedded store: what ``demoforge record`` uses without ``--server``."""

    def __init__(self, store: EventSink, contributor_id: str | None = None) -> None:
        self.store = store
        self.contributor_id = contributor_id

    def send(self, events: list[Event], blobs: dict[str, bytes]) -> None:
        try:
            self.store.ingest(events, blobs, contributor_id=self.contributor_id)
        except OperationalError as exc:  # database locked or unreachable
            raise RetryLater(str(exc.orig)) from exc
        except ValueError as exc:  # the store's IngestError and BlobError: bad content
            raise BatchRejected(str(exc)) from exc


def retry_after(header: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date)."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:500]
    except ValueError:
        return response.text[:500]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter (AWS Architecture Blog, 2015): spreads
    the retries of many clients so a recovering collector is not hit all at once."""

    base: float = 0.5
    cap: float = 60.0
    #: The most a ``Retry-After`` may make us wait; a broken proxy must not park us for days.
    max_retry_after: float = 600.0

    def delay(self, attempt: int, server_wish: float | None = None) -> float:
        if server_wish is not None:
            return min(server_wish, self.max_retry_after)
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


class Uploader:
    """Sends the spool's pending entries through a transport, oldest first."""

    def __init__(
        self,
        spool: Spool,
        transport: Transport,
        *,
        batch_events: int = 500,
        batch_bytes: int = 4 << 20,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.spool = spool
        self.transport = transport
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.backoff = backoff
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.error: Exception | None = None

    def drain(self, timeout: float | None = None) -> bool:
        """Send until the spool is empty (True) or ``timeout`` seconds pass (False).

        Transient failures are retried; ``NotAuthorized`` is raised.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        limit, attempt = self.batch_events, 0
        while True:
            batch = self.spool.pending(limit, self.batch_bytes)
            if not batch:
                return True
            try:
                self._send(batch)
                limit, attempt = self.batch_events, 0
            except _Split:
                limit = max(1, len(batch) // 2)
            except RetryLater as exc:
                delay = self.backoff.delay(attempt, exc.after)
                attempt += 1
                log.info("upload deferred", extra={"reason": str(exc), "retry_in_s": round(delay, 2)})
                if deadline is not None and time.monotonic() + delay > deadline:
                    return False
                self._sleep(delay)
            if self._stopping.is_set() and deadline is None:
                return False
            if deadline is not None and time.monotonic() > deadline:
                return not self.spool.pending_count()

    def _send(self, batch: SpoolBatch) -> None:
        try:
            self.transport.send(batch.events, batch.blobs)
        except (BatchRejected, BatchTooLarge) as exc:
            if len(batch) > 1:
                raise _Split from exc
            self.spool.reject(batch.keys, str(exc))
            log.warning("entry rejected by the collector", extra={"reason": str(exc)})
            return
        self.spool.mark_sent(batch.keys)
        self.sent += len(batch.events)

    # --- in the background, beside a recording --------------------------------

    def start(self, interval: float = 0.5) -> None:
        """Upload in a background thread, draining what an earlier run left first."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="demoforge-uploader", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                self.drain()
            except NotAuthorized as exc:
                self.error = exc
                log.error("upload stopped: the collector refused this device's token")
                return
            self._stopping.wait(interval)

    def stop(self, flush_timeout: float = 10.0) -> bool:
        """Stop the background thread, then try for ``flush_timeout`` seconds to send
        what is left. Returns True when the spool is empty; what is not sent stays
        spooled for the next start."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.error is not None:
            return False
        self._stopping.clear()
        try:
            return self.drain(timeout=flush_timeout)
        except NotAuthorized as exc:
            self.error = exc
            return False


def connect(
    spool: Spool, server: str | None = None, token: str | None = None, db: str | None = None
) -> Uploader:
    """An uploader to ``server`` with a device ``token``, or, without a server, into
    the embedded store at ``db`` (default: the one under ``$DEMOFORGE_HOME``)."""
    if server:
        if not token:
            raise ValueError("uploading to a server needs a device token (demoforge devices add)")
        return Uploader(spool, HttpTransport(server, token))
    from demoforge.store import Store

    return Uploader(spool, LocalTransport(Store.open(db)))

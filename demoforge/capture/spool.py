"""The durable client spool: every recorded event lands on local disk first.

The recorder never talks to the network. It appends to this spool, and the
uploader drains it; so a collector that is down, slow or killed costs nothing
but delay, and a recorder killed mid-session loses nothing it had spooled.

Durability: one SQLite file in WAL mode with ``synchronous=FULL``. In WAL mode
a commit is a WAL append; FULL makes SQLite fsync the WAL on every commit, so
when ``append`` returns the batch survives a killed process *and* a power
cut. (``NORMAL`` would survive a killed process only: its fsync waits for
the next checkpoint.) The cost is one fsync per ``append``, which is why the
recorder appends in small batches rather than event by event.

Order: entries are read back in append order. Blobs are written before the
events of the same ``append``, so an uploaded event never refers to a blob the
collector has not been offered yet.

Bounds: the spool refuses (``SpoolFull``) an append that would take its
pending bytes over ``max_bytes``, rather than dropping old data silently; the
caller decides what to do (the recorder reports it and stops recording).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from demoforge import config
from demoforge.events import Event, parse_event

#: 1 GiB: a day of screenshots at action boundaries, with room to spare.
DEFAULT_MAX_BYTES = 1 << 30

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT NOT NULL CHECK (kind IN ('event', 'blob')),
    key   TEXT NOT NULL UNIQUE,
    data  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    key    TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    data   BLOB NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS totals (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals VALUES (1, 0);
"""


class SpoolFull(RuntimeError):
    """Appending would exceed the spool's size bound; nothing was appended."""


@dataclass
class SpoolBatch:
    """The oldest pending entries: events in order and the blobs they refer to."""

    events: list[Event] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    size: int = 0

    @property
    def keys(self) -> list[str]:
        """What to pass to ``Spool.mark_sent`` once the batch is acknowledged."""
        return [e.id for e in self.events] + list(self.blobs)

    def __len__(self) -> int:
        return len(self.events) + len(self.blobs)


class Spool:
    """An append-only queue of events and blobs in one SQLite file."""

    def __init__(self, path: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path or config.spool_path()
        self.max_bytes = max_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a second
        # process appending to the same spool waits for the lock instead of failing.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        # The recorder appends from its thread while the uploader drains from another.
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, events: list[Event], blobs: dict[str, bytes] | None = None) -> None:
        """Durably add a batch; when this returns it is on disk. An id already pending is kept once."""
        rows = [("blob", sha, data) for sha, data in (blobs or {}).items()]
        rows += [("event", e.id, e.model_dump_json(exclude_none=True).encode()) for e in events]
        if not rows:
            return
        with self._transaction():
            added = 0
            for row in rows:
                inserted = self._db.execute(
                    "INSERT OR IGNORE INTO entries (kind, key, data) VALUES (?, ?, ?)", row
                ).rowcount
                added += len(row[2]) if inserted else 0
            pending = self._db.execute("SELECT bytes FROM totals").fetchone()[0]
            if added and pending + added > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.path} holds {pending} bytes; adding {added} would pass "
                    f"its bound of {self.max_bytes} bytes (is the collector reachable?)"
                )
            self._db.execute("UPDATE totals SET bytes = bytes + ?", (added,))

    def pending(self, limit: int = 500, max_bytes: int = 8 << 20) -> SpoolBatch:
        """The oldest pending entries, at most ``limit`` of them and about ``max_bytes``
        (always at least one, so an entry bigger than ``max_bytes`` still goes)."""
        batch = SpoolBatch()
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, key, data FROM entries ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        for kind, key, data in rows:
            if batch and batch.size + len(data) > max_bytes:
                break
            if kind == "blob":
                batch.blobs[key] = data
            else:
                batch.events.append(parse_event(data))
            batch.size += len(data)
        return batch

    def mark_sent(self, keys: Iterable[str]) -> None:
        """Forget entries the collector has acknowledged."""
        self._remove(list(keys), reason=None)

    def reject(self, keys: Iterable[str], reason: str) -> None:
        """Move entries the collector refused for good out of the queue, keeping them
        (with the reason) so that a bad batch neither blocks the rest nor vanishes."""
        self._remove(list(keys), reason=reason)

    def _remove(self, keys: list[str], reason: str | None) -> None:
        with self._transaction():
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                if reason is not None:
                    self._db.execute(
                        f"INSERT OR REPLACE INTO rejected (key, kind, data, reason) "
                        f"SELECT key, kind, data, ? FROM entries WHERE key IN ({marks})",
                        [reason, *chunk],
                    )
                freed = self._db.execute(
                    f"SELECT COALESCE(SUM(LENGTH(data)), 0) FROM entries WHERE key IN ({marks})",
                    chunk,
                ).fetchone()[0]
                self._db.execute(f"DELETE FROM entries WHERE key IN ({marks})", chunk)
                self._db.execute("UPDATE totals SET bytes = bytes - ?", (freed,))

    def pending_count(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM entries")

    def pending_bytes(self) -> int:
        return self._scalar("SELECT bytes FROM totals")

    def rejected(self) -> list[tuple[str, str]]:
        """(key, reason) of every entry the collector refused."""
        with self._lock:
            return self._db.execute("SELECT key, reason FROM rejected ORDER BY key").fetchall()

    def _scalar(self, sql: str) -> int:
        with self._lock:
            return self._db.execute(sql).fetchone()[0]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error; one thread at a time."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

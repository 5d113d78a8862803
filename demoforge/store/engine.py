"""One SQLAlchemy engine for either database the store runs on.

SQLite is the embedded default and needs three settings to be a safe
multi-process store: WAL (readers never block the writer), a busy timeout
(a second writer waits instead of failing at once), and ``synchronous=FULL``
(a commit the collector acknowledged survives a power cut, not only a killed
process). Writers open their transaction with ``BEGIN IMMEDIATE`` so that two
concurrent ingests queue on the write lock instead of deadlocking when a
read lock would have to be upgraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

#: How long an SQLite writer waits for the lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Execution option a connection sets to start its SQLite transaction as a writer.
WRITER = {"sqlite_begin": "IMMEDIATE"}


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and pick the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for ``url``, with SQLite tuned as described above."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own
        # implicit BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def writing(engine: Engine, lock_key: int | None = None) -> Iterator[Connection]:
    """A write transaction; with ``lock_key``, also serialised against every other
    transaction taking the same key (SQLite's write lock already serialises writers,
    PostgreSQL needs an advisory lock for check-then-insert steps)."""
    with engine.connect().execution_options(**WRITER) as conn, conn.begin():
        if lock_key is not None and conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        yield conn

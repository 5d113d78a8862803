"""Ingest throughput: the collector's HTTP path and Store.ingest, beside a raw bulk insert.

Usage:
    .venv/bin/python bench/ingest.py [--events 60000] [--batch 500] [--pg URL]
        [--demos /work/shared/data/miniwob-demos]

The events are real: MiniWoB++ human demonstrations parsed by the dataset
stage's importer (blob references kept, blob bytes left out, so all three
paths store exactly the same event rows). For each database (SQLite under a
temporary home; PostgreSQL when ``--pg`` or ``DEMOFORGE_TEST_PG_URL`` is
given, in a schema of its own, dropped afterwards) it measures, in one run:

- raw:   plain ``executemany`` of the same rows (pre-serialised payloads)
         into a same-shaped table, one transaction per batch, same
         durability settings (SQLite WAL + synchronous=FULL). The floor.
- store: ``Store.ingest`` per batch, as the importer and the local
         transport use it (serialise, seal with the default per-contributor
         AES-GCM, dedup by id, session bookkeeping).
- http:  ``demoforge server`` in its own process; this process sends each
         batch as the uploader does (zstd JSON over HTTP, bearer token), one
         request at a time, waiting for each acknowledgement.

Prints events/s and the ratio to raw. Run by hand; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.table import Table

from demoforge.capture.uploader import HttpTransport
from demoforge.dataset.miniwob_demos import BrokenEpisode, find_episode_files, parse_episode
from demoforge.events import Event, new_event_id
from demoforge.store import Store
from demoforge.store.engine import normalise_url

RAW_COLUMNS = "id, session_id, seq, ts, type, blob_sha256, payload"


def load_events(demos: Path, n: int) -> list[Event]:
    """The first ``n`` events of the demonstrations, whole episodes in file order."""
    events: list[Event] = []
    for path in find_episode_files(demos):
        try:
            events += parse_episode(path).events
        except BrokenEpisode:
            continue
        if len(events) >= n:
            break
    return events[:n]


def batches(events: list[Event], size: int) -> list[list[Event]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def raw_rows(batch: list[Event]) -> list[tuple]:
    return [
        (e.id, e.session_id, e.seq, e.ts, e.type, getattr(e, "blob", None),
         e.model_dump_json(exclude_none=True).encode())
        for e in batch
    ]


def raw_sqlite(path: Path, rows: list[list[tuple]]) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE raw_events (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL,"
        " ts INTEGER NOT NULL, type TEXT NOT NULL, blob_sha256 TEXT, payload BLOB NOT NULL)"
    )
    db.execute("CREATE INDEX raw_session_seq ON raw_events (session_id, seq)")
    for batch in rows:
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO raw_events ({RAW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        db.execute("COMMIT")
    db.close()


def raw_postgres(conninfo: str, rows: list[list[tuple]]) -> None:
    import psycopg

    with psycopg.connect(conninfo) as db:
        db.execute(
            "CREATE TABLE raw_events (id VARCHAR(36) PRIMARY KEY, session_id VARCHAR(64) NOT NULL,"
            " seq INTEGER NOT NULL, ts BIGINT NOT NULL, type VARCHAR(32) NOT NULL,"
            " blob_sha256 VARCHAR(64), payload BYTEA NOT NULL)"
        )
        db.execute("CREATE INDEX raw_session_seq ON raw_events (session_id, seq)")
        db.commit()
        for batch in rows:
            with db.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO raw_events ({RAW_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)", batch
                )
            db.commit()


def via_store(store: Store, contributor: str, work: list[list[Event]]) -> None:
    for batch in work:
        store.ingest(batch, contributor_id=contributor)


def via_http(url: str, token: str, work: list[list[Event]]) -> None:
    transport = HttpTransport(url, token, timeout=120)
    for batch in work:
        transport.send(batch, {})


@contextmanager
def collector(db_url: str, log: Path) -> Iterator[str]:
    """``demoforge server`` on a free port, for the duration of the block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "demoforge.cli", "server", "--port", str(port), "--db", db_url]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait()


@contextmanager
def pg_schema(base: str) -> Iterator[tuple[str, str]]:
    """A fresh schema: (SQLAlchemy URL, libpq conninfo) both pointing into it."""
    import psycopg

    plain = normalise_url(base).replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-csearch_path={schema}")
    sep = "&" if "?" in plain else "?"
    try:
        yield normalise_url(base) + f"{sep}options={options}", plain + f"{sep}options={options}"
    finally:
        with psycopg.connect(plain, autocommit=True) as db:
            db.execute(f'DROP SCHEMA "{schema}" CASCADE')


def consenting_device(store: Store) -> str:
    """A token whose contributor consented, under a deployment gate: what the
    collector's privacy step requires before it stores anything."""
    from demoforge.privacy.audit import AuditLog
    from demoforge.privacy.consent import ConsentRegistry

    registry = ConsentRegistry(store.engine, AuditLog(store.engine))
    contributor = store.create_contributor("bench-http")
    registry.grant(contributor, registry.notice()[0])
    registry.set_gate("ingest benchmark", "DPIA-bench", "works-agreement-bench", actor="bench")
    return store.add_device(contributor)


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure(db_url: str, raw: Callable[[list[list[tuple]]], None], events: list[Event],
            size: int, home: Path) -> dict[str, float]:
    """Seconds for raw, store and http on one database, each into empty tables."""
    work = batches(events, size)
    rows = [raw_rows(b) for b in work]
    seconds = {"raw": timed(lambda: raw(rows))}
    with Store.open(db_url, blobs_dir=home / "blobs") as store:
        contributor = store.create_contributor("bench")
        store.ingest(work[0][:1], contributor_id=contributor)  # make the data key outside the timing
        seconds["store"] = timed(lambda: via_store(store, contributor, work))
        # The HTTP run stores the same events again: give them fresh ids and sessions.
        fresh = [[e.model_copy(update={"id": new_event_id(), "session_id": "h" + e.session_id[1:]}) for e in b]
                 for b in work]
        token = consenting_device(store)
    with collector(db_url, home / "collector.log") as url:
        via_http(url, token, fresh[:1])  # warm-up: first request, the device's data key
        seconds["http"] = timed(lambda: via_http(url, token, fresh[1:]))
        seconds["http_events"] = sum(len(b) for b in fresh[1:])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--demos", type=Path, default=Path("/work/shared/data/miniwob-demos"))
    parser.add_argument("--pg", default=os.environ.get("DEMOFORGE_TEST_PG_URL"))
    args = parser.parse_args()

    console = Console()
    events = load_events(args.demos, args.events)
    console.print(
        f"{len(events)} events from {len({e.session_id for e in events})} MiniWoB++ episodes, "
        f"batches of {args.batch}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        soft_wrap=True,
    )
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="demoforge-bench-") as tmp:
        home = Path(tmp)
        os.environ["DEMOFORGE_HOME"] = str(home)
        results["SQLite"] = measure(
            f"sqlite:///{home / 'bench.db'}", lambda rows: raw_sqlite(home / "raw.db", rows),
            events, args.batch, home,
        )
        if args.pg:
            with pg_schema(args.pg) as (url, conninfo):
                results["PostgreSQL"] = measure(
                    url, lambda rows: raw_postgres(conninfo, rows), events, args.batch, home
                )

    table = Table("database", "path", "events", "seconds", "events/s", "of raw")
    for database, seconds in results.items():
        raw_rate = len(events) / seconds["raw"]
        for path, label, n in (
            ("raw", "raw executemany", len(events)),
            ("store", "Store.ingest", len(events)),
            ("http", "collector HTTP", int(seconds["http_events"])),
        ):
            rate = n / seconds[path]
            table.add_row(database, label, str(n), f"{seconds[path]:.2f}", f"{rate:,.0f}",
                          f"{rate / raw_rate:.0%}")
    console.print(table)


if __name__ == "__main__":
    main()

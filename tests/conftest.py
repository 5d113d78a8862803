"""Fixtures shared across areas: a throwaway database on SQLite and on PostgreSQL.

``db_url`` is parametrised over both databases the store supports. The
PostgreSQL variant runs only when ``DEMOFORGE_TEST_PG_URL`` points at a server
(CI starts one, see ``.ci/run``); each test then gets a schema of its own,
dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

PG_URL_ENV = "DEMOFORGE_TEST_PG_URL"


@pytest.fixture
def demoforge_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``$DEMOFORGE_HOME`` for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("DEMOFORGE_HOME", str(home))
    monkeypatch.delenv("DEMOFORGE_DB", raising=False)
    return home


def _pg_schema_url(base: str) -> Iterator[str]:
    import psycopg

    from demoforge.store.engine import normalise_url

    schema = f"test_{secrets.token_hex(6)}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield normalise_url(base) + f"{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, demoforge_home: Path) -> Iterator[str]:
    """A URL to an empty database: SQLite under the test's home, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{demoforge_home / 'demoforge.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set")
    yield from _pg_schema_url(base)


def recorded_session(
    n: int, session_id: str | None = None, *, start_ts: int = 1_700_000_000_000
) -> tuple[list, dict[str, bytes]]:
    """A plausible recording of ``n`` events (task start/end, pointer, keys, values,
    screenshot refs) and the blobs those refs point at."""
    import hashlib
    import uuid

    from demoforge import events as ev

    sid = session_id or str(uuid.uuid4())
    target = ev.Target(tag="input", id="name", selector="#name", box=ev.Box(x=10, y=20, width=100, height=20))
    out: list = [ev.TaskStart(session_id=sid, seq=0, ts=start_ts, instruction="Type a name", task="enter-text")]
    blobs: dict[str, bytes] = {}
    for seq in range(1, n - 1):
        ts = start_ts + seq * 10
        kind = seq % 6
        if kind == 0:
            shot = f"frame {sid} {seq}".encode() * 20
            sha = hashlib.sha256(shot).hexdigest()
            blobs[sha] = shot
            out.append(ev.Screenshot(session_id=sid, seq=seq, ts=ts, blob=sha, reason="pointer_down"))
        elif kind == 1:
            out.append(ev.PointerMove(session_id=sid, seq=seq, ts=ts, x=seq % 160, y=seq % 210))
        elif kind == 2:
            out.append(ev.PointerDown(session_id=sid, seq=seq, ts=ts, x=15, y=25, target=target))
        elif kind == 3:
            out.append(ev.KeyDown(session_id=sid, seq=seq, ts=ts, key="a", code="KeyA", target=target))
        elif kind == 4:
            out.append(ev.KeyUp(session_id=sid, seq=seq, ts=ts, key="a", code="KeyA", target=target))
        else:
            out.append(ev.Change(session_id=sid, seq=seq, ts=ts, value=f"value {seq}", target=target))
    out.append(ev.TaskEnd(session_id=sid, seq=n - 1, ts=start_ts + n * 10, outcome="success", reward=1.0))
    return out, blobs


@pytest.fixture
def make_session():
    """``recorded_session`` as a fixture, for tests in any area."""
    return recorded_session


class CollectorProcess:
    """``demoforge server`` as a real child process that a test can kill -9 and restart."""

    def __init__(self, db_url: str, log_path: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.db_url = db_url
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 300.0) -> CollectorProcess:
        """Start and wait until it answers; the deadline is generous because the
        privacy step's imports (Presidio) take a minute on a loaded 2-core machine."""
        import subprocess
        import sys
        import time

        import httpx

        command = [sys.executable, "-m", "demoforge.cli", "server", "--port", str(self.port), "--db", self.db_url]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/openapi.json", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError(f"collector did not come up: {self.log_path.read_text()[-2000:]}")

    def kill9(self) -> None:
        import signal

        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def collector(db_url: str, tmp_path: Path) -> Iterator[CollectorProcess]:
    """A collector process on a free port over ``db_url`` (not started yet)."""
    process = CollectorProcess(db_url, tmp_path / "collector.log")
    yield process
    process.stop()


@pytest.fixture
def store(db_url: str, demoforge_home: Path):
    """A store on ``db_url`` with its blobs under the test's home."""
    from demoforge.store import Store

    opened = Store.open(db_url, blobs_dir=demoforge_home / "blobs")
    yield opened
    opened.close()


def _consenting_device(store) -> str:
    """A device token for a new contributor who has consented, in an organisation
    whose admin recorded the deployment gate: what ``demoforge server`` (with its
    privacy step) needs before it stores anything."""
    from demoforge.privacy.audit import AuditLog
    from demoforge.privacy.consent import ConsentRegistry

    registry = ConsentRegistry(store.engine, AuditLog(store.engine))
    contributor = store.create_contributor()
    registry.grant(contributor, registry.notice()[0])
    if registry.gate() is None:
        registry.set_gate("tests", "DPIA-test", "works-agreement-test", actor="tests")
    return store.add_device(contributor)


@pytest.fixture
def consenting_device():
    """``_consenting_device`` as a fixture: call it with a store, get a token."""
    return _consenting_device

"""The store: sessions, events and blobs in one database plus a blobs folder.

``Store.ingest`` is the only way events get in. It takes a whole batch in one
transaction and is idempotent by event id, so a client that retries a batch
after a lost acknowledgement (or a collector killed mid-request) can never
create a duplicate: the database's primary key decides, not the client.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    bindparam,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from demoforge import config
from demoforge.events import Event, TaskEnd, TaskStart, dump_event, parse_event
from demoforge.store.blobs import BlobError, BlobFiles, sha256_hex
from demoforge.store.engine import make_engine, writing
from demoforge.store.migrate import upgrade_to_head
from demoforge.store.models import Blob, Contributor, Device, EventRow, Session, utcnow
from demoforge.store.sealing import Sealer

#: ``session_meta`` keys that fill a sessions column; any other key goes into ``meta``.
SESSION_COLUMNS = ("source", "task", "instruction", "outcome", "reward")

#: The label of the contributor that owns what is recorded on this machine without a login.
LOCAL_LABEL = "local"
_LOCAL_LOCK = 0xDE40F10CA1

_events: Table = EventRow.__table__  # type: ignore[assignment]
_sessions: Table = Session.__table__  # type: ignore[assignment]
_blobs: Table = Blob.__table__  # type: ignore[assignment]


class IngestError(ValueError):
    """A batch the store refuses as a whole; nothing of it was stored."""


class SessionOwnershipError(IngestError):
    """A batch tried to add events to another contributor's session."""


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


class SessionInfo(BaseModel):
    """One row of ``sessions list``; times are ms since the Unix epoch."""

    id: str
    contributor_id: str
    source: str
    task: str | None = None
    instruction: str | None = None
    outcome: str | None = None
    reward: float | None = None
    started_at: int | None = None
    ended_at: int | None = None
    event_count: int
    meta: dict[str, Any] = {}


class DeviceInfo(BaseModel):
    id: str
    contributor_id: str


def token_hash(token: str) -> str:
    """Device tokens are 256-bit random, so a plain sha256 is enough to make a leaked table useless."""
    return hashlib.sha256(token.encode()).hexdigest()


def _insert(conn: Connection, table: Table) -> Any:
    """``INSERT`` in the dialect that knows ``ON CONFLICT DO NOTHING``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _earliest(column: Any, value: Any) -> Any:
    return case((value.is_(None), column), (column.is_(None), value), (column > value, value), else_=column)


def _latest(column: Any, value: Any) -> Any:
    return case((value.is_(None), column), (column.is_(None), value), (column < value, value), else_=column)


#: One UPDATE for every session of a batch (executemany): count, time span, and the
#: task columns, each changed only where the batch brings a value.
_SESSION_UPDATE = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("b_id"))
    .values(
        event_count=_sessions.c.event_count + bindparam("b_count"),
        started_at=_earliest(_sessions.c.started_at, bindparam("b_first", type_=BigInteger)),
        ended_at=_latest(_sessions.c.ended_at, bindparam("b_last", type_=BigInteger)),
        **{
            k: func.coalesce(bindparam(f"b_{k}", type_=_sessions.c[k].type), _sessions.c[k])
            for k in SESSION_COLUMNS
        },
    )
)


#: PostgreSQL takes a batch as seven arrays in one short statement: SQLAlchemy's
#: multi-row VALUES would send (and psycopg parse) a statement with 7 placeholders per row.
_PG_INSERT_EVENTS = text(
    "INSERT INTO events (id, session_id, seq, ts, type, blob_sha256, payload) "
    "SELECT * FROM unnest(CAST(:id AS varchar[]), CAST(:session_id AS varchar[]), "
    "CAST(:seq AS integer[]), CAST(:ts AS bigint[]), CAST(:type AS varchar[]), "
    "CAST(:blob_sha256 AS varchar[]), CAST(:payload AS bytea[])) "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)


def _insert_new_events(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows whose id is not stored yet; returns the ids actually inserted."""
    if conn.dialect.name == "postgresql":
        columns = {key: [row[key] for row in rows] for key in rows[0]}
        return set(conn.execute(_PG_INSERT_EVENTS, columns).scalars())
    statement = _insert(conn, _events).on_conflict_do_nothing().returning(_events.c.id)
    return set(conn.execute(statement, rows).scalars())


class Store:
    """Sessions, events and blobs; SQLite (WAL) by default, PostgreSQL by URL."""

    def __init__(self, engine: Engine, blobs_dir: Path, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self.blob_files = BlobFiles(blobs_dir, sealer)
        self._local_contributor: str | None = None

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        blobs_dir: Path | None = None,
        sealer: Sealer | None = None,
    ) -> Store:
        """Open (and migrate to the newest schema) the store at ``url``.

        ``url`` defaults to the embedded SQLite under ``$DEMOFORGE_HOME``;
        ``postgresql://`` URLs use psycopg 3.
        """
        engine = make_engine(url or config.default_db_url())
        upgrade_to_head(engine)
        if sealer is None:
            # Encrypted at rest by default: each contributor's data under their own key.
            from demoforge.privacy.keys import default_sealer

            sealer = default_sealer(engine)
        return cls(engine, blobs_dir or config.blobs_dir(), sealer)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- contributors and devices ------------------------------------------

    def create_contributor(self, label: str | None = None) -> str:
        """A new contributor with a random id that says nothing about the person."""
        contributor_id = secrets.token_hex(16)
        with writing(self.engine) as conn:
            conn.execute(
                Contributor.__table__.insert().values(
                    id=contributor_id, created_at=utcnow(), label=label
                )
            )
        return contributor_id

    def local_contributor(self) -> str:
        """The contributor that owns recordings made on this machine without a device token.

        Created on first use; the lock keeps two processes from creating two.
        """
        if self._local_contributor is None:
            with writing(self.engine, _LOCAL_LOCK) as conn:
                found = conn.scalar(
                    select(Contributor.id).where(Contributor.label == LOCAL_LABEL).limit(1)
                )
                if found is None:
                    found = secrets.token_hex(16)
                    conn.execute(
                        Contributor.__table__.insert().values(
                            id=found, created_at=utcnow(), label=LOCAL_LABEL
                        )
                    )
            self._local_contributor = found
        return self._local_contributor

    def add_device(self, contributor_id: str) -> str:
        """Register a device for ``contributor_id``; returns its token, which is never stored."""
        token = "dfd_" + secrets.token_urlsafe(32)
        with writing(self.engine) as conn:
            self._require_contributor(conn, contributor_id)
            conn.execute(
                Device.__table__.insert().values(
                    id=secrets.token_hex(8),
                    token_hash=token_hash(token),
                    contributor_id=contributor_id,
                    created_at=utcnow(),
                )
            )
        return token

    def device_for_token(self, token: str) -> DeviceInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Device.id, Device.contributor_id).where(
                    Device.token_hash == token_hash(token)
                )
            ).first()
        return DeviceInfo(id=row.id, contributor_id=row.contributor_id) if row else None

    @staticmethod
    def _require_contributor(conn: Connection, contributor_id: str) -> None:
        if conn.scalar(select(Contributor.id).where(Contributor.id == contributor_id)) is None:
            raise IngestError(f"unknown contributor {contributor_id!r}")

    @staticmethod
    def _refuse_foreign_sessions(conn: Connection, owner: str, session_ids: set[str]) -> None:
        foreign = conn.scalars(
            select(Session.id).where(Session.id.in_(session_ids), Session.contributor_id != owner)
        ).first()
        if foreign is not None:
            raise SessionOwnershipError(f"session {foreign!r} belongs to another contributor")

    # --- ingest -------------------------------------------------------------

    def ingest(
        self,
        events: list[Event],
        blobs: dict[str, bytes] | None = None,
        contributor_id: str | None = None,
        session_meta: dict[str, Any] | None = None,
    ) -> IngestResult:
        """Store a batch in one transaction; events already stored are counted, not repeated.

        Sessions rows are created on first sight and updated from the batch's
        newly accepted events (count, first/last timestamp, task_start's
        instruction, task_end's outcome). ``session_meta`` applies to every
        session in the batch: its keys in ``SESSION_COLUMNS`` set those
        columns (overriding the events), the rest merge into ``meta``.
        Raises ``IngestError`` (storing nothing) on a blob whose bytes do not
        match its sha256, an unknown contributor, or another contributor's session.

        Everything that can refuse the batch is checked before anything is
        written, and sealing and blob files happen before the write
        transaction opens: a sealer may need a transaction of its own (to
        make a contributor's first key), which would otherwise wait on ours.
        """
        blobs = blobs or {}
        for sha, data in blobs.items():
            if sha256_hex(data) != sha:
                raise IngestError(f"blob {sha!r} does not match the sha256 of its bytes")
        if not events and not blobs:
            return IngestResult(accepted=0, duplicates=0)
        owner = contributor_id or self.local_contributor()
        session_ids = {e.session_id for e in events}
        with self.engine.connect() as conn:
            self._require_contributor(conn, owner)
            self._refuse_foreign_sessions(conn, owner, session_ids)
        rows = self._event_rows(owner, events)
        blob_rows = self._write_blob_files(owner, blobs)
        accepted: set[str] = set()
        with writing(self.engine) as conn:
            if blob_rows:
                conn.execute(_insert(conn, _blobs).on_conflict_do_nothing(), blob_rows)
            if rows:
                self._claim_sessions(conn, owner, session_ids, session_meta)
                accepted = _insert_new_events(conn, rows)
                # An id repeated inside the batch counts once, as the first copy.
                new = list({e.id: e for e in reversed(events) if e.id in accepted}.values())
                self._update_sessions(conn, session_ids, new, session_meta or {})
        return IngestResult(accepted=len(accepted), duplicates=len(events) - len(accepted))

    def _event_rows(self, owner: str, events: Iterable[Event]) -> list[dict[str, Any]]:
        """Database rows for a batch; a repeated id within the batch is kept once."""
        rows: dict[str, dict[str, Any]] = {}
        for e in events:
            if e.id in rows:
                continue
            rows[e.id] = {
                "id": e.id,
                "session_id": e.session_id,
                "seq": e.seq,
                "ts": e.ts,
                "type": e.type,
                "blob_sha256": getattr(e, "blob", None),
                "payload": self.sealer.seal(owner, e.model_dump_json(exclude_none=True).encode()),
            }
        return list(rows.values())

    def _claim_sessions(
        self,
        conn: Connection,
        owner: str,
        session_ids: set[str],
        session_meta: dict[str, Any] | None,
    ) -> None:
        """Create missing sessions rows; refuse sessions that belong to someone else
        (checked again here, under the write lock, in case one was created meanwhile)."""
        source = (session_meta or {}).get("source") or "recorder"
        conn.execute(
            _insert(conn, _sessions).on_conflict_do_nothing(),
            [
                {
                    "id": sid,
                    "contributor_id": owner,
                    "source": source,
                    "event_count": 0,
                    "meta": {},
                    "created_at": utcnow(),
                }
                for sid in sorted(session_ids)
            ],
        )
        self._refuse_foreign_sessions(conn, owner, session_ids)

    def _update_sessions(
        self,
        conn: Connection,
        session_ids: set[str],
        accepted: list[Event],
        session_meta: dict[str, Any],
    ) -> None:
        """Fold newly accepted events (and ``session_meta``) into their sessions rows,
        with one statement executed for all sessions of the batch."""
        by_session: dict[str, list[Event]] = {sid: [] for sid in session_ids}
        for e in accepted:
            by_session[e.session_id].append(e)
        columns = {k: session_meta[k] for k in SESSION_COLUMNS if k in session_meta}
        params = []
        for sid, new in by_session.items():
            if not new and not session_meta:
                continue
            values: dict[str, Any] = dict.fromkeys(SESSION_COLUMNS)
            for e in new:
                if isinstance(e, TaskStart):
                    values.update(instruction=e.instruction, task=e.task)
                elif isinstance(e, TaskEnd):
                    values.update(outcome=e.outcome, reward=e.reward)
            values.update(columns)
            params.append(
                {
                    "b_id": sid,
                    "b_count": len(new),
                    "b_first": min((e.ts for e in new), default=None),
                    "b_last": max((e.ts for e in new), default=None),
                    **{f"b_{k}": v for k, v in values.items()},
                }
            )
        if params:
            conn.execute(_SESSION_UPDATE, params)
        extra = {k: v for k, v in session_meta.items() if k not in SESSION_COLUMNS}
        if extra:
            for sid in by_session:
                meta = conn.scalar(select(Session.meta).where(Session.id == sid)) or {}
                conn.execute(
                    update(_sessions).where(_sessions.c.id == sid).values(meta={**meta, **extra})
                )

    # --- blobs ----------------------------------------------------------------

    def _write_blob_files(self, owner: str, blobs: dict[str, bytes]) -> list[dict[str, Any]]:
        """Write blob files (before their rows: a file without a row is never read);
        returns the rows to insert."""
        return [
            {
                "contributor_id": owner,
                "sha256": sha,
                "size": len(data),
                "stored_size": self.blob_files.write(owner, sha, data),
                "created_at": utcnow(),
            }
            for sha, data in blobs.items()
        ]

    def put_blob(self, data: bytes, contributor_id: str | None = None) -> str:
        """Store one blob; returns its name, the sha256 of ``data``."""
        sha = sha256_hex(data)
        owner = contributor_id or self.local_contributor()
        with self.engine.connect() as conn:
            self._require_contributor(conn, owner)
        rows = self._write_blob_files(owner, {sha: data})
        with writing(self.engine) as conn:
            conn.execute(_insert(conn, _blobs).on_conflict_do_nothing(), rows)
        return sha

    def get_blob(self, sha: str, contributor_id: str | None = None) -> bytes:
        """A blob's bytes; any contributor's copy unless ``contributor_id`` is given."""
        query = select(Blob.contributor_id).where(Blob.sha256 == sha)
        if contributor_id is not None:
            query = query.where(Blob.contributor_id == contributor_id)
        with self.engine.connect() as conn:
            owner = conn.scalar(query.limit(1))
        if owner is None:
            raise BlobError(f"no blob {sha}")
        return self.blob_files.read(owner, sha)

    # --- reading ------------------------------------------------------------

    def sessions(
        self, limit: int | None = None, contributor_id: str | None = None
    ) -> list[SessionInfo]:
        """Sessions (of one contributor, if given), most recently started first."""
        query = select(_sessions).order_by(Session.started_at.desc().nulls_last(), Session.id)
        if contributor_id is not None:
            query = query.where(Session.contributor_id == contributor_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [SessionInfo.model_validate(row._mapping) for row in conn.execute(query)]

    def session(self, session_id: str) -> SessionInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_sessions).where(Session.id == session_id)).first()
        return SessionInfo.model_validate(row._mapping) if row else None

    def last_session_id(self) -> str | None:
        latest = self.sessions(limit=1)
        return latest[0].id if latest else None

    def events(self, session_id: str) -> Iterator[Event]:
        """A session's events in recording order (by ``seq``), read in chunks."""
        query = (
            select(EventRow.payload, Session.contributor_id)
            .join(Session, Session.id == EventRow.session_id)
            .where(EventRow.session_id == session_id)
            .order_by(EventRow.seq, EventRow.id)
        )
        with self.engine.connect() as conn:
            for payload, owner in conn.execution_options(yield_per=1000).execute(query):
                yield parse_event(self.sealer.open_(owner, payload))

    def jsonl_lines(self, session_id: str) -> Iterator[str]:
        """A session as JSON Lines: one event per line, with the schema's field names."""
        for event in self.events(session_id):
            yield json.dumps(dump_event(event), ensure_ascii=False, separators=(",", ":")) + "\n"

    def export_jsonl(self, session_id: str, out: TextIO) -> int:
        """Write a session as JSON Lines; returns the number of events written."""
        if self.session(session_id) is None:
            raise KeyError(f"no session {session_id!r}")
        count = 0
        for line in self.jsonl_lines(session_id):
            out.write(line)
            count += 1
        return count

    def count_events(self, session_id: str | None = None) -> int:
        query = select(func.count()).select_from(_events)
        if session_id is not None:
            query = query.where(_events.c.session_id == session_id)
        with self.engine.connect() as conn:
            return conn.scalar(query) or 0


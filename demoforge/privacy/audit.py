"""A tamper-evident audit log: every read of personal data and every admin action.

Entries form a hash chain: each entry's hash covers its own fields and the
previous entry's hash, so editing an entry breaks its hash, and removing one
breaks the link of the next. Removing entries from the *end* leaves a valid
shorter chain, so every append also writes the newest (seq, hash) to an
anchor file outside the database (``$DEMOFORGE_HOME/audit.anchor``; a
deployment would ship it to write-once storage); the verifier checks the
chain reaches it.

Entries name contributors by their pseudonymous id and never carry the
personal data that was read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from demoforge import config
from demoforge.privacy.models import AuditEntry
from demoforge.store.engine import writing
from demoforge.store.models import utcnow

GENESIS = "0" * 64
#: Serialises appends on PostgreSQL so two writers never chain onto the same entry.
_AUDIT_LOCK = 0xDE40FA0D17


def entry_hash(seq: int, ts: datetime, actor: str, action: str, subject: str | None, detail: str, prev_hash: str) -> str:
    """The sha256 over an entry's canonical JSON and the previous hash."""
    body = json.dumps(
        [seq, ts.isoformat(timespec="microseconds"), actor, action, subject, detail, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    problem: str | None = None


class AuditLog:
    """Append and verify the hash-chained log in the store's database."""

    def __init__(self, engine: Engine, anchor: Path | None = None) -> None:
        self.engine = engine
        self.anchor = anchor or config.home() / "audit.anchor"

    def record(self, actor: str, action: str, subject: str | None = None, **detail: Any) -> int:
        """Append one entry; returns its sequence number."""
        detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)
        with writing(self.engine, _AUDIT_LOCK) as conn:
            last = conn.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
            seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
            ts = utcnow()
            digest = entry_hash(seq, ts, actor, action, subject, detail_json, prev)
            conn.execute(
                AuditEntry.__table__.insert().values(
                    seq=seq, ts=ts, actor=actor, action=action, subject=subject,
                    detail=detail_json, prev_hash=prev, hash=digest,
                )
            )
            # Inside the lock, so anchors are written in chain order.
            self._write_anchor(seq, digest)
        return seq

    def entries(self) -> Iterator[AuditEntry]:
        with self.engine.connect() as conn:
            for row in conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)):
                yield AuditEntry(**row._mapping)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(AuditEntry)) or 0

    def verify(self) -> Verdict:
        """Walk the chain; the first broken link, edited entry or missing tail is the problem."""
        prev, expected_seq, n = GENESIS, 1, 0
        for e in self.entries():
            if e.seq != expected_seq:
                return Verdict(False, n, f"entry {expected_seq} is missing (next is {e.seq})")
            if e.prev_hash != prev:
                return Verdict(False, n, f"entry {e.seq} does not link to entry {e.seq - 1}")
            ts = e.ts if e.ts.tzinfo else e.ts.replace(tzinfo=utcnow().tzinfo)  # SQLite drops the zone
            if entry_hash(e.seq, ts, e.actor, e.action, e.subject, e.detail, e.prev_hash) != e.hash:
                return Verdict(False, n, f"entry {e.seq} was edited: its hash does not match its content")
            prev, expected_seq, n = e.hash, e.seq + 1, n + 1
        anchored = self._read_anchor()
        if anchored is not None and (anchored[0] != n or anchored[1] != prev):
            return Verdict(False, n, f"the log ends at entry {n} but the anchor records entry {anchored[0]}")
        return Verdict(True, n)

    def _write_anchor(self, seq: int, digest: str) -> None:
        self.anchor.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.anchor.with_name(f"{self.anchor.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{seq} {digest}\n")
        os.replace(tmp, self.anchor)

    def _read_anchor(self) -> tuple[int, str] | None:
        try:
            seq, digest = self.anchor.read_text().split()
        except FileNotFoundError:
            return None
        return int(seq), digest

"""A person's rights over their data: a full export, and no monitoring of anyone else.

``export_person`` writes everything kept about one contributor into a zip:
their consent, each session's metadata, events (JSON Lines, decrypted) and
media (screenshots, DOM snapshots), and the audit entries about them.

``session_stats`` is the only statistic over people that demoforge offers,
and it refuses to describe any group of fewer than ``MIN_GROUP`` distinct
contributors: with five or more, a figure cannot be read as one person's
performance.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import case, func, select

from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry
from demoforge.privacy.models import AuditEntry
from demoforge.store import Store
from demoforge.store.models import Blob, Session

#: The smallest number of distinct contributors a statistic may describe.
MIN_GROUP = 5


class TooFewContributors(ValueError):
    """A statistic was asked of a group small enough to single people out."""


def export_person(store: Store, consent: ConsentRegistry, audit: AuditLog, contributor_id: str, out: Path) -> Path:
    """Write the person's data export to ``out`` (a zip); returns the path."""
    status = consent.status(contributor_id)
    sessions = store.sessions(contributor_id=contributor_id)
    with store.engine.connect() as conn:
        blob_shas = list(conn.scalars(select(Blob.sha256).where(Blob.contributor_id == contributor_id)))
        about = [
            {"seq": e.seq, "ts": e.ts.isoformat(), "actor": e.actor, "action": e.action, "detail": json.loads(e.detail)}
            for e in conn.execute(select(AuditEntry.__table__).where(AuditEntry.subject == contributor_id).order_by(AuditEntry.seq))
        ]
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "contributor.json",
            json.dumps(
                {
                    "contributor_id": contributor_id,
                    "consent": status.state.value if status.state else None,
                    "notice_version": status.notice_version,
                },
                indent=2,
            ),
        )
        for info in sessions:
            zf.writestr(f"sessions/{info.id}/session.json", info.model_dump_json(indent=2))
            zf.writestr(f"sessions/{info.id}/events.jsonl", "".join(store.jsonl_lines(info.id)))
        for sha in blob_shas:
            data = store.get_blob(sha, contributor_id)
            zf.writestr(f"media/{sha}.{'json' if data[:1] == b'{' else 'jpg'}", data)
        zf.writestr("audit.json", json.dumps(about, indent=2))
    tmp.replace(out)  # a half-written export never carries the final name
    audit.record(contributor_id, "export_person", contributor_id, sessions=len(sessions), media=len(blob_shas))
    return out


@dataclass(frozen=True)
class TaskStats:
    task: str
    contributors: int
    sessions: int
    successes: int
    events: int


def session_stats(store: Store, audit: AuditLog, actor: str) -> tuple[list[TaskStats], int]:
    """Per-task session counts, only for tasks recorded by at least ``MIN_GROUP`` people.

    Returns the rows and how many tasks were withheld. Raises
    ``TooFewContributors`` when the whole store has fewer than ``MIN_GROUP``.
    """
    query = select(
        Session.task,
        func.count(func.distinct(Session.contributor_id)).label("contributors"),
        func.count().label("sessions"),
        func.sum(case((Session.outcome == "success", 1), else_=0)).label("successes"),
        func.sum(Session.event_count).label("events"),
    ).group_by(Session.task)
    with store.engine.connect() as conn:
        everyone = conn.scalar(select(func.count(func.distinct(Session.contributor_id)))) or 0
        rows = conn.execute(query).all()
    if everyone < MIN_GROUP:
        raise TooFewContributors(f"statistics need at least {MIN_GROUP} contributors; this store has fewer")
    shown = [TaskStats(r.task or "(none)", r.contributors, r.sessions, int(r.successes or 0), int(r.events or 0)) for r in rows if r.contributors >= MIN_GROUP]
    audit.record(actor, "read_stats", None, tasks=len(shown), withheld=len(rows) - len(shown))
    return sorted(shown, key=lambda s: s.task), len(rows) - len(shown)


def stats_json(rows: list[TaskStats]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)

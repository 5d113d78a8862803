"""How sessions look in a terminal (``demoforge sessions list``)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table

from demoforge.store.store import SessionInfo


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if ms else ""


def sessions_table(sessions: list[SessionInfo]) -> Table:
    table = Table()
    # Ids are what people copy into `sessions export`: never cut them short.
    table.add_column("session", no_wrap=True, min_width=36)
    for name in ("source", "task", "outcome", "events", "started (UTC)", "seconds"):
        table.add_column(name)
    for s in sessions:
        seconds = (s.ended_at - s.started_at) / 1000 if s.started_at and s.ended_at else None
        table.add_row(
            s.id,
            s.source,
            s.task or "",
            s.outcome or "",
            str(s.event_count),
            _when(s.started_at),
            f"{seconds:.1f}" if seconds is not None else "",
        )
    table.caption = f"{len(sessions)} session(s)"
    return table

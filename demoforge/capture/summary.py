"""What a recording captured, as Rich tables for the terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from rich.table import Table

from demoforge.events import EVENT_TYPES, Event, KeyDown


def counts_table(counts: Mapping[str, int], title: str = "Events captured") -> Table:
    """One row per event type, in the schema's order, with a total."""
    table = Table(title=title)
    table.add_column("event type")
    table.add_column("count", justify="right")
    for kind in EVENT_TYPES:
        if counts.get(kind):
            table.add_row(kind, str(counts[kind]))
    table.add_row("[bold]total[/]", f"[bold]{sum(counts.values())}[/]")
    return table


def count_types(events: Iterable[Event]) -> Counter[str]:
    return Counter(e.type for e in events)


def typed_table(events: Iterable[Event]) -> Table:
    """The printable keys typed into each field, as recorded: a masked field shows only
    the mask character, because its keys were never read."""
    typed: dict[str, str] = {}
    masked: dict[str, bool] = {}
    for event in events:
        if isinstance(event, KeyDown) and len(event.key) == 1 and event.target is not None:
            field = event.target.name or event.target.selector or event.target.tag
            typed[field] = typed.get(field, "") + event.key
            masked[field] = masked.get(field, False) or event.masked
    table = Table(title="Typed into fields (as recorded)")
    table.add_column("field")
    table.add_column("keys")
    table.add_column("masked")
    for field, text in typed.items():
        table.add_row(field, text, "yes" if masked[field] else "")
    return table

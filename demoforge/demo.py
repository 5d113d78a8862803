"""``make demo``: record a scripted session on the bundled sample page and show what
was captured.

It runs the whole first half of the product on the embedded default: Chromium
with the recorder, the durable spool, the uploader, the SQLite store. The
summary is read back from the store, so it shows what was kept, not what the
recorder meant to send.
"""

from __future__ import annotations

from rich.console import Console

from demoforge import config
from demoforge.capture.session import load_actor, record_and_upload
from demoforge.capture.summary import count_types, counts_table, typed_table
from demoforge.samples import sample_path


def main() -> None:
    console = Console()
    page = sample_path("expense_form.html")
    console.print(f"Recording a scripted session on [bold]{page.name}[/] (headless Chromium)…")
    recording, delivered = record_and_upload(
        page.as_uri(),
        actor=load_actor(sample_path("expense_actor.py")),
        instruction="File an expense claim for a hotel night",
    )
    from demoforge.store import Store

    with Store.open() as store:
        events = list(store.events(recording.session_id))
    counts = count_types(events)
    console.print(f"Session [bold]{recording.session_id}[/]")
    console.print(counts_table(counts))
    console.print(typed_table(events))
    console.print(
        f"{counts['dom_snapshot']} DOM snapshots and {counts['screenshot']} screenshots "
        f"(masked fields painted over), one of each per action boundary."
    )
    state = "all delivered to" if delivered else "partly still spooled for"
    console.print(f"Events {state} the embedded store under [bold]{config.home()}[/].")
    console.print(f"Export it: demoforge sessions export {recording.session_id} --format jsonl")


if __name__ == "__main__":
    main()

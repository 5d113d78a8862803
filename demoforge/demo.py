"""``make demo``: the whole loop on the embedded default, in two halves.

1. Capture: with consent given (the notice is shown; running ``make demo`` is
   the person's explicit act), ``demoforge record`` records a scripted user on
   the bundled sample page through the same path a person's recording takes:
   Chromium with the recorder, the privacy guard, the durable spool, the
   uploader, the encrypted SQLite store. The summary is read back from the
   store, so it shows what was kept, not what the recorder meant to send.
2. Learning (``demo_loop``): import human demonstrations of a handful of
   MiniWoB++ tasks, build a dataset, train a policy, evaluate it live on fresh
   episodes and leave it at ``$DEMOFORGE_HOME/models/latest``.
"""

from __future__ import annotations

from rich.console import Console

from demoforge import config
from demoforge.capture.summary import count_types, typed_table
from demoforge.cli import app
from demoforge.samples import sample_path

def _cli(*args: str) -> None:
    """Run one ``demoforge`` command exactly as a person would type it."""
    app(list(args), standalone_mode=False)


def record_sample(console: Console) -> None:
    from demoforge.store import Store

    page = sample_path("expense_form.html")
    console.rule("[bold]Capture[/]: consent, then a scripted session on the sample page")
    _cli("consent", "grant", "--yes")
    _cli(
        "record", page.as_uri(), "--headless",
        "--actor", str(sample_path("expense_actor.py")),
        "--instruction", "File an expense claim for a hotel night",
    )
    with Store.open() as store:
        session_id = store.last_session_id()
        events = list(store.events(session_id))
    counts = count_types(events)
    console.print(typed_table(events))
    console.print(
        f"{counts['dom_snapshot']} DOM snapshots and {counts['screenshot']} screenshots "
        f"(masked fields painted over), one of each per action boundary; "
        f"stored under [bold]{config.home()}[/]."
    )
    console.print(f"Export it: demoforge sessions export {session_id} --format jsonl")


def main() -> None:
    from demoforge.demo_loop import run_demo_loop

    console = Console()
    record_sample(console)
    console.rule("[bold]Learning[/]: demonstrations → dataset → policy → live evaluation")
    run_demo_loop(config.demos_dir(), console=console)


if __name__ == "__main__":
    main()

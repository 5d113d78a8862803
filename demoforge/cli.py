"""The ``demoforge`` command. Thin: it parses, calls a stage, prints.

Each stage's commands live here as small functions that import their stage
lazily, so ``demoforge --help`` stays fast and a stage's heavy dependencies
(torch, ray, playwright) load only when that stage runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from demoforge.privacy.commands import admin_app, audit_app, consent_app

app = typer.Typer(
    help="Record how people use software (with consent) and train agents from it.",
    no_args_is_help=True,
    add_completion=False,
)
sessions_app = typer.Typer(help="List and export recorded sessions.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
devices_app = typer.Typer(help="Register devices that upload to a collector.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")
import_app = typer.Typer(help="Import recordings made by other tools.", no_args_is_help=True)
app.add_typer(import_app, name="import")
dataset_app = typer.Typer(help="Build training datasets from stored sessions.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")
app.add_typer(consent_app, name="consent")
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")

DB_OPTION = typer.Option(
    None, "--db", envvar="DEMOFORGE_DB", help="Database URL; default SQLite under $DEMOFORGE_HOME."
)


@app.command()
def record(
    url: str = typer.Argument(..., help="The page to open, e.g. https://intranet.example/expenses"),
    actor: Path | None = typer.Option(
        None, "--actor", help="A Python file defining act(page) that drives the page."
    ),
    headless: bool = typer.Option(False, "--headless", help="No window (for scripted actors)."),
    server: str | None = typer.Option(
        None, "--server", help="Collector URL; without it the embedded store is used."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="DEMOFORGE_TOKEN", help="This device's token for --server."
    ),
    instruction: str | None = typer.Option(
        None, "--instruction", help="What the person is about to do (stored with task_start)."
    ),
) -> None:
    """Record a session in Chromium: work in the window (close it to stop), or let an actor drive.

    Example: demoforge record http://localhost:8000/form.html --actor my_actor.py --headless
    """
    from rich.console import Console

    from demoforge.capture.session import load_actor, record_and_upload
    from demoforge.capture.spool import SpoolFull
    from demoforge.capture.summary import counts_table

    console = Console()
    try:
        act = load_actor(actor) if actor else None
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--actor") from exc
    if server and not token:
        raise typer.BadParameter("--server needs --token (or DEMOFORGE_TOKEN)", param_hint="--token")
    if not act and not headless:
        console.print("Recording: work in the browser window, close it to stop.")
    from demoforge.privacy.consent import RecordingRefused
    from demoforge.privacy.recording_guard import collector_guard, local_guard

    try:
        if server:  # the collector holds consent and the organisation's allowlist
            recording, delivered = record_and_upload(
                url, actor=act, headless=headless, instruction=instruction, server=server,
                token=token, guard=collector_guard(server, token),
            )
        else:
            with local_guard(url) as guard:
                recording, delivered = record_and_upload(
                    url, actor=act, headless=headless, instruction=instruction, guard=guard
                )
    except RecordingRefused as exc:
        console.print(f"[red]Not recording:[/] {exc}")
        raise typer.Exit(1) from exc
    except SpoolFull as exc:
        console.print(f"[red]Recording stopped:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"Session [bold]{recording.session_id}[/]")
    console.print(counts_table(recording.counts))
    if delivered:
        console.print(f"Delivered to {server or 'the embedded store'}.")
    else:
        console.print("[yellow]Not all delivered yet: the rest stays spooled and goes on the next run.[/]")


@app.command()
def server(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    db: str | None = DB_OPTION,
) -> None:
    """Run the collector: devices upload batches to it, and it stores them.

    Example: demoforge server --port 8000 --db postgresql://demoforge@db/demoforge
    """
    import uvicorn

    from demoforge.collect.app import create_app
    from demoforge.collect.logs import configure_logging
    from demoforge.store import Store

    configure_logging()
    from demoforge.collect.portal import install_portal
    from demoforge.privacy.ingest import install

    with Store.open(db) as store:
        collector = create_app(store)
        install(collector, store)
        install_portal(collector, store)
        uvicorn.run(collector, host=host, port=port, log_config=None, access_log=False)


@devices_app.command("add")
def devices_add(
    contributor: str | None = typer.Option(
        None, "--contributor", help="Existing contributor id; default: a new contributor."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Register a device and print its token (shown once, stored only as a hash).

    Example: demoforge devices add --db postgresql://demoforge@db/demoforge
    """
    from demoforge.store import IngestError, Store

    with Store.open(db) as store:
        contributor_id = contributor or store.create_contributor()
        try:
            token = store.add_device(contributor_id)
        except IngestError as exc:
            raise typer.BadParameter(str(exc), param_hint="--contributor") from exc
    typer.echo(token)
    typer.echo(f"contributor {contributor_id}", err=True)


@sessions_app.command("list")
def sessions_list(
    as_json: bool = typer.Option(False, "--json", help="One JSON array instead of a table."),
    limit: int | None = typer.Option(None, "--limit", help="Only the N most recent sessions."),
    db: str | None = DB_OPTION,
) -> None:
    """List sessions, most recently started first.

    Example: demoforge sessions list --json --limit 10
    """
    import json

    from demoforge.store import Store
    from demoforge.store.summary import sessions_table

    with Store.open(db) as store:
        sessions = store.sessions(limit=limit)
    if as_json:
        typer.echo(json.dumps([s.model_dump() for s in sessions], indent=2))
    else:
        from rich.console import Console

        Console().print(sessions_table(sessions))


@sessions_app.command("export")
def sessions_export(
    session: str | None = typer.Argument(None, help="Session id (see `demoforge sessions list`)."),
    last: bool = typer.Option(False, "--last", help="Export the most recently started session."),
    fmt: str = typer.Option("jsonl", "--format", help="Output format; jsonl: one event per line."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write; default stdout."),
    db: str | None = DB_OPTION,
) -> None:
    """Export one session's events, one JSON object per line, with the schema's field names.

    Example: demoforge sessions export --last --format jsonl > session.jsonl
    """
    import sys

    from demoforge.store import Store

    if fmt != "jsonl":
        raise typer.BadParameter(f"unknown format {fmt!r}; supported: jsonl", param_hint="--format")
    if (session is None) == (not last):
        raise typer.BadParameter("give a SESSION id or --last, not both or neither")
    from demoforge.privacy.audit import AuditLog

    with Store.open(db) as store:
        session_id = session or store.last_session_id()
        if session_id is None or store.session(session_id) is None:
            typer.echo(f"no session {session_id!r}" if session_id else "no sessions yet", err=True)
            raise typer.Exit(1)
        AuditLog(store.engine).record("cli", "export_session", store.session(session_id).contributor_id, session=session_id)
        if output is None:
            store.export_jsonl(session_id, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as out:
                count = store.export_jsonl(session_id, out)
            typer.echo(f"{count} events written to {output}", err=True)


@import_app.command("miniwob-demos")
def import_miniwob_demos(
    path: Path = typer.Argument(..., exists=True, help="Folder of MiniWoB++ demo files (*.json.gz), or one file."),
    workers: int | None = typer.Option(None, "--workers", help="Parsing processes; default: one per CPU."),
    db: str | None = DB_OPTION,
) -> None:
    """Import MiniWoB++ human demonstrations: one session per episode, re-runs are no-ops.

    Example: demoforge import miniwob-demos ../shared/data/miniwob-demos
    """
    from rich.console import Console
    from rich.progress import Progress

    from demoforge.dataset.importer import import_demos
    from demoforge.dataset.miniwob_demos import find_episode_files
    from demoforge.store import Store

    console = Console()
    total = len(find_episode_files(path))
    with Store.open(db) as store, Progress(console=console) as progress:
        bar = progress.add_task("Importing episodes", total=total)
        report = import_demos(store, path, workers=workers, on_file=lambda _: progress.advance(bar))
    console.print(
        f"{report.files} files: {report.sessions_new} sessions imported, {report.sessions_present} "
        f"already present, {len(report.broken)} skipped; {report.events_accepted} events stored."
    )
    for name, reason in report.broken:
        console.print(f"[red]skipped[/] {name}: {reason}")
    if report.broken:
        raise typer.Exit(1)


@app.command()
def train(
    dataset: Path = typer.Option(..., "--dataset", help="A dataset directory (Parquet) from `demoforge dataset build`."),
    out: Path = typer.Option(..., "--out", help="Directory to write the model to."),
    epochs: int = typer.Option(8, "--epochs", min=1, help="Passes over the training examples."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same data + seed + options = same model."),
    dp_epsilon: float | None = typer.Option(
        None, "--dp-epsilon", min=0.01, help="Train with contributor-level DP-SGD to this epsilon."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
    all_splits: bool = typer.Option(False, "--all-splits", help="Train on every split (no held-out figures)."),
    max_per_task: int | None = typer.Option(
        None, "--max-per-task", min=1, help="Keep at most this many examples of any one task."
    ),
    min_per_task: int | None = typer.Option(
        None, "--min-per-task", min=1, help="Repeat the examples of a task with fewer, up to this many per epoch."
    ),
    width: int = typer.Option(128, "--width", min=8, help="Width of the policy's element states (a multiple of 4)."),
    layers: int = typer.Option(2, "--layers", min=1, help="Self-attention layers over the page's elements."),
    members: int = typer.Option(
        1, "--members", min=1, help="Train this many policies from successive seeds, one per core, to decide together."
    ),
) -> None:
    """Train a policy on recorded demonstrations (behaviour cloning), with a model card.

    Example: demoforge train --dataset .demoforge/datasets/miniwob --out .demoforge/models/m1 --epochs 8
    """
    from rich.console import Console

    from demoforge.learn.train import train as run_training

    try:
        info = run_training(dataset, out, epochs=epochs, seed=seed, dp_epsilon=dp_epsilon, resume=resume,
                            all_splits=all_splits, max_per_task=max_per_task, min_per_task=min_per_task, width=width, layers=layers,
                            members=members)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    Console().print(f"Model written to [bold]{out}[/] ({info['examples']} examples, {info['wall_s']} s)")
    Console().print(info["metrics"])


agent_app = typer.Typer(help="Run a trained agent on a live page.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")


@agent_app.command("run")
def agent_run(
    model: Path = typer.Option(..., "--model", help="A model directory from `demoforge train`."),
    url: str = typer.Option(..., "--url", help="The page to work on."),
    instruction: str = typer.Option(..., "--instruction", help="What to do, in words."),
    max_steps: int = typer.Option(12, "--max-steps", min=1, help="Stop after this many actions."),
    record: bool = typer.Option(False, "--record", help="Record the agent's run as a session."),
    headless: bool = typer.Option(True, "--headless/--headed", help="Show the browser window or not."),
) -> None:
    """Let a trained agent do a task on a live page through real mouse and keyboard input.

    Example: demoforge agent run --model .demoforge/models/latest --url http://localhost:8000/login.html
    --instruction 'Enter the username "ann" and press login.'
    """
    from rich.console import Console

    from demoforge.agent.runtime import run_on_url

    try:
        run, session = run_on_url(model, url, instruction, max_steps=max_steps, record=record, headless=headless)
    except (FileNotFoundError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from exc
    console = Console()
    for i, action in enumerate(run.actions, 1):
        console.print(f"{i:2d}. {action.describe()}")
    console.print(f"stopped: {run.stopped}")
    if session:
        console.print(f"recorded as session [bold]{session}[/]")


@app.command("eval")
def eval_(
    model: Path = typer.Option(..., "--model", help="A model directory from `demoforge train`."),
    suite: str = typer.Option("demonstrated", "--suite", help="demonstrated | unseen"),
    tasks: list[str] | None = typer.Option(
        None, "--tasks", help="Only these tasks: repeat the option or separate names by commas."
    ),
    episodes: int = typer.Option(10, "--episodes", min=1, help="Fresh seeded episodes per task."),
    seed: int = typer.Option(0, "--seed", help="Seed of the episode instances."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    out: Path | None = typer.Option(None, "--out", help="Report directory; default $DEMOFORGE_HOME/evals/..."),
) -> None:
    """Evaluate an agent live on MiniWoB++ tasks; writes report.json, report.html and a plot.

    Example: demoforge eval --model .demoforge/models/latest --suite unseen --episodes 50 --seed 1 --json

    Example: demoforge eval --model MODEL --tasks login-user,enter-password --episodes 20
    """
    import json

    from demoforge.evaluate.evaluation import run_evaluation

    if suite not in ("demonstrated", "unseen"):
        raise typer.BadParameter("choose demonstrated or unseen", param_hint="--suite")
    try:
        names = [name for option in tasks or [] for name in option.split(",") if name]
        report, paths = run_evaluation(model, suite, episodes, seed, tasks=names or None, out_dir=out,
                                       show=not as_json)
    except (FileNotFoundError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if as_json:
        keys = ("mean_success", "episodes", "tasks", "intervals", "step_ms", "suite", "seed")
        typer.echo(json.dumps({k: report[k] for k in keys}))
        return
    from demoforge.evaluate.report import print_table

    print_table(report)
    typer.echo(f"report: {paths['html']}")


@dataset_app.command("build")
def dataset_build(
    out: Path = typer.Option(..., "--out", help="Folder to write the dataset to (replaced whole)."),
    engine: str = typer.Option("local", "--engine", help="local (plain Python) or ray (Ray Data)."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address for --engine ray."),
    only_successful: bool = typer.Option(False, "--only-successful", help="Leave out failed and unknown episodes."),
    db: str | None = DB_OPTION,
) -> None:
    """Build training examples (instruction, observation, history, next action) as Parquet.

    Example: demoforge dataset build --out datasets/miniwob --engine ray --only-successful
    """
    from rich.console import Console
    from rich.progress import Progress

    from demoforge import config
    from demoforge.dataset.build import build_dataset
    from demoforge.store import Store

    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"unknown engine {engine!r}; use local or ray", param_hint="--engine")
    if address and engine != "ray":
        raise typer.BadParameter("--address needs --engine ray", param_hint="--address")
    console = Console()
    db_url = db or config.default_db_url()
    with Store.open(db_url) as store, Progress(console=console) as progress:
        bar = progress.add_task("Building", total=None)
        result = build_dataset(
            store, out, db_url=db_url, blobs_dir=config.blobs_dir(), engine=engine,  # type: ignore[arg-type]
            address=address, only_successful=only_successful,
            on_start=lambda n: progress.update(bar, total=n),
            on_session=lambda: progress.advance(bar),
        )
    console.print(
        f"{result.examples} examples from {result.sessions} sessions ({result.raw_events} raw events) "
        f"written to {result.out}"
    )


@dataset_app.command("export")
def dataset_export(
    fmt: str = typer.Option(..., "--format", help="elements (Mind2Web-like) or pyautogui (code actions)."),
    dataset: Path = typer.Option(..., "--dataset", exists=True, file_okay=False, help="A folder made by `dataset build`."),
    out: Path = typer.Option(..., "--out", help="JSON Lines file to write."),
    origin: tuple[float, float] = typer.Option((0.0, 0.0), "--origin", help="Screen position of the viewport's top-left (pyautogui)."),
    scale: float = typer.Option(1.0, "--scale", help="Screen pixels per CSS pixel (pyautogui)."),
) -> None:
    """Export a built dataset as JSON Lines: one example per line.

    Example: demoforge dataset export --format pyautogui --dataset datasets/miniwob --out actions.jsonl
    """
    from demoforge.dataset.export import FORMATS, export_dataset

    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        count = export_dataset(dataset, out, fmt, origin=origin, scale=scale)  # type: ignore[arg-type]
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--dataset") from exc
    typer.echo(f"{count} examples written to {out}")


if __name__ == "__main__":
    app()

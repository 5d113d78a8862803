"""``demoforge consent ...``, ``demoforge admin ...`` and ``demoforge audit verify``.

On the embedded default the person at the keyboard is the local contributor:
``consent`` commands act on their consent. ``admin`` commands record the
organisation's deployment gate and allowlist. Heavy imports stay inside the
commands so that ``demoforge --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from demoforge.privacy.audit import AuditLog
    from demoforge.privacy.consent import ConsentRegistry
    from demoforge.store import Store

DB_OPTION = typer.Option(None, "--db", help="Database URL; default: SQLite under $DEMOFORGE_HOME.")
EXPORT_NAME = Path("demoforge-export.zip")

consent_app = typer.Typer(help="Your consent to being recorded: show, grant, pause, resume, revoke.", no_args_is_help=True)
admin_app = typer.Typer(help="Organisation settings: the deployment gate and the allowlist.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@contextmanager
def _registry(db: str | None) -> Iterator[tuple[Store, ConsentRegistry, AuditLog]]:
    from demoforge.privacy.audit import AuditLog
    from demoforge.privacy.consent import ConsentRegistry
    from demoforge.store import Store

    with Store.open(db) as store:
        audit = AuditLog(store.engine)
        yield store, ConsentRegistry(store.engine, audit), audit


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@consent_app.command("show")
def consent_show(db: str | None = DB_OPTION) -> None:
    """Show the notice and where your consent stands.

    Example: demoforge consent show
    """
    with _registry(db) as (store, registry, _):
        version, text = registry.notice()
        status = registry.status(store.local_contributor())
    typer.echo(f"Notice version {version}\n\n{text}")
    state = status.state.value if status.state else "not given"
    stale = " (to an older notice: grant again)" if status.state and status.notice_version != version else ""
    typer.echo(f"Your consent: {state}{stale}")


@consent_app.command("grant")
def consent_grant(
    yes: bool = typer.Option(False, "--yes", help="Consent without the question (you have read the notice)."),
    db: str | None = DB_OPTION,
) -> None:
    """Read the notice and opt in to being recorded.

    Example: demoforge consent grant      (shows the notice, asks yes/no)
    """
    with _registry(db) as (store, registry, _):
        version, text = registry.notice()
        typer.echo(f"Notice version {version}\n\n{text}")
        if not yes and not typer.confirm("Do you consent to being recorded as described above?", default=False):
            raise _fail("No consent given; nothing will be recorded.")
        registry.grant(store.local_contributor(), version)
    typer.echo("Consent given. `demoforge consent pause` or `revoke` stops recording at any time.")


def _change(action: str, db: str | None) -> None:
    with _registry(db) as (store, registry, _):
        try:
            getattr(registry, action)(store.local_contributor())
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"Consent {action}d." if action != "revoke" else "Consent revoked; nothing more will be recorded.")


@consent_app.command("pause")
def consent_pause(db: str | None = DB_OPTION) -> None:
    """Pause recording until you resume.

    Example: demoforge consent pause
    """
    _change("pause", db)


@consent_app.command("resume")
def consent_resume(db: str | None = DB_OPTION) -> None:
    """Resume recording after a pause.

    Example: demoforge consent resume
    """
    _change("resume", db)


@consent_app.command("revoke")
def consent_revoke(db: str | None = DB_OPTION) -> None:
    """Withdraw consent: nothing more is recorded (a new grant is needed to record again).

    Example: demoforge consent revoke
    """
    _change("revoke", db)


@consent_app.command("export")
def consent_export(
    out: Path = typer.Option(EXPORT_NAME, "--out", help="The zip to write."),
    db: str | None = DB_OPTION,
) -> None:
    """Download everything kept about you: consent, sessions, events, media, audit entries.

    Example: demoforge consent export --out my-data.zip
    """
    from demoforge.privacy.rights import export_person

    with _registry(db) as (store, registry, audit):
        export_person(store, registry, audit, store.local_contributor(), out)
    typer.echo(f"Wrote {out}")


@consent_app.command("erase")
def consent_erase(
    yes: bool = typer.Option(False, "--yes", help="Erase without the question."),
    db: str | None = DB_OPTION,
) -> None:
    """Erase all your data: your key is destroyed, sessions and media deleted, datasets rebuilt without them.

    Example: demoforge consent erase --yes
    """
    from demoforge import config
    from demoforge.privacy.derived import rebuild_without
    from demoforge.privacy.erasure import erase_contributor

    if not yes and not typer.confirm("Erase all your recordings for good?", default=False):
        raise _fail("Nothing erased.")
    with _registry(db) as (store, _, audit):
        erased = erase_contributor(store, audit, store.local_contributor(), actor="self")
        rebuilt = rebuild_without(store, db or config.default_db_url(), set(erased.session_ids), [config.home()])
    typer.echo(f"Erased {len(erased.session_ids)} session(s) and {erased.blobs} media file(s); rebuilt {len(rebuilt)} dataset(s).")


@admin_app.command("retention")
def admin_retention(
    max_age_days: float | None = typer.Option(None, "--max-age-days", help="Delete sessions older than this."),
    max_bytes: int | None = typer.Option(None, "--max-bytes", help="Then delete the oldest until the store is this small."),
    db: str | None = DB_OPTION,
) -> None:
    """Enforce the retention caps (run it from cron or a systemd timer).

    Example: demoforge admin retention --max-age-days 90 --max-bytes 10000000000
    """
    from demoforge.privacy.retention import enforce

    with _registry(db) as (store, _, audit):
        try:
            result = enforce(store, audit, max_age_days=max_age_days, max_bytes=max_bytes)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(
        f"deleted {result.expired} expired and {result.over_size} over-size session(s); "
        f"{result.bytes_before} -> {result.bytes_after} bytes"
    )


@admin_app.command("stats")
def admin_stats(
    actor: str = typer.Option(..., "--actor", help="Who reads the statistics (for the audit log)."),
    db: str | None = DB_OPTION,
) -> None:
    """Per-task session statistics, only for groups of at least 5 contributors.

    Example: demoforge admin stats --actor alice
    """
    from demoforge.privacy.rights import TooFewContributors, session_stats, stats_json

    with _registry(db) as (store, _, audit):
        try:
            rows, withheld = session_stats(store, audit, actor)
        except TooFewContributors as exc:
            raise _fail(str(exc)) from exc
    typer.echo(stats_json(rows))
    if withheld:
        typer.echo(f"{withheld} task(s) withheld: fewer than 5 contributors", err=True)


@admin_app.command("add-user")
def admin_add_user(
    username: str = typer.Argument(..., help="The sign-in name."),
    role: str = typer.Option("person", "--role", help="person (sees only their own data) or admin."),
    contributor: str | None = typer.Option(None, "--contributor", help="The person's contributor id; default: a new one."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="At least 12 characters; asked for when not given."),
    db: str | None = DB_OPTION,
) -> None:
    """Create a portal account (argon2-hashed password).

    Example: demoforge admin add-user ada --role person
    """
    from demoforge.privacy.accounts import Accounts

    with _registry(db) as (store, _, audit):
        if role == "person" and contributor is None:
            contributor = store.create_contributor()
        try:
            Accounts(store.engine).add(username, password, role, contributor if role == "person" else None)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        audit.record("cli", "add_account", contributor, username=username, role=role)
    typer.echo(f"account {username} ({role})" + (f", contributor {contributor}" if role == "person" else ""))


@admin_app.command("gate")
def admin_gate(
    purpose: str = typer.Option(..., "--purpose", help="Why the organisation records."),
    dpia: str = typer.Option(..., "--dpia", help="Reference of the data-protection impact assessment."),
    works_agreement: str = typer.Option(..., "--works-agreement", help="Reference of the works agreement."),
    actor: str = typer.Option(..., "--actor", help="Who records the gate (for the audit log)."),
    db: str | None = DB_OPTION,
) -> None:
    """Open the deployment gate: no device may upload before it is recorded.

    Example: demoforge admin gate --purpose "train form agents" --dpia DPIA-7 --works-agreement BV-12 --actor alice
    """
    with _registry(db) as (_, registry, _audit):
        try:
            registry.set_gate(purpose, dpia, works_agreement, actor)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    typer.echo("Deployment gate recorded.")


@admin_app.command("allow")
def admin_allow(
    url: str = typer.Argument(..., help="A URL whose origin may be recorded, e.g. https://crm.example.com"),
    actor: str = typer.Option(..., "--actor", help="Who allowlists it (for the audit log)."),
    db: str | None = DB_OPTION,
) -> None:
    """Allowlist an origin for every contributor of the organisation.

    Example: demoforge admin allow https://crm.example.com --actor alice
    """
    with _registry(db) as (_, registry, _audit):
        try:
            origin = registry.allow_origin(url, actor)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"Allowlisted {origin}.")


@audit_app.command("verify")
def audit_verify(db: str | None = DB_OPTION) -> None:
    """Check the audit log's hash chain; exits 1 if an entry was edited or removed.

    Example: demoforge audit verify
    """
    with _registry(db) as (_, _registry_, audit):
        verdict = audit.verify()
    if not verdict.ok:
        raise _fail(f"audit log TAMPERED: {verdict.problem}")
    typer.echo(f"audit log intact: {verdict.entries} entries")

"""The ``demoforge`` command. Thin: it parses, calls a stage, prints.

Each stage's commands live here as small functions that import their stage
lazily, so ``demoforge --help`` stays fast and a stage's heavy dependencies
(torch, ray, playwright) load only when that stage runs.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Record how people use software (with consent) and train agents from it.",
    no_args_is_help=True,
    add_completion=False,
)
sessions_app = typer.Typer(help="List and export recorded sessions.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


if __name__ == "__main__":
    app()

"""Where demoforge keeps its state: one folder, ``$DEMOFORGE_HOME``.

Everything a deployment on the embedded default owns (the SQLite store,
blobs, the client spool, datasets, models) lives under this one folder, so
that erasing or moving an installation is a matter of one path.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """``$DEMOFORGE_HOME``, default ``./.demoforge``, created on first use."""
    path = Path(os.environ.get("DEMOFORGE_HOME", ".demoforge")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url() -> str:
    """The embedded store: SQLite under ``$DEMOFORGE_HOME``."""
    return os.environ.get("DEMOFORGE_DB") or f"sqlite:///{home() / 'demoforge.db'}"


def blobs_dir() -> Path:
    return home() / "blobs"


def spool_path() -> Path:
    return home() / "spool.db"


def datasets_dir() -> Path:
    return home() / "datasets"


def models_dir() -> Path:
    return home() / "models"


def demos_dir() -> Path:
    """The MiniWoB++ human demonstrations: ``$DEMOFORGE_MINIWOB_DEMOS``, default
    ``shared/data/miniwob-demos`` beside the checkout (they are research data the
    project reads, not ships)."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "miniwob-demos"
    return Path(os.environ.get("DEMOFORGE_MINIWOB_DEMOS", default))

"""Bring a database to the newest schema, safely from several processes at once.

``Store.open`` calls ``upgrade_to_head`` every time, so a fresh install, an
upgrade and a second process starting against the same database all take the
same path. The revision check and the migration run in one transaction that
holds a lock (SQLite's write lock, or a PostgreSQL advisory lock), so two
processes opening a new database at once cannot both create its tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from demoforge.store.engine import writing

MIGRATIONS = Path(__file__).with_name("migrations")

#: Arbitrary, fixed key for the PostgreSQL advisory lock taken while migrating.
MIGRATION_LOCK = 0xDE40F0E6E


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def upgrade_to_head(engine: Engine) -> str:
    """Migrate ``engine``'s database to the newest revision; returns that revision."""
    cfg = alembic_config()
    head = head_revision()
    with writing(engine, MIGRATION_LOCK) as conn:
        if MigrationContext.configure(conn).get_current_revision() != head:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return head

"""Migrations: a fresh database reaches head, the models match it, reopening is a no-op."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from demoforge.store import Store
from demoforge.store.engine import normalise_url
from demoforge.store.migrate import head_revision
from demoforge.store.models import metadata


def test_migrations_reach_head_and_match_the_models(db_url, demoforge_home):
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn)
            assert ctx.get_current_revision() == head_revision()
            assert compare_metadata(ctx, metadata) == []


def test_reopening_keeps_data(db_url, demoforge_home, make_session):
    events, blobs = make_session(12)
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        store.ingest(events, blobs)
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        assert store.count_events() == 12
        assert store.get_blob(next(iter(blobs))) == next(iter(blobs.values()))


def test_sqlite_runs_in_wal_mode(demoforge_home):
    with Store.open(blobs_dir=demoforge_home / "blobs") as store:
        assert store.engine.url.database == str(demoforge_home / "demoforge.db")
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_postgres_urls_are_normalised_to_psycopg():
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"

"""Alembic environment: always driven programmatically by ``demoforge.store.migrate``.

The caller hands over an open connection in ``config.attributes``, so the
migration runs inside the same locked transaction that checked the revision.
"""

from alembic import context

from demoforge.store.models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

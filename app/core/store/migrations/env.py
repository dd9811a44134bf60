"""Alembic environment: runs on the connection the Store hands over, never from an ini."""

from alembic import context

from app.core.store.database import VERSION_TABLE
from app.core.store.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

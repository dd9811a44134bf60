"""The store: one SQLAlchemy engine, short sessions, and Alembic migrations at open."""

from app.core.store.database import Store

__all__ = ["Store"]

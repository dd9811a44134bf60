"""The store: one SQLAlchemy engine, short sessions, and Alembic migrations at open.

``Store`` is imported on first use (PEP 562), so the stdlib read path of the list commands
(``app.core.store.lite``) loads this package without SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.store.database import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from app.core.store.database import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

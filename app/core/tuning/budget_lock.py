"""The lock that makes "count the trials, then ask for one" a single step for every worker.

Workers on one machine share the store's folder, so a file lock beside the SQLite file does.
Workers on several machines share only the database: on PostgreSQL the lock is a session-level
advisory lock on a connection of its own, which every machine's workers see, and which the
server releases by itself when a worker dies with it held (its connection closes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.core.store import Store


class BudgetLock(Protocol):
    def acquire(self) -> Any: ...

    def release(self) -> None: ...


def lock_key(study_name: str) -> int:
    """A stable signed 64-bit key per study (PostgreSQL's advisory lock key is a bigint)."""
    digest = hashlib.sha1(f"modeldesk-tuning:{study_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_path(store: Store, study_name: str) -> Path:
    tag = hashlib.sha1(study_name.encode()).hexdigest()[:12]
    folder = store.db_path.parent if store.db_path is not None else store.artifacts_dir
    return folder / f".tuning-{tag}.lock"


class AdvisoryLock:
    """``pg_advisory_lock`` held on one dedicated connection, opened on first use."""

    def __init__(self, engine: Any, key: int) -> None:
        self._engine, self._key = engine, key
        self._conn: Any = None

    def acquire(self) -> None:
        from sqlalchemy import text

        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self._key})

    def release(self) -> None:
        from sqlalchemy import text

        self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def budget_lock(store: Store, study_name: str) -> BudgetLock:
    """The right lock for where the store lives."""
    if store.engine.dialect.name == "postgresql":
        return AdvisoryLock(store.engine, lock_key(study_name))
    from filelock import FileLock

    return FileLock(str(lock_path(store, study_name)), timeout=120)

"""The read path of the commands that only list, without SQLAlchemy when it can be.

``modeldesk runs list``, ``datasets list`` and ``models list`` must answer in ≤ 0.3 s
(issue 15), and importing SQLAlchemy and the ORM alone takes longer than that on a loaded
machine. Their queries are plain SQL (``app.core.store.listing``), run through a ``Reader``:

- ``SqliteReader``: the stdlib ``sqlite3`` driver on the store's file. ``open_reader`` hands
  one out only when opening the store the full way would change nothing: the file is at the
  current schema, the audit log's guard triggers are there, no artifact was left half-written
  and no run's owner died (the caller's ``any_stale`` judges that: the store knows no
  liveness). Anything else (a new, old, emptied or repaired store) returns None.
- ``EngineReader``: the same SQL through the open ``Store`` (PostgreSQL, and SQLite when the
  full open had something to do), so there is one text of each query for both drivers.

Both readers return rows as tuples; SQLite gives timestamps and JSON as text, so the listing
module normalises values with ``as_datetime`` and ``as_json``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core.paths import artifacts_dir_for, sqlite_path
from app.core.store.guards import SQLITE_TRIGGERS
from app.core.store.health import store_error
from app.core.store.revision import HEAD_REVISION, VERSION_TABLE

if TYPE_CHECKING:
    from app.core.store.database import Store


class Reader(Protocol):
    """Runs one SQL text with ``:name`` parameters and returns its rows as tuples."""

    dialect: str

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]: ...


class SqliteReader:
    """The stdlib driver on an SQLite store that needs nothing done at open."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, db: Path) -> None:
        self._conn = conn
        self._db = db

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        try:
            return self._conn.execute(sql, dict(params or {})).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _mapped(exc, self._db) from exc

    def close(self) -> None:
        self._conn.close()


class EngineReader:
    """The same SQL through an open ``Store`` (its sessions map errors to ours)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.dialect = store.engine.dialect.name

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        from sqlalchemy import text

        with self._store.session() as s:
            return [tuple(r) for r in s.execute(text(sql), dict(params or {}))]


def _mapped(exc: sqlite3.DatabaseError, db: Path) -> Exception:
    from app.core.errors import StoreUnavailable

    return store_error(exc, db) or StoreUnavailable(f"The store failed: {exc}.")


#: whether ``TrackingService.fail_stale`` would fail one of these running runs, given each
#: one's (owner, last heartbeat in UTC); the store knows no liveness, its caller does
StaleCheck = Callable[[list[tuple[str, datetime]]], bool]


def open_reader(url: str, any_stale: StaleCheck) -> SqliteReader | None:
    """A stdlib reader for ``url`` when the store needs nothing at open, else None."""
    db = sqlite_path(url)
    if db is None or "?" in url or not db.is_file() or db.stat().st_size == 0:
        return None  # a server, a URL with options, a new or emptied file: the full open
    try:
        conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    except sqlite3.Error:
        return None  # e.g. an unreadable file: the full open says what is wrong, in words
    try:
        ready = _needs_nothing(conn, artifacts_dir_for(url), any_stale)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if store_error(exc, db) is not None:
            raise _mapped(exc, db) from exc
        return None  # e.g. no version table yet: the full open migrates
    if not ready:
        conn.close()
        return None
    conn.execute("PRAGMA query_only=ON")
    return SqliteReader(conn, db)


def _needs_nothing(conn: sqlite3.Connection, artifacts: Path, any_stale: StaleCheck) -> bool:
    """What ``Store`` and ``build_services`` would do at open, found to be nothing to do."""
    revision = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    if revision is None or revision[0] != HEAD_REVISION:
        return False  # migration (or a newer store, which the full open reports)
    triggers = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        )
    }
    if not set(SQLITE_TRIGGERS) <= triggers:
        return False  # the guard is put back by the full open
    if conn.execute("SELECT 1 FROM artifacts WHERE state = 'pending' LIMIT 1").fetchone():
        return False  # a write in flight or a dead writer's leftover: recovery decides
    tmp = artifacts / "tmp"
    if tmp.is_dir() and any(tmp.iterdir()):
        return False
    running = [
        (owner or "", as_datetime(beat or started).replace(tzinfo=UTC))
        for owner, beat, started in conn.execute(
            "SELECT owner, heartbeat_at, started_at FROM runs WHERE status IN ('running', 'queued')"
        )
    ]  # stored in UTC without a zone, as ``fail_stale`` reads them
    return not running or not any_stale(running)


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as the ORM gives it: SQLite's text parsed, naive as SQLAlchemy reads it
    there, and a server's ``datetime`` unchanged."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))  # SQLAlchemy writes SQLite's without a zone


def as_json(value: Any) -> Any:
    """A JSON column: SQLite's text decoded, a server driver's value unchanged."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value

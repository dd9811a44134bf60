"""Telling a new store from an emptied or damaged one, and saying so in words.

SQLite happily opens a 0-byte file as an empty database: the store would start afresh and
every artifact beside it would become an orphan. So ModelDesk never makes a 0-byte file (a
new database is created aside, already non-empty, and linked into place), and an existing
0-byte file is refused. A file that is not a database, or whose pages are cut short, is
reported as damaged with how to restore it, not with the driver's internals.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from app.core.errors import ModelDeskError, StoreUnavailable

#: what SQLite says about a file that is not (or no longer) a whole database
_DAMAGE = ("file is not a database", "database disk image is malformed", "database corrupt")


def check_database_file(db: Path, artifacts: Path) -> None:
    """Refuse an emptied or foreign file; make a missing one (never seen at 0 bytes)."""
    try:
        size = db.stat().st_size
    except FileNotFoundError:
        _create(db)
        return
    if size == 0:
        raise StoreUnavailable(
            f"The store's database {db} is empty (0 bytes): its records are gone, while "
            f"{_artifacts_text(artifacts)}.",
            hint=f"Restore {db.name} from a backup. To start a new store instead, move the "
            f"folder {db.parent} aside (rename it) and start ModelDesk again.",
        )
    # A foreign or garbled file is caught when SQLite first reads it (``damage_reported``).
    # It is never opened here: closing a second descriptor of a database file drops every
    # POSIX lock this process holds on it, so another open store of this process would lose
    # its locks and meet "disk I/O error" (SQLite's "How To Corrupt" §2.2).


def _create(db: Path) -> None:
    """A new, already non-empty database file (WAL mode), linked in only if none appeared."""
    tmp = db.with_name(f".{db.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.new")
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        with suppress(FileExistsError):  # another process created it first: theirs stays
            os.link(tmp, db)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(
            f"Cannot create the store's database {db}: {exc}.",
            hint="Choose a folder you can write to with --store or MODELDESK_STORE.",
        ) from exc
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with suppress(OSError):
                leftover.unlink()


def _artifacts_text(artifacts: Path) -> str:
    try:
        count = sum(1 for p in artifacts.rglob("*") if p.is_file() and p.parent.name != "tmp")
    except OSError:
        count = 0
    if count:
        return f"the {count} stored file(s) it referenced are still in {artifacts}"
    return f"its artifact folder is {artifacts}"


def damaged(db: Path | None, reason: str) -> StoreUnavailable:
    where = f"The store's database {db}" if db else "The store's database"
    hint = "Restore it from a backup."
    if db is not None:
        hint += (
            f" To salvage what is readable: sqlite3 '{db}' .recover > salvage.sql, then "
            f"sqlite3 new.db < salvage.sql, and put new.db in its place."
        )
    return StoreUnavailable(f"{where} is damaged: {reason}.", hint=hint)


def _damage_in(exc: BaseException) -> str | None:
    """SQLite's words for a damaged file in ``exc`` or what it was raised from, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(getattr(seen, "orig", None) or seen).lower()
        for phrase in _DAMAGE:
            if phrase in text:
                return phrase
        seen = seen.__cause__ or seen.__context__
    return None


def store_error(exc: BaseException, db: Path | None) -> ModelDeskError | None:
    """``damaged`` for SQLite's damage errors; None for anything else."""
    phrase = _damage_in(exc)
    if phrase is None:
        return None
    if phrase == "file is not a database":
        return damaged(db, "it is not an SQLite database")
    return damaged(db, f"parts of it are missing or overwritten (SQLite: {phrase})")


@contextmanager
def damage_reported(db: Path | None) -> Iterator[None]:
    """Turn SQLite's damage errors raised inside into ``damaged``; others pass unchanged."""
    try:
        yield
    except Exception as exc:
        error = store_error(exc, db)
        if error is None:
            raise
        raise error from exc

"""The store opens, migrates once, agrees with the ORM, and is set up for concurrent use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from app.core.errors import StoreUnavailable
from app.core.store import Store
from app.core.store.database import HEAD_REVISION, MIGRATIONS_DIR, VERSION_TABLE
from app.core.store.models import Base

OPTUNA_TABLES = {"studies", "trials", "version_info", "alembic_version", "trial_values"}


def test_head_revision_constant_matches_alembic_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrated_empty_database_equals_orm_metadata(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(ctx, Base.metadata) == []
    assert store.current_revision() == HEAD_REVISION


def test_store_made_by_first_migration_opens_in_this_version(tmp_path: Path) -> None:
    """A file at revision 0001 (the first ever shipped) must upgrade to head and keep rows."""
    db = tmp_path / "old.db"
    from alembic import command

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO datasets (name, description, created_at) "
                "VALUES ('kept', '', '2024-01-01 00:00:00')"
            )
        )
    engine.dispose()
    store = Store(f"sqlite:///{db}")
    assert store.current_revision() == HEAD_REVISION
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM datasets")).scalar() == "kept"


def test_sqlite_pragmas_on_every_connection(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_our_tables_do_not_clash_with_optuna_names(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'o.db'}")
    names = {
        r[0]
        for r in sqlite3.connect(store.db_path).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert VERSION_TABLE in names
    assert not names & OPTUNA_TABLES


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    Store(f"sqlite:///{db}").dispose()
    con = sqlite3.connect(db)
    con.execute(f"UPDATE {VERSION_TABLE} SET version_num='9999'")
    con.commit()
    con.close()
    with pytest.raises(StoreUnavailable, match="newer ModelDesk"):
        Store(f"sqlite:///{db}")


def test_unwritable_store_folder_is_a_clear_error(tmp_path: Path) -> None:
    """Read-only for everyone, root included: an immutable folder (chattr +i) when root."""
    import os
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        with pytest.raises(StoreUnavailable, match="is not writable"):
            Store(f"sqlite:///{folder / 'x.db'}")
        assert not (folder / "x.db").exists()
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_store_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    """Root ignores permissions, so this awkward case is checked everywhere."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="Cannot create the store folder"):
        Store(f"sqlite:///{blocker / 'sub' / 'x.db'}")


def test_concurrent_starters_migrate_once(tmp_path: Path) -> None:
    import multiprocessing as mp

    url = f"sqlite:///{tmp_path / 'race.db'}"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_open_store, args=(url,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert Store(url).current_revision() == HEAD_REVISION


def _open_store(url: str) -> None:
    Store(url).dispose()


# -- an emptied or damaged database file -----------------------------------------------------


def _real_store(tmp_path: Path) -> Path:
    """A store with a dataset in it (so its artifact folder holds a snapshot)."""
    import pyarrow as pa

    from app.bootstrap import build_services

    db = tmp_path / "store" / "md.db"
    services = build_services(f"sqlite:///{db}")
    services.datasets.add_table(pa.table({"a": list(range(500))}), name="t", source_kind="test")
    services.close()
    return db


def _cli(capsys, db: Path) -> tuple[int, list[str]]:
    from app.cli import main

    capsys.readouterr()
    code = main(["datasets", "list", "--store", f"sqlite:///{db}"])
    return code, capsys.readouterr().err.strip().splitlines()


def test_an_empty_database_file_is_refused_not_taken_for_a_new_store(
    tmp_path: Path, capsys
) -> None:
    db = _real_store(tmp_path)
    db.write_bytes(b"")
    with pytest.raises(StoreUnavailable) as info:
        Store(f"sqlite:///{db}")
    message = str(info.value)
    assert f"{db} is empty (0 bytes)" in message
    assert str(tmp_path / "store" / "artifacts") in message and "1 stored file" in message
    assert "move the folder" in message
    assert db.stat().st_size == 0  # left as it was: nothing was created in it
    code, err = _cli(capsys, db)
    assert code == 1 and len(err) == 1 and err[0].startswith("error: ") and "empty" in err[0]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_database_file_says_so_and_how_to_restore_it(
    tmp_path: Path, capsys, damage: str
) -> None:
    db = _real_store(tmp_path)
    data = db.read_bytes()
    db.write_bytes(b"not a database " * 100 if damage == "garbage" else data[: len(data) // 3])
    with pytest.raises(StoreUnavailable) as info:
        Store(f"sqlite:///{db}")
    message = str(info.value)
    assert f"{db} is damaged" in message
    assert "backup" in message and ".recover" in message
    assert "sqlalche" not in message and "sqlite3." not in message and "[SQL" not in message
    code, err = _cli(capsys, db)
    assert code == 1 and len(err) == 1 and "is damaged" in err[0], err


def test_a_new_store_file_is_never_seen_empty(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "md.db"
    Store(f"sqlite:///{db}").dispose()
    assert db.stat().st_size > 0
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(".")) == []


# -- read sessions and the write helper ------------------------------------------------------


def test_a_write_inside_a_read_session_fails_loudly_under_tests(
    tmp_path: Path, monkeypatch
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import delete, select

    from app.core.store.models import DatasetRow
    from app.core.store.read_only import STRICT_ENV, WriteInReadSession

    store = Store(f"sqlite:///{tmp_path / 'ro.db'}")
    now = datetime.now(UTC)
    with pytest.raises(WriteInReadSession, match="DatasetRow"), store.session() as s:
        s.add(DatasetRow(name="lost", description="", created_at=now))
        s.flush()
    with pytest.raises(WriteInReadSession, match="without flushing"), store.session() as s:
        s.add(DatasetRow(name="lost", description="", created_at=now))
    with pytest.raises(WriteInReadSession, match="DELETE"), store.session() as s:
        s.execute(delete(DatasetRow))
    monkeypatch.setenv(STRICT_ENV, "0")  # the product: rolled back, as documented
    with store.session() as s:
        s.add(DatasetRow(name="lost", description="", created_at=now))
    with store.session() as s:
        assert s.scalars(select(DatasetRow.name)).all() == []
    store.dispose()


def test_write_counts_again_when_a_racing_writer_took_the_number(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import func, select
    from sqlalchemy.exc import IntegrityError

    from app.core.store.models import DatasetRow

    store = Store(f"sqlite:///{tmp_path / 'race.db'}")
    now = datetime.now(UTC)
    store.write(lambda s: s.add(DatasetRow(name="d1", description="", created_at=now)))
    attempts = []

    def insert_next(s) -> str:
        n = (s.scalar(select(func.count()).select_from(DatasetRow)) or 0) + len(attempts)
        attempts.append(n)
        name = "d1" if len(attempts) == 1 else f"d{n + 1}"  # the first try collides
        s.add(DatasetRow(name=name, description="", created_at=now))
        s.flush()
        return name

    assert store.write(insert_next, recount=2) == "d3" and len(attempts) == 2
    with pytest.raises(IntegrityError):
        store.write(lambda s: s.add(DatasetRow(name="d1", description="", created_at=now)))
    store.dispose()

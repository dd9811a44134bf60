"""A new store is made from the ORM metadata and stamped (a fast first launch); it must be the
same schema the migrations build, so both paths are checked against each other here."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.core.store import Store
from app.core.store.database import HEAD_REVISION, MIGRATIONS_DIR, VERSION_TABLE
from app.core.store.models import Base


def _migrated(path: Path):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return engine


def _shape(engine) -> dict:
    insp = inspect(engine)
    out = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ),
            "pk": sorted(insp.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in insp.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "indexes": sorted(
                (tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)
            ),
        }
    return out


def test_a_new_store_equals_the_migrated_schema(tmp_path: Path) -> None:
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert fresh.current_revision() == HEAD_REVISION
    migrated = _migrated(tmp_path / "migrated.db")
    with migrated.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(ctx, Base.metadata) == []  # the chain itself agrees
    assert _shape(fresh.engine) == _shape(migrated)


def test_a_new_store_opens_without_importing_alembic(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys; from app.core.store import Store; "
        f"Store('sqlite:///{tmp_path / 'n.db'}'); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert Store(f"sqlite:///{tmp_path / 'n.db'}").current_revision() == HEAD_REVISION


def test_a_new_store_has_the_audit_guards_and_restores_none(tmp_path: Path) -> None:
    """The fast path must make what migration 0004 makes beyond the ORM: the append-only
    triggers. Without them every first open warned that they had been 'recreated'."""
    from sqlalchemy import text

    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert fresh.restored_guards == []
    with fresh.engine.connect() as conn:
        names = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
    assert {"audit_log_no_update", "audit_log_no_delete"} <= names
    again = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert again.restored_guards == []

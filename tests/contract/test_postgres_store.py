"""PostgreSQL as a first-class store: the migration chain builds the ORM's schema there too,
an unreachable server is one plain sentence, a process keeps one bounded pool (Optuna's
storage borrows it: optuna#1347), and a connection the server dropped is replaced or the
write run again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import make_url, text

from app.core.errors import StoreUnavailable
from app.core.store import Store
from app.core.store.server import MAX_OVERFLOW, POOL_SIZE
from tests.contract.backends import _admin

pytestmark = pytest.mark.postgres


def test_the_migrations_build_the_orm_schema_on_postgresql(empty_pg: str, tmp_path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from app.core.store.database import MIGRATIONS_DIR, VERSION_TABLE
    from app.core.store.models import Base

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(empty_pg)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(ctx, Base.metadata) == []
    engine.dispose()
    # the migrated database opens as a store, with its guard triggers already in place
    store = Store(empty_pg, artifacts_dir=tmp_path / "artifacts")
    assert store.restored_guards == []
    store.dispose()


def test_a_new_postgresql_store_has_the_audit_guards(empty_pg: str, tmp_path) -> None:
    store = Store(empty_pg, artifacts_dir=tmp_path / "artifacts")
    assert store.restored_guards == []
    with store.engine.connect() as conn:
        names = set(conn.execute(text("SELECT tgname FROM pg_trigger")).scalars())
    assert {"audit_log_append_only", "audit_log_no_truncate"} <= names
    store.dispose()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"port": 1}, "connection refused"),
        ({"password": "not-the-password"}, "wrong password"),
        ({"database": "md_no_such_database"}, "has no database 'md_no_such_database'"),
    ],
)
def test_an_unreachable_store_says_so_plainly(postgres_url, tmp_path, change, said) -> None:
    url = make_url(postgres_url).set(**change).render_as_string(hide_password=False)
    with pytest.raises(StoreUnavailable) as caught:
        Store(url, artifacts_dir=tmp_path / "artifacts")
    assert said in caught.value.message
    assert "not-the-password" not in str(caught.value)
    # the CLI: one error line, exit 1, no traceback, no password
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "runs", "list", "--store", url],
        capture_output=True,
        text=True,
        env={**os.environ, "MODELDESK_ARTIFACTS": str(tmp_path / "a")},
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and said in lines[0], out.stderr
    assert "Traceback" not in out.stderr and "not-the-password" not in out.stderr


def _connections(server: str, database: str) -> int:
    admin = _admin(server)
    with admin.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": database}
        ).scalar()
    admin.dispose()
    return int(count)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_one_bounded_pool_serves_the_store_and_optuna(services, store_url, postgres_url) -> None:
    """Eight threads tuning and writing at once in one process never hold more than the one
    pool's bound of connections: Optuna's storage borrows the store's pool."""
    import optuna

    from app.core.tuning import engine

    storage = engine.open_storage(store_url, heartbeat=None, pool=services.store.shared_pool)
    assert storage.engine.pool is services.store.engine.pool
    study = optuna.create_study(storage=storage, study_name="pool")
    database = make_url(store_url).database
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(_connections(postgres_url, database))
            stop.wait(0.05)

    def work(i: int) -> None:
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
        services.tracking.finish(
            services.tracking.create_run(
                name=f"r{i}", estimator="rf", target="y", task="binary", params={"i": i}
            )
        )

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert len(study.trials) == 40
    assert max(seen) <= POOL_SIZE + MAX_OVERFLOW


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_dropped_connection_is_replaced_and_a_cut_write_run_again(services, store_url) -> None:
    store = services.store
    first = services.tracking.create_run(
        name="before", estimator="rf", target="y", task="binary", params={}
    )
    # the server restarts (every connection of ours is cut): the next use just works
    admin = _admin(store_url)

    def cut_all() -> None:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )

    cut_all()
    assert services.tracking.get(first).name == "before"
    # a write whose connection is cut in the middle: rolled back whole and run again
    calls: list[int] = []

    def write(s) -> int:
        calls.append(1)
        s.execute(text("UPDATE runs SET name = 'after' WHERE id = :i"), {"i": first})
        if len(calls) == 1:
            cut_all()
        return s.execute(text("SELECT name FROM runs WHERE id = :i"), {"i": first}).scalar()

    assert store.write(write) == "after"
    assert len(calls) == 2
    assert services.tracking.get(first).name == "after"
    admin.dispose()

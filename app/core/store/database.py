"""Opening the database, bringing its schema up to date, and handing out short sessions.

SQLite is opened in WAL mode with a busy timeout so that the GUI, the CLI and worker
processes can share one file; every pooled connection gets the pragmas from a ``connect``
event. The schema is migrated at open under a file lock, because two processes starting at
once would otherwise race to create the same tables. A quick check of our version table
avoids importing Alembic at all when the schema is already current (start-up time matters).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import StoreBusy, StoreUnavailable
from app.core.paths import artifacts_dir_for, sqlite_path
from app.core.store import read_only
from app.core.store.guards import ensure_append_only
from app.core.store.health import check_database_file, damage_reported, store_error

VERSION_TABLE = "modeldesk_alembic_version"
#: The newest migration this code knows. A test checks it equals Alembic's head.
HEAD_REVISION = "0011_variants"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_LOCKED_RETRIES = 8


def _is_locked(exc: BaseException) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


class Store:
    """One database and its artifact folder.

    ``session(write=True)`` is one unit of work: it commits on exit and rolls back on error.
    Read sessions roll back on exit, so a forgotten write in one never lands silently (and
    under tests raises: ``read_only``).
    """

    def __init__(self, url: str, *, artifacts_dir: Path | None = None, migrate: bool = True):
        self.url = url
        self.db_path = sqlite_path(url)
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir else artifacts_dir_for(url)
        if self.db_path is not None:
            self._prepare_folder(self.db_path.parent)
        self._prepare_folder(self.artifacts_dir)
        if self.db_path is not None:
            check_database_file(self.db_path, self.artifacts_dir)
        self.engine = self._create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: the audit log's guard triggers that were missing at open and were put back
        self.restored_guards: list[str] = []
        if migrate:
            with damage_reported(self.db_path):
                self.migrate()
                self.restored_guards = ensure_append_only(self.engine)

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def _prepare_folder(folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"Cannot create the store folder {folder}: {exc.strerror or exc}.",
                hint="Choose a folder you can write to with --store or MODELDESK_STORE.",
            ) from exc
        try:  # a real probe: os.access says yes to root even where writing fails
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise StoreUnavailable(
                f"The store folder {folder} is not writable ({exc.strerror or exc}).",
                hint="Fix its permissions or choose another store with --store or MODELDESK_STORE.",
            ) from exc

    def _create_engine(self, url: str) -> Engine:
        if self.db_path is None and not url.startswith("sqlite"):
            return create_engine(url, pool_pre_ping=True, future=True)
        engine = create_engine(url, connect_args={"timeout": 30}, future=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN; take control so that
            # "BEGIN IMMEDIATE" can be issued for writers (no lock upgrade deadlocks).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    # -- sessions --------------------------------------------------------------------------

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One unit of work; see the class docstring. Errors become ``StoreUnavailable``."""
        bind = self.engine
        if write and self.is_sqlite:
            bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        session = self._sessions(bind=bind)
        strict = not write and read_only.enforced()
        if strict:
            read_only.guard(session)
        try:
            yield session
            if write:
                session.commit()
            else:
                if strict:
                    read_only.check(session)
                session.rollback()
        except OperationalError as exc:
            session.rollback()
            if _is_locked(exc):
                raise StoreBusy(
                    "The store is busy: another ModelDesk process kept it locked.",
                    hint="Try again in a moment.",
                ) from exc
            raise StoreUnavailable(f"The store failed: {exc.orig}.") from exc
        except DatabaseError as exc:
            session.rollback()
            error = store_error(exc, self.db_path)
            if error is None:
                raise
            raise error from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def write(self, fn: Any, *args: Any, recount: int = 0, **kwargs: Any) -> Any:
        """Run ``fn(session, *args)`` in a write session, retrying briefly if SQLite is locked.

        Only the lock is retried, with jitter, a bounded number of times: anything else is a
        real error and must surface at once. ``recount`` > 0 also runs ``fn`` again (up to
        that many times) when it hit a unique constraint, for writers that number things
        ("the next version"): a racing writer took the number, so count again.
        """
        locked = conflicts = 0
        while True:
            try:
                with self.session(write=True) as s:
                    return fn(s, *args, **kwargs)
            except StoreBusy:
                locked += 1
                if locked == _LOCKED_RETRIES:
                    raise
                time.sleep(random.uniform(0.05, 0.25) * locked)
            except IntegrityError:
                conflicts += 1
                if conflicts > recount:
                    raise

    # -- schema ----------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        except (OperationalError, DBAPIError):
            return None

    def migrate(self) -> None:
        """Bring the schema to ``HEAD_REVISION``, under a file lock when it is a file."""
        if self.current_revision() == HEAD_REVISION:
            return
        from filelock import FileLock

        lock_path = (self.db_path or self.artifacts_dir / "store").with_suffix(".migrate.lock")
        try:
            with FileLock(str(lock_path), timeout=120):
                if self.current_revision() != HEAD_REVISION:
                    self._upgrade()
        except StoreUnavailable:
            raise
        except Exception as exc:  # migration failures are rare and must say where
            raise StoreUnavailable(
                f"Could not bring the store at {self.url_for_display} up to date: {exc}",
                hint="If the store was made by a newer ModelDesk, upgrade ModelDesk.",
            ) from exc

    def _upgrade(self) -> None:
        if self.current_revision() is None and self._has_none_of_our_tables():
            self._create_fresh()
            return
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection_url"] = self.url
        current = self.current_revision()
        known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
        if current is not None and current not in known:
            raise StoreUnavailable(
                f"The store at {self.url_for_display} was written by a newer ModelDesk "
                f"(schema {current}).",
                hint="Upgrade ModelDesk to open it.",
            )
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def _has_none_of_our_tables(self) -> bool:
        from sqlalchemy import inspect

        from app.core.store.models import Base

        return not set(inspect(self.engine).get_table_names()) & set(Base.metadata.tables)

    def _create_fresh(self) -> None:
        """A new store: the head schema made from the ORM metadata and stamped with its
        revision (Alembic's "create_all, then stamp head"), instead of replaying every
        migration. It is what a new user's first launch waits for: without importing Alembic
        and running each step it takes a tenth of the time. ``tests/core/test_store_fresh.py``
        checks that it equals the migrated schema."""
        from app.core.store.guards import creation_statements
        from app.core.store.models import Base

        with self.engine.begin() as conn:
            Base.metadata.create_all(conn)
            for statement in creation_statements(self.engine.dialect.name):
                conn.execute(text(statement))  # the audit log's append-only triggers (0004)
            conn.execute(
                text(
                    f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
                    f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
                )
            )
            conn.execute(
                text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:head)"),
                {"head": HEAD_REVISION},
            )

    # -- display ---------------------------------------------------------------------------

    @property
    def url_for_display(self) -> str:
        """The URL without a password, for status bars, logs and the audit trail."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

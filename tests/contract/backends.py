"""One contract suite over both stores: the tests of a module marked ``both_stores`` run on
SQLite and on PostgreSQL through one parametrized ``store_url`` fixture.

A folder's conftest opts in with ``from tests.contract.backends import *``; a module opts in
with ``pytestmark = pytest.mark.both_stores`` (only modules whose tests touch SQL: the rest
would only spend time). Each PostgreSQL test gets a database of its own, cloned from a
template that was migrated once per session (``CREATE DATABASE … TEMPLATE``, ~30 ms, instead
of building the schema each time), and its own artifact folder through
``MODELDESK_ARTIFACTS`` (worker processes inherit it). Under ``CI=true`` a missing server
fails, never skips (``postgres_url`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")

__all__ = ["BACKENDS", "pg_template", "pytest_generate_tests", "store_url"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a ``both_stores`` test once per backend (ids ``[sqlite]`` and ``[postgresql]``)."""
    if "store_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_stores") is None:
        return
    metafunc.parametrize("store_url", BACKENDS, indirect=True, scope="function")


def _admin(server_url: str):
    from sqlalchemy import create_engine

    return create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def create_database(server_url: str, prefix: str, template: str | None = None) -> str:
    """A new database on the server (a clone of ``template`` when given); its name."""
    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clone}'))
    admin.dispose()
    return name


def drop_database(server_url: str, name: str) -> None:
    from sqlalchemy import text

    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def database_url(server_url: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """The name of a database holding an empty, migrated store (with the audit triggers)."""
    from app.core.store import Store

    server = request.getfixturevalue("postgres_url")
    name = create_database(server, "md_tmpl")
    store = Store(database_url(server, name), artifacts_dir=tmp_path_factory.mktemp("tmpl"))
    store.dispose()  # a template must have no open connection when it is cloned
    yield name
    drop_database(server, name)


def fresh_postgres_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database cloned from the template; dropped after the test."""
    server = request.getfixturevalue("postgres_url")
    name = create_database(server, "md_t", template=request.getfixturevalue("pg_template"))
    yield database_url(server, name)
    drop_database(server, name)


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """The store of one test: an SQLite file, or (``[postgresql]``) a fresh database."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"
        return
    monkeypatch.setenv("MODELDESK_ARTIFACTS", str(tmp_path / "store" / "artifacts"))
    yield from fresh_postgres_store(request)

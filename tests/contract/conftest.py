"""The contract suite's own tests use the same backends and fresh databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.contract.backends import *  # noqa: F403 (the fixtures and the parametrizing hook)
from tests.contract.backends import _admin, _drop, database_url


@pytest.fixture
def empty_pg(postgres_url: str) -> Iterator[str]:
    """A new, empty database (no schema at all): what a team's first ModelDesk opens."""
    from sqlalchemy import text

    name = f"md_e_{uuid.uuid4().hex[:12]}"
    admin = _admin(postgres_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield database_url(postgres_url, name)
    _drop(postgres_url, name)

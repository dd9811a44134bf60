"""The contract suite's own tests use the same backends and fresh databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.backends import *  # noqa: F403 (the fixtures and the parametrizing hook)
from tests.contract.backends import create_database, database_url, drop_database


@pytest.fixture
def empty_pg(postgres_url: str) -> Iterator[str]:
    """A new, empty database (no schema at all): what a team's first ModelDesk opens."""
    name = create_database(postgres_url, "md_e")
    yield database_url(postgres_url, name)
    drop_database(postgres_url, name)

"""Fixtures of the Prepare tests: the throwaway PostgreSQL server started by ci/postgres.sh."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres: needs the PostgreSQL server of ci/postgres.sh (never skipped when CI=true)",
    )


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """MODELDESK_TEST_POSTGRES_URL, checked reachable; under CI=true its absence fails."""
    url = os.environ.get("MODELDESK_TEST_POSTGRES_URL", "")
    problem = None
    if not url:
        problem = 'MODELDESK_TEST_POSTGRES_URL is not set (run: eval "$(ci/postgres.sh start)")'
    else:
        from sqlalchemy import create_engine, text

        try:
            engine = create_engine(url)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any failure to reach it is the same verdict
            problem = f"PostgreSQL at {url} is unreachable: {exc}"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return url

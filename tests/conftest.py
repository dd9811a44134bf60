"""Fixtures shared by every test: a real SQLite store in a temporary folder, and the throwaway
PostgreSQL server ci/postgres.sh starts (for SQL sources and a team store)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The user's config folder holds the audit key and anchors: tests never touch the real one.
os.environ.setdefault("MODELDESK_CONFIG_DIR", tempfile.mkdtemp(prefix="modeldesk-config-"))
# A write inside a read session raises under tests instead of being silently rolled back.
os.environ.setdefault("MODELDESK_STRICT_SESSIONS", "1")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"


@pytest.fixture
def services(store_url: str):
    from app.bootstrap import build_services

    svc = build_services(store_url)
    yield svc
    svc.close()


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "iris_like.csv"
    lines = ["id,sepal,petal,species,flag,when"]
    for i in range(60):
        species = ["setosa", "versicolor", "virginica"][i % 3]
        petal = "" if i % 7 == 0 else f"{(i % 13) / 3:.3f}"
        lines.append(
            f"{i},{i * 0.1:.2f},{petal},{species},{'true' if i % 2 else 'false'},"
            f"2024-01-{(i % 28) + 1:02d}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def store_snapshot(services) -> tuple[int, int, list[str]]:
    """Row counts and artifact files: what 'nothing stored half-way' is checked against."""
    from sqlalchemy import func, select

    from app.core.store.models import ArtifactRow, DatasetVersionRow

    with services.store.session() as s:
        versions = s.scalar(select(func.count()).select_from(DatasetVersionRow))
        artifacts = s.scalar(select(func.count()).select_from(ArtifactRow))
    root = services.artifacts.root
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return versions, artifacts, files


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

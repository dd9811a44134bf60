"""The start-up budget of the commands that only read the store, guarded cheaply.

Each command runs in a fresh interpreter on a store holding a dataset, a run and a model;
what it imported is read from ``sys.modules`` when it ends. The heavy libraries are the ones
that cost start-up time (scikit-learn alone is most of a second); none of them may load for
a list, nor SQLAlchemy and the ORM on an SQLite store that needs nothing done at open (the
stdlib read path, ``app.core.store.lite``). The figures are ``benchmarks/cli_startup.py``'s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app

REPO = Path(app.__file__).resolve().parents[1]
HEAVY = (
    "sklearn", "scipy", "pandas", "numpy", "pyarrow", "optuna", "matplotlib", "docker",
    "skops", "alembic", "PySide6", "fastapi", "uvicorn", "onnx", "skl2onnx", "tqdm",
    "sqlalchemy", "psutil", "filelock", "app.core.store.models", "app.core.tracking.service",
    "app.core.artifacts", "app.core.registry", "app.core.datasets",
)  # fmt: skip
LAUNCH = """
import json, sys
import app.cli
code = app.cli.main(sys.argv[1:])
names = set(sys.modules) | {m.split(".")[0] for m in sys.modules}
heavy = sorted(names & set(json.loads(HEAVY)))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.fixture
def filled_store(services, store_url, tmp_path) -> str:
    """One dataset, one finished run, one imported model version."""
    import pyarrow as pa
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    services.datasets.add_table(
        pa.table({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]}), name="d", source_kind="test"
    )
    run_id = services.tracking.create_run(name="r")
    services.tracking.finish(run_id)
    path = tmp_path / "m.skops"
    sio.dump(LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]), path)
    services.registry.import_file(path, "m", trust=[])
    return store_url


def imports_of(*argv: str) -> tuple[int, list[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = LAUNCH.replace("json.loads(HEAVY)", repr(list(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


@pytest.mark.parametrize("group", ["runs", "datasets", "models"])
@pytest.mark.parametrize("as_json", [False, True])
def test_listing_imports_no_heavy_library(filled_store, group, as_json) -> None:
    flags = ["--json"] if as_json else []
    code, heavy, stdout = imports_of(group, "list", "--store", filled_store, *flags)
    assert code == 0
    if as_json:
        listed = json.loads(stdout)
        assert len(listed["runs"] if group == "runs" else listed) == 1  # it read the store
    assert heavy == []


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "list", "--filter", "status = 'finished'"],
        ["models", "list", "m"],
    ],
)
def test_a_list_the_read_path_does_not_cover_takes_the_services(filled_store, argv) -> None:
    code, heavy, stdout = imports_of(*argv, "--store", filled_store, "--json")
    assert code == 0
    assert "sqlalchemy" in heavy
    listed = json.loads(stdout)
    assert len(listed["runs"] if argv[0] == "runs" else listed["versions"]) == 1


def test_a_store_that_needs_work_at_open_is_opened_fully(filled_store) -> None:
    """A dropped guard trigger: the list opens the store the full way, which puts it back."""
    import sqlite3

    from app.core.paths import sqlite_path

    con = sqlite3.connect(sqlite_path(filled_store))
    con.execute("DROP TRIGGER audit_log_no_update")
    con.close()
    code, heavy, stdout = imports_of("datasets", "list", "--store", filled_store, "--json")
    assert (code, len(json.loads(stdout))) == (0, 1)
    assert "sqlalchemy" in heavy
    code, heavy, _ = imports_of("datasets", "list", "--store", filled_store, "--json")
    assert (code, heavy) == (0, [])


def test_version_does_not_even_import_the_store() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = (
        "import sys, app.cli\ntry:\n    app.cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
    )
    code += (
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'app.core.store'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("modeldesk ")
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_dead_workers_run_is_still_failed_when_runs_are_read(services, store_url) -> None:
    """The other services are built lazily; the start still repairs runs whose worker died."""
    code = (
        "from app.bootstrap import build_services\n"
        f"s = build_services({store_url!r})\n"
        "print(s.tracking.create_run(name='orphan'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    run_id = int(out.stdout.strip())
    code, _, stdout = imports_of("runs", "list", "--store", store_url, "--json")
    assert code == 0
    (row,) = [r for r in json.loads(stdout)["runs"] if r["id"] == run_id]
    assert row["status"] == "failed"

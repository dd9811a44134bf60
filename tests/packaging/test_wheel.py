"""The wheel and sdist from ``python -m build``, installed into a clean venv and used there."""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.packaging.conftest import REPO, VERSION, Dist, Venv, clean_env, report, run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

RESOURCES = REPO / "app" / "resources"
MIGRATIONS = REPO / "app" / "core" / "store" / "migrations"


def shipped_files(folder: Path) -> set[str]:
    """Files under ``folder`` a package must carry, as paths relative to the repository."""
    return {
        path.relative_to(REPO).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_build_makes_a_wheel_and_an_sdist_of_this_version(dist: Dist) -> None:
    assert dist.wheel.name == f"modeldesk-{VERSION}-py3-none-any.whl"
    assert dist.sdist.name == f"modeldesk-{VERSION}.tar.gz"
    report(
        f"wheel {dist.wheel.stat().st_size / 1e3:.0f} kB, sdist "
        f"{dist.sdist.stat().st_size / 1e3:.0f} kB, built in {dist.seconds:.0f} s"
    )


def test_wheel_carries_resources_and_migrations_and_no_caches(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        entry_points = wheel.read(f"modeldesk-{VERSION}.dist-info/entry_points.txt").decode()
    expected = shipped_files(RESOURCES) | shipped_files(MIGRATIONS)
    missing = sorted(expected - names)
    assert not missing, f"add a package-data pattern in pyproject.toml for {missing}"
    assert any(n.startswith("app/resources/icons/modeldesk-256.png") for n in names)
    assert "app/resources/samples/iris.csv" in names
    versions = {n for n in names if n.startswith("app/core/store/migrations/versions/")}
    assert {n for n in versions if n.endswith(".py") and "__init__" not in n}
    assert "app/core/store/migrations/env.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "packaging/", "benchmarks/"))]
    assert "modeldesk = app.cli:main" in entry_points


def test_sdist_carries_what_the_wheel_is_built_from(dist: Dist) -> None:
    root = f"modeldesk-{VERSION}/"
    with tarfile.open(dist.sdist) as sdist:
        names = {m.name.removeprefix(root) for m in sdist.getmembers() if m.isfile()}
    assert shipped_files(RESOURCES) | shipped_files(MIGRATIONS) <= names
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_installed_wheel_reports_its_version(wheel_venv: Venv, tmp_path: Path) -> None:
    report(f"clean venv with the wheel and its dependencies in {wheel_venv.seconds:.0f} s")
    done = run([wheel_venv.bin / "modeldesk", "--version"], env=clean_env(tmp_path), timeout=60)
    assert done.stdout.strip() == f"modeldesk {VERSION}"


def test_installed_wheel_finds_its_resources_in_site_packages(
    wheel_venv: Venv, tmp_path: Path
) -> None:
    script = (
        "import json, app, app.resources as r; "
        "print(json.dumps({'app': app.__file__, 'iris': str(r.sample('iris.csv')), "
        "'samples': r.samples(), 'icons': [str(p) for p in r.icon_files()], "
        "'version': app.__version__}))"
    )
    done = run([wheel_venv.python, "-c", script], env=clean_env(tmp_path), cwd=tmp_path, timeout=60)
    found = json.loads(done.stdout)
    site = wheel_venv.root / "lib"
    assert Path(found["app"]).is_relative_to(site)  # the installed copy, not this checkout
    assert Path(found["iris"]).is_relative_to(site) and Path(found["iris"]).is_file()
    assert {"iris.csv", "apartments.xlsx"} <= set(found["samples"])
    assert all(Path(p).is_file() for p in found["icons"])
    assert found["version"] == VERSION


@pytest.mark.parametrize(
    ("sample", "rows", "cols"), [("iris.csv", 150, 5), ("apartments.xlsx", 240, 8)]
)
def test_installed_wheel_ingests_a_shipped_sample(
    wheel_venv: Venv, tmp_path: Path, sample: str, rows: int, cols: int
) -> None:
    locate = f"from app.resources import sample; print(sample({sample!r}))"
    env = clean_env(tmp_path)
    path = run([wheel_venv.python, "-c", locate], env=env, cwd=tmp_path, timeout=60).stdout.strip()
    store = f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"
    done = run(
        [wheel_venv.bin / "modeldesk", "datasets", "add", path, "--store", store, "--json"],
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    result = json.loads(done.stdout)
    assert (result["rows"], result["cols"]) == (rows, cols)
    assert result["created"] is True
    assert (tmp_path / "store" / "modeldesk.db").is_file()

"""A run records the git commit, branch and dirty state of the code that started it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.tracking.environment import capture_git
from tests.cli.conftest import run_cli


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    git(root, "config", "user.email", "t@example.org")
    git(root, "config", "user.name", "Test")
    (root / "train.py").write_text("print('v1')\n")
    git(root, "add", "train.py")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_a_run_records_commit_branch_and_dirty_state(services, repo, monkeypatch) -> None:
    monkeypatch.chdir(repo)  # a notebook's working directory
    head = git(repo, "rev-parse", "HEAD")
    clean = services.tracking.get(services.tracking.create_run(name="clean"))
    assert clean.env["git"] == {
        "commit": head, "branch": "trunk", "dirty": False, "root": str(repo.resolve())
    }  # fmt: skip

    (repo / "notes.txt").write_text("untracked files do not make it dirty\n")
    assert services.tracking.get(services.tracking.create_run()).env["git"]["dirty"] is False

    (repo / "train.py").write_text("print('v2, not committed')\n")
    dirty = services.tracking.get(services.tracking.create_run(name="dirty"))
    assert dirty.env["git"]["dirty"] is True and dirty.env["git"]["commit"] == head

    git(repo, "checkout", "-q", "--detach")
    assert capture_git(repo)["branch"] is None


def test_runs_show_names_the_commit(capsys, services, store_url, repo, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "train.py").write_text("changed\n")
    run_id = services.tracking.create_run(name="shown")
    code, out, _ = run_cli(capsys, "runs", "show", str(run_id), "--store", store_url)
    head = git(repo, "rev-parse", "HEAD")
    assert code == 0
    assert f"git        {head[:12]} on trunk, with uncommitted changes" in out
    code, out, _ = run_cli(capsys, "runs", "show", str(run_id), "--store", store_url, "--json")
    assert json.loads(out)["env"]["git"]["commit"] == head


def test_outside_a_repository_or_without_git_nothing_is_recorded(
    services, tmp_path, monkeypatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never climb above tmp
    assert capture_git(plain) is None
    assert "git" not in services.tracking.get(services.tracking.create_run()).env

    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no git binary at all
    assert "git" not in services.tracking.get(services.tracking.create_run()).env


def test_a_script_records_the_repository_it_lives_in(repo, tmp_path, store_url) -> None:
    """``python project/train.py`` started from another folder: the script's repository."""
    script = repo / "log_run.py"
    script.write_text(
        "from app.core.training.api import start_run\n"
        f"with start_run(store={store_url!r}, name='script') as run:\n"
        "    print(run.id)\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    from app.bootstrap import build_services

    services = build_services(store_url)
    try:
        run = services.tracking.get(int(done.stdout.strip().splitlines()[-1]))
    finally:
        services.close()
    assert run.env["git"]["root"] == str(repo.resolve())
    assert run.env["git"]["dirty"] is False  # the script itself is untracked

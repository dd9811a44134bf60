"""What produced a run: Python, platform, ModelDesk, every installed package's version, and
the git commit of the code that started it.

The image builder installs exactly these versions, so a model never meets a different
scikit-learn than the one that trained it. Reading distribution metadata takes tens of
milliseconds, so it is computed once per process; the git state (commit, branch, whether
tracked files changed) can change between two runs of one notebook, so ``run_environment``
reads it for each run, through the ``git`` binary with a short timeout. Not a repository,
no ``git``, or git failing: nothing about git is recorded, and nothing fails.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 2.0  # seconds per git call; a slow network drive must not hold a run up


@lru_cache(maxsize=1)
def capture_environment() -> dict[str, Any]:
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower().replace("_", "-")] = dist.version
    from app import __version__

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": sys.executable,
        "modeldesk": __version__,
        "packages": dict(sorted(packages.items())),
    }


def run_environment(folder: str | Path | None = None) -> dict[str, Any]:
    """``capture_environment()`` plus ``git`` (when the code's folder is in a repository)."""
    env = dict(capture_environment())
    git = capture_git(folder if folder is not None else code_folder())
    if git:
        env["git"] = git
    return env


def code_folder() -> Path:
    """Where the code starting a run lives: the script's folder for ``python script.py``;
    the working directory for notebooks, the REPL, the ``modeldesk`` command and the window
    (whose main file is ModelDesk's own, or an entry point in the environment's bin)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file:
        script = Path(main_file).resolve()
        ours = Path(__file__).resolve().parents[2]  # the app package
        installed = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
        if not script.is_relative_to(ours) and not any(script.is_relative_to(p) for p in installed):
            return script.parent
    return Path.cwd()


def capture_git(folder: str | Path) -> dict[str, Any] | None:
    """{"commit", "branch", "dirty", "root"} of the repository holding ``folder``, or None.

    ``branch`` is None on a detached HEAD, ``commit`` None before the first commit; ``dirty``
    means tracked files differ from the commit (untracked files do not count, as in MLflow).
    """
    git = shutil.which("git")
    if git is None or not Path(folder).is_dir():
        return None
    root = _git(git, folder, "rev-parse", "--show-toplevel")
    if root is None:
        return None
    status = _git(git, folder, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None:
        return None
    head: dict[str, str] = {}
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch."):
            key, _, value = line[len("# branch.") :].partition(" ")
            head[key] = value
        elif line and not line.startswith("#"):
            dirty = True
    commit = head.get("oid")
    branch = head.get("head")
    return {
        "commit": None if commit in (None, "(initial)") else commit,
        "branch": None if branch in (None, "(detached)") else branch,
        "dirty": dirty,
        "root": root,
    }


def _git(git: str, folder: str | Path, *args: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a status must never take the index lock from the user
    try:
        done = subprocess.run(
            [git, "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None

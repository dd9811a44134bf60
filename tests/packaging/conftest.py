"""Shared by the packaging tests: tools, the built wheel and a clean venv with it installed.

The expensive things are built once per session: ``dist`` (``python -m build`` of a clean copy
of the project: sdist, then the wheel built from that sdist) and ``wheel_venv`` (a new virtual
environment where only that wheel and its dependencies are installed; pip's cache makes the
second install quick). The bundle tests add PyInstaller to that venv, so the clean-venv checks
are ordered before them.

Under CI=true a missing tool FAILS (CI must not go green without checking); elsewhere the test
skips and names the Debian package that provides it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PROJECT["version"]
APP_ID = "io.github.modeldesk.ModelDesk"
LINUX = REPO / "packaging" / "linux"
PIP = ("-m", "pip", "--disable-pip-version-check", "--no-input")
#: Folders of a work tree that never belong in a build (caches, venvs, earlier builds).
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def need_tool(name: str, debian_package: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (Debian package {debian_package})")
    return path


def run(cmd: list[str | Path], *, timeout: float, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure the assertion shows its output."""
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    return done


FIGURES: list[str] = []


def report(line: str) -> None:
    """A figure worth reading (bundle size, start-up): listed at the end of the run, even -q."""
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("packaging figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The clean-venv checks first: the bundle tests then add PyInstaller to the same venv.
    def rank(item: pytest.Item) -> int:
        return 1 if "test_bundle" in item.nodeid else 0

    items.sort(key=rank)  # stable: everything else keeps its order


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path
    seconds: float


@dataclass(frozen=True)
class Venv:
    root: Path
    seconds: float

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def bin(self) -> Path:
        return self.root / "bin"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    started = time.monotonic()
    work = tmp_path_factory.mktemp("dist")
    source = work / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    tools = work / "tools"
    run([sys.executable, "-m", "venv", tools], timeout=120)
    run([tools / "bin" / "python", *PIP, "install", "-q", "build"], timeout=300)
    out = work / "out"
    run(
        [
            tools / "bin" / "python",
            source / "packaging" / "build.py",
            "dist",
            "--source",
            source,
            "--outdir",
            out,
        ],
        timeout=600,
    )
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return Dist(wheels[0], sdists[0], time.monotonic() - started)


@pytest.fixture(scope="session")
def wheel_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv (no system site-packages) with only the wheel and its dependencies."""
    started = time.monotonic()
    root = tmp_path_factory.mktemp("wheel-venv") / "venv"
    run([sys.executable, "-m", "venv", root], timeout=120)
    run([root / "bin" / "python", *PIP, "install", "-q", dist.wheel], timeout=900)
    return Venv(root, time.monotonic() - started)


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """An environment with no Python of ours in it: only the system PATH, a private HOME."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    # Kept: where temporary files go, and the OpenBLAS settings some processors here need.
    env.update({k: v for k, v in os.environ.items() if k == "TMPDIR" or k.startswith("OPENBLAS_")})
    env.update(extra)
    return env

"""The PyInstaller one-folder bundle, built once per session from packaging/modeldesk.spec in the
clean venv that holds the wheel, then run the way a person runs it: no Python of ours on PATH,
a private HOME, the offscreen Qt platform."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.packaging.conftest import (
    APP_ID,
    PIP,
    REPO,
    VERSION,
    Venv,
    clean_env,
    need_tool,
    report,
    run,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

#: A bundle past this has picked up something it should not have (a second Qt, torch, tests…).
MAX_BUNDLE_MB = 750
#: Libraries the desktop session provides (see test_bundle_libraries_all_resolve).
HOST_LIBRARIES = ("libwayland-",)


@dataclass(frozen=True)
class Bundle:
    root: Path
    size_mb: float
    seconds: float

    @property
    def exe(self) -> Path:
        return self.root / "modeldesk"

    @property
    def resources(self) -> Path:
        return self.root / "_internal" / "app" / "resources"


@pytest.fixture(scope="module")
def bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """Built here; or MODELDESK_TEST_BUNDLE=dist/modeldesk tests one made by `make bundle`."""
    given = os.environ.get("MODELDESK_TEST_BUNDLE")
    if given:
        root = Path(given).resolve()
        size = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() or p.is_symlink())
        return Bundle(root, size / 1e6, -1.0)
    need_tool("objdump", "binutils")
    wheel_venv: Venv = request.getfixturevalue("wheel_venv")
    started = time.monotonic()
    run([wheel_venv.python, *PIP, "install", "-q", "pyinstaller>=6.10"], timeout=600)
    work = tmp_path_factory.mktemp("bundle")
    done = run(
        [
            wheel_venv.python,
            REPO / "packaging" / "build.py",
            "bundle",
            "--no-archive",
            "--distpath",
            work / "dist",
            "--workpath",
            work / "build",
        ],
        cwd=work,  # nothing of this checkout on sys.path: the spec bundles the installed wheel
        timeout=1500,
    )
    size = float(re.search(r"^bundle: .* ([0-9.]+) MB$", done.stdout, re.M).group(1))
    return Bundle(work / "dist" / "modeldesk", size, time.monotonic() - started)


def test_bundle_size_is_in_check(bundle: Bundle) -> None:
    built = f"built in {bundle.seconds:.0f} s" if bundle.seconds >= 0 else "given"
    report(f"bundle {bundle.size_mb:.0f} MB, {built}")
    assert bundle.exe.is_file() and os.access(bundle.exe, os.X_OK)
    assert bundle.size_mb < MAX_BUNDLE_MB
    internal = bundle.root / "_internal"
    assert not list(internal.glob("PySide6/Qt*Quick*")) and not list(internal.glob("**/*Qml*"))
    assert not list(internal.glob("*/tests/*.py")) and not (internal / "tkinter").exists()


def test_bundle_prints_its_version(bundle: Bundle, tmp_path: Path) -> None:
    done = run([bundle.exe, "--version"], env=clean_env(tmp_path), cwd=tmp_path, timeout=60)
    assert done.stdout.strip() == f"modeldesk {VERSION}"


def test_bundle_self_test_finds_everything_inside_the_bundle(
    bundle: Bundle, tmp_path: Path
) -> None:
    """Metadata, resources, migrations, serving sources, every app module, lazy libraries,
    an Optuna study, and a model fitted in a spawned child process."""
    done = run([bundle.exe, "--self-test"], env=clean_env(tmp_path), cwd=tmp_path, timeout=300)
    result = json.loads(done.stdout)
    assert result["ok"], result["problems"]
    assert result["version"] == VERSION
    assert Path(result["prefix"]).resolve() == (bundle.root / "_internal").resolve()
    assert result["frozen"] is True
    assert {"iris.csv", "apartments.xlsx"} <= set(result["samples"])
    assert result["child_process_accuracy"] > 0.8


@pytest.mark.parametrize(
    ("sample", "rows", "cols"), [("iris.csv", 150, 5), ("apartments.xlsx", 240, 8)]
)
def test_bundle_ingests_a_sample_from_the_command_line(
    bundle: Bundle, tmp_path: Path, sample: str, rows: int, cols: int
) -> None:
    path = bundle.resources / "samples" / sample
    store = f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"
    done = run(
        [bundle.exe, "datasets", "add", path, "--store", store, "--json"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=180,
    )
    result = json.loads(done.stdout)
    assert (result["rows"], result["cols"], result["created"]) == (rows, cols, True)


def test_bundle_opens_its_window_offscreen_and_closes_after_first_paint(
    bundle: Bundle, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, MODELDESK_STARTUP_TIMING="1", MODELDESK_EXIT_AFTER_PAINT="1")
    store = f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"
    started = time.monotonic()
    done = run([bundle.exe, "--store", store], env=env, cwd=tmp_path, timeout=120)
    wall = time.monotonic() - started
    line = next(x for x in done.stderr.splitlines() if x.startswith("startup: first paint"))
    first_paint = float(line.split()[3])
    assert 0.0 < first_paint < 30.0
    assert (tmp_path / "store" / "modeldesk.db").is_file()  # the store was created and migrated
    assert "Traceback" not in done.stderr

    again = run([bundle.exe, "--store", store], env=env, cwd=tmp_path, timeout=120)
    line = next(x for x in again.stderr.splitlines() if x.startswith("startup: first paint"))
    report(
        f"bundle first paint {first_paint:.2f} s on a new store (first launch, wall "
        f"{wall:.2f} s), {float(line.split()[3]):.2f} s on an existing one"
    )


def test_bundle_window_ingests_a_file_given_as_argument(bundle: Bundle, tmp_path: Path) -> None:
    """What "Open with ModelDesk" does: `modeldesk FILE` (Exec=… %F) opens the window and
    ingests the file. A Parquet file, the type the MIME package defines."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "measurements.parquet"
    pq.write_table(pa.table({"x": list(range(40)), "y": [i * 0.5 for i in range(40)]}), data)
    store = f"sqlite:///{tmp_path / 'store' / 'modeldesk.db'}"
    env = clean_env(tmp_path)
    window = subprocess.Popen(
        [bundle.exe, "--store", store, data],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stored: list[dict] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and window.poll() is None:
            listing = subprocess.run(
                [bundle.exe, "datasets", "list", "--store", store, "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if listing.returncode == 0:
                stored = json.loads(listing.stdout)
                if stored:
                    break
            time.sleep(0.5)
    finally:
        window.terminate()
        _, err = window.communicate(timeout=30)
    assert [(d["name"], d["rows"], d["cols"]) for d in stored] == [("measurements", 40, 2)], err


def test_bundle_libraries_all_resolve(bundle: Bundle) -> None:
    """Every shared library in the bundle finds what it links to (bundle first, then system).

    Only the Wayland client libraries may be missing: Qt's Wayland plugins load under a Wayland
    session, which has them (like libGL, they belong to the desktop, not to the bundle)."""
    ldd = need_tool("ldd", "libc-bin")
    internal = bundle.root / "_internal"
    libs = [bundle.exe] + [p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    missing = {}
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    for lib in libs:
        done = subprocess.run([ldd, lib], capture_output=True, text=True, env=env, timeout=60)
        lost = [
            line.split()[0]
            for line in done.stdout.splitlines()
            if "not found" in line and not line.strip().startswith(HOST_LIBRARIES)
        ]
        if lost:
            missing[str(lib.relative_to(bundle.root))] = lost
    assert missing == {}


def test_bundle_install_desktop_uses_the_bundle_executable_and_icons(
    bundle: Bundle, tmp_path: Path
) -> None:
    script = bundle.root / "linux" / "install-desktop.sh"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d")}
    run(["sh", script], env=env, timeout=120)
    desktop = (tmp_path / "d" / "applications" / f"{APP_ID}.desktop").read_text()
    assert f"Exec={bundle.exe} %F" in desktop.splitlines()
    assert (tmp_path / "d" / f"icons/hicolor/256x256/apps/{APP_ID}.png").is_file()

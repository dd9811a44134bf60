"""Start-up as the user runs it: a subprocess, first paint timing, nothing heavy imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.bootstrap import build_services

HEAVY = ("pandas", "sklearn", "optuna", "matplotlib", "docker", "alembic", "pyarrow", "scipy")

SCRIPT = f"""
import json, sys
from app.ui.app import run_gui
code = run_gui(sys.argv[1], sys.argv[2:])
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def _run(tmp_path: Path, store: str, *files: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "MODELDESK_STARTUP_TIMING": "1",
        "MODELDESK_EXIT_AFTER_PAINT": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, store, *files],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_first_paint_is_reported_and_nothing_heavy_is_imported(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    build_services(store).close()  # an existing store: start-up does not migrate
    done = _run(tmp_path, store)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "heavy": []}
    line = next(x for x in done.stderr.splitlines() if x.startswith("startup: first paint"))
    seconds = float(line.split()[3])
    assert 0.0 < seconds < 30.0
    assert (tmp_path / "config" / "ModelDesk" / "ModelDesk.conf").exists()


def test_a_store_that_cannot_be_opened_exits_1_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = _run(tmp_path, str(blocker / "store.db"))
    assert done.returncode == 0, done.stderr  # the script itself ran…
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 1  # …and run_gui returned 1
    assert "error: Cannot create the store folder" in done.stderr
    assert "startup: first paint" not in done.stderr


def test_an_emptied_store_is_shown_in_a_dialog_not_a_traceback(
    qtbot, tmp_path: Path, monkeypatch, capsys
) -> None:
    """The 0-byte database refused at start-up: the person reads why in a dialog."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.ui.app import EXIT_AFTER_PAINT_ENV, run_gui

    monkeypatch.delenv(EXIT_AFTER_PAINT_ENV, raising=False)
    db = tmp_path / "store" / "md.db"
    build_services(f"sqlite:///{db}").close()
    db.write_bytes(b"")
    shown: list[str] = []

    def answer() -> None:  # polls until the modal dialog is up, then reads and closes it
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(f"{box.windowTitle()}\n{box.text()}")
            box.accept()
        else:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(0, answer)
    assert run_gui(f"sqlite:///{db}", []) == 1
    assert len(shown) == 1 and "cannot be opened" in shown[0]
    assert "is empty (0 bytes)" in shown[0] and "move the folder" in shown[0]
    assert "Traceback" not in capsys.readouterr().err

"""Fixtures for GUI tests: offscreen Qt, settings in tmp_path, real services on a temp store."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.bootstrap import Services, build_services
from app.jobs.runner import JobRunner

WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path: Path) -> Iterator[Path]:
    """Every test writes its QSettings (INI) into its own folder."""
    qapp.setOrganizationName("ModelDesk")
    qapp.setApplicationName("ModelDesk")
    folder = tmp_path / "settings"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = build_services(f"sqlite:///{tmp_path}/store.db")
    yield svc
    svc.close()


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    r = JobRunner()
    yield r
    r.shutdown(timeout=10)


@pytest.fixture
def make_window(qtbot, services: Services, runner: JobRunner):
    """Opens main windows on the test's store; all are closed at the end."""
    from app.ui.main_window import MainWindow

    opened: list[MainWindow] = []

    def make() -> MainWindow:
        window = MainWindow(services=services, runner=runner)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        opened.append(window)
        return window

    yield make
    # Close and delete the windows before the runner shuts down, so that no panel timer
    # fires into a stopped runner during a later test.
    for window in opened:
        window.close()
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


@pytest.fixture
def window(qtbot, make_window):
    w = make_window()
    wait_idle(qtbot, w.runner)
    return w


def wait_idle(qtbot, runner: JobRunner, timeout: int = WAIT_MS) -> None:
    """Until no job is live and every job's last event reached the GUI thread."""
    from app.ui.job_bridge import JobBridge

    qtbot.waitUntil(lambda: not runner.live and not JobBridge.live_count(), timeout=timeout)


def drop_urls(widget: QWidget, urls: Iterable[QUrl]) -> tuple[bool, bool]:
    """Send a real drag-enter then drop of ``urls``; returns (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls(list(urls))
    center = widget.rect().center()  # QDragEnterEvent takes a QPoint, QDropEvent a QPointF
    enter = QDragEnterEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(
        QPointF(center),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def drop_files(widget: QWidget, *paths: Path) -> tuple[bool, bool]:
    return drop_urls(widget, [QUrl.fromLocalFile(str(p)) for p in paths])


def write_csv(path: Path, rows: int = 30, *, seed: int = 0) -> Path:
    lines = ["id,price,city,flag"]
    cities = ["Paris", "Lyon", "Nice"]
    for i in range(rows):
        price = "" if i % 5 == 0 else f"{(i * 7 + seed) % 100 + 0.5}"
        lines.append(f"{i},{price},{cities[(i + seed) % 3]},{'true' if i % 2 else 'false'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

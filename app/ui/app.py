"""Starting the GUI: application object, services, main window, files from the command line.

Start-up time is a feature (first painted window in under a second), so this path imports
only Qt, SQLAlchemy and our own light modules: pandas, scikit-learn, Optuna, matplotlib,
docker and alembic are imported inside the functions and jobs that use them, pyarrow when the
first table is loaded.

``MODELDESK_STARTUP_TIMING=1`` prints the seconds from process start to the first paint of the
main window on stderr (``startup: first paint 0.412 s``); with ``MODELDESK_EXIT_AFTER_PAINT=1``
the application quits right after that paint (start-up benchmark, packaging smoke test).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
import traceback

_IMPORTED_AT = time.perf_counter()

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

TIMING_ENV = "MODELDESK_STARTUP_TIMING"
EXIT_AFTER_PAINT_ENV = "MODELDESK_EXIT_AFTER_PAINT"
FREEZE_AFTER_MS = 1500


def process_age() -> float:
    """Seconds since this process started (from /proc; else since this module was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5); fields[0] is field 3
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED_AT


def _set_icon(app: QApplication) -> None:
    from PySide6.QtGui import QIcon

    from app.resources import icon_files

    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    app.setWindowIcon(icon)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def run_gui(store_url: str | None, files: list[str]) -> int:
    """Open the main window on ``store_url`` and ingest ``files``; returns the exit code."""
    from app import __version__
    from app.core.errors import ModelDeskError

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("ModelDesk")
    app.setApplicationName("ModelDesk")
    app.setApplicationVersion(__version__)
    # The id of packaging/linux/*.desktop, so desktops match the window to its menu entry.
    app.setDesktopFileName("io.github.modeldesk.ModelDesk")
    _set_icon(app)

    from app.bootstrap import build_services

    exit_after_paint = _flag(EXIT_AFTER_PAINT_ENV)
    try:
        services = build_services(store_url)
    except ModelDeskError as exc:  # an emptied, damaged or unwritable store: say so, no traceback
        print(f"error: {exc}", file=sys.stderr)
        if not exit_after_paint:
            QMessageBox.critical(
                None, "ModelDesk — the store cannot be opened", _store_error_text(exc)
            )
        return exc.exit_code

    from app.jobs.runner import JobRunner
    from app.ui.main_window import MainWindow

    runner = JobRunner()
    window = MainWindow(services=services, runner=runner)
    _install_excepthook(window)
    if _flag(TIMING_ENV) or exit_after_paint:
        watcher = FirstPaintWatcher(
            window, report=_flag(TIMING_ENV), exit_after=exit_after_paint, parent=window
        )
        window.first_paint_watcher = watcher  # type: ignore[attr-defined]
    window.show()
    # What exists after start-up lives as long as the process: keep it out of the garbage
    # collector's full passes, which would otherwise stall the GUI thread (~tens of ms).
    QTimer.singleShot(FREEZE_AFTER_MS, gc.freeze)
    if files:
        QTimer.singleShot(0, lambda: window.open_files(list(files)))
    try:
        code = app.exec()
    finally:
        runner.shutdown(timeout=5.0)
        services.close()
    return code


def _store_error_text(exc: BaseException) -> str:
    message = getattr(exc, "message", str(exc))
    hint = getattr(exc, "hint", None)
    return f"{message}\n\n{hint}" if hint else message


def _install_excepthook(window: object) -> None:
    """Exceptions escaping a slot open the error dialog instead of only printing."""
    from app.ui.widgets.error_dialog import show_unexpected_error

    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        text = "".join(traceback.format_exception(kind, value, tb))
        try:
            show_unexpected_error(value, text, window)  # type: ignore[arg-type]
        except Exception:  # the dialog itself failed: fall back to stderr
            previous(kind, value, tb)

    sys.excepthook = hook


class FirstPaintWatcher(QObject):
    """Reports (and optionally quits after) the first paint of one window."""

    def __init__(
        self, window: QWidget, *, report: bool, exit_after: bool, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._window, self._report, self._exit_after = window, report, exit_after
        self._seen = False
        self.seconds: float | None = None
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._seen and event.type() == QEvent.Type.Paint:
            self._seen = True
            QTimer.singleShot(0, self._on_painted)  # after this paint has finished
        return False

    def _on_painted(self) -> None:
        self.seconds = process_age()
        self._window.removeEventFilter(self)
        if self._report:
            print(f"startup: first paint {self.seconds:.3f} s", file=sys.stderr, flush=True)
        if self._exit_after:
            self._window.close()
            QApplication.quit()

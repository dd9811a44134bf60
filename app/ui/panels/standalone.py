"""``python -m app.ui.panels.<panel>``: one panel in a window of its own, for working on it.

Every panel module ends with a ``main()`` that calls ``open_alone`` with its key, so the
panel is built exactly as the main window builds it (``panel_factory``) and closes its jobs
the same way. ``MODELDESK_EXIT_AFTER_PAINT=1`` makes it quit after its first paint, which is
how the smoke tests open each panel alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any


def open_alone(
    key: str,
    argv: list[str] | None = None,
    *,
    size: tuple[int, int] = (1200, 800),
    with_files: Callable[[Any, list[str]], None] | None = None,
) -> int:
    """Open the panel ``key`` alone on the default store (or ``--store URL``); exit code."""
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import build_services
    from app.jobs.runner import JobRunner
    from app.ui.app import EXIT_AFTER_PAINT_ENV
    from app.ui.main_window import panel_factory
    from app.ui.panels import panel_spec

    spec = panel_spec(key)
    parser = argparse.ArgumentParser(prog=f"python -m app.ui.panels.{key}_panel")
    parser.add_argument("--store", metavar="URL")
    if with_files is not None:
        parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("ModelDesk")
    app.setApplicationName("ModelDesk")
    services = build_services(args.store)
    runner = JobRunner()
    from app.ui.context import CurrentContext

    panel = panel_factory(key)(services, runner, CurrentContext())
    panel.setWindowTitle(f"ModelDesk — {spec.title} ({services.store.url_for_display})")
    panel.resize(*size)
    if os.environ.get(EXIT_AFTER_PAINT_ENV) == "1":
        from app.ui.app import FirstPaintWatcher

        panel.first_paint_watcher = FirstPaintWatcher(  # type: ignore[attr-defined]
            panel, report=False, exit_after=True, parent=panel
        )
    panel.show()
    if with_files is not None and args.files:
        with_files(panel, args.files)
    code = app.exec()
    panel.close_jobs()
    runner.shutdown(timeout=5)
    services.close()
    return code

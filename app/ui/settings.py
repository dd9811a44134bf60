"""What the window remembers between runs, in ``QSettings`` (organisation/app "ModelDesk").

Keys live here so that a test or a migration finds them in one place.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
PANEL_KEY = "window/panel"
THEME_KEY = "window/theme"  # system, light or dark (app.ui.theme)
RECENT_KEY = "recent/files"
RECENT_MAX = 10


def settings() -> QSettings:
    """The application's settings (format and location as configured on QSettings)."""
    return QSettings()


class RecentFiles:
    """The last ``RECENT_MAX`` files ingested, newest first, persisted at once."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._settings = store if store is not None else settings()

    def paths(self) -> list[str]:
        value = self._settings.value(RECENT_KEY, [])
        if value is None:
            return []
        if isinstance(value, str):  # one entry comes back from an INI file as a string
            return [value] if value else []
        return [str(v) for v in value][:RECENT_MAX]

    def add(self, path: str | Path) -> None:
        entry = str(path)
        paths = [p for p in self.paths() if p != entry]
        paths.insert(0, entry)
        self._settings.setValue(RECENT_KEY, paths[:RECENT_MAX])
        self._settings.sync()

    def clear(self) -> None:
        self._settings.setValue(RECENT_KEY, [])
        self._settings.sync()

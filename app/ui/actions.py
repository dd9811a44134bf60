"""Every menu entry of the main window, as data.

``ACTIONS`` is one list of ``Action(id, title, shortcut, menu, run, enabled)``. ``run`` receives
the window; ``enabled`` receives an ``ActionContext`` snapshot and says whether the entry can be
used now. ``install_menus`` turns the list into the menu bar, in list order, with a separator
wherever ``Action.group`` changes. A submenu (Open Recent) is an action whose ``submenu``
lists its entries when the menu opens.
"""

from __future__ import annotations

import enum
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

from app.ui.panels import PANELS

if TYPE_CHECKING:
    from app.core.datasets import Dataset, DatasetVersion
    from app.ui.main_window import MainWindow


class Menu(enum.Enum):
    FILE = "&File"
    EDIT = "&Edit"
    VIEW = "&View"
    TOOLS = "&Tools"
    HELP = "&Help"

    @property
    def title(self) -> str:
        return self.value


@dataclass(frozen=True)
class ActionContext:
    """What the enablement rules look at: a snapshot taken when menus may change."""

    panel: str
    version: DatasetVersion | None
    dataset: Dataset | None


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    menu: Menu
    run: Callable[[MainWindow], Any] | None = None
    shortcut: str | None = None
    enabled: Callable[[ActionContext], bool] | None = None
    submenu: Callable[[MainWindow], Sequence[tuple[str, Callable[[], Any]]]] | None = None
    group: str = ""
    role: QAction.MenuRole = QAction.MenuRole.NoRole
    tip: str = ""


def _has_version(ctx: ActionContext) -> bool:
    return ctx.version is not None


def _has_live_dataset(ctx: ActionContext) -> bool:
    return ctx.dataset is not None and not ctx.dataset.deleted


def _recent_entries(window: MainWindow) -> list[tuple[str, Callable[[], Any]]]:
    entries: list[tuple[str, Callable[[], Any]]] = [
        (path, lambda p=path: window.open_files([p])) for path in window.recent_files()
    ]
    if entries:
        entries.append(("", lambda: None))  # separator
        entries.append(("Clear Recent", window.clear_recent_files))
    return entries


def _view_actions() -> list[Action]:
    return [
        Action(
            id=f"modeldesk.view.{spec.key}",
            title=spec.title,
            menu=Menu.VIEW,
            shortcut=f"Ctrl+{number}",
            run=lambda w, key=spec.key: w.show_panel(key),
            tip=spec.summary,
        )
        for number, spec in enumerate(PANELS, start=1)
    ]


ACTIONS: list[Action] = [
    # File
    Action(
        "modeldesk.file.open",
        "&Open dataset…",
        Menu.FILE,
        run=lambda w: w.open_dataset_dialog(),
        shortcut="Ctrl+O",
        group="open",
        tip="Ingest CSV, TSV, Parquet, Excel, JSON or Feather files",
    ),
    Action(
        "modeldesk.file.open_recent",
        "Open &Recent",
        Menu.FILE,
        submenu=_recent_entries,
        group="open",
    ),
    Action(
        "modeldesk.file.export",
        "&Export dataset…",
        Menu.FILE,
        run=lambda w: w.export_dataset(),
        enabled=_has_version,
        group="export",
    ),
    Action(
        "modeldesk.file.quit",
        "&Quit",
        Menu.FILE,
        run=lambda w: w.close(),
        shortcut="Ctrl+Q",
        group="quit",
        role=QAction.MenuRole.QuitRole,
    ),
    # Edit
    Action(
        "modeldesk.dataset.rename",
        "&Rename dataset…",
        Menu.EDIT,
        run=lambda w: w.rename_dataset(),
        shortcut="F2",
        enabled=_has_live_dataset,
    ),
    Action(
        "modeldesk.dataset.delete",
        "&Delete dataset",
        Menu.EDIT,
        run=lambda w: w.delete_dataset(),
        shortcut="Del",
        enabled=lambda ctx: ctx.panel == "data" and _has_live_dataset(ctx),
    ),
    Action(
        "modeldesk.dataset.restore",
        "Re&store deleted dataset…",
        Menu.EDIT,
        run=lambda w: w.restore_dataset(),
    ),
    # View
    *_view_actions(),
    # Tools
    Action(
        "modeldesk.tools.show_store",
        "Show &store folder",
        Menu.TOOLS,
        run=lambda w: w.show_store_folder(),
    ),
    Action(
        "modeldesk.tools.copy_store",
        "&Copy store path",
        Menu.TOOLS,
        run=lambda w: w.copy_store_path(),
    ),
    Action(
        "modeldesk.tools.check_docker",
        "Check &Docker now",
        Menu.TOOLS,
        run=lambda w: w.status.check_docker_now(),
        group="docker",
    ),
    # Help
    Action(
        "modeldesk.help.about",
        "&About ModelDesk",
        Menu.HELP,
        run=lambda w: w.show_about(),
        role=QAction.MenuRole.AboutRole,
    ),
]


def install_menus(
    window: MainWindow, menubar: QMenuBar, actions: Sequence[Action] = ACTIONS
) -> tuple[dict[str, QAction], dict[Menu, QMenu]]:
    """Build the menus; returns the QActions by id and the QMenus by menu id."""
    menus: dict[Menu, QMenu] = {}
    qactions: dict[str, QAction] = {}
    last_group: dict[Menu, str] = {}
    for action in actions:
        menu = menus.get(action.menu)
        if menu is None:
            menu = menus[action.menu] = menubar.addMenu(action.menu.title)
            menu.setObjectName(action.menu.name.lower())
            menu.aboutToShow.connect(window.update_actions)
        elif last_group.get(action.menu) != action.group:
            menu.addSeparator()
        last_group[action.menu] = action.group
        if action.submenu is not None:
            sub = menu.addMenu(action.title)
            sub.setObjectName(action.id)
            provider = action.submenu
            sub.aboutToShow.connect(lambda s=sub, p=provider: _fill_submenu(s, p(window)))
            qaction = sub.menuAction()
        else:
            qaction = QAction(action.title, window)
            if action.run is not None:
                run = action.run
                qaction.triggered.connect(lambda _checked=False, r=run: r(window))
            menu.addAction(qaction)
        qaction.setObjectName(action.id)
        qaction.setData(action.id)
        qaction.setMenuRole(action.role)
        if action.shortcut:
            qaction.setShortcut(QKeySequence(action.shortcut))
        if action.tip:
            qaction.setStatusTip(action.tip)
            qaction.setToolTip(action.tip)
        qactions[action.id] = qaction
    return qactions, menus


def update_enabled(
    qactions: dict[str, QAction], ctx: ActionContext, actions: Sequence[Action] = ACTIONS
) -> None:
    for action in actions:
        if action.enabled is not None and action.id in qactions:
            qactions[action.id].setEnabled(bool(action.enabled(ctx)))


def _fill_submenu(menu: QMenu, entries: Sequence[tuple[str, Callable[[], Any]]]) -> None:
    menu.clear()
    if not entries:
        menu.addAction("No recent files").setEnabled(False)
        return
    for title, run in entries:
        if not title:
            menu.addSeparator()
        else:
            menu.addAction(title).triggered.connect(lambda _checked=False, r=run: r())


# -- About ---------------------------------------------------------------------------------------

ABOUT_PACKAGES = (
    ("ModelDesk", "modeldesk"),
    ("PySide6", "PySide6-Essentials"),
    ("pandas", "pandas"),
    ("scikit-learn", "scikit-learn"),
    ("Optuna", "optuna"),
    ("pyarrow", "pyarrow"),
)


def package_version(distribution: str) -> str:
    """A distribution's version from its metadata, without importing it."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        if distribution == "PySide6-Essentials":
            try:
                return metadata.version("PySide6")
            except metadata.PackageNotFoundError:
                pass
        return "not installed"


def about_lines() -> list[tuple[str, str]]:
    from PySide6.QtCore import qVersion

    lines = [(label, package_version(dist)) for label, dist in ABOUT_PACKAGES]
    lines.insert(1, ("Python", platform.python_version()))
    lines.insert(2, ("Qt", qVersion()))
    return lines


def about_text() -> str:
    """Plain text of the About box (also handy for bug reports)."""
    rows = "\n".join(f"{label}: {value}" for label, value in about_lines())
    return (
        "ModelDesk — from a dropped dataset to a tested model in a Docker container.\n\n"
        f"{rows}\nPlatform: {platform.platform()} ({sys.platform})"
    )

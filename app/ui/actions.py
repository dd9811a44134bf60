"""Every menu, toolbar and context-menu entry of the main window, as data.

``ACTIONS`` is one list of ``Action``s. Each says where it sits (``menu``, an optional
``submenu`` title, ``group`` for separators), how it is reached (``shortcut``, ``toolbar``),
which kinds of item it acts on (``items``, from ``app.ui.items``), a ``rule`` returning None or
the sentence saying why it cannot act now, and ``run(window, item)``. The menu bar, the main
toolbar and every item's context menu are built from this one list (``app.ui.action_menus``),
so a context menu and a menu never disagree. ``CONTEXT_MENUS`` orders the entries an item's
context menu lists; the first is what a double-click does.

The commands themselves live in ``app.ui.commands``: most call a public panel operation
(``PanelCall``), which also tells the rule whether that panel has the operation yet.
"""

from __future__ import annotations

import enum
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction

from app.ui import commands as c
from app.ui.items import (
    DatasetItem,
    DeploymentItem,
    Item,
    ModelVersionItem,
    RunItem,
    StudyItem,
    TrialItem,
)
from app.ui.panels import PANELS

if TYPE_CHECKING:
    from app.core.datasets import Dataset, DatasetVersion
    from app.core.docker_status import DockerStatus
    from app.ui.context import ContextState
    from app.ui.main_window import MainWindow


class Menu(enum.Enum):
    FILE = "&File"
    EDIT = "&Edit"
    VIEW = "&View"
    DATA = "&Data"
    MODEL = "&Model"
    DEPLOY = "De&ploy"
    MONITOR = "Mo&nitor"
    TOOLS = "&Tools"
    HELP = "&Help"

    @property
    def title(self) -> str:
        return self.value


@dataclass(frozen=True)
class ActionContext:
    """What the rules look at: a snapshot taken when the menus may change."""

    panel: str  # the panel on screen
    version: DatasetVersion | None  # the Data panel's selection (Edit menu rules)
    dataset: Dataset | None
    selections: Mapping[str, Item | None] = field(default_factory=dict)  # per built panel
    state: ContextState | None = None  # the window's current context
    docker: DockerStatus | None = None  # None: not checked yet
    has_operation: Callable[[str, str], bool] = lambda key, method: True

    def item_for(self, kinds: Sequence[type]) -> Item | None:
        """The item a menu-bar entry acts on: the shown panel's selection when it is of one of
        ``kinds``, else what the current context names, else another panel's selection."""
        if not kinds:
            return None
        shown = self.selections.get(self.panel)
        if isinstance(shown, tuple(kinds)):
            return shown
        for kind in kinds:
            item = _from_state(self.state, kind)
            if item is not None:
                return item
        for item in self.selections.values():
            if isinstance(item, tuple(kinds)):
                return item
        return None


def _from_state(state: ContextState | None, kind: type) -> Item | None:
    if state is None:
        return None
    if kind is DatasetItem and state.dataset and state.version is not None:
        return DatasetItem(state.dataset, state.version, state.target)
    if kind is ModelVersionItem and state.model and state.model_version is not None:
        return ModelVersionItem(state.model, state.model_version)
    if kind is RunItem and state.run_id is not None:
        return RunItem(state.run_id)
    if kind is StudyItem and state.study:
        return StudyItem(state.study)
    if kind is DeploymentItem and state.deployment_id is not None:
        return DeploymentItem(state.deployment_id)
    return None


Rule = Callable[[ActionContext, Any], "str | None"]


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    menu: Menu
    run: Callable[[MainWindow, Any], Any] | None = None
    shortcut: str | None = None
    items: tuple[type, ...] = ()  # kinds of item it acts on; () acts on none
    item_required: bool = True  # with ``items``: refuse to run without one
    rule: Rule | None = None  # None, or why it cannot act now
    submenu: str = ""  # a submenu of ``menu`` it sits in (View ▸ Theme)
    entries: Callable[[MainWindow], Sequence[tuple[str, Callable[[], Any]]]] | None = None
    group: str = ""
    toolbar: str = ""  # a short label: the entry also sits on the main toolbar
    checked: Callable[[MainWindow], bool] | None = None  # a checkable entry's state
    role: QAction.MenuRole = QAction.MenuRole.NoRole
    tip: str = ""


NOTHING_SELECTED = {
    DatasetItem: "No dataset selected: pick a dataset version in Data.",
    RunItem: "No run selected: pick a run in Runs.",
    TrialItem: "No trial selected: pick a trial in Tuning.",
    StudyItem: "No study selected: pick a study in Tuning.",
    ModelVersionItem: "No model version selected: pick one in Registry.",
    DeploymentItem: "No deployment selected: pick one in Deploy.",
}
NOT_AVAILABLE = "Not available yet"


def reason_not_to_run(action: Action, ctx: ActionContext, item: Item | None) -> str | None:
    """None when ``action`` can act on ``item`` now, else the sentence saying why not."""
    if action.items and action.item_required and not isinstance(item, action.items):
        return NOTHING_SELECTED.get(action.items[0], "Nothing selected.")
    call = c.panel_call_for(action.run, item)
    if call is not None and not ctx.has_operation(call.key, call.method):
        return NOT_AVAILABLE
    return action.rule(ctx, item) if action.rule is not None else None


# -- rules ----------------------------------------------------------------------------------------


def _live_dataset(ctx: ActionContext, _item: Any) -> str | None:
    if ctx.dataset is None:
        return "No dataset selected: pick one in Data."
    if ctx.dataset.deleted:
        return f"'{ctx.dataset.name}' is deleted: restore it first."
    return None


def _docker(ctx: ActionContext, _item: Any) -> str | None:
    if ctx.docker is None or ctx.docker.ok:
        return None  # not checked yet: the panel reports what it finds
    return docker_help()


def docker_help(system: str | None = None) -> str:
    """Why an entry that needs Docker cannot act, and how to get a daemon on this platform."""
    system = system or sys.platform
    if system.startswith("linux"):
        how = (
            "install Docker Engine (Debian/Ubuntu: sudo apt install docker.io) and start it "
            "(sudo systemctl start docker), or set DOCKER_HOST"
        )
    elif system == "darwin":
        how = "install Docker Desktop for Mac (docs.docker.com/desktop) and start it"
    elif system.startswith("win"):
        how = "install Docker Desktop for Windows (docs.docker.com/desktop) and start it"
    else:
        how = "install Docker and start its daemon, or set DOCKER_HOST"
    return f"No Docker daemon: {how}. Deploy ▸ Serve locally works without Docker."


# -- the list --------------------------------------------------------------------------------------


def _view_actions() -> list[Action]:
    return [
        Action(
            id=f"modeldesk.view.{spec.key}",
            title=spec.title,
            menu=Menu.VIEW,
            shortcut=f"Ctrl+{number}",
            run=lambda w, _i, key=spec.key: w.show_panel(key),
            tip=spec.summary,
            group="panels",
        )
        for number, spec in enumerate(PANELS, start=1)
    ]


def _theme_actions() -> list[Action]:
    from app.ui.theme import THEMES

    return [
        Action(
            id=f"modeldesk.view.theme.{name}",
            title=title,
            menu=Menu.VIEW,
            submenu="&Theme",
            run=lambda w, _i, name=name: w.set_theme(name),
            checked=lambda w, name=name: w.theme == name,
            group="theme",
        )
        for name, title in THEMES
    ]


D, R, T, S, M, P = DatasetItem, RunItem, TrialItem, StudyItem, ModelVersionItem, DeploymentItem

ACTIONS: list[Action] = [
    # File
    Action("modeldesk.file.open", "&Open dataset…", Menu.FILE, run=c.open_dataset,
           shortcut="Ctrl+O", group="open", toolbar="Open",
           tip="Ingest CSV, TSV, Parquet, Excel, JSON or Feather files"),
    Action("modeldesk.file.open_recent", "Open &Recent", Menu.FILE, entries=c.recent_entries,
           group="open"),
    Action("modeldesk.file.samples", "&Samples", Menu.FILE, entries=c.sample_entries,
           group="open", tip="Datasets that ship with ModelDesk, to try the journey"),
    Action("modeldesk.file.export", "&Export dataset…", Menu.FILE, run=c.export_dataset,
           shortcut="Ctrl+Shift+S", items=(D,), group="export",
           tip="Write the dataset version as CSV, Parquet, Excel…"),
    Action("modeldesk.file.quit", "&Quit", Menu.FILE, run=lambda w, _i: w.close(),
           shortcut="Ctrl+Q", group="quit", role=QAction.MenuRole.QuitRole),
    # Edit
    Action("modeldesk.dataset.rename", "&Rename dataset…", Menu.EDIT, run=c.rename_dataset,
           shortcut="F2", rule=_live_dataset),
    Action("modeldesk.dataset.delete", "&Delete dataset", Menu.EDIT, run=c.delete_dataset,
           shortcut="Del",
           rule=lambda ctx, i: _live_dataset(ctx, i)
           or (None if ctx.panel == "data" else "Deleting works on the Data panel.")),
    Action("modeldesk.dataset.restore", "Re&store deleted dataset…", Menu.EDIT,
           run=c.restore_dataset),
    # View
    *_view_actions(),
    *_theme_actions(),
    # Data
    Action("modeldesk.data.explore", "&Explore", Menu.DATA, run=c.explore, items=(D,),
           shortcut="Ctrl+E", toolbar="Explore",
           tip="Profile the dataset: statistics, associations, target, warnings"),
    Action("modeldesk.data.prepare", "&Prepare…", Menu.DATA, run=c.prepare, items=(D,),
           shortcut="Ctrl+Shift+P", toolbar="Prepare",
           tip="Clean and engineer features with a recipe and a live preview"),
    Action("modeldesk.data.roles", "Set &target and roles…", Menu.DATA, run=c.edit_roles,
           items=(D,), shortcut="Ctrl+T", group="roles",
           tip="Mark the target, identifiers and ignored columns; stored with the dataset"),
    # Model
    Action("modeldesk.model.new_run", "&New run…", Menu.MODEL, items=(D,), item_required=False,
           run=c.PanelCall("runs", "new_run", c.dataset_or_none), shortcut="Ctrl+R",
           toolbar="Train", group="train", tip="Train a model on the dataset, cross-validated"),
    Action("modeldesk.model.tune", "&Tune…", Menu.MODEL, items=(D,), item_required=False,
           run=c.PanelCall("tuning", "new_study", c.dataset_or_none), shortcut="Ctrl+Shift+T",
           toolbar="Tune", group="train", tip="Search hyperparameters with Optuna"),
    Action("modeldesk.model.compare", "&Compare runs", Menu.MODEL, items=(R,),
           run=c.PanelCall("runs", "compare_runs", c.selected_run_ids, with_panel=True),
           shortcut="Ctrl+Shift+C", group="runs"),
    Action("modeldesk.model.reproduce", "Re&produce run", Menu.MODEL, items=(R,),
           run=c.PanelCall("runs", "reproduce_run", lambda i: (i.run_id,)), group="runs",
           shortcut="Ctrl+Shift+Y", tip="Train again with the same data, parameters and seed"),
    Action("modeldesk.model.export_code", "Export &code…", Menu.MODEL, items=(R,),
           run=c.PanelCall("runs", "export_code", lambda i: (i.run_id,)), group="runs",
           shortcut="Ctrl+Shift+X", tip="A Python script that trains this run again"),
    Action("modeldesk.model.open_study", "Open its &study", Menu.MODEL, items=(R, S),
           run=c.open_study, group="runs", tip="Show the Optuna study the run belongs to"),
    Action("modeldesk.model.open_run", "Open its r&un", Menu.MODEL, items=(T,),
           run=c.open_trial_run,
           rule=lambda ctx, i: None if i.run_id is not None else "This trial recorded no run.",
           group="runs"),
    Action("modeldesk.model.register", "&Register…", Menu.MODEL, items=(R, T),
           run=c.ByKind({
               R: c.PanelCall("runs", "register_run", lambda i: (i.run_id,)),
               T: c.PanelCall("tuning", "register_trial", lambda i: (i.study, i.number)),
           }),
           shortcut="Ctrl+Shift+G", toolbar="Register", group="registry",
           tip="Register the run's model as a new version in the Registry"),
    Action("modeldesk.model.set_alias", "Set &alias…", Menu.MODEL, items=(M,),
           run=c.PanelCall("registry", "set_alias", c.name_version), shortcut="Ctrl+Shift+A",
           group="registry", tip="Name this version champion, challenger or another alias"),
    Action("modeldesk.model.promote", "Pro&mote…", Menu.MODEL, items=(M,),
           run=c.PanelCall("registry", "promote", c.name_version), shortcut="Ctrl+Shift+M",
           group="registry", tip="Make this version the champion, after the policy checks"),
    Action("modeldesk.model.card", "Model c&ard", Menu.MODEL, items=(M,),
           run=c.PanelCall("registry", "show_card", c.name_version), shortcut="Ctrl+Shift+K",
           group="registry"),
    Action("modeldesk.model.export", "E&xport model…", Menu.MODEL, items=(M,),
           run=c.PanelCall("registry", "export_model", c.name_version), group="files",
           tip="Write the model bundle to a file"),
    Action("modeldesk.model.import", "&Import model…", Menu.MODEL,
           run=c.PanelCall("registry", "import_model", lambda _i: ()), group="files",
           tip="Register a model file made elsewhere (checked by skops)"),
    # Deploy
    Action("modeldesk.deploy.build", "&Build image…", Menu.DEPLOY, items=(M,), rule=_docker,
           run=c.PanelCall("deploy", "build_image", c.name_version), shortcut="Ctrl+B",
           toolbar="Build", tip="Package the model version as a Docker image with a REST API"),
    Action("modeldesk.deploy.deploy", "&Deploy…", Menu.DEPLOY, items=(M,), rule=_docker,
           run=c.PanelCall("deploy", "deploy", c.name_version), shortcut="Ctrl+D",
           toolbar="Deploy", tip="Run the model version's image as a container"),
    Action("modeldesk.deploy.serve_locally", "&Serve locally without Docker…", Menu.DEPLOY,
           items=(M,), run=c.PanelCall("deploy", "serve_locally", c.name_version),
           shortcut="Ctrl+Shift+L",
           tip="Start the same server as `modeldesk serve` as a child process"),
    Action("modeldesk.deploy.test", "&Test request…", Menu.DEPLOY, items=(P,),
           item_required=False, group="running", shortcut="Ctrl+Shift+Return", toolbar="Test",
           run=c.PanelCall("deploy", "test_request",
                           lambda i: (i.deployment_id if isinstance(i, P) else None,))),
    Action("modeldesk.deploy.logs", "&Logs", Menu.DEPLOY, items=(P,), group="running",
           run=c.PanelCall("deploy", "show_logs", lambda i: (i.deployment_id,)),
           shortcut="Ctrl+L"),
    Action("modeldesk.deploy.roll_back", "&Roll back", Menu.DEPLOY, items=(P,), rule=_docker,
           run=c.PanelCall("deploy", "roll_back", lambda i: (i.deployment_id,)),
           group="running", shortcut="Ctrl+Shift+B",
           tip="Put the previous model version back on this deployment"),
    Action("modeldesk.deploy.stop", "S&top", Menu.DEPLOY, items=(P,), rule=_docker,
           run=c.PanelCall("deploy", "stop", lambda i: (i.deployment_id,)), group="running",
           shortcut="Ctrl+Shift+F4"),
    # Monitor
    Action("modeldesk.monitor.check_drift", "&Check drift…", Menu.MONITOR, items=(M,),
           run=c.PanelCall("monitor", "check_drift", c.name_version), shortcut="Ctrl+Shift+D",
           toolbar="Monitor", tip="Compare live or batch data with the training data"),
    Action("modeldesk.monitor.open", "&Monitor", Menu.MONITOR, items=(P, M),
           run=c.open_in("monitor"), tip="Open Monitor on it"),
    Action("modeldesk.monitor.drop_batch", "&Drop a batch…", Menu.MONITOR,
           run=c.PanelCall("monitor", "drop_batch", lambda _i: ()), shortcut="Ctrl+Shift+O",
           tip="Check a file of new data for drift"),
    Action("modeldesk.monitor.retrain", "&Retrain…", Menu.MONITOR, items=(M,),
           run=c.PanelCall("monitor", "retrain", c.name_version), group="retrain",
           shortcut="Ctrl+Shift+N", tip="Train again on newer data and compare with the champion"),
    # Tools
    Action("modeldesk.tools.show_store", "Show &store folder", Menu.TOOLS,
           run=lambda w, _i: w.show_store_folder()),
    Action("modeldesk.tools.copy_store", "&Copy store path", Menu.TOOLS,
           run=lambda w, _i: w.copy_store_path()),
    Action("modeldesk.tools.check_docker", "Check &Docker now", Menu.TOOLS,
           run=lambda w, _i: w.status.check_docker_now(), group="docker"),
    # Help
    Action("modeldesk.help.start", "&Getting started", Menu.HELP,
           run=lambda w, _i: w.show_start_page(), shortcut="F1"),
    Action("modeldesk.help.shortcuts", "&Keyboard shortcuts", Menu.HELP,
           run=lambda w, _i: w.show_shortcuts(), shortcut="Ctrl+/"),
    Action("modeldesk.help.about", "&About ModelDesk", Menu.HELP,
           run=lambda w, _i: w.show_about(), role=QAction.MenuRole.AboutRole, group="about"),
]  # fmt: skip

BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}

#: The entries of an item's context menu, in order; the first is what a double-click does.
CONTEXT_MENUS: dict[type, tuple[str, ...]] = {
    DatasetItem: (
        "modeldesk.data.explore",
        "modeldesk.data.prepare",
        "modeldesk.model.new_run",
        "modeldesk.model.tune",
        "modeldesk.data.roles",
        "",
        "modeldesk.file.export",
    ),
    RunItem: (
        "modeldesk.model.register",
        "modeldesk.model.compare",
        "modeldesk.model.reproduce",
        "modeldesk.model.export_code",
        "modeldesk.model.open_study",
    ),
    TrialItem: ("modeldesk.model.open_run", "modeldesk.model.register"),
    StudyItem: ("modeldesk.model.open_study",),
    ModelVersionItem: (
        "modeldesk.model.set_alias",
        "modeldesk.model.card",
        "modeldesk.deploy.build",
        "modeldesk.deploy.deploy",
        "modeldesk.deploy.serve_locally",
        "modeldesk.monitor.check_drift",
        "",
        "modeldesk.model.promote",
        "modeldesk.model.export",
        "modeldesk.monitor.retrain",
    ),
    DeploymentItem: (
        "modeldesk.deploy.logs",
        "modeldesk.deploy.test",
        "modeldesk.monitor.open",
        "modeldesk.deploy.roll_back",
        "modeldesk.deploy.stop",
    ),
}


def context_actions(item: Item) -> list[Action | None]:
    """The entries of ``item``'s context menu (None: a separator)."""
    ids = CONTEXT_MENUS.get(type(item), ())
    return [BY_ID[i] if i else None for i in ids]


def default_action(item: Item) -> Action | None:
    """What a double-click (or Enter) on ``item`` runs."""
    return next((a for a in context_actions(item) if a is not None), None)


def shortcut_rows(actions: Sequence[Action] = ACTIONS) -> list[tuple[str, str, str]]:
    """(menu, entry, shortcut) for every entry that has a shortcut: Help ▸ Keyboard shortcuts."""
    rows = []
    for action in actions:
        if action.shortcut:
            where = action.menu.title.replace("&", "")
            title = action.title.replace("&", "").removesuffix("…")
            if action.submenu:
                title = f"{action.submenu.replace('&', '')} ▸ {title}"
            rows.append((where, title, action.shortcut))
    return rows


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

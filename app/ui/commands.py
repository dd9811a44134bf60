"""What the window's entries do: each shows a panel and calls one of its public operations.

The action list (``app.ui.actions``) names these; the window stays a shell. Most entries are a
``PanelCall`` — "show panel *key*, call *method* with these arguments of the item" — which the
rules also read to say "Not available yet" when a panel does not have the operation. None of
these waits on disk or the network: the panels start jobs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.ui.items import DatasetItem, Item, ModelVersionItem, RunItem, StudyItem, TrialItem

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


@dataclass(frozen=True)
class PanelCall:
    """Show panel ``key`` and call ``panel.method(*args(item))``."""

    key: str
    method: str
    args: Callable[..., tuple] = lambda _item: ()
    with_panel: bool = False  # ``args(item, panel)``: the arguments read the panel too

    def __call__(self, window: MainWindow, item: Any) -> Any:
        window.show_panel(self.key)
        panel = window.panels[self.key]
        args = self.args(item, panel) if self.with_panel else self.args(item)
        return getattr(panel, self.method)(*args)


@dataclass(frozen=True)
class ByKind:
    """A ``PanelCall`` chosen by the kind of item (Register: a run or a trial)."""

    calls: Mapping[type, PanelCall]

    def __call__(self, window: MainWindow, item: Any) -> Any:
        call = self.calls.get(type(item))
        return None if call is None else call(window, item)


def panel_call_for(run: Any, item: Any) -> PanelCall | None:
    """The panel operation an entry would call on ``item`` (None: it calls no panel)."""
    if isinstance(run, PanelCall):
        return run
    if isinstance(run, ByKind):
        return run.calls.get(type(item)) or next(iter(run.calls.values()), None)
    return None


def module_defines(module: str, method: str) -> bool:
    """Whether a panel module defines ``method`` on its panel: answers "does this panel have
    the operation?" before the panel is built, from the source, without importing what the
    panel needs (pandas, Optuna, the Docker SDK). A method of the ``…Panel`` class, or of a
    class it derives from (a mixin such as ``RunOperations``) in a sibling
    ``<prefix>_*.py`` module, counts; once built, the panel itself is asked.
    Where there is no source to read (a frozen bundle ships compiled modules only), every
    operation is taken as present: the tests check each panel has its operations."""
    methods = _panel_methods(module)
    return methods is None or method in methods


_CLASS_OR_METHOD = re.compile(r"^class (\w+)(?:\(([^)]*)\))?|^    def (\w+)\(", re.MULTILINE)


@cache
def _panel_methods(module: str) -> frozenset[str] | None:
    """The methods of the panel classes of ``module`` and of the classes they derive from in
    ``module`` and its siblings (None: no source)."""
    spec = util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    origin = Path(spec.origin)
    if not origin.is_file():
        return None
    prefix = origin.stem.removesuffix("_panel")
    methods: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for path in [origin, *sorted(origin.parent.glob(f"{prefix}_*.py"))]:
        owner = ""
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            return None
        for match in _CLASS_OR_METHOD.finditer(source):
            if match.group(1):
                owner = match.group(1)
                methods.setdefault(owner, set())
                bases[owner] = [b.strip() for b in (match.group(2) or "").split(",")]
            elif owner:
                methods[owner].add(match.group(3))
    todo = [name for name in methods if "Panel" in name or "Mixin" in name]
    found: set[str] = set()
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in methods:
            continue
        seen.add(name)
        found |= methods[name]
        todo += bases.get(name, [])
    return frozenset(found)


# -- argument makers -------------------------------------------------------------------------------


def dataset_or_none(item: Any) -> tuple:
    return (item if isinstance(item, DatasetItem) else None,)


def name_version(item: ModelVersionItem) -> tuple:
    return (item.name, item.version)


def selected_run_ids(item: RunItem, panel: Any) -> tuple:
    """The runs to compare: every run selected in the Runs panel (``selected_run_ids()``, if
    it offers it) with the one given, else that one."""
    chosen = getattr(panel, "selected_run_ids", None)
    ids = list(chosen()) if callable(chosen) else []
    if item.run_id not in ids:
        ids.insert(0, item.run_id)
    return (ids,)


# -- entries with their own logic ---------------------------------------------------------------


def open_dataset(window: MainWindow, _item: Any) -> None:
    window.open_dataset_dialog()


def recent_entries(window: MainWindow) -> list[tuple[str, Callable[[], Any]]]:
    entries: list[tuple[str, Callable[[], Any]]] = [
        (path, lambda p=path: window.open_files([p])) for path in window.recent_files()
    ]
    if entries:
        entries.append(("", lambda: None))  # separator
        entries.append(("Clear Recent", window.clear_recent_files))
    return entries


def sample_entries(window: MainWindow) -> list[tuple[str, Callable[[], Any]]]:
    """One entry per dataset in ``app/resources/samples``: ingests it."""
    from app import resources

    return [(name, lambda n=name: open_sample(window, n)) for name in resources.samples()]


def open_sample(window: MainWindow, name: str) -> None:
    from app import resources

    window.open_files([resources.sample(name)])


def _data(window: MainWindow, item: Any) -> Any:
    window.show_panel("data")
    panel = window.data_panel
    if isinstance(item, DatasetItem):
        panel.open_item(item)
    return panel


def export_dataset(window: MainWindow, item: Any) -> None:
    _data(window, item).export_selected()


def rename_dataset(window: MainWindow, _item: Any) -> None:
    _data(window, None).rename_selected()


def delete_dataset(window: MainWindow, _item: Any) -> None:
    _data(window, None).delete_selected()


def restore_dataset(window: MainWindow, _item: Any) -> None:
    _data(window, None).restore_dataset()


def edit_roles(window: MainWindow, item: DatasetItem) -> None:
    _data(window, None).edit_roles(item)


def open_in(key: str) -> Callable[[MainWindow, Any], None]:
    """Show panel ``key`` opened on the item."""

    def run(window: MainWindow, item: Any) -> None:
        window.open_in_panel(key, item)

    run.__name__ = f"open_in_{key}"
    return run


explore = open_in("explore")
prepare = open_in("prepare")


def open_trial_run(window: MainWindow, item: TrialItem) -> None:
    if item.run_id is not None:
        window.open_in_panel("runs", RunItem(item.run_id))


def open_study(window: MainWindow, item: Item) -> None:
    """A study as it is, or the study a run belongs to (looked up off the GUI thread)."""
    if isinstance(item, StudyItem):
        window.open_in_panel("tuning", item)
        return
    if not isinstance(item, RunItem):
        return

    def study_of(tracking: Any, run_id: int, *, progress: Any) -> str | None:
        return tracking.get(run_id).study_name

    def done(_bridge: Any, name: str | None) -> None:
        if name:
            window.open_in_panel("tuning", StudyItem(name))
        else:
            window.status.showMessage(f"Run {item.run_id} belongs to no study.", 6000)

    window.jobs.start(
        study_of, window.services.tracking, item.run_id, name="Find the run's study", done=done
    )

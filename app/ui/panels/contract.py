"""The one contract every panel keeps (see STYLE.md, "One panel contract").

A panel module under ``app/ui/panels`` named by its ``PanelSpec.module`` exposes
``build_panel(services, runner, context) -> QWidget`` (the window and ``open_alone`` both call
it) and ``main()`` built on ``open_alone``. The widget it returns:

- implements ``Panel`` below (a test checks every panel, so the window never asks ``hasattr``);
- has these signals, all emitted on the GUI thread:
  - ``open_requested(str, object)``: show panel *key* on an item (``app.ui.items``);
  - ``item_menu_requested(object, QPoint)``: the person asked for the context menu of an item at
    a global position; the window builds that menu from ``app.ui.actions`` (the same actions as
    the menu bar, so a context menu and a menu never disagree);
  - ``item_activated(object)``: an item was double-clicked or Enter was pressed on it; the
    window runs the item's default next step;
  - ``selection_changed(object)``: the selected item changed (an item or None); the window
    re-evaluates which menu entries can act now;
- reads its defaults (dataset, target, recipe, model version) from the ``CurrentContext`` it was
  built with, and ``update``s it when the person picks one of those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from app.ui.items import Item

REQUIRED_SIGNALS = ("open_requested", "item_menu_requested", "item_activated", "selection_changed")


@runtime_checkable
class Panel(Protocol):
    def open_item(self, item: Item) -> None:
        """Show ``item`` (select it, load it); an item of a kind the panel does not show is
        ignored. Called when another panel or a menu entry opens this panel on it."""

    def selected_item(self) -> Item | None:
        """What the person has selected here now, as an item (what the menus act on)."""

    def save_settings(self, settings: QSettings) -> None:
        """Write splitters, columns, tabs under the panel's own keys (the window calls it: a
        child widget never gets ``closeEvent``)."""

    def restore_settings(self, settings: QSettings) -> None:
        """Read back what ``save_settings`` wrote; missing keys keep the defaults."""

    def close_jobs(self) -> None:
        """Cancel every job the panel started and deliver nothing more from them."""


def contract_problems(panel: object) -> list[str]:
    """What ``panel`` lacks of the contract (empty when it keeps it); used by the tests."""
    problems = [
        f"no method {name}()"
        for name in (
            "open_item",
            "selected_item",
            "save_settings",
            "restore_settings",
            "close_jobs",
        )
        if not callable(getattr(panel, name, None))
    ]
    problems += [
        f"no signal {name}" for name in REQUIRED_SIGNALS if getattr(panel, name, None) is None
    ]
    return problems

"""The action list (``app.ui.actions``) turned into Qt: the menu bar, the main toolbar and an
item's context menu, and the enabling of all three from one ``ActionContext``.

A disabled entry carries the rule's sentence as its tooltip and status tip, so the person
learns why (and what to do); when it can act again, its own tip comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from app.ui.actions import (
    ACTIONS,
    Action,
    ActionContext,
    Menu,
    context_actions,
    reason_not_to_run,
)

if TYPE_CHECKING:
    from app.ui.items import Item
    from app.ui.main_window import MainWindow


def install_menus(
    window: MainWindow, menubar: QMenuBar, actions: Sequence[Action] = ACTIONS
) -> tuple[dict[str, QAction], dict[Menu, QMenu]]:
    """Build the menus; returns the QActions by id and the QMenus by menu id."""
    menus: dict[Menu, QMenu] = {}
    submenus: dict[tuple[Menu, str], QMenu] = {}
    groups: dict[tuple[Menu, str], QActionGroup] = {}
    qactions: dict[str, QAction] = {}
    last_group: dict[QMenu, str] = {}
    for action in actions:
        menu = menus.get(action.menu)
        if menu is None:
            menu = menus[action.menu] = menubar.addMenu(action.menu.title)
            menu.setObjectName(action.menu.name.lower())
            menu.setToolTipsVisible(True)
            menu.aboutToShow.connect(window.update_actions)
        if action.submenu:
            key = (action.menu, action.submenu)
            if key not in submenus:
                _separate(menu, last_group, action.group)
                sub = submenus[key] = menu.addMenu(action.submenu)
                sub.setObjectName(f"{action.menu.name.lower()}.{action.submenu.strip('&')}")
                sub.setToolTipsVisible(True)
                sub.aboutToShow.connect(window.update_actions)
            menu = submenus[key]
        _separate(menu, last_group, action.group)
        if action.entries is not None:
            sub = menu.addMenu(action.title)
            sub.setObjectName(action.id)
            provider = action.entries
            sub.aboutToShow.connect(lambda s=sub, p=provider: _fill_submenu(s, p(window)))
            qaction = sub.menuAction()
        else:
            qaction = QAction(action.title, window)
            qaction.triggered.connect(lambda _checked=False, a=action: window.run_action(a))
            menu.addAction(qaction)
            if action.checked is not None:
                qaction.setCheckable(True)
                group = groups.setdefault((action.menu, action.submenu), QActionGroup(window))
                group.addAction(qaction)
        qaction.setObjectName(action.id)
        qaction.setData(action.id)
        qaction.setMenuRole(action.role)
        if action.shortcut:
            qaction.setShortcut(QKeySequence(action.shortcut))
        _set_tip(qaction, action, None)
        qactions[action.id] = qaction
    return qactions, menus


def install_toolbar(
    window: MainWindow, qactions: dict[str, QAction], actions: Sequence[Action] = ACTIONS
) -> QToolBar:
    """The main toolbar: the journey's key steps, the same QActions as the menus."""
    bar = QToolBar("Journey", window)
    bar.setObjectName("main-toolbar")
    bar.setMovable(False)
    bar.setIconSize(QSize(16, 16))
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    last_menu: Menu | None = None
    for action in actions:
        if not action.toolbar:
            continue
        if last_menu is not None and action.menu is not last_menu:
            bar.addSeparator()
        last_menu = action.menu
        qaction = qactions[action.id]
        qaction.setIconText(action.toolbar)
        bar.addAction(qaction)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar


def item_menu(window: MainWindow, item: Item, ctx: ActionContext, parent: QWidget) -> QMenu:
    """The context menu of ``item``: its next steps, each enabled or saying why not."""
    menu = QMenu(parent)
    menu.setObjectName("item-menu")
    menu.setToolTipsVisible(True)
    for action in context_actions(item):
        if action is None:
            menu.addSeparator()
            continue
        entry = menu.addAction(action.title)
        entry.setObjectName(action.id)
        entry.setData(action.id)
        if action.shortcut:
            entry.setShortcut(QKeySequence(action.shortcut))
        reason = reason_not_to_run(action, ctx, item)
        entry.setEnabled(reason is None)
        _set_tip(entry, action, reason)
        entry.triggered.connect(lambda _checked=False, a=action: window.run_action(a, item))
    if menu.actions():
        menu.setDefaultAction(next(a for a in menu.actions() if not a.isSeparator()))
    return menu


def update_enabled(
    window: MainWindow,
    qactions: dict[str, QAction],
    ctx: ActionContext,
    actions: Sequence[Action] = ACTIONS,
) -> None:
    for action in actions:
        qaction = qactions.get(action.id)
        if qaction is None:
            continue
        if action.checked is not None:
            qaction.setChecked(action.checked(window))
        if action.entries is not None:
            continue
        reason = reason_not_to_run(action, ctx, ctx.item_for(action.items))
        if qaction.isEnabled() != (reason is None):
            qaction.setEnabled(reason is None)
        _set_tip(qaction, action, reason)


def _set_tip(qaction: QAction, action: Action, reason: str | None) -> None:
    tip = reason or _own_tip(action)
    if qaction.toolTip() != tip:  # menus update often (every selection): touch only changes
        qaction.setToolTip(tip)
        qaction.setStatusTip(reason or action.tip)


_OWN_TIPS: dict[str, str] = {}


def _own_tip(action: Action) -> str:
    """The entry's tooltip when it can act: what it does, and its shortcut."""
    tip = _OWN_TIPS.get(action.id)
    if tip is None:
        tip = action.tip or action.title.replace("&", "").removesuffix("…")
        if action.shortcut:
            keys = QKeySequence(action.shortcut)
            tip = f"{tip} ({keys.toString(QKeySequence.SequenceFormat.NativeText)})"
        _OWN_TIPS[action.id] = tip
    return tip


def _separate(menu: QMenu, last_group: dict[QMenu, str], group: str) -> None:
    if menu in last_group and last_group[menu] != group:
        menu.addSeparator()
    last_group[menu] = group


def _fill_submenu(menu: QMenu, entries: Sequence[tuple[str, Callable[[], Any]]]) -> None:
    menu.clear()
    if not entries:
        menu.addAction("Nothing here yet").setEnabled(False)
        return
    for title, run in entries:
        if not title:
            menu.addSeparator()
        else:
            menu.addAction(title).triggered.connect(lambda _checked=False, r=run: r())

"""The Registry panel's alias moves: Set alias…, Promote, a dropped alias, and the reason a
refused move asks for.

Every move goes through the promotion policy as a job (``registry_jobs.move_alias``); a
``PolicyRefused`` opens ``ReasonDialog`` with the policy's reasons, and a written reason forces
the move (the registry logs it). A mixin of ``RegistryPanel``, which owns the widgets and jobs
it uses (``_jobs``, ``_registry``, ``_model``, ``alias_box``, ``messages``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QInputDialog

from app.core.errors import PolicyRefused
from app.ui.panels.registry_dialogs import ReasonDialog
from app.ui.panels.registry_jobs import move_alias


class RegistryAliasesMixin:
    """Set alias…, Promote and the alias drop of ``RegistryPanel``."""

    # -- operations (the window's menus and context menus call these) -------------------------

    def set_alias(self, name: str, version: int) -> None:
        """Ask which alias to point at ``name@version`` (champion, challenger or any), then
        move it under the promotion policy (a refusal asks for a reason)."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(f"Set alias of {name}@{version}")
        dialog.setLabelText(f"Alias to point at {name}@{version}:")
        dialog.setComboBoxItems(["champion", "challenger"])
        dialog.setComboBoxEditable(True)
        dialog.textValueSelected.connect(
            lambda alias: alias.strip() and self.request_alias(alias.strip(), version, name=name)
        )
        self.alias_dialog = dialog
        dialog.open()

    def promote(self, name: str, version: int) -> None:
        """Make ``name@version`` the champion (the policy decides; a refusal asks why)."""
        self.request_alias("champion", int(version), name=name)

    def request_alias(
        self,
        alias: str,
        version: int,
        *,
        force: bool = False,
        reason: str = "",
        name: str | None = None,
    ) -> None:
        """Move ``alias`` of ``name`` (default: the current model) to ``version`` (the policy
        decides)."""
        name = name or self._model
        if name is None:
            return
        bridge = self._jobs.start(
            move_alias,
            self._registry,
            name,
            alias,
            version,
            force,
            reason,
            name=f"Move {alias}",
            done=lambda _b, moved: self._on_alias_moved(moved, alias),
        )
        bridge.failed.disconnect()
        bridge.failed.connect(
            lambda error, tb: self._on_alias_failed(error, tb, alias, version, name)
        )

    # -- slots ---------------------------------------------------------------------------------

    def _on_versions_alias_dropped(self, alias: str, version: int) -> None:
        self.request_alias(alias, version)

    def _on_alias_button_clicked(self) -> None:
        chosen = self.selected_versions()
        alias = self.alias_box.currentText().strip()
        if len(chosen) == 1 and alias:
            self.request_alias(alias, chosen[0])

    def _on_alias_moved(self, moved: Any, alias: str) -> None:
        self.messages.info(f"{moved.model_name}@{alias} now points at version {moved.version}.")
        self.registry_changed.emit()
        self.refresh()

    def _on_alias_failed(
        self, error: BaseException, tb: str, alias: str, version: int, name: str
    ) -> None:
        if not isinstance(error, PolicyRefused):
            self._on_error(error, tb)
            return
        dialog = ReasonDialog(str(error), self)
        dialog.accepted.connect(
            lambda: self.request_alias(
                alias,
                version,
                force=True,
                reason=dialog.reason.toPlainText().strip(),
                name=name,
            )
        )
        self.reason_dialog = dialog
        dialog.open()

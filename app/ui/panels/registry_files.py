"""The Registry panel's files: export a version (skops or ONNX), save its model card (HTML or
Markdown), import a skops file after asking which of its types to trust.

Each write or read is a job on the runner; the file dialogs open only when no path is given
(the menus and tests pass one). A mixin of ``RegistryPanel``, which owns the widgets and jobs
it uses (``_jobs``, ``_registry``, ``_model``, ``messages``, ``_chosen_ref``, ``refresh``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFileDialog

from app.ui.panels.registry_dialogs import TrustDialog
from app.ui.panels.registry_jobs import call


class RegistryFilesMixin:
    """Export, model card and import of ``RegistryPanel``."""

    # -- operations (the window's menus and context menus call these) -------------------------

    def export_model(self, name: str, version: int, path: str | None = None) -> None:
        self._export("skops", path, ref=f"{name}@{version}")

    def import_model(self, path: str | None = None) -> None:
        self._choose_import(path)

    # -- files ---------------------------------------------------------------------------------

    def _export(self, fmt: str, path: str | None = None, *, ref: str | None = None) -> None:
        ref = ref or self._chosen_ref()
        if ref is None:
            return
        if path is None:
            suffix = "onnx" if fmt == "onnx" else "skops"
            path, _ = QFileDialog.getSaveFileName(
                self, f"Export {ref}", f"{ref.replace('@', '-')}.{suffix}"
            )
            if not path:
                return
        self._jobs.start(
            lambda progress: self._registry.export(ref, path, format=fmt),
            name=f"Export {ref}",
            done=lambda _b, result: self._on_exported(result),
        )

    def _on_exported(self, result: dict[str, Any]) -> None:
        self.last_export = result
        self.messages.info(f"Wrote {result['path']}.")

    def _save_card(self, path: str | None = None) -> None:
        ref = self._chosen_ref()
        if ref is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Save model card",
                f"{ref.replace('@', '-')}.html",
                "HTML (*.html);;Markdown (*.md)",
            )
            if not path:
                return

        def write(progress: Any) -> str:
            from pathlib import Path

            html = path.lower().endswith((".html", ".htm"))
            text = self._registry.card_html(ref) if html else self._registry.card_markdown(ref)
            Path(path).write_text(text, encoding="utf-8")
            return path

        self._jobs.start(
            write, name="Save card", done=lambda _b, p: self.messages.info(f"Wrote {p}.")
        )

    def _choose_import(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import a model file", "", "skops (*.skops)"
            )
            if not path:
                return
        self._jobs.start(
            call,
            self._registry.inspect_file,
            path,
            name="Inspect model file",
            done=lambda _b, info: self._on_inspected(info),
        )

    def _on_inspected(self, info: dict[str, Any]) -> None:
        dialog = TrustDialog(info["path"], info["untrusted_types"], self)
        dialog.name.setText(self._model or "")
        path = info["path"]
        dialog.accepted.connect(
            lambda: self._jobs.start(
                lambda progress: self._registry.import_file(
                    path, dialog.name.text().strip(), trust=dialog.trusted()
                ),
                name="Import model",
                done=lambda _b, v: (self.messages.info(f"Imported as {v.ref}."), self.refresh()),
            )
        )
        self.trust_dialog = dialog
        dialog.open()

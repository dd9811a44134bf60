"""The Deploy panel's "Serve locally" part (a mixin of ``DeployPanel``): start the server of
``modeldesk serve`` as a child process (``deploy_local``), show its URL, test it from the Test
request form, notice when it ends, stop it — every wait in a job, never on the GUI thread.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from typing import Any

from app.ui.job_bridge import JobBridge
from app.ui.panels import deploy_local


class LocalServing:
    """Needs of the panel: ``messages``, ``builder``, ``version_combo``, ``request_edit``,
    ``response_view``, ``latency_label``, ``status``, the local widgets, ``_jobs``,
    ``_local_slot``, ``_watch_slot``, ``_registry``, ``_store_url`` and ``_update_buttons``."""

    local: deploy_local.LocalServer | None

    def serve_locally(self, name: str, version: int) -> JobBridge | None:
        """Start the server of ``modeldesk serve name@version`` as a child process."""
        ref = f"{name}@{version}"
        self._stop_local_now()
        self.messages.clear()
        self.builder.pick(ref)
        self.local_url.setText(f"Starting {ref}…")
        self.serve_button.setEnabled(False)
        bridge = self._local_slot.start(
            deploy_local.start_server,
            ref,
            self._store_url,
            name=f"Serve {ref} locally",
            done=self._on_local_started,
        )
        bridge.progressed.connect(self.builder.show_progress)
        bridge.finished.connect(self._update_buttons)
        if self._registry is not None:
            self._jobs.start(
                deploy_local.input_example,
                self._registry,
                ref,
                name="Input example",
                done=self._on_example_loaded,
            )
        return bridge

    def send_local_test(self) -> JobBridge | None:
        if self.local is None:
            self.messages.warning("Nothing is served locally: press Serve locally first.")
            return None
        try:
            rows = json.loads(self.request_edit.toPlainText() or "[]")
        except ValueError as exc:
            self.messages.error(f"The test request is not JSON: {exc}.")
            return None
        rows = rows if isinstance(rows, list) else [rows]
        return self._jobs.start(
            deploy_local.send_request,
            self.local.url,
            rows,
            name="Test request (local)",
            done=self._on_local_tested,
        )

    def stop_local(self) -> None:
        """Stop the local server (off the GUI thread: terminate, then wait for its end)."""
        server, self.local = self.local, None
        self._local_slot.cancel()
        self._watch_slot.cancel()
        if server is not None:
            self._jobs.start(
                deploy_local.stop_server,
                server,
                name="Stop the local server",
                done=lambda _b, _code: self.local_url.setText("Stopped."),
            )
        self.local_changed.emit(None)
        self._update_buttons()

    def _on_serve_button_clicked(self) -> None:
        ref = self.version_combo.currentText()
        name, _, version = ref.rpartition("@")
        if not name or not version.isdigit():
            self.messages.warning("Pick a model version to serve.")
            return
        self.serve_locally(name, int(version))

    def _on_local_started(self, _bridge: JobBridge, server: deploy_local.LocalServer) -> None:
        self.local = server
        self.local_url.setText(f"{server.ref} at {server.url}")
        self.local_url.setToolTip(f"{server.url}/invocations · {server.url}/v2/models")
        self.status.setText(f"Serving {server.ref} locally at {server.url}")
        self._watch_slot.start(
            deploy_local.watch_server,
            server,
            name=f"Watch the local server of {server.ref}",
            done=lambda _b, code, s=server: self._on_local_ended(s, code),
        )
        self.local_changed.emit(server.url)
        self._update_buttons()

    def _on_local_ended(self, server: deploy_local.LocalServer, code: int) -> None:
        if self.local is not server:
            return  # stopped by us
        self.local = None
        tail = server.log_tail()
        self.messages.warning(
            f"The local server of {server.ref} stopped (exit code {code}).",
            hint="Serve it again.",
            details=tail or None,
        )
        self.local_url.setText("Not serving.")
        self.local_changed.emit(None)
        self._update_buttons()

    def _on_example_loaded(self, _bridge: JobBridge, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.request_edit.setPlainText(json.dumps(rows, indent=1, default=str))

    def _on_local_tested(self, _bridge: JobBridge, answer: deploy_local.LocalAnswer) -> None:
        self.latency_label.setText(f"HTTP {answer.status} in {answer.latency_ms:.1f} ms (local)")
        self.response_view.setPlainText(json.dumps(answer.body, indent=1, default=str))
        self.tested.emit(answer)

    def _on_local_test_button_clicked(self) -> None:
        self.send_local_test()

    def _stop_local_now(self) -> None:
        """Stop the local server without waiting (closing): terminate, reaped by the OS."""
        server, self.local = self.local, None
        if server is not None and server.running:
            server.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):  # ending: told to, not awaited
                server.process.wait(timeout=0.05)

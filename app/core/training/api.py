"""Logging runs from notebooks and scripts into the ModelDesk store.

    from app.core.training.api import start_run

    with start_run(store="~/models/modeldesk.db", name="baseline", params={"C": 1.0}) as run:
        run.log_params({"penalty": "l2"})
        for epoch, loss in enumerate(losses):
            run.log_metric("loss", loss, step=epoch)
        run.log_metrics({"accuracy": 0.91, "f1": 0.88})
        run.log_artifact("confusion.png", Path("confusion.png"))
        run.log_model(fitted_pipeline)        # skops file + SHA-256, like trained runs

The run ends ``finished`` when the block ends, ``failed`` (with the error) when an exception
leaves it — the exception is not swallowed — and ``cancelled`` on Ctrl-C. While it is open a
daemon thread beats its heartbeat (every ``heartbeat`` seconds), so a run that logs nothing
for a long time (a person thinking between cells) is still alive to every other process; on
this host its live process alone keeps it from being failed. If the store cannot take the
end (a full disk), the heartbeat thread keeps trying to write it, and once the process is
gone the next ``modeldesk`` command fails the run with the reason. Such runs show up in
the Runs panel and ``modeldesk runs list`` beside trained ones. ``store`` is a SQLite file
path or any SQLAlchemy URL; None means the default store (``MODELDESK_STORE`` or the user
data folder). Metrics may be buffered (``buffer=True``) and are then written in batches of one
transaction, which is how long loops should log.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from app.core.tracking.liveness import BEAT_EVERY, Heartbeat

if TYPE_CHECKING:
    from app.core.store import Store
    from app.core.tracking import Run, RunArtifact, TrackingService

_FLUSH_AT = 1000  # buffered points written per transaction


class ActiveRun:
    """A run being logged; use as a context manager (``start_run`` returns one)."""

    def __init__(
        self,
        tracking: TrackingService,
        run_id: int,
        *,
        buffer: bool = False,
        own_store: Store | None = None,
        heartbeat: float = BEAT_EVERY,
    ) -> None:
        self.tracking = tracking
        self.id = run_id
        self._buffer: list[tuple[str, float, int, float]] | None = [] if buffer else None
        self._own_store = own_store
        self._ended = False
        self._unwritten_end: tuple[str, str | None] | None = None
        self._lock = threading.Lock()
        self._heartbeat = Heartbeat(self._beat, every=heartbeat, name=f"run-{run_id}-heartbeat")
        self._heartbeat.start()

    # -- logging ---------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.tracking.log_params(self.id, params)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_metrics(self, metrics: Mapping[str, float], *, step: int = 0) -> None:
        now = time.time()
        points = [(k, float(v), int(step), now) for k, v in metrics.items()]
        if self._buffer is None:
            self.tracking.log_batch(self.id, points)
            return
        self._buffer.extend(points)
        if len(self._buffer) >= _FLUSH_AT:
            self.flush()

    def log_metric(self, key: str, value: float, *, step: int = 0) -> None:
        self.log_metrics({key: value}, step=step)

    def flush(self) -> None:
        """Write buffered metric points now (one transaction)."""
        if self._buffer:
            points, self._buffer = self._buffer, []
            self.tracking.log_batch(self.id, points)

    def log_artifact(
        self, name: str, data: bytes | str | Path, *, kind: str = "file"
    ) -> RunArtifact:
        """Store bytes, or the file at a path, under ``name``; returns it with its SHA-256."""
        if isinstance(data, str):
            data = Path(data)
        return self.tracking.log_artifact(self.id, name, data, kind=kind)

    def log_text(self, name: str, text: str) -> RunArtifact:
        return self.tracking.log_artifact(self.id, name, text.encode("utf-8"), kind="file")

    def log_model(self, model: Any, *, name: str = "model.skops") -> RunArtifact:
        """A fitted scikit-learn model as a skops file, with its SHA-256 and trusted types."""
        import json

        from app.core.training import model_io

        data, untrusted = model_io.dump(model)
        art = self.tracking.log_artifact(self.id, name, data, kind="model")
        meta = {
            "format": "skops",
            "sha256": art.sha256,
            "size": art.size,
            "trusted_types": untrusted,
        }
        if name == model_io.MODEL_NAME:
            self.tracking.log_artifact(
                self.id, model_io.META_NAME, json.dumps(meta).encode(), kind="model-meta"
            )
        self.tracking.set_tags(self.id, {"model_sha256": art.sha256})
        return art

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.tracking.set_tags(self.id, tags)

    def set_note(self, note: str) -> None:
        self.tracking.set_note(self.id, note)

    # -- ending ----------------------------------------------------------------------------

    def end(self, status: str = "finished", error: str | None = None) -> None:
        """End the run (once). If the store refuses the end, it is raised here and the
        heartbeat thread keeps trying to write it (a failed flush ends the run failed)."""
        if self._ended:
            return
        self._ended = True
        try:
            if status == "finished":
                self.flush()
        except Exception as exc:
            status, error = "failed", f"Its last metrics could not be written: {exc}"
            self._finish(status, error)
            raise
        self._finish(status, error)

    def _finish(self, status: str, error: str | None) -> None:
        from app.core.errors import Conflict, InvalidInput, NotFound

        try:
            self.tracking.finish(self.id, status, error)
        except (NotFound, Conflict, InvalidInput):
            self._close()  # nothing to retry: the run is gone or cannot take this end
            raise
        except Exception:  # the store could not write it (full, busy, away): try again
            with self._lock:
                self._unwritten_end = (status, error)
            raise
        self._close()

    def _beat(self) -> None:
        """The heartbeat thread's tick: the run's heartbeat, or the end the store refused."""
        with self._lock:
            pending = self._unwritten_end
        if pending is None:
            self.tracking.heartbeat(self.id)
            return
        self.tracking.finish(self.id, *pending)
        with self._lock:
            self._unwritten_end = None
        self._close()

    def _close(self) -> None:
        self._heartbeat.stop()
        if self._own_store is not None:
            self._own_store.dispose()

    def get(self) -> Run:
        return self.tracking.get(self.id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end("finished")
        elif isinstance(exc, KeyboardInterrupt):
            self.end("cancelled", "Interrupted.")
        else:
            # What was logged before the error is still worth keeping; the original error
            # matters more than one in writing the buffer.
            with contextlib.suppress(Exception):
                self.flush()
            with contextlib.suppress(Exception):  # an unwritten end is retried by the beat
                self.end("failed", f"{type(exc).__name__}: {exc}")


def start_run(
    *,
    store: str | Path | None = None,
    tracking: TrackingService | None = None,
    name: str = "",
    experiment: str = "Default",
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    note: str = "",
    seed: int | None = None,
    parent_run_id: int | None = None,
    buffer: bool = False,
    heartbeat: float = BEAT_EVERY,
) -> ActiveRun:
    """Create a run in ``store`` (or through an existing ``tracking`` service) and return it.

    Use it in a ``with`` block, or call ``run.end()`` yourself. ``heartbeat`` is the number of
    seconds between the beats that keep the open run alive.
    """
    own = None
    if tracking is None:
        from app.core.artifacts import ArtifactStore
        from app.core.paths import resolve_store_url
        from app.core.store import Store
        from app.core.tracking import TrackingService

        own = Store(resolve_store_url(str(store) if store is not None else None))
        tracking = TrackingService(own, ArtifactStore(own))
    run_id = tracking.create_run(
        name=name,
        experiment=experiment,
        params=params,
        tags={"source": "api", **dict(tags or {})},
        seed=seed,
        parent_run_id=parent_run_id,
    )
    if note:
        tracking.set_note(run_id, note)
    return ActiveRun(tracking, run_id, buffer=buffer, own_store=own, heartbeat=heartbeat)

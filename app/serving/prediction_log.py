"""The prediction log Monitor reads: JSON Lines, one line per predicted row, rotated by size.

The file being written is ``predictions-current.jsonl``; when it reaches the size cap it is
renamed to ``predictions-YYYYmmddTHHMMSS-<n>.jsonl`` (UTC) and a new current file begins,
so a reader may take every renamed file whole and the current one up to its last newline.
Writes happen on the batcher's post-batch thread, never on the request path, and each batch
is flushed so a reader sees it at once.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import jsonio

CURRENT = "predictions-current.jsonl"


class PredictionLog:
    def __init__(
        self,
        folder: str | Path,
        *,
        model: str,
        version: Any,
        max_bytes: int = 50 * 1024 * 1024,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.version = version
        self.max_bytes = max(1024, int(max_bytes))
        self._lock = threading.Lock()
        self._n = 0
        self._file = open(self.folder / CURRENT, "ab")  # noqa: SIM115 - kept open while serving
        self._size = self._file.tell()

    def write(
        self,
        names: Sequence[str],
        columns: Sequence[Sequence[Any]],
        request_id: str,
        predictions: Sequence[Any],
        proba: Any = None,
        classes: Sequence[Any] | None = None,
    ) -> None:
        """Append one line per row of one request."""
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        head = {"ts": ts, "model": self.model, "version": self.version, "request_id": request_id}
        lines = []
        preds = predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)
        probs = proba.tolist() if proba is not None else None
        for i, prediction in enumerate(preds):
            line = {
                **head,
                "inputs": {n: _safe(col[i]) for n, col in zip(names, columns, strict=True)},
                "prediction": prediction,
            }
            if probs is not None and classes is not None:
                line["proba"] = {str(c): p for c, p in zip(classes, probs[i], strict=True)}
            lines.append(jsonio.dumps(line) + b"\n")
        data = b"".join(lines)
        with self._lock:
            self._file.write(data)
            self._file.flush()
            self._size += len(data)
            if self._size >= self.max_bytes:
                self._rotate()

    def _rotate(self) -> None:
        self._file.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        while True:
            self._n += 1
            target = self.folder / f"predictions-{stamp}-{self._n}.jsonl"
            if not target.exists():
                break
        os.replace(self.folder / CURRENT, target)
        self._file = open(self.folder / CURRENT, "ab")  # noqa: SIM115
        self._size = 0

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()


def _safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

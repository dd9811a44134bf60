"""A progress bar on stderr for long commands, drawn only when stderr is a terminal.

The bar appears at the first report after ``delay`` seconds of work, so a small file scores
or trains without a flash of bar while a large one shows its progress.
"""

from __future__ import annotations

import sys
import time
from typing import Any


class ProgressBar:
    """Implements ``app.core.progress.Progress``; tqdm does the drawing."""

    def __init__(self, label: str, *, delay: float = 0.5) -> None:
        self._label = label
        self._bar: Any = None
        self._terminal = sys.stderr.isatty()
        self._show_at = time.monotonic() + delay

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if not self._terminal:
            return
        if self._bar is None:
            if time.monotonic() < self._show_at:
                return
            from tqdm import tqdm

            self._bar = tqdm(total=100, desc=self._label, unit="%", file=sys.stderr, leave=False)
        if fraction is not None:
            self._bar.n = round(fraction * 100)
        if status:
            self._bar.set_postfix_str(status, refresh=False)
        self._bar.refresh()

    def check_cancelled(self) -> None:
        pass

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

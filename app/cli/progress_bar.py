"""A progress bar on stderr for long commands, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys


class ProgressBar:
    """Implements ``app.core.progress.Progress``; tqdm does the drawing."""

    def __init__(self, label: str) -> None:
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=100, desc=label, unit="%", file=sys.stderr, leave=False)

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        if self._bar is None:
            return
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

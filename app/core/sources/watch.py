"""A watched folder: each new file that appears becomes the next version of a dataset.

watchdog reports created, modified and moved files. A file is taken only once it has been
quiet for ``debounce`` seconds and its size and modification time stayed the same between
two looks (a slow copy keeps touching it, so it is never read half-written). Names that
copy tools use while writing (``.part``, ``.tmp``, ``.crdownload``, hidden files…) are
ignored until renamed. Each file (path, size, mtime) is ingested once; the same content
under a new name is recognised by ``add_file`` and not stored again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput, ModelDeskError

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, IngestResult

log = logging.getLogger(__name__)

PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".swp", "~")
DATA_SUFFIXES = (
    ".csv", ".tsv", ".txt", ".parquet", ".feather", ".arrow", ".json", ".jsonl", ".xlsx",
    ".gz", ".zip",
)  # fmt: skip


def is_partial(path: Path) -> bool:
    name = path.name.lower()
    return name.startswith((".", "~$")) or name.endswith(PARTIAL_SUFFIXES)


@dataclass
class _Pending:
    last_event: float
    size: int = -1
    mtime: float = -1.0


class FolderWatcher:
    """Ingests files appearing in ``folder`` as versions of ``name``; ``start``/``stop``.

    ``on_added(result)`` is called (on the watcher's thread) for each stored file and
    ``on_error(path, error)`` for a file that could not be read.
    """

    def __init__(
        self,
        folder: str | Path,
        name: str,
        datasets: DatasetService,
        *,
        debounce: float = 2.0,
        poll: float = 0.25,
        existing: bool = False,
        on_added: Callable[[IngestResult], None] | None = None,
        on_error: Callable[[Path, Exception], None] | None = None,
    ) -> None:
        from app.core.datasets import validate_name

        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise InvalidInput(f"{self.folder} is not a folder.", hint="Create it or fix the path.")
        self.name = validate_name(name)
        self.datasets = datasets
        self.debounce, self.poll = debounce, poll
        self.on_added, self.on_error = on_added, on_error
        self.added: list[IngestResult] = []
        self._pending: dict[Path, _Pending] = {}
        self._done: set[tuple[str, int, float]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        if existing:
            for path in sorted(self.folder.iterdir()):
                self._seen(path)

    # -- watchdog's thread -----------------------------------------------------------------

    def _seen(self, path: Path) -> None:
        if path.is_dir() or is_partial(path) or not path.name.lower().endswith(DATA_SUFFIXES):
            return
        with self._lock:
            self._pending[path] = _Pending(time.monotonic())

    def _handler(self) -> Any:
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_created(self, event: Any) -> None:
                watcher._seen(Path(event.src_path))

            def on_modified(self, event: Any) -> None:
                watcher._seen(Path(event.src_path))

            def on_moved(self, event: Any) -> None:
                watcher._seen(Path(event.dest_path))

            def on_closed(self, event: Any) -> None:
                watcher._seen(Path(event.src_path))

        return Handler()

    # -- life ------------------------------------------------------------------------------

    def start(self) -> FolderWatcher:
        from watchdog.observers import Observer

        self._observer = Observer()
        self._observer.schedule(self._handler(), str(self.folder), recursive=False)
        self._observer.start()
        self._thread = threading.Thread(target=self._loop, name="folder-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self, count: int, timeout: float) -> bool:
        """Until ``count`` files were added (True) or ``timeout`` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.added) >= count:
                return True
            time.sleep(0.05)
        return len(self.added) >= count

    # -- the debounce loop -----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            self.check()

    def check(self) -> None:
        """Ingest the pending files that are complete (quiet and unchanged)."""
        now = time.monotonic()
        with self._lock:
            quiet = [
                (p, s) for p, s in self._pending.items() if now - s.last_event >= self.debounce
            ]
        for path, state in quiet:
            try:
                stat = path.stat()
            except FileNotFoundError:  # renamed or removed meanwhile
                with self._lock:
                    self._pending.pop(path, None)
                continue
            if (stat.st_size, stat.st_mtime) != (state.size, state.mtime):
                state.size, state.mtime = stat.st_size, stat.st_mtime  # look once more
                continue
            with self._lock:
                self._pending.pop(path, None)
            key = (str(path), stat.st_size, stat.st_mtime)
            if key in self._done or stat.st_size == 0:
                continue
            self._done.add(key)
            self._ingest(path)

    def _ingest(self, path: Path) -> None:
        try:
            result = self.datasets.add_file(path, name=self.name)
        except ModelDeskError as exc:
            log.warning("watched file %s not ingested: %s", path, exc)
            if self.on_error:
                self.on_error(path, exc)
            return
        if result.created:
            self.added.append(result)
            if self.on_added:
                self.on_added(result)

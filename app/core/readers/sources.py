"""Getting at a file's bytes: checked up front, unzipped or decompressed, and read by pyarrow
through a feed that the caller's thread watches, so that every read can report progress and be
cancelled.

* pyarrow reads through a small Python file object (``_Feed``) on a helper thread while the
  calling thread polls (``_run_polled``): it reports bytes consumed and calls
  ``check_cancelled``; on cancel the feed reports end-of-file, pyarrow winds down within a
  block or two and ``Cancelled`` is raised. The feed never raises into pyarrow's I/O threads
  (doing so can leave the interpreter hanging at exit); errors are parked on the feed and
  re-raised on the calling thread.
* Non-UTF-8 text is transcoded to UTF-8 inside the feed instead of through pyarrow's
  ``ReadOptions.encoding`` (which runs the same Python codec but lets a decoding error escape
  from pyarrow's threads).
* Progress and cancellation calls only ever happen on the caller's thread, because the job
  runner's progress objects (a pipe to the parent process) are not thread-safe.

The block size pyarrow reads with lives here because it decides how quickly a cancel lands;
the format modules read it as ``sources._BLOCK_SIZE`` at call time so that one setting (and
one monkeypatch in the tests) governs them all.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import io
import lzma
import stat
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from app.core.errors import InvalidInput
from app.core.progress import Progress
from app.core.readers.formats import SourceInfo

# 4 MiB blocks: on the 1M × 21 benchmark (141 MB, two cores) as fast as pyarrow's 1 MiB
# default; 16 MiB was no faster but let pyarrow read ~100 MB ahead, so a cancel took up to a
# second to land (about 0.1-0.25 s at 4 MiB).
_BLOCK_SIZE = 4 << 20
_SAMPLE_SIZE = 64 << 10
_CHUNK_SIZE = 8 << 20
_POLL_SECONDS = 0.05
_IGNORED_ZIP_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")

T = TypeVar("T")


def _check_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path.name} does not exist.", hint=f"Check the path: {path}") from exc
    except PermissionError as exc:
        raise InvalidInput(
            f"{path.name} cannot be read: permission denied.",
            hint="Check the file's permissions.",
        ) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInput(
            f"{path.name} is a folder, not a file.", hint="Choose the data file inside it."
        )
    if st.st_size == 0:
        raise InvalidInput(
            f"{path.name} is empty (0 bytes).",
            hint="Export or download the data again; this file has no content.",
        )


def _zip_member(path: Path) -> zipfile.ZipInfo:
    """The one data member of a zip; zips of several files are ambiguous, so they are refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path.name} does not exist.", hint=f"Check the path: {path}") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise InvalidInput(
            f"{path.name} is not a readable zip archive ({exc}).",
            hint="The archive is damaged or not a zip file; create or download it again, "
            "or add the data file itself.",
        ) from exc
    members = [
        i
        for i in infos
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and Path(i.filename).name not in _IGNORED_ZIP_NAMES
    ]
    if len(members) != 1:
        listed = ", ".join(i.filename for i in members)
        found = "no files" if not members else f"{len(members)} files ({listed})"
        raise InvalidInput(
            f"{path.name} contains {found}; expected exactly one data file.",
            hint="Zip a single data file, or extract the archive and add the files one by one.",
        )
    member = members[0]
    if member.flag_bits & 0x1:
        raise InvalidInput(
            f"{path.name} is password-protected ({member.filename} is encrypted).",
            hint="Extract the file with its password and add the extracted file.",
        )
    return member


@dataclass
class _Opened:
    stream: BinaryIO
    fraction: Callable[[int], float]  # bytes delivered so far -> share of the file consumed


@contextlib.contextmanager
def _open(path: Path, info: SourceInfo) -> Iterator[_Opened]:
    """The decompressed bytes of ``path`` as a fresh stream; readers may open it repeatedly."""
    if info.compression == "zip":
        with zipfile.ZipFile(path) as archive:
            member = archive.getinfo(info.inner_name)
            total = max(1, member.file_size)
            with archive.open(member) as stream:
                yield _Opened(stream, lambda n: n / total)  # type: ignore[arg-type]
        return
    total = max(1, path.stat().st_size)
    with open(path, "rb", buffering=0) as raw:
        if info.compression is None:
            yield _Opened(raw, lambda n: n / total)
            return
        with _decompressor(info.compression, raw) as stream:
            yield _Opened(stream, lambda _n: raw.tell() / total)


def _decompressor(compression: str, raw: BinaryIO) -> BinaryIO:
    if compression == "gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression == "bz2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _read_all(path: Path, info: SourceInfo, progress: Progress) -> bytes:
    """Whole decompressed content, in chunks so a long decompression can be cancelled."""
    parts: list[bytes] = []
    delivered = 0
    with _open(path, info) as opened:
        while True:
            chunk = opened.stream.read(_CHUNK_SIZE)
            if not chunk:
                break
            parts.append(chunk)
            delivered += len(chunk)
            progress.update(min(0.5, 0.5 * opened.fraction(delivered)), f"Reading {path.name}")
            progress.check_cancelled()
    return b"".join(parts)


def _peek(path: Path, info: SourceInfo, size: int = 64) -> bytes:
    with contextlib.suppress(Exception), _open(path, info) as opened:
        return _read_exactly(opened.stream, size)
    return b""


# -- the feed: pyarrow reads through it, the caller's thread watches it ------------------------


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """cp1252 leaves five bytes undefined; keep them as their Latin-1 characters."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("modeldesk-latin1", _latin1_fallback)


class _Feed(io.RawIOBase):
    """The file object pyarrow reads from: counts bytes, transcodes, and can be stopped.

    It never raises: pyarrow calls it from its I/O threads, and a Python exception escaping
    there can leave the interpreter hanging at exit. Errors are kept in ``error`` and the feed
    reports end-of-file instead; the caller re-raises ``error`` after pyarrow returns.
    """

    def __init__(self, inner: BinaryIO, codec: str | None = None) -> None:
        super().__init__()
        self._inner = inner
        errors = "modeldesk-latin1" if codec == "cp1252" else "replace"
        self._decoder = codecs.getincrementaldecoder(codec)(errors) if codec else None
        self._pending = bytearray()
        self._eof = False
        self._stopped = False
        self.count = 0
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def stop(self) -> None:
        self._stopped = True

    def read(self, size: int | None = -1) -> bytes:
        if self._stopped:
            return b""
        try:
            return self._read(-1 if size is None else size)
        except Exception as exc:
            self.error = exc
            self._stopped = True
            return b""

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        if self._decoder is None:
            data = self._inner.read(size)
            self.count += len(data)
            return data
        while (size < 0 or len(self._pending) < size) and not self._eof:
            raw = self._inner.read(max(size, _SAMPLE_SIZE))
            self.count += len(raw)
            if raw:
                text = self._decoder.decode(raw)
            else:
                self._eof = True
                text = self._decoder.decode(b"", final=True)
            self._pending += text.encode("utf-8")
        if size < 0:
            size = len(self._pending)
        out = bytes(self._pending[:size])
        del self._pending[:size]
        return out


def _run_polled(
    work: Callable[[], T],
    feed: _Feed,
    opened: _Opened,
    progress: Progress,
    status: str,
) -> T:
    """Run ``work`` (a pyarrow read over ``feed``) on a helper thread, reporting and cancelling
    from this one."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="modeldesk-reader", daemon=True)
    worker.start()
    try:
        while True:
            worker.join(_POLL_SECONDS)
            if not worker.is_alive():
                break
            progress.update(min(0.99, opened.fraction(feed.count)), status)
            progress.check_cancelled()
    except BaseException:
        feed.stop()
        worker.join()
        raise
    if feed.error is not None:
        raise feed.error
    if "error" in box:
        raise box["error"]
    progress.check_cancelled()
    return box["value"]

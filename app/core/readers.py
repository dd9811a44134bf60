"""Turning the file a user dropped into a ``pyarrow.Table``.

People drop whatever their tools exported: CSV with a BOM or in cp1252 from Excel, semicolons
from a French locale, a ``.csv.gz`` from a server, a zip from a mail attachment, Parquet from a
colleague. Reading must just work for all of those, be as fast as pyarrow itself on the big
ones, stop when the user cancels, and when it cannot work, say which file, which line or column,
and what to do — never a raw pyarrow or pandas traceback.

Design choices:

* All parsing is done by pyarrow (``pyarrow.csv``, ``pyarrow.parquet``, ``pyarrow.ipc``,
  ``pyarrow.json``) or, where pyarrow has no reader, by pandas + openpyxl (Excel) and the stdlib
  ``json`` module (single-document JSON). Only small head samples are looked at in Python, to
  sniff the encoding and delimiter.
* Delimited text is read with the multi-threaded ``pyarrow.csv.read_csv`` rather than the
  streaming ``open_csv``: the streaming reader was about 2× slower on the 1M × 21 benchmark file
  and, unlike ``read_csv``, fails when a column's type changes after the first block. To keep
  progress and cancellation, pyarrow reads through a small Python file object (``_Feed``) while
  the calling thread polls: it reports bytes consumed and calls ``check_cancelled``; on cancel
  the feed reports end-of-file, pyarrow winds down within a block or two and ``Cancelled`` is
  raised. The feed never raises into pyarrow's I/O threads (doing so can leave the interpreter
  hanging at exit); errors are parked on the feed and re-raised on the calling thread.
* Non-UTF-8 text is transcoded to UTF-8 inside the feed instead of through pyarrow's
  ``ReadOptions.encoding`` (which runs the same Python codec but lets a decoding error escape
  from pyarrow's threads).
* Progress and cancellation calls only ever happen on the caller's thread, because the job
  runner's progress objects (a pipe to the parent process) are not thread-safe.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import gzip
import io
import json
import lzma
import math
import re
import stat
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from app.core.errors import InvalidInput, ModelDeskError
from app.core.progress import NullProgress, Progress, SubProgress

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "COMPRESSIONS",
    "SUPPORTED",
    "ReadResult",
    "SourceInfo",
    "detect",
    "list_sheets",
    "read_table",
]

SUPPORTED = (
    ".csv", ".tsv", ".tab", ".txt", ".psv",
    ".parquet", ".pq",
    ".feather", ".arrow", ".ipc",
    ".xlsx",
    ".json", ".jsonl", ".ndjson",
)  # fmt: skip
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip")

_FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".txt": "csv", ".psv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".feather": "feather", ".arrow": "feather", ".ipc": "feather",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
}  # fmt: skip
_LABELS = {
    "csv": "delimited text (CSV)",
    "parquet": "Parquet",
    "feather": "Feather/Arrow IPC",
    "xlsx": "Excel workbook",
    "json": "JSON",
    "jsonl": "JSON Lines",
}
_FORMAT_HINTS = {
    ".xls": "Old .xls workbooks are not supported; save it as .xlsx in Excel and add that.",
    ".xlsm": "Save the workbook as a plain .xlsx (without macros) and add that.",
    ".tar": "Extract the archive and add the data file itself.",
    ".7z": "Extract the archive and add the data file itself.",
    ".rar": "Extract the archive and add the data file itself.",
}

# 4 MiB blocks: on the 1M × 21 benchmark (141 MB, two cores) as fast as pyarrow's 1 MiB
# default; 16 MiB was no faster but let pyarrow read ~100 MB ahead, so a cancel took up to a
# second to land (about 0.1-0.25 s at 4 MiB).
_BLOCK_SIZE = 4 << 20
_MAX_BLOCK_SIZE = 1 << 30
_SAMPLE_SIZE = 64 << 10
_MAX_SAMPLE_SIZE = 1 << 20
_CHUNK_SIZE = 8 << 20
_POLL_SECONDS = 0.05
_DELIMITERS = ",\t;|"
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_MAX_REPORTED_ROWS = 5
_IGNORED_ZIP_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")

_RAGGED = re.compile(r"Expected (\d+) columns?, got (\d+)")
_CONVERSION = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to ([\w\[\], ]+?): "
    r"invalid value '(.*)'",
    re.DOTALL,
)
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_DECIMAL_POINT = re.compile(r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?")
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")

_MAGIC: tuple[tuple[bytes, str, str | None], ...] = (
    (b"PAR1", "a Parquet file", "parquet"),
    (b"ARROW1", "an Arrow/Feather file", "feather"),
    (b"FEA1", "a Feather file", "feather"),
    (b"PK\x03\x04", "a zip archive (or an .xlsx workbook)", "xlsx"),
    (b"PK\x05\x06", "an empty zip archive", None),
    (b"\x1f\x8b", "a gzip-compressed file", None),
    (b"\xfd7zXZ\x00", "an xz-compressed file", None),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"GIF8", "a GIF image", None),
    (b"%PDF", "a PDF document", None),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (such as .xls)", None),
    (b"SQLite format 3\x00", "an SQLite database", None),
)

T = TypeVar("T")


@dataclass(frozen=True)
class SourceInfo:
    """What a path holds, decided from its name alone (plus the member list for a zip)."""

    path: Path
    format: str  # 'csv' | 'parquet' | 'feather' | 'xlsx' | 'json' | 'jsonl'
    compression: str | None  # 'gz' | 'bz2' | 'xz' | 'zip' | None
    inner_name: str  # file name after stripping compression (zip member name for zip)


@dataclass(frozen=True)
class ReadResult:
    """The table plus what was sniffed, so a dataset version can record how it was read."""

    table: pa.Table
    info: SourceInfo
    options: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable


# -- public API ------------------------------------------------------------------------------


def detect(path: str | Path) -> SourceInfo:
    """Decide format and compression before touching the data, so the UI can refuse early.

    Only a zip is opened (its member list decides the format); other files need not exist yet.
    """
    path = Path(path)
    name = path.name
    suffix = Path(name).suffix.lower()
    compression: str | None = None
    inner = name
    if suffix in COMPRESSIONS:
        compression = suffix[1:]
        inner = _zip_member(path).filename if compression == "zip" else name[: -len(suffix)]
    inner_suffix = Path(inner).suffix.lower()
    fmt = _FORMATS.get(inner_suffix)
    if fmt is None:
        raise _unsupported(name, inner, inner_suffix, compression)
    return SourceInfo(path=path, format=fmt, compression=compression, inner_name=inner)


def list_sheets(path: str | Path) -> list[str]:
    """Sheet names of an Excel workbook (also compressed), so the UI can offer a choice.

    Returns ``[]`` for every other format: they hold exactly one table.
    """
    path = Path(path)
    info = detect(path)
    if info.format != "xlsx":
        return []
    _check_file(path)
    try:
        import openpyxl

        with _excel_source(path, info, NullProgress()) as source:
            book = openpyxl.load_workbook(source, read_only=True, data_only=True)
            try:
                return list(book.sheetnames)
            finally:
                book.close()
    except ModelDeskError:
        raise
    except Exception as exc:
        raise _translate(exc, path, info) from exc


def read_table(
    path: str | Path, *, sheet: str | None = None, progress: Progress | None = None
) -> ReadResult:
    """Read one data file into a ``pyarrow.Table`` with pyarrow's own type inference.

    Every failure the user can fix is an ``InvalidInput`` naming the file (and line, row or
    column where that applies); ``Cancelled`` from ``progress`` propagates unchanged.
    """
    progress = progress or NullProgress()
    path = Path(path)
    info = detect(path)
    if sheet is not None and info.format != "xlsx":
        raise InvalidInput(
            f"{path.name} is not an Excel workbook, so it has no sheet '{sheet}'.",
            hint="Only choose a sheet for .xlsx files.",
        )
    _check_file(path)
    progress.update(0.0, f"Reading {path.name}")
    progress.check_cancelled()
    reader = _READERS[info.format]
    try:
        table, options = reader(path, info, sheet, progress)
    except ModelDeskError:
        raise
    except Exception as exc:
        raise _translate(exc, path, info) from exc
    table, dropped = _checked(table, path, info)
    if dropped:
        options = {**options, "dropped_empty_columns": dropped}
    progress.update(1.0, f"Read {table.num_rows:,} rows from {path.name}")
    return ReadResult(table=table, info=info, options=options)


# -- opening files ---------------------------------------------------------------------------


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


# -- delimited text --------------------------------------------------------------------------


@dataclass
class _CsvPlan:
    label: str  # encoding as reported in options
    codec: str | None  # codec the feed transcodes from; None when pyarrow reads it as UTF-8
    delimiter: str
    newlines_in_values: bool
    header: list[str]
    decimal_point: str = "."
    column_types: dict[str, Any] = field(default_factory=dict)
    block_size: int = 0


def _head(path: Path, info: SourceInfo) -> tuple[bytes, bool]:
    """The first bytes (at least one full line if possible) and whether that is everything."""
    with _open(path, info) as opened:
        head = _read_exactly(opened.stream, _SAMPLE_SIZE)
        while len(head) < _MAX_SAMPLE_SIZE and b"\n" not in head and b"\r" not in head:
            more = _read_exactly(opened.stream, len(head))
            if not more:
                return head, True
            head += more
        complete = len(head) < _SAMPLE_SIZE or not opened.stream.read(1)
    return head, complete


def _sniff_encoding(head: bytes, complete: bool) -> tuple[str, str | None]:
    """(label, codec): UTF-8 needs no transcoding (pyarrow skips a UTF-8 BOM itself)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", "utf-32"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", "utf-16"
    probe = head[:4096]
    if len(probe) >= 4:
        even, odd = probe[0::2], probe[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le", "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be", "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", None
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", "latin-1"
    return "cp1252", "cp1252"


def _decode_head(head: bytes, label: str) -> str:
    codec = {"utf-8": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(label, label)
    if label in ("utf-16-le", "utf-16-be") and not head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        codec = label
    return head.decode(codec, errors="replace")


def _looks_like(head: bytes) -> tuple[str, str | None] | None:
    """(description, format) of well-known binary signatures, for helpful messages."""
    for magic, description, fmt in _MAGIC:
        if head.startswith(magic):
            return description, fmt
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "a bzip2-compressed file", None
    return None


def _is_binary(head: bytes, text: str, label: str) -> bool:
    if not label.startswith(("utf-16", "utf-32")) and b"\x00" in head:
        return True
    sample = text[:8192]
    controls = sum(
        1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0
    )
    return controls * 100 > len(sample)


def _records(sample: str, delimiter: str, complete: bool) -> list[list[str]]:
    try:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
    except csv.Error:
        return []
    if not complete and len(rows) > 1:
        rows.pop()  # probably cut in the middle
    return rows


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    """(share of data rows with the header's field count, header field count)."""
    if not rows:
        return 0.0, 0
    width = len(rows[0])
    data = rows[1:]
    share = 1.0 if not data else sum(len(r) == width for r in data) / len(data)
    return share, width


def _sniff_delimiter(text: str, inner_name: str, complete: bool) -> str:
    suffix = Path(inner_name).suffix.lower()
    if suffix in (".tsv", ".tab"):
        return "\t"
    if suffix == ".psv":
        return "|"
    lines = text.splitlines(keepends=True)
    sample = "".join(lines[:200])
    scores = {d: _consistency(_records(sample, d, complete)) for d in _DELIMITERS}
    try:
        guess: str | None = csv.Sniffer().sniff("".join(lines[:50]), _DELIMITERS).delimiter
    except csv.Error:
        guess = None
    if guess in scores and scores[guess][1] > 1 and scores[guess][0] >= 0.9:
        return guess
    best = max(_DELIMITERS, key=lambda d: (scores[d][1] > 1, scores[d][0], scores[d][1]))
    return best if scores[best][1] > 1 else ","


def _plan_csv(path: Path, info: SourceInfo) -> _CsvPlan:
    head, complete = _head(path, info)
    label, codec = _sniff_encoding(head, complete)
    text = _decode_head(head, label)
    if not text.strip():
        raise InvalidInput(
            f"{path.name} contains no data (only blank space).",
            hint="Export the data again; the file has no header and no rows.",
        )
    looks = _looks_like(head)
    if looks is not None or _is_binary(head, text, label):
        what = looks[0] if looks else "binary data"
        raise InvalidInput(
            f"{path.name} is not delimited text; it looks like {what}.",
            hint="Choose the CSV export of the data, or give the file its real extension "
            f"(supported: {', '.join(SUPPORTED)}).",
        )
    delimiter = _sniff_delimiter(text, info.inner_name, complete)
    rows = _records(text, delimiter, complete)
    header = rows[0] if rows else []
    newlines = any("\n" in value or "\r" in value for row in rows for value in row)
    return _CsvPlan(
        label,
        codec,
        delimiter,
        newlines,
        header,
        decimal_point=_sniff_decimal_point(rows[1:], delimiter),
        block_size=_BLOCK_SIZE,
    )


def _sniff_decimal_point(rows: list[list[str]], delimiter: str) -> str:
    """',' for the semicolon/tab exports of comma-decimal locales ("1,5;2,25"), else '.'.

    Only when the head has comma decimals and no point decimals, so a file that mixes them
    keeps its text as text.
    """
    if delimiter == ",":
        return "."
    cells = [value.strip() for row in rows for value in row]
    if any(_DECIMAL_COMMA.fullmatch(v) for v in cells) and not any(
        _DECIMAL_POINT.fullmatch(v) for v in cells
    ):
        return ","
    return "."


def _csv_pass(
    path: Path,
    info: SourceInfo,
    plan: _CsvPlan,
    progress: Progress,
    *,
    invalid_row_handler: Callable[[Any], str] | None = None,
) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    read_options = pacsv.ReadOptions(
        use_threads=invalid_row_handler is None, block_size=plan.block_size
    )
    parse_options = pacsv.ParseOptions(
        delimiter=plan.delimiter,
        newlines_in_values=plan.newlines_in_values,
        # Empty lines count as rows while hunting for bad rows, so row numbers are line numbers.
        ignore_empty_lines=invalid_row_handler is None,
        invalid_row_handler=invalid_row_handler,
    )
    convert_options = pacsv.ConvertOptions(
        strings_can_be_null=True,
        column_types=plan.column_types or None,
        decimal_point=plan.decimal_point,
    )
    with _open(path, info) as opened:
        feed = _Feed(opened.stream, plan.codec)
        source = pa.PythonFile(feed, mode="r")
        return _run_polled(
            lambda: pacsv.read_csv(
                source,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            ),
            feed,
            opened,
            progress,
            f"Reading {path.name}",
        )


def _read_csv(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow as pa

    plan = _plan_csv(path, info)
    for _attempt in range(4 + 2 * max(1, len(plan.header))):
        try:
            table = _csv_pass(path, info, plan, progress)
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "invalid UTF8" in message and plan.codec is None:
                plan.label, plan.codec = "cp1252", "cp1252"
                continue
            if "straddl" in message and plan.block_size < _MAX_BLOCK_SIZE:
                plan.block_size *= 4
                continue
            if "Empty CSV file" in message:
                raise InvalidInput(
                    f"{path.name} contains no data.",
                    hint="Export the data again; the file has no header and no rows.",
                ) from exc
            if _RAGGED.search(message) or "out of sync with chunker" in message:
                if not plan.newlines_in_values:
                    # A quoted value with a line break beyond the sniffed head looks ragged.
                    plan.newlines_in_values = True
                    continue
                raise _ragged_error(path, info, plan, progress, message) from exc
            conversion = _CONVERSION.search(message)
            if conversion and _widen(plan, conversion):
                continue
            raise
        if plan.codec is None and any(pa.types.is_binary(t) for t in table.schema.types):
            # Valid UTF-8 in the head, other bytes further down: an 8-bit export.
            plan.label, plan.codec = "cp1252", "cp1252"
            continue
        options = {
            "delimiter": plan.delimiter,
            "encoding": plan.label,
            "newlines_in_values": plan.newlines_in_values,
            "decimal_point": plan.decimal_point,
        }
        if plan.column_types:
            options["column_types"] = {k: str(v) for k, v in plan.column_types.items()}
        return table, options
    raise InvalidInput(
        f"{path.name} could not be read: the column types kept changing.",
        hint="Check that every column holds one kind of value.",
    )


def _widen(plan: _CsvPlan, match: re.Match[str]) -> bool:
    """After a type change below the first block (older pyarrow): ints become floats if the
    new value is a number, anything else becomes text. False if there is nothing left to try."""
    import pyarrow as pa

    index, target, value = int(match.group(1)), match.group(2), match.group(3)
    if index >= len(plan.header):
        return False
    name = plan.header[index]
    current = plan.column_types.get(name)
    if current == pa.string():
        return False
    numeric = True
    try:
        float(value)
    except ValueError:
        numeric = False
    if target.startswith(("int", "uint")) and numeric and current is None:
        plan.column_types[name] = pa.float64()
    else:
        plan.column_types[name] = pa.string()
    return True


def _ragged_error(
    path: Path, info: SourceInfo, plan: _CsvPlan, progress: Progress, message: str
) -> InvalidInput:
    """Re-read single-threaded (pyarrow only numbers rows then) to name the first bad rows."""
    import pyarrow as pa

    bad: list[tuple[int | None, int, int, str]] = []

    def handler(row: Any) -> str:
        if row.actual_columns == 1 and not row.text.strip():
            return "skip"  # an empty line, counted so that numbers stay line numbers
        bad.append((row.number, row.actual_columns, row.expected_columns, row.text))
        return "skip" if len(bad) < _MAX_REPORTED_ROWS else "error"

    with contextlib.suppress(pa.ArrowInvalid):
        _csv_pass(path, info, plan, progress, invalid_row_handler=handler)
    delimiter = _DELIMITER_NAMES.get(plan.delimiter, repr(plan.delimiter))
    if not bad:
        return InvalidInput(
            f"{path.name} has rows with the wrong number of fields: {message}",
            hint=f"Every row needs as many {delimiter}-separated fields as the header.",
        )
    parts = []
    for number, actual, expected, text in bad:
        where = f"Row at line {number}" if number is not None and number > 0 else f"Row {text!r}"
        parts.append(f"{where} has {actual} fields, expected {expected}")
    more = " (and possibly more)" if len(bad) >= _MAX_REPORTED_ROWS else ""
    expected = bad[0][2]
    return InvalidInput(
        f"{path.name} has rows with the wrong number of fields: {'; '.join(parts)}{more}.",
        hint=f"Every row needs {expected} {delimiter}-separated fields like the header. Fix "
        f"those lines, or put values that contain a {delimiter} in double quotes.",
    )


# -- Parquet, Feather / Arrow IPC ------------------------------------------------------------


def _read_parquet(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source: Any = str(path)
    if info.compression is not None:
        source = pa.BufferReader(_read_all(path, info, progress))
        progress = SubProgress(progress, 0.5, 1.0)  # decompressing was the first half
    parquet = pq.ParquetFile(source)
    groups = parquet.num_row_groups
    if groups <= 1:
        table = parquet.read(use_threads=True)
    else:
        step = max(1, groups // 20)
        parts = []
        for start in range(0, groups, step):
            progress.check_cancelled()
            parts.append(parquet.read_row_groups(range(start, min(groups, start + step))))
            progress.update(min(1.0, (start + step) / groups), f"Reading {path.name}")
        table = pa.concat_tables(parts)
    progress.check_cancelled()
    names = table.column_names
    dropped = [i for i, n in enumerate(names) if _PANDAS_INDEX.fullmatch(n)]
    if dropped:  # pandas' unnamed index: not data
        table = table.drop_columns([names[i] for i in dropped])
    return table, {"row_groups": groups}


def _read_feather(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc

    data = None
    if info.compression is not None:
        data = _read_all(path, info, progress)
        progress = SubProgress(progress, 0.5, 1.0)  # decompressing was the first half

    def source() -> Any:
        # Read into memory rather than memory-map: a mapped file that shrinks under us would
        # crash the process with SIGBUS instead of raising.
        return pa.BufferReader(data) if data is not None else pa.OSFile(str(path))

    with source() as f:
        magic = f.read(8)
    status = f"Reading {path.name}"
    if magic.startswith(b"ARROW1"):
        with source() as f:
            reader = ipc.open_file(f)
            count = reader.num_record_batches
            batches = []
            for i in range(count):
                progress.check_cancelled()
                batches.append(reader.get_batch(i))
                progress.update((i + 1) / count, status)
            return pa.Table.from_batches(batches, schema=reader.schema), {"ipc": "file"}
    if magic.startswith(b"FEA1"):
        with source() as f, warnings.catch_warnings():
            # pyarrow deprecates writing V1; reading people's old files is still our job.
            warnings.simplefilter("ignore", DeprecationWarning)
            return feather.read_table(f), {"ipc": "feather-v1"}
    with source() as f:
        reader = ipc.open_stream(f)
        batches = []
        for batch in reader:
            progress.check_cancelled()
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=reader.schema), {"ipc": "stream"}


# -- Excel -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _excel_source(path: Path, info: SourceInfo, progress: Progress) -> Iterator[Any]:
    if info.compression is None:
        yield str(path)
    else:
        yield io.BytesIO(_read_all(path, info, progress))


def _read_xlsx(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pandas as pd
    from openpyxl.utils import get_column_letter

    with (
        _excel_source(path, info, progress) as source,
        pd.ExcelFile(source, engine="openpyxl") as book,
    ):
        sheets = [str(s) for s in book.sheet_names]
        chosen = sheets[0] if sheet is None else sheet
        if chosen not in sheets:
            raise InvalidInput(
                f"{path.name} has no sheet named '{sheet}'.",
                hint=f"Choose one of its sheets: {', '.join(sheets)}.",
            )
        header = _excel_header(book.book[chosen])
        progress.update(0.1, f"Reading sheet '{chosen}' of {path.name}")
        frame = pd.read_excel(book, sheet_name=chosen)
    progress.check_cancelled()
    if frame.shape[1] == 0:
        raise InvalidInput(
            f"Sheet '{chosen}' of {path.name} is empty.",
            hint="Choose the sheet that holds the data.",
        )
    width = frame.shape[1]
    raw = (list(header) + [None] * width)[:width]
    blank = [i for i, v in enumerate(raw) if v is None or not str(v).strip()]
    # A column with neither a name nor any value is formatting residue, not data.
    empty = {i for i in blank if frame.iloc[:, i].isna().all()}
    keep = [i for i in range(width) if i not in empty]
    frame = frame.iloc[:, keep]
    names = ["" if raw[i] is None else str(raw[i]) for i in keep]
    unnamed = [f"{get_column_letter(i + 1)}" for i in keep if i in blank]
    if unnamed:
        raise InvalidInput(
            f"Sheet '{chosen}' of {path.name}: column{'s' if len(unnamed) > 1 else ''} "
            f"{_join(unnamed)} {'have' if len(unnamed) > 1 else 'has'} values but no name "
            "in the header row.",
            hint="Type a name for every column in the first row of the sheet.",
        )
    letters = {
        n: [get_column_letter(i + 1) for i, m in zip(keep, names, strict=True) if m == n]
        for n in names
    }
    dup = {n: ls for n, ls in letters.items() if len(ls) > 1}
    if dup:
        described = "; ".join(f"'{n}' (columns {_join(ls)})" for n, ls in dup.items())
        raise InvalidInput(
            f"Sheet '{chosen}' of {path.name} repeats column names: {described}.",
            hint="Give every column a unique name in the header row.",
        )
    frame.columns = names
    return _frame_to_table(frame), {"sheet": chosen}


def _excel_header(worksheet: Any) -> tuple[Any, ...]:
    """The first non-empty row, the one pandas takes as header (it skips blank rows)."""
    for row in worksheet.iter_rows(values_only=True):
        if any(v is not None and str(v).strip() for v in row):
            return tuple(row)
    return ()


def _frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """pandas -> Arrow with pyarrow's types; a column of mixed Python types becomes text."""
    import pandas as pd
    import pyarrow as pa

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if series.dtype != object:
            continue
        try:
            pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            frame.isetitem(
                position,
                pd.Series(
                    [None if _is_missing(v) else str(v) for v in series],
                    index=series.index,
                    dtype=object,
                ),
            )
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    return _narrow_strings(table)


def _is_missing(value: Any) -> bool:
    import pandas as pd

    if isinstance(value, float):
        return math.isnan(value)
    return value is None or value is pd.NaT or value is pd.NA


def _narrow_strings(table: pa.Table) -> pa.Table:
    """pandas yields large_string; the CSV reader yields string. One type downstream."""
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_large_string(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


# -- JSON ------------------------------------------------------------------------------------


def _read_json(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    raw = _read_all(path, info, progress)
    encoding = "utf-8"
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            document = json.loads(raw.decode("cp1252", errors="modeldesk-latin1"))
        except json.JSONDecodeError as exc:
            raise _json_syntax_error(path, exc) from exc
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            # Several documents one after another: JSON Lines with a .json name.
            table = _json_lines_table(raw, path)
            return table, {"orient": "lines"}
        raise _json_syntax_error(path, exc) from exc
    progress.check_cancelled()
    orient, columns = _json_columns(document, path)
    options: dict[str, Any] = {"orient": orient}
    if encoding != "utf-8":
        options["encoding"] = encoding
    return _columns_table(columns), options


def _json_syntax_error(path: Path, exc: json.JSONDecodeError) -> InvalidInput:
    return InvalidInput(
        f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
        hint="Fix the file at that position, or export the data again.",
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _json_columns(document: Any, path: Path) -> tuple[str, dict[str, list[Any]]]:
    """Records, columns (dict of dicts or of lists) and pandas' split/table layouts."""
    shapes = (
        'an array of records ([{"col": 1, ...}, ...]) or an object of columns '
        '({"col": [1, ...]} or {"col": {"0": 1, ...}})'
    )
    if isinstance(document, list):
        for i, item in enumerate(document):
            if not isinstance(item, dict):
                raise InvalidInput(
                    f"{path.name} is not a table: item {i + 1} of its top-level array is "
                    f"{_kind(item)}, not a record (an object).",
                    hint=f"A JSON table must be {shapes}.",
                )
        return "records", _records_to_columns(document)
    if isinstance(document, dict) and document:
        values = list(document.values())
        if set(document) >= {"columns", "data"} and isinstance(document["data"], list):
            data, names = document["data"], document["columns"]
            if isinstance(names, list) and all(isinstance(r, list) for r in data):
                if any(len(r) != len(names) for r in data):
                    raise InvalidInput(
                        f"{path.name} ('split' layout) has rows whose length differs from "
                        f"its {len(names)} columns.",
                        hint="Every row in 'data' needs one value per column.",
                    )
                return "split", {str(n): [r[i] for r in data] for i, n in enumerate(names)}
        if (
            "schema" in document
            and isinstance(document.get("data"), list)
            and all(isinstance(r, dict) for r in document["data"])
        ):
            return "table", _records_to_columns(document["data"])
        if all(isinstance(v, dict) for v in values):
            index = dict.fromkeys(k for column in values for k in column)
            return "columns", {k: [c.get(i) for i in index] for k, c in document.items()}
        if all(isinstance(v, list) for v in values):
            lengths = {k: len(v) for k, v in document.items()}
            if len(set(lengths.values())) > 1:
                described = ", ".join(f"'{k}' has {n}" for k, n in lengths.items())
                raise InvalidInput(
                    f"{path.name}: the columns have different lengths ({described}).",
                    hint="Every column needs one value per row.",
                )
            return "columns", dict(document)
        odd = next(k for k, v in document.items() if not isinstance(v, dict | list))
        raise InvalidInput(
            f"{path.name} is JSON but not a table: the value of '{odd}' is "
            f"{_kind(document[odd])}, not a column.",
            hint=f"A JSON table must be {shapes}.",
        )
    found = "an empty object" if isinstance(document, dict) else _kind(document)
    raise InvalidInput(
        f"{path.name} is JSON but not a table: it holds {found}.",
        hint=f"A JSON table must be {shapes}.",
    )


def _records_to_columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = dict.fromkeys(k for record in records for k in record)
    return {k: [record.get(k) for record in records] for k in keys}


def _columns_table(columns: dict[str, list[Any]]) -> pa.Table:
    import pyarrow as pa

    arrays = [_json_array(values) for values in columns.values()]
    return pa.Table.from_arrays(arrays, names=[str(k) for k in columns])


def _json_array(values: list[Any]) -> pa.Array:
    """pyarrow's inference (ints with nulls stay ints); mixed kinds become text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return pa.array(
            [
                v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                for v in values
            ],
            type=pa.string(),
        )


def _read_jsonl(
    path: Path, info: SourceInfo, sheet: str | None, progress: Progress
) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.json as pajson

    read_options = pajson.ReadOptions(use_threads=True, block_size=_BLOCK_SIZE)
    parse_options = pajson.ParseOptions(unexpected_field_behavior="infer")
    try:
        with _open(path, info) as opened:
            feed = _Feed(opened.stream)
            source = pa.PythonFile(feed, mode="r")
            table = _run_polled(
                lambda: pajson.read_json(
                    source, read_options=read_options, parse_options=parse_options
                ),
                feed,
                opened,
                progress,
                f"Reading {path.name}",
            )
    except pa.ArrowInvalid:
        # A type that changes between lines, a BOM, or a broken line: the line-by-line path
        # copes with the first two and names the line of the third.
        table = _json_lines_table(_read_all(path, info, progress), path)
    return table, {"orient": "lines"}


def _json_lines_table(raw: bytes, path: Path) -> pa.Table:
    records = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
            raise InvalidInput(
                f"Line {number} of {path.name} is not valid JSON: {reason}.",
                hint="JSON Lines needs one complete JSON object per line; fix that line.",
            ) from exc
        if not isinstance(record, dict):
            raise InvalidInput(
                f"Line {number} of {path.name} is {_kind(record)}, not a JSON object.",
                hint='JSON Lines needs one object per line, like {"col": 1}.',
            )
        records.append(record)
    return _columns_table(_records_to_columns(records))


# -- checks and messages ---------------------------------------------------------------------

_READERS: dict[
    str, Callable[[Path, SourceInfo, str | None, Progress], tuple[Any, dict[str, Any]]]
] = {
    "csv": _read_csv,
    "parquet": _read_parquet,
    "feather": _read_feather,
    "xlsx": _read_xlsx,
    "json": _read_json,
    "jsonl": _read_jsonl,
}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _checked(table: pa.Table, path: Path, info: SourceInfo) -> tuple[pa.Table, list[int]]:
    """Names later steps can rely on (unique, non-blank text) and at least one row.

    A column with neither a name nor a single value (a trailing delimiter on every line) is
    dropped rather than refused: there is nothing in it to name. Returns the table and the
    1-based positions of the columns dropped.
    """
    names = [str(n) for n in table.column_names]
    if names != table.column_names:
        table = table.rename_columns(names)
    empty = [
        i
        for i, n in enumerate(names)
        if not n.strip() and table.num_rows and table.column(i).null_count == table.num_rows
    ]
    keep = [i for i in range(len(names)) if i not in set(empty)]
    if empty:
        table = table.select(keep)
    header = "the header row" if info.format in ("csv", "xlsx") else "the file"
    blank = [str(i + 1) for i in keep if not names[i].strip()]
    if blank:
        plural = len(blank) > 1
        raise InvalidInput(
            f"{path.name}: column{'s' if plural else ''} {_join(blank)} "
            f"{'have' if plural else 'has'} no name in {header}.",
            hint="Give every column a name. If the first column is an unnamed row index "
            "(as pandas writes by default), name it (for example 'id') or remove it.",
        )
    positions: dict[str, list[str]] = {}
    for i in keep:
        positions.setdefault(names[i], []).append(str(i + 1))
    dup = {n: p for n, p in positions.items() if len(p) > 1}
    if dup:
        described = "; ".join(f"'{n}' (columns {_join(p)})" for n, p in dup.items())
        raise InvalidInput(
            f"{path.name} repeats column names: {described}.",
            hint="Give every column a unique name in " + header + ".",
        )
    if table.num_rows == 0:
        if info.format == "csv":
            raise InvalidInput(
                f"{path.name} has a header row but no data rows.",
                hint="Add at least one row of data below the header.",
            )
        raise InvalidInput(f"{path.name} has no data rows.", hint="Add rows and try again.")
    return table, [i + 1 for i in empty]


def _unsupported(name: str, inner: str, suffix: str, compression: str | None) -> InvalidInput:
    supported = ", ".join(SUPPORTED)
    hint = (
        f"Supported files: {supported}; each may also be compressed as .gz, .bz2 or .xz, "
        "or be the only file in a .zip."
    )
    if suffix in _FORMAT_HINTS:
        hint = f"{_FORMAT_HINTS[suffix]} {hint}"
    if compression == "zip":
        return InvalidInput(
            f"{name} contains {inner}, which is not a supported data file.", hint=hint
        )
    if compression is not None and not suffix:
        return InvalidInput(
            f"{name} is compressed, but its name does not say what is inside.",
            hint=f"Name it after the file inside, such as data.csv.{compression}. {hint}",
        )
    shown = f"'{suffix}'" if suffix else "no extension"
    return InvalidInput(f"{name} is not a supported data file ({shown}).", hint=hint)


def _translate(exc: Exception, path: Path, info: SourceInfo) -> InvalidInput:
    """Any library error as a sentence about the user's file; the original stays as cause."""
    name = path.name
    label = _LABELS[info.format]
    if isinstance(exc, FileNotFoundError):
        return InvalidInput(
            f"{name} was moved or deleted while it was being read.",
            hint=f"Put the file back at {path} (or choose it again) and retry.",
        )
    if isinstance(exc, PermissionError):
        return InvalidInput(
            f"{name} cannot be read: permission denied.", hint="Check the file's permissions."
        )
    if isinstance(exc, MemoryError):
        return InvalidInput(
            f"{name} is too large to load into memory.",
            hint="Close other programs, or split the data into smaller files.",
        )
    detail = str(exc).strip() or type(exc).__name__
    compression_errors: tuple[type[BaseException], ...] = (
        EOFError,
        zipfile.BadZipFile,
        lzma.LZMAError,
        gzip.BadGzipFile,
    )
    import zlib

    if info.compression and (
        isinstance(exc, (*compression_errors, zlib.error))
        or (isinstance(exc, OSError) and "Invalid data stream" in detail)
    ):
        return InvalidInput(
            f"{name} could not be decompressed ({info.compression}): {detail}.",
            hint="The file is damaged or incomplete; download or export it again.",
        )
    head = _peek(path, info)
    looks = _looks_like(head)
    if looks is not None and looks[1] != info.format:
        return InvalidInput(
            f"{name} is not a valid {label} file; it looks like {looks[0]}.",
            hint=f"Give the file its real extension, or export the data again as {label}.",
        )
    if looks is None and info.format in ("parquet", "feather", "xlsx") and _is_text(head):
        return InvalidInput(
            f"{name} is not a valid {label} file; it looks like text (perhaps CSV or JSON).",
            hint="Give the file its real extension, such as .csv or .json.",
        )
    if looks is not None:
        return InvalidInput(
            f"{name} is damaged or incomplete and could not be read as {label}: {detail}",
            hint="Export or download the file again.",
        )
    return InvalidInput(
        f"{name} could not be read as {label}: {detail}",
        hint=f"Check that the file is a complete {label} file (open it in the program that "
        "made it) and export it again.",
    )


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)

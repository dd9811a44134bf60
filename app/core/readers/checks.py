"""What every read passes through before the user sees it: column names later steps can rely
on, at least one row, and any library error turned into a sentence about the user's file
(``InvalidInput`` naming the file, and the format it looks like when the extension lies)
instead of a raw pyarrow or pandas traceback.
"""

from __future__ import annotations

import codecs
import gzip
import lzma
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import InvalidInput
from app.core.readers.formats import (
    _FORMAT_HINTS,
    _LABELS,
    SUPPORTED,
    SourceInfo,
    _looks_like,
)
from app.core.readers.sources import _peek

if TYPE_CHECKING:
    import pyarrow as pa


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

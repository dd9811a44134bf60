"""What the readers accept and hand back, shared by every other module of the package.

Kept apart and free of reading code so that the format modules, the checks and the public
functions can all depend on it without importing each other: the bottom of the package's
import graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

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


def _looks_like(head: bytes) -> tuple[str, str | None] | None:
    """(description, format) of well-known binary signatures, for helpful messages."""
    for magic, description, fmt in _MAGIC:
        if head.startswith(magic):
            return description, fmt
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "a bzip2-compressed file", None
    return None

"""Turning the file a user dropped into a ``pyarrow.Table``.

People drop whatever their tools exported: CSV with a BOM or in cp1252 from Excel, semicolons
from a French locale, a ``.csv.gz`` from a server, a zip from a mail attachment, Parquet from a
colleague. Reading must just work for all of those, be as fast as pyarrow itself on the big
ones, stop when the user cancels, and when it cannot work, say which file, which line or column,
and what to do — never a raw pyarrow or pandas traceback.

All parsing is done by pyarrow (``pyarrow.csv``, ``pyarrow.parquet``, ``pyarrow.ipc``,
``pyarrow.json``) or, where pyarrow has no reader, by pandas + openpyxl (Excel) and the stdlib
``json`` module (single-document JSON). This package holds only the public API; the work is
split by concern so each piece can be read alone:

* ``formats`` — what is supported and what a read returns (the bottom of the import graph);
* ``sources`` — file checks, zip member choice, decompression, and the polled feed that makes
  pyarrow's reads report progress and stop on cancel;
* ``delimited`` — encoding/delimiter/decimal sniffing and the CSV read;
* ``columnar`` (Parquet, Feather/Arrow IPC), ``excel``, ``json_docs`` (JSON, JSON Lines);
* ``checks`` — the post-read checks and library errors as messages about the user's file;
* ``sql`` — a SQL query on any SQLAlchemy URL, with every credential masked where shown.

Importing it is cheap: pyarrow, pandas and openpyxl load inside the reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.errors import InvalidInput, ModelDeskError
from app.core.progress import NullProgress, Progress
from app.core.readers.checks import _checked, _translate, _unsupported
from app.core.readers.columnar import _read_feather, _read_parquet
from app.core.readers.delimited import _read_csv
from app.core.readers.excel import _excel_source, _read_xlsx
from app.core.readers.formats import _FORMATS, COMPRESSIONS, SUPPORTED, ReadResult, SourceInfo
from app.core.readers.json_docs import _read_json, _read_jsonl
from app.core.readers.sources import _check_file, _zip_member

__all__ = [
    "COMPRESSIONS",
    "SUPPORTED",
    "ReadResult",
    "SourceInfo",
    "detect",
    "list_sheets",
    "read_table",
]

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

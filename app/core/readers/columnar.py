"""Parquet and Feather/Arrow IPC: already typed tables, so reading is pyarrow's alone.

Both are read in pieces (row groups, record batches) rather than in one call so that progress
moves and a cancel lands between pieces; compressed copies are decompressed into memory first.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.progress import Progress, SubProgress
from app.core.readers.formats import SourceInfo
from app.core.readers.sources import _read_all

if TYPE_CHECKING:
    import pyarrow as pa

_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


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

"""The Data panel's jobs: plain functions of their inputs and a ``progress``.

They run on the job runner's threads, never on the GUI thread, so everything that touches the
disk or the database (and every heavy import) happens here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from app.core.datasets import Dataset, DatasetService, DatasetVersion, IngestResult


def list_datasets(
    datasets: DatasetService, include_deleted: bool, *, progress: Any
) -> list[Dataset]:
    return datasets.list(include_deleted=include_deleted)


def load_version_table(
    datasets: DatasetService, version: DatasetVersion, *, progress: Any
) -> pa.Table:
    progress.update(0.0, f"Reading {version.ref}")
    table = datasets.load_table(version)
    # The table model casts blocks of cells with pyarrow.compute: import it here, on the
    # worker thread, so that its first use does not hold up the GUI thread.
    import pyarrow.compute

    assert pyarrow.compute
    progress.check_cancelled()
    return table


def ingest_file(
    datasets: DatasetService, path: Path, sheet: str | None, *, progress: Any
) -> IngestResult:
    return datasets.add_file(path, sheet=sheet, progress=progress)


def workbook_sheets(path: Path, *, progress: Any) -> list[str]:
    from app.core import readers

    progress.update(0.0, f"Reading the sheets of {path.name}")
    return readers.list_sheets(path)

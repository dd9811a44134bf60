"""Computing a profile document from an Arrow table: the stages, in order, with progress.

``compute_profile`` is a plain function of its inputs and a ``progress``: statistics per column
on a thread pool (pyarrow and numpy release the GIL, so columns run on every core), then
duplicate rows, missing values and the target analysis on the pool while the associations run
on the calling thread. Cancellation is checked between columns and between stages; nothing
here writes anywhere, so a cancelled or failed computation leaves nothing behind.

The input is a table in memory or a ``ParquetColumns`` (a snapshot on disk): then each pool
task reads its own column just before profiling it, so decoding the file overlaps with
computing instead of coming first.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from app.core.errors import InvalidInput
from app.core.profiling import associations, missing, stats, target, warnings
from app.core.profiling.arrays import ColumnData, Sample, clean, sample_indices
from app.core.profiling.settings import FORMAT_VERSION, ProfileSettings
from app.core.progress import NullProgress, Progress


class ParquetColumns:
    """The columns of a Parquet file, each read on demand by whichever thread asks.

    Columns named in ``as_dictionary`` (text of few distinct values) are read as Arrow
    dictionary arrays straight from the file's dictionary pages: the strings are then never
    built, which makes reading and counting them several times cheaper.
    """

    def __init__(
        self, path: Any, *, as_dictionary: set[str] | frozenset[str] = frozenset()
    ) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.as_dictionary = set(as_dictionary)
        meta = pq.read_metadata(path)
        self.num_rows = meta.num_rows
        self.schema = meta.schema.to_arrow_schema()
        self.column_names = self.schema.names
        self._sizes: dict[str, int] = {}
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                top = col.path_in_schema.split(".")[0]
                self._sizes[top] = self._sizes.get(top, 0) + col.total_uncompressed_size

    def size(self, name: str) -> int:
        return self._sizes.get(name, 0)

    def column(self, name: str) -> pa.ChunkedArray:
        import pyarrow.parquet as pq

        dictionary = [name] if name in self.as_dictionary else None
        table = pq.read_table(
            self.path,
            columns=[name],
            memory_map=True,
            use_threads=False,
            read_dictionary=dictionary,
        )
        column = table.column(0)
        stored = self.schema.field(name).type
        if dictionary and pa.types.is_dictionary(column.type) and column.type.value_type != stored:
            # e.g. large_string read as dictionary<string>: keep the stored value type
            column = column.cast(pa.dictionary(column.type.index_type, stored))
        return column


class _InMemory:
    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.num_rows = table.num_rows
        self.column_names = table.column_names

    def size(self, name: str) -> int:
        return int(self.table.column(name).nbytes)

    def column(self, name: str) -> pa.ChunkedArray:
        return self.table.column(name)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def validate(
    table_columns: list[str], rows: int, settings: ProfileSettings, label: str = "The dataset"
) -> None:
    """The checks that need no data: a target that exists, at least two rows."""
    settings.validate()
    if settings.target is not None and settings.target not in table_columns:
        shown = ", ".join(table_columns[:20]) + (" …" if len(table_columns) > 20 else "")
        raise InvalidInput(
            f"{label} has no column '{settings.target}' to use as the target.",
            hint=f"Its columns are: {shown}.",
        )
    if rows < 2:
        raise InvalidInput(
            f"{label} has {rows} row; a profile needs at least two rows to describe.",
            hint="Add more rows, or look at the row itself in the Data panel.",
        )


def compute_profile(
    table: pa.Table | ParquetColumns,
    *,
    roles: dict[str, str],
    settings: ProfileSettings,
    dataset: dict[str, Any] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """The profile document (strict JSON types) of ``table``."""
    progress = progress or NullProgress()
    source = table if isinstance(table, ParquetColumns) else _InMemory(table)
    label = f"Dataset {dataset['ref']}" if dataset and "ref" in dataset else "The dataset"
    validate(source.column_names, source.num_rows, settings, label)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    rows = source.num_rows
    names = source.column_names
    pool = ThreadPoolExecutor(
        max_workers=workers or default_workers(), thread_name_prefix="profile"
    )
    try:
        progress.update(0.1, f"Statistics of {len(names)} columns")
        col_stats, col_data, arrays = _columns(pool, source, roles, settings, progress)
        table = pa.table({n: arrays[n] for n in names})
        timings["columns"] = time.perf_counter() - started
        ordered = [col_data[n] for n in names]
        by_name = {n: col_stats[n] for n in names}
        task = None
        if settings.target is not None:
            task = target.check_target(
                settings.target, by_name[settings.target], col_data[settings.target], settings
            )
        progress.check_cancelled()
        t0 = time.perf_counter()
        sample = Sample(sample_indices(rows, settings.sample_rows, settings.seed), rows)
        side: dict[str, Future[Any]] = {
            "duplicates": pool.submit(
                missing.duplicate_rows, table, ordered, by_name, settings.duplicate_examples
            ),
            "missing": pool.submit(missing.missing_values, ordered, rows, settings),
        }
        if settings.target is not None and task is not None:
            side["target"] = pool.submit(
                target.analyse,
                col_data[settings.target],
                by_name[settings.target],
                task,
                ordered,
                by_name,
                sample,
                settings,
            )
        progress.update(0.62, f"Associations on {len(sample):,} rows")
        assoc = associations.compute(ordered, by_name, sample, rows, settings)
        timings["associations"] = time.perf_counter() - t0
        progress.check_cancelled()
        progress.update(
            0.8,
            "Duplicate rows, missing values" + (" and target analysis" if "target" in side else ""),
        )
        results = {}
        for key, fut in side.items():
            results[key] = fut.result()
            progress.check_cancelled()
        timings["side_stages"] = time.perf_counter() - t0
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if results.get("target") is not None:
        _target_correlations(results["target"], assoc)
    progress.update(0.92, "Warnings")
    doc = _document(table, names, by_name, assoc, results, settings, dataset, sample)
    doc["warnings"] = warnings.collect(doc, settings)
    doc["overview"]["warnings"] = len(doc["warnings"])
    doc["seconds"] = time.perf_counter() - started
    doc["timings"] = timings
    return clean(doc)


def _one_column(
    source: Any, name: str, role: str | None, settings: ProfileSettings
) -> tuple[dict[str, Any], ColumnData, pa.ChunkedArray]:
    column = source.column(name)
    if role is None:
        from app.core.schema import infer_column

        role = infer_column(name, column).role
    stats_, data = stats.profile_column(name, column, role, settings)
    return stats_, data, column


def _columns(
    pool: ThreadPoolExecutor,
    source: Any,
    roles: dict[str, str],
    settings: ProfileSettings,
    progress: Progress,
) -> tuple[dict[str, dict[str, Any]], dict[str, ColumnData], dict[str, pa.ChunkedArray]]:
    names = source.column_names
    # Largest columns first: the pool's last task is then a short one.
    order = sorted(names, key=lambda n: -source.size(n))
    futures = {
        pool.submit(_one_column, source, name, roles.get(name), settings): name for name in order
    }
    col_stats: dict[str, dict[str, Any]] = {}
    col_data: dict[str, ColumnData] = {}
    arrays: dict[str, pa.ChunkedArray] = {}
    try:
        for done, fut in enumerate(as_completed(futures), 1):
            name = futures[fut]
            col_stats[name], col_data[name], arrays[name] = fut.result()
            progress.update(0.1 + 0.5 * done / len(names), f"Column {done} of {len(names)}: {name}")
            progress.check_cancelled()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return col_stats, col_data, arrays


def _target_correlations(tgt: dict[str, Any], assoc: dict[str, Any]) -> None:
    """Pearson and Spearman of each numeric feature with a numeric target, read from the
    association matrices (the same sample), so they are not computed twice."""
    names = assoc["numeric"]
    if tgt["column"] not in names:
        return
    t = names.index(tgt["column"])
    for feat in tgt["features"]:
        if feat["name"] in names:
            i = names.index(feat["name"])
            feat["pearson"] = assoc["pearson"][i][t]
            feat["spearman"] = assoc["spearman"][i][t]


def _document(
    table: pa.Table,
    names: list[str],
    by_name: dict[str, dict[str, Any]],
    assoc: dict[str, Any],
    results: dict[str, Any],
    settings: ProfileSettings,
    dataset: dict[str, Any] | None,
    sample: Sample,
) -> dict[str, Any]:
    rows = table.num_rows
    cols = [by_name[n] for n in names]
    missing_cells = sum(c["missing"] for c in cols)
    roles: dict[str, int] = {}
    for c in cols:
        roles[c["role"]] = roles.get(c["role"], 0) + 1
    dup = results["duplicates"]
    miss = results["missing"]
    samples = [{"part": "associations", "rows": assoc["sample_rows"], "of": rows}]
    tgt = results.get("target")
    if tgt is not None:
        samples.append({"part": "target analysis", "rows": tgt["sample_rows"], "of": rows})
    samples.append(
        {"part": "missing-value matrix", "rows": len(miss["matrix"]["rows"]), "of": rows}
    )
    return {
        "format": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "dataset": dict(dataset or {}),
        "settings": settings.to_dict(),
        "overview": {
            "rows": rows,
            "columns": len(names),
            "cells": rows * len(names),
            "missing_cells": missing_cells,
            "missing_share": missing_cells / (rows * len(names)) if names else 0.0,
            "rows_with_missing": miss["rows_with_missing"],
            "memory_bytes": int(table.nbytes),
            "roles": roles,
            "duplicates": dup,
        },
        "columns": cols,
        "associations": assoc,
        "missing": {k: v for k, v in miss.items() if k != "rows_with_missing"},
        "target": tgt,
        "samples": samples,
        "exact": "Counts, missing values, distinct values, top values, min/max, mean, "
        "standard deviation, skewness, kurtosis, quantiles, histograms, "
        "duplicate rows and missing-value co-occurrence are computed on every row.",
    }

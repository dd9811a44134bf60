"""Reading a deployment's prediction log (the contract with the serving side, issue 7).

A folder of JSON Lines files: ``predictions-YYYYmmddTHHMMSS-<n>.jsonl`` (rotated, complete)
and ``predictions-current.jsonl`` (being written). One line per predicted row: ``{"ts",
"model", "version", "request_id", "inputs": {col: value}, "prediction", "proba"?}``. The
rotated files are read in name order, the current one last. A line cut short by a writer
still writing is skipped and counted, never fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

CURRENT = "predictions-current.jsonl"
PATTERN = "predictions-*.jsonl"
PREDICTION, TIMESTAMP = "__prediction__", "__ts__"
WINDOWS = {"hour": 3600, "day": 86400, "week": 7 * 86400}


class EmptyLog(InvalidInput):
    """The log exists but holds no prediction (of this model) yet."""


@dataclass(frozen=True)
class PredictionLog:
    table: pa.Table  # the inputs' columns, PREDICTION and TIMESTAMP (UTC microseconds)
    files: tuple[str, ...]
    skipped_lines: int

    @property
    def rows(self) -> int:
        return self.table.num_rows


def log_files(folder: Path) -> list[Path]:
    rotated = sorted(p for p in folder.glob(PATTERN) if p.name != CURRENT)
    current = folder / CURRENT
    return rotated + ([current] if current.exists() else [])


def read_log(
    folder: str | Path, *, model: str | None = None, version: int | None = None
) -> PredictionLog:
    """Every logged row of ``model`` (and ``version``) as one Arrow table."""
    import pyarrow as pa

    folder = Path(folder)
    if folder.is_file():
        raise InvalidInput(
            f"{folder} is a file; a prediction log is the folder that holds its files.",
            hint=f"Name the folder given to `modeldesk serve --log-dir`: {folder.parent}.",
        )
    if not folder.is_dir():
        raise NotFound(
            f"The prediction log folder {folder} does not exist.",
            hint="Deploy with the prediction log switched on; the container writes it there.",
        )
    files = log_files(folder)
    records: list[dict[str, Any]] = []
    skipped = 0
    for path in files:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                    inputs = entry["inputs"]
                    ts = entry["ts"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    skipped += 1
                    continue
                if model is not None and entry.get("model") not in (None, model):
                    continue
                if version is not None and entry.get("version") not in (None, version):
                    continue
                row = dict(inputs) if isinstance(inputs, dict) else {}
                row[PREDICTION] = entry.get("prediction")
                row[TIMESTAMP] = ts
                records.append(row)
    if not records:
        whose = f" for {model}" + (f"@{version}" if version is not None else "") if model else ""
        raise EmptyLog(
            f"The prediction log in {folder} is empty{whose}: no prediction has been logged yet"
            + (f" ({skipped} unreadable lines skipped)." if skipped else "."),
            hint="Send some requests to the deployment, then monitor again.",
        )
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(records):
        for key in row:
            if key not in columns:
                columns[key] = [None] * i
        for key, values in columns.items():
            values.append(row.get(key))
    stamps = _parse_ts(columns.pop(TIMESTAMP))
    arrays = {name: _column(values) for name, values in columns.items()}
    arrays[TIMESTAMP] = pa.array(stamps, type=pa.timestamp("us", tz="UTC"))
    return PredictionLog(pa.table(arrays), tuple(p.name for p in files), skipped)


def _parse_ts(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype="datetime64[us]")
    for i, v in enumerate(values):
        try:
            dt = datetime.fromisoformat(str(v))
            if dt.tzinfo is not None:
                out[i] = np.datetime64(round(dt.timestamp() * 1_000_000), "us")
            else:  # no zone: taken as UTC
                out[i] = np.datetime64(dt, "us")
        except (TypeError, ValueError):
            out[i] = np.datetime64("NaT")
    return out


def _column(values: list[Any]) -> pa.Array:
    """One typed column: numbers stay numbers (ints and floats mixed become floats)."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def split_windows(table: pa.Table, window: str) -> list[tuple[datetime, datetime, pa.Table]]:
    """The rows per calendar hour, day or ISO week (weeks start on Monday), oldest first."""
    import pyarrow as pa

    if window not in WINDOWS:
        raise InvalidInput(f"Unknown window '{window}'.", hint="Use hour, day or week.")
    ts = table.column(TIMESTAMP).cast(pa.timestamp("us")).to_numpy()
    micros = ts.astype("int64")
    step = WINDOWS[window] * 1_000_000
    offset = 4 * 86400 * 1_000_000 if window == "week" else 0  # 1970-01-01 was a Thursday
    start = ((micros - offset) // step) * step + offset
    valid = ~np.isnat(ts)
    out = []
    for s in np.unique(start[valid]):
        mask = valid & (start == s)
        begin = datetime.fromtimestamp(int(s) / 1e6, tz=_utc())
        end = datetime.fromtimestamp((int(s) + step) / 1e6, tz=_utc())
        out.append((begin, end, table.filter(pa.array(mask))))
    return out


def _utc() -> Any:
    from datetime import UTC

    return UTC

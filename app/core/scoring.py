"""Batch scoring: a data file through a registered model version into a predictions file.

``score_file`` is what ``modeldesk predict`` runs (and what a panel can run in a job): the
version's file is verified against its SHA-256 before it is loaded (the registry does it),
the data file is read by the same readers as ``datasets add`` (any ingest format), matched to
the model's signature with the server's rules (``scoring_checks``), then scored in batches of
Arrow rows so that progress and cancel work on big files and memory stays bounded.

Rows that cannot be scored are never dropped silently. The output keeps every input row in
its order; by default any such row stops the command before anything is written, with the
first rows named (row number, column, value and why). With ``errors=PATH`` the other rows are
scored, the rows that could not be get an empty prediction, PATH lists them (``row``,
``column``, ``value``, ``problem``) and the output starts with the same ``row`` numbers.
Past ``max_errors`` such rows the data is more likely the wrong file than a few bad rows,
and the command stops as well.

A row the model itself refuses (a missing value where it takes none, say) is found by
splitting the failing batch in halves until the refused rows are isolated, so one bad row
costs a few extra ``predict`` calls, not a row-by-row pass.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.progress import NullProgress, Progress, SubProgress

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from app.core.registry import RegistryService
    from app.core.scoring_checks import RowError
    from app.serving.schema import ColumnCheck

OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
BATCH_ROWS = 100_000
MAX_ERRORS = 1000
SHOWN_ERRORS = 5
PREDICTION = "prediction"
ROW = "row"
PROBA_PREFIX = "proba_"


@dataclass(frozen=True)
class ScoreResult:
    model: str
    source: Path
    output: Path
    rows: int
    scored: int
    columns: list[str]
    seconds: float
    errors: list[RowError] = field(default_factory=list)
    errors_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "source": str(self.source),
            "output": str(self.output),
            "rows": self.rows,
            "scored": self.scored,
            "failed": len(self.errors),
            "columns": self.columns,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows / self.seconds) if self.seconds else None,
            "errors_file": str(self.errors_path) if self.errors_path else None,
            "first_errors": [e.__dict__ for e in self.errors[:SHOWN_ERRORS]],
        }


def output_format(path: Path) -> str:
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"Cannot write predictions to {path.name}: the output is chosen by its extension.",
            hint="Name the output file .csv or .parquet.",
        )
    return fmt


def _check_destination(path: Path, source: Path, what: str) -> None:
    if not path.parent.is_dir():
        raise InvalidInput(
            f"The folder {path.parent} for the {what} does not exist.",
            hint="Create it first or choose another path.",
        )
    if path.resolve() == source.resolve():
        raise InvalidInput(f"The {what} would overwrite the data file {source}.")


def score_file(
    registry: RegistryService,
    ref: str,
    source: str | Path,
    output: str | Path,
    *,
    proba: bool = False,
    keep: tuple[str, ...] = (),
    errors: str | Path | None = None,
    max_errors: int = MAX_ERRORS,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ScoreResult:
    """Score ``source`` with model version ``ref`` into ``output`` (.csv or .parquet)."""
    from app.core.readers import read_table
    from app.core.scoring_checks import check_columns, check_names, column_specs

    started = time.perf_counter()
    progress = progress or NullProgress()
    source, output = Path(source), Path(output)
    errors_path = Path(errors) if errors is not None else None
    fmt = output_format(output)
    _check_destination(output, source, "predictions")
    if errors_path is not None:
        _check_destination(errors_path, source, "error report")
    version = registry.resolve(ref)
    table = read_table(source, progress=SubProgress(progress, 0.0, 0.3)).table
    needed = [str(c["name"]) for c in version.signature.get("columns") or []]
    check_names(table, needed, source.name, version.ref)  # before the model takes seconds
    missing_keep = [k for k in keep if k not in table.column_names]
    if missing_keep:
        raise InvalidInput(f"{source.name} has no column '{missing_keep[0]}' to keep.")
    # pinned to the version resolved above (an alias may move meanwhile); the bytes are
    # refused if their SHA-256 changed
    data, version = registry.model_bytes(version.ref)
    pipeline = registry.loads(data, version)
    classes = _classes(pipeline, version) if proba else []
    if proba and not classes:
        raise InvalidInput(
            f"{version.ref} is a {version.task or 'regression'} model; it gives no probabilities.",
            hint="Leave out --proba.",
        )
    specs = column_specs(version.signature, pipeline)
    check_columns(table, specs, source.name, version.ref)

    scorer = _Scorer(pipeline, specs, classes, max_errors if errors_path else 0, version.ref)
    parts = []
    total = max(table.num_rows, 1)
    try:
        for start in range(0, table.num_rows, batch_rows):
            progress.check_cancelled()
            batch = table.slice(start, batch_rows)
            parts.append(scorer.score(batch, start + 1))
            done = start + batch.num_rows
            progress.update(0.3 + 0.65 * done / total, f"Scored {done:,} of {table.num_rows:,}")
    except _Enough:
        raise _unscorable(scorer.errors, source.name, at_least=True) from None
    if scorer.errors and errors_path is None:
        raise _unscorable(scorer.errors, source.name)
    # With a report the output starts with the row numbers it uses: an unscored row then
    # joins its reason, and is never a blank line that a CSV reader would skip.
    result = _assemble(table, keep, parts, classes, numbered=errors_path is not None)
    progress.update(0.95, f"Writing {output.name}")
    _write_atomic(output, lambda tmp: _write_table(result, tmp, fmt))
    if errors_path is not None:
        _write_atomic(errors_path, lambda tmp: _write_errors(scorer.errors, tmp))
    progress.update(1.0, f"Wrote {output.name}")
    return ScoreResult(
        model=version.ref,
        source=source,
        output=output,
        rows=table.num_rows,
        scored=table.num_rows - len(scorer.errors),
        columns=result.column_names,
        seconds=time.perf_counter() - started,
        errors=scorer.errors,
        errors_path=errors_path,
    )


def _classes(pipeline: Any, version: Any) -> list[Any]:
    if not hasattr(pipeline, "predict_proba"):
        return []
    classes = getattr(pipeline, "classes_", None)
    if classes is None:
        classes = (version.output or {}).get("classes") or []
    return [c.item() if hasattr(c, "item") else c for c in classes]


def _unscorable(errors: list[RowError], source: str, *, at_least: bool = False) -> InvalidInput:
    count = len(errors)
    shown = "; ".join(e.sentence().rstrip(".") for e in errors[:SHOWN_ERRORS])
    rows = "1 row" if count == 1 else f"{count:,} rows"
    if at_least:
        rows = f"At least {rows}"
    more = f" (the first {SHOWN_ERRORS})" if count > SHOWN_ERRORS or at_least else ""
    return InvalidInput(
        f"{rows} of {source} cannot be scored{more}: {shown}. Nothing was written.",
        hint="Fix those rows, or pass --errors FILE to score the others and list these there.",
    )


class _Enough(Exception):
    """Stops scoring once the message has its examples (no error report was asked for)."""


class _Scorer:
    """Scores batches; collects the rows that cannot be scored (``limit`` 0: stop at once)."""

    def __init__(
        self, pipeline: Any, specs: list[ColumnCheck], classes: list, limit: int, ref: str
    ):
        self.pipeline, self.specs, self.classes = pipeline, specs, classes
        self.limit, self.ref = limit, ref
        self.errors: list[RowError] = []

    def score(self, batch: pa.Table, first_row: int) -> tuple[Any, Any, np.ndarray]:
        """(predictions, probabilities or None, mask of scored rows) for one batch."""
        import numpy as np

        from app.core.scoring_checks import prepare_batch

        ready, good, errors = prepare_batch(batch, self.specs, first_row)
        self._add(errors)
        X = ready.to_pandas()
        if not good.all():
            X = X[good]
        rows = np.flatnonzero(good)
        predictions, proba, refused = self._predict(X, rows, first_row)
        good[rows[refused]] = False  # the predictions are those of the rows left
        return predictions, proba, good

    def _add(self, errors: list[RowError]) -> None:
        self.errors.extend(errors)
        if self.limit == 0 and len(self.errors) >= SHOWN_ERRORS:
            raise _Enough  # enough examples for the message; no need to look further
        if self.limit and len(self.errors) > self.limit:
            raise InvalidInput(
                f"More than {self.limit:,} rows cannot be scored by {self.ref}; the first: "
                f"{self.errors[0].sentence().rstrip('.')}. Nothing was written.",
                hint="Check that this is the right file for this model, or raise --max-errors.",
            )

    def _predict(self, X: Any, rows: np.ndarray, first_row: int):
        """Predict ``X``; on a refusal, split it until the refused rows are isolated."""
        import numpy as np

        try:
            return (*self._call(X), np.zeros(len(X), dtype=bool))
        except (ValueError, TypeError, KeyError) as exc:
            if len(X) == 1:
                problem = f"{self.ref} refused it: {' '.join(str(exc).split())}"
                from app.core.scoring_checks import RowError

                self._add([RowError(first_row + int(rows[0]), None, None, problem)])
                return (*self._call(X.iloc[:0]), np.ones(1, dtype=bool))
        half = len(X) // 2
        left = self._predict(X.iloc[:half], rows[:half], first_row)
        right = self._predict(X.iloc[half:], rows[half:], first_row)
        parts = [np.asarray(p[0]) for p in (left, right) if len(p[0])]
        predictions = np.concatenate(parts) if parts else left[0]
        proba = None
        if self.classes:
            proba = np.vstack([left[1], right[1]])
        return predictions, proba, np.concatenate([left[2], right[2]])

    def _call(self, X: Any) -> tuple[Any, Any]:
        import numpy as np

        if len(X) == 0:
            return np.zeros(0, dtype=object), np.zeros((0, len(self.classes)))
        predictions = np.asarray(self.pipeline.predict(X))
        proba = np.asarray(self.pipeline.predict_proba(X)) if self.classes else None
        return predictions, proba


def _assemble(
    table: pa.Table, keep: tuple[str, ...], parts: list, classes: list, *, numbered: bool
) -> pa.Table:
    """The output table: kept columns, the prediction, probabilities; null where unscored."""
    import numpy as np
    import pyarrow as pa

    n = table.num_rows
    good = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=bool)
    scored = [np.asarray(p[0]) for p in parts if len(p[0])]
    values = np.concatenate(scored) if scored else np.zeros(0, dtype=object)
    columns: dict[str, Any] = {ROW: pa.array(np.arange(1, n + 1))} if numbered else {}
    columns.update({name: table.column(name) for name in keep})
    columns[PREDICTION] = _spread(values, good, n)
    if classes:
        proba_parts = [p[1] for p in parts if p[1] is not None and len(p[1])]
        matrix = np.vstack(proba_parts) if proba_parts else np.zeros((0, len(classes)))
        for j, label in enumerate(classes):
            columns[f"{PROBA_PREFIX}{label}"] = _spread(matrix[:, j], good, n)
    return pa.table(columns)


def _spread(values: np.ndarray, good: np.ndarray, n: int) -> pa.Array:
    """``values`` at the rows where ``good``; null elsewhere (Arrow keeps the dtype)."""
    import numpy as np
    import pyarrow as pa

    if good.all():
        return pa.array(values)
    full = np.zeros(n, dtype=values.dtype)
    full[good] = values
    return pa.array(full, mask=~good)


def _write_table(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path)


def _write_errors(errors: list[RowError], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "value", "problem"])
        for e in errors:
            writer.writerow([e.row, e.column or "", "" if e.value is None else e.value, e.problem])


def _write_atomic(path: Path, write: Any) -> None:
    """Write beside ``path`` and rename: a killed process leaves no half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    finally:
        tmp.unlink(missing_ok=True)

"""Per-row explanations of a registered model on a data file (``modeldesk explain``).

The rows are read and checked as ``modeldesk predict`` checks them (the model's signature,
a bad value named by row and column), the model is loaded from its verified bytes, and the
attributions come from the server's own ``app.serving.explain``, so the CLI, the Deploy
panel and ``POST /explain`` give the same numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput

if TYPE_CHECKING:
    from app.core.registry.service import RegistryService

#: explanations are per row; a file of millions of rows wants ``predict``, not this
MAX_ROWS = 10_000


def explain_file(
    registry: RegistryService, ref: str, source: str | Path, *, max_rows: int = MAX_ROWS
) -> dict[str, Any]:
    """Attributions of every row of ``source`` to the input columns of version ``ref``."""
    from app.core.readers import read_table
    from app.core.scoring_checks import check_columns, check_names, column_specs, prepare_batch
    from app.serving.explain import ExplainError, explain_frame

    source = Path(source)
    version = registry.resolve(ref)
    table = read_table(source).table
    if table.num_rows > max_rows:
        raise InvalidInput(
            f"{source.name} has {table.num_rows:,} rows; explain takes at most {max_rows:,}.",
            hint="Explain a sample of the rows; score the whole file with 'modeldesk predict'.",
        )
    if table.num_rows == 0:
        raise InvalidInput(f"{source.name} has no rows to explain.")
    columns = [str(c["name"]) for c in version.signature.get("columns") or []]
    check_names(table, columns, source.name, version.ref)
    data, version = registry.model_bytes(version.ref)
    pipeline = registry.loads(data, version)
    specs = column_specs(version.signature, pipeline)
    check_columns(table, specs, source.name, version.ref)
    ready, _, errors = prepare_batch(table, specs, 1)
    if errors:
        raise InvalidInput(
            f"{source.name}: {errors[0].sentence()}",
            hint="Fix or remove the row; explain takes only rows the model can score.",
        )
    frame = ready.to_pandas()[columns]
    try:
        out = explain_frame(pipeline, frame, columns)
    except ExplainError as exc:
        raise InvalidInput(f"{version.ref} cannot be explained: {exc}") from exc
    for row, prediction in zip(out["explanations"], pipeline.predict(frame).tolist(), strict=True):
        row["prediction"] = prediction
    return {"model": version.ref, "source": str(source), "rows": len(frame), **out}

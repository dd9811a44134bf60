"""Saving and loading fitted pipelines with skops, never with pickle.

A model artifact is the skops archive of the fitted ``Pipeline``; beside it the run keeps
``model.json``: the archive's SHA-256, the types skops would not trust by default (recorded
when ModelDesk itself wrote the file, so they may be trusted when the same bytes come back),
the input columns with their dtypes and categories, an input example, the classes and the
versions of scikit-learn and skops. ``load_verified`` checks the SHA-256 first and refuses
a file that changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.core.errors import InvalidInput, TamperedArtifact

MODEL_NAME = "model.skops"
META_NAME = "model.json"

#: Types skops does not trust by default that ModelDesk's own files hold and that construct
#: nothing but data: a dtype from its name, and ModelDesk's transformers (plain attributes,
#: expressions parsed through the whitelist in ``recipes/runtime.py``, never ``eval``).
KNOWN_SAFE_TYPES = frozenset(
    {
        "numpy.dtype",
        "app.core.training.transformers.AsCategories",
        "app.core.training.transformers.DateParts",
        "app.core.recipes.runtime.RecipeTransformer",
    }
)


def dump(pipeline: Any) -> tuple[bytes, list[str]]:
    """(skops bytes, the types skops does not trust by default) for a fitted pipeline."""
    import skops.io as sio

    data = sio.dumps(pipeline)
    return data, sorted(sio.get_untrusted_types(data=data))


def loads_verified(data: bytes, sha256: str, trusted: list[str]) -> Any:
    """The pipeline in ``data`` after checking it hashes to ``sha256``."""
    import skops.io as sio

    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise TamperedArtifact(
            f"The model file changed after it was stored (SHA-256 {actual[:12]}… instead of "
            f"{sha256[:12]}…).",
            hint="It will not be loaded. Train the run again or restore the file.",
        )
    untrusted = set(sio.get_untrusted_types(data=data)) - set(trusted)
    if untrusted:
        raise InvalidInput(
            "The model file holds types ModelDesk did not record when it saved it: "
            + ", ".join(sorted(untrusted))
            + ".",
            hint="Import it explicitly, trusting those types, if you know where it came from.",
        )
    return sio.loads(data, trusted=sorted(set(trusted)))


def describe_inputs(X: Any, columns: list[dict[str, Any]]) -> dict[str, Any]:
    """Input signature of the pipeline: column, dtype, treatment, categories or range."""
    import pandas as pd

    out = []
    for plan in columns:
        name = plan["name"]
        series = X[name]
        entry: dict[str, Any] = {
            "name": name,
            "dtype": str(series.dtype),
            "role": plan["role"],
            "treatment": plan["treatment"],
            "missing": int(series.isna().sum()),
        }
        if plan["treatment"] == "numeric" and pd.api.types.is_numeric_dtype(series):
            present = series.dropna()
            if len(present):
                entry["min"], entry["max"] = float(present.min()), float(present.max())
        elif plan["treatment"] in ("onehot", "ordinal"):
            values = series.dropna().astype(str).unique().tolist()
            entry["categories"] = sorted(values)[:1000]
        out.append(entry)
    return {"columns": out}


def input_example(X: Any, rows: int = 5) -> list[dict[str, Any]]:
    """The first rows as JSON records (dates as ISO text), for docs and smoke tests."""
    return json.loads(X.head(rows).to_json(orient="records", date_format="iso"))

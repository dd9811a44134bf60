"""The run's global SHAP summary (``shap.json``): mean |attribution| per input column.

Computed on a sample of the rows the run's plots use, with the same code as the server's
``/explain`` (``app.serving.explain``): the library's exact TreeSHAP for boosted trees,
``shap.TreeExplainer`` for scikit-learn's trees and forests when ``shap`` is installed.
Other models get none (a note in the worker log says why); a KernelExplainer on them would
cost minutes for numbers that are only estimates.
"""

from __future__ import annotations

from typing import Any

NAME = "shap.json"
#: rows the summary is computed on (stated in the document)
SAMPLE_ROWS = 500


def compute(pipeline: Any, X: Any, seed: int) -> dict[str, Any]:
    """``{"method", "rows", "output", "expected_value", "mean_abs": {column: value}}``.

    Raises ``app.serving.explain.ExplainError`` when the model cannot be explained."""
    import numpy as np

    from app.serving.explain import explain_frame

    sample = X if len(X) <= SAMPLE_ROWS else X.sample(SAMPLE_ROWS, random_state=seed)
    columns = [str(c) for c in X.columns]
    out = explain_frame(pipeline, sample, columns)
    rows = out["explanations"]
    if "classes" in out:  # several classes: the mean over classes of each class's mean |a|
        per_class = [[r["attributions"][str(c)] for r in rows] for c in out["classes"]]
        mean_abs = {
            col: float(np.mean([np.mean([abs(a[col]) for a in rs]) for rs in per_class]))
            for col in columns
        }
    else:
        mean_abs = {
            col: float(np.mean([abs(r["attributions"][col]) for r in rows])) for col in columns
        }
    model = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    flavour = getattr(model, "flavour", None)
    return {
        "method": f"TreeSHAP of {flavour}" if flavour else "shap.TreeExplainer",
        "rows": len(sample),
        "output": out["output"],
        "expected_value": out["expected_value"],
        "mean_abs": dict(sorted(mean_abs.items(), key=lambda kv: -kv[1])),
    }

"""Permutation importance of a fitted pipeline per input column, stored with the run.

Every run that keeps its model (not a tuning trial without plots) records
``importance.json``: for each input column the mean and spread of the score drop when that
column is shuffled (scikit-learn's ``permutation_importance`` on at most ``MAX_ROWS`` of the
evaluation rows, 3 repeats) and its *share*, the column's positive drop over the sum of all
positive drops. The importance plot is drawn from it, and Monitor reads the shares without
re-computing anything to decide whether a drifted feature matters to the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.tracking import TrackingService

NAME = "importance.json"
MAX_ROWS = 2000
REPEATS = 3


def sample_rows(X: Any, y: Any, seed: int, limit: int = MAX_ROWS) -> tuple[Any, Any]:
    """At most ``limit`` rows of ``X``/``y``, drawn without replacement (reproducibly)."""
    import numpy as np

    if len(X) <= limit:
        return X, y
    rows = np.random.default_rng(seed).choice(len(X), limit, replace=False)
    return X.iloc[rows], np.asarray(y)[rows]


def compute(pipeline: Any, X: Any, y: Any, seed: int) -> dict[str, Any]:
    """The JSON document: ``{"method", "rows", "repeats", "features": {column: {mean, std,
    share}}}`` with the columns in ``X``'s order."""
    import numpy as np
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    Xs, ys = sample_rows(X, np.asarray(y), seed)
    scoring, scorer = scoring_for(pipeline)
    # Many predictions on a few rows: OpenMP threads only add start-up and contention.
    with threadpool_limits(1):
        result = permutation_importance(
            pipeline, Xs, ys, scoring=scorer, n_repeats=REPEATS, random_state=seed
        )
    means = np.nan_to_num(result.importances_mean.astype(float))
    positive = np.clip(means, 0.0, None)
    total = float(positive.sum())
    shares = positive / total if total > 0 else np.zeros_like(positive)
    return {
        "method": "permutation",
        "scoring": scoring or "default",
        "rows": len(Xs),
        "repeats": REPEATS,
        "features": {
            str(name): {"mean": float(m), "std": float(s), "share": float(sh)}
            for name, m, s, sh in zip(X.columns, means, result.importances_std, shares, strict=True)
        },
    }


def scoring_for(pipeline: Any) -> tuple[str | None, Any]:
    """(name, scorer): log loss for a classifier with probabilities, since accuracy on a few
    hundred held-out rows moves in steps of one row, so most features would score exactly 0
    and a few would share the importance by chance. It is told every class the model knows
    (the evaluation rows may lack one). Regressors keep their default (R², continuous)."""
    from sklearn.base import is_classifier
    from sklearn.metrics import log_loss, make_scorer

    if not (is_classifier(pipeline) and hasattr(pipeline, "predict_proba")):
        return None, None
    scorer = make_scorer(
        log_loss,
        greater_is_better=False,
        response_method="predict_proba",
        labels=list(pipeline.classes_),
    )
    return "neg_log_loss", scorer


def shares(document: dict[str, Any]) -> dict[str, float]:
    """Column → share of the importance, from a stored document."""
    return {
        name: float(values.get("share") or 0.0)
        for name, values in (document.get("features") or {}).items()
    }


def stored_shares(
    tracking: TrackingService | None, artifacts: ArtifactStore, run_id: int | None
) -> tuple[dict[str, float] | None, dict[str, Any] | None]:
    """The shares stored with run ``run_id`` and where they came from; ``(None, None)`` for
    an imported model (no run), a deleted run, or a run trained before they were stored."""
    import json

    from app.core.errors import NotFound

    if run_id is None or tracking is None:
        return None, None
    try:
        art = tracking.get(run_id).artifact(NAME)
    except NotFound:
        return None, None
    if art is None:
        return None, None
    doc = json.loads(artifacts.open_verified(art.sha256).read_bytes())
    source = {"method": doc.get("method"), "scoring": doc.get("scoring"), "run_id": run_id}
    return shares(doc), {**source, "rows": doc.get("rows")}

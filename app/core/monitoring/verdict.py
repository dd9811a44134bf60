"""The overall status of a drift report: is the model at risk, and which rule says so.

Four rules can make a report an alert, checked in this order and all recorded:

- ``importance``: a feature whose own verdict is an alert carries more than
  ``importance_share`` of the model's permutation importance (stored with its training run).
  One feature that matters, moved by a standard deviation, is enough: that is what puts
  predictions at risk, whatever the other 29 features do.
- ``share``: at least ``drift_share`` of the features drifted (Evidently's dataset drift).
  It stays as the second trigger, and is the only feature rule for a model without stored
  importance (imported, or trained before ModelDesk kept it); the report then says so.
- ``prediction``: the model's outputs drifted.
- ``metrics``: on labelled rows, the promotion metric fell beyond the tolerance.

Otherwise any feature that is not ``ok`` makes a warning. ``Verdict.text`` is one sentence
naming the rule, shown by the CLI, the HTML page, the panel and ``retrain``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.monitoring.report import FeatureDrift, worst
from app.core.monitoring.settings import DriftSettings

RULES = ("importance", "share", "prediction", "metrics")
NO_IMPORTANCE = (
    "No permutation importance is stored with this model (imported, or trained before "
    "ModelDesk kept it), so only the share rule can make feature drift an alert."
)


@dataclass(frozen=True)
class Verdict:
    status: str
    rules: tuple[str, ...]  # the rules that made the status an alert, in RULES order
    text: str
    dataset_drift: bool
    drift_share: float
    n_drifted: int


def decide(
    features: Sequence[FeatureDrift],
    prediction: FeatureDrift | None,
    metrics: Mapping[str, Any] | None,
    settings: DriftSettings,
    importance: Mapping[str, float] | None,
) -> Verdict:
    drifted = [f for f in features if f.status == "alert"]
    share = len(drifted) / len(features) if features else 0.0
    dataset_drift = bool(features) and share >= settings.drift_share
    limit = settings.importance_share
    weights = importance or {}
    important = sorted(
        (f for f in drifted if weights.get(f.name, 0.0) > limit),
        key=lambda f: -weights.get(f.name, 0.0),
    )
    fired: list[tuple[str, str]] = []
    if important:
        names = ", ".join(f"'{f.name}' ({weights[f.name]:.0%})" for f in important[:5])
        verb = "matters" if len(important) == 1 else "matter"
        fired.append(
            (
                "importance",
                f"{_count(len(important), 'feature')} that {verb} to the model drifted: "
                f"{names} of its permutation importance (> {limit:.0%})",
            )
        )
    if dataset_drift:
        fired.append(
            (
                "share",
                f"{len(drifted)} of {len(features)} features drifted "
                f"({share:.0%} ≥ {settings.drift_share:.0%})",
            )
        )
    if prediction is not None and prediction.status == "alert":
        fired.append(("prediction", "the model's predictions drifted"))
    if metrics and metrics.get("status") == "alert":
        fired.append(("metrics", f"{metrics.get('primary') or 'the metric'} fell on labelled rows"))
    if fired:
        rules = tuple(rule for rule, _ in fired)
        text = "alert by the " + "; and by the ".join(f"{r} rule: {why}" for r, why in fired)
        return Verdict("alert", rules, text + ".", dataset_drift, share, len(drifted))
    levels = [f.status for f in features]
    if prediction is not None:
        levels.append(prediction.status)
    if metrics:
        levels.append(metrics.get("status", "ok"))
    status = "warning" if worst(levels) != "ok" else "ok"
    return Verdict(
        status,
        (),
        _quiet_text(status, drifted, features, importance, settings),
        dataset_drift,
        share,
        len(drifted),
    )


def _quiet_text(
    status: str,
    drifted: Sequence[FeatureDrift],
    features: Sequence[FeatureDrift],
    importance: Mapping[str, float] | None,
    settings: DriftSettings,
) -> str:
    if status == "ok":
        return "ok: no feature, prediction or metric moved beyond its threshold."
    if not drifted:
        return "warning: some values moved, but no feature drifted beyond its alert threshold."
    if importance is None:
        why = f"below the share rule's {settings.drift_share:.0%}"
    else:
        weight = sum(importance.get(f.name, 0.0) for f in drifted)
        why = (
            f"none carries more than {settings.importance_share:.0%} of the model's importance "
            f"({weight:.1%} together), and {len(drifted)} of {len(features)} is below the "
            f"share rule's {settings.drift_share:.0%}"
        )
    return f"warning: {_count(len(drifted), 'feature')} drifted; {why}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

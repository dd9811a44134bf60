"""The promotion policy: may this version become the champion?

A per-model setting ``{"metric", "min_gain", "required_tags", "same_data"}``. The candidate
must carry every required tag and, when there is a champion, score at least ``min_gain``
better on ``metric`` (the cross-validation mean; the default is the task's primary metric).
Scores are only comparable on the same evaluation data, so with ``same_data`` (the default)
a candidate trained on another dataset version is refused too: its number proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.errors import InvalidInput
from app.core.registry.entities import ModelVersion, PolicyCheck

DEFAULTS: dict[str, Any] = {"metric": None, "min_gain": 0.0, "required_tags": [], "same_data": True}
PROMOTED_ALIAS = "champion"


def effective(policy: Mapping[str, Any] | None, task: str | None) -> dict[str, Any]:
    """The stored policy with defaults filled in (the metric from the task)."""
    from app.core.training.metrics import PRIMARY

    out = {**DEFAULTS, **{k: v for k, v in (policy or {}).items() if v is not None}}
    if not out["metric"]:
        out["metric"] = PRIMARY.get(task or "", None)
    return out


def clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checked policy values; ``InvalidInput`` names the bad one."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key == "metric":
            from app.core.training.metrics import CLASSIFICATION, REGRESSION

            if value not in (*CLASSIFICATION, *REGRESSION):
                raise InvalidInput(
                    f"'{value}' is not a metric ModelDesk records.",
                    hint="Choose one of: " + ", ".join((*CLASSIFICATION, *REGRESSION)) + ".",
                )
            out[key] = str(value)
        elif key == "min_gain":
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"The minimum gain '{value}' is not a number.") from None
            if out[key] < 0:
                raise InvalidInput("The minimum gain cannot be negative.")
        elif key == "required_tags":
            tags = [value] if isinstance(value, str) else list(value)
            out[key] = sorted({str(t).strip() for t in tags if str(t).strip()})
        elif key == "same_data":
            out[key] = bool(value)
        else:
            raise InvalidInput(f"'{key}' is not a policy setting.")
    return out


def check(
    policy: Mapping[str, Any], candidate: ModelVersion, incumbent: ModelVersion | None
) -> PolicyCheck:
    """Judge ``candidate`` against the current champion ``incumbent`` (None: no champion)."""
    from app.core.training.metrics import LOWER_IS_BETTER

    rules = effective(policy, candidate.task)
    metric = rules["metric"]
    reasons: list[str] = []
    for tag in rules["required_tags"]:
        if tag not in candidate.tags or str(candidate.tags[tag]).lower() in ("", "false", "no"):
            reasons.append(f"Version {candidate.version} lacks the required tag '{tag}'.")
    cand_value = candidate.metrics.get(metric) if metric else None
    inc_value = incumbent.metrics.get(metric) if (metric and incumbent) else None
    if incumbent is not None and incumbent.id != candidate.id:
        if metric is None:
            reasons.append(
                f"The policy of {candidate.model_name} names no metric, so version "
                f"{candidate.version} cannot be compared with the champion."
            )
        elif cand_value is None or inc_value is None:
            who = candidate.version if cand_value is None else incumbent.version
            reasons.append(
                f"Version {who} has no '{metric}' score, so version {candidate.version} cannot "
                f"be compared with the champion (version {incumbent.version})."
            )
        else:
            if rules["same_data"] and candidate.dataset_version_id != incumbent.dataset_version_id:
                reasons.append(
                    f"Version {candidate.version} was evaluated on other data (dataset version "
                    f"id {candidate.dataset_version_id}) than the champion, version "
                    f"{incumbent.version} (id {incumbent.dataset_version_id}); their "
                    f"'{metric}' scores are not comparable."
                )
            lower = metric in LOWER_IS_BETTER
            gain = (inc_value - cand_value) if lower else (cand_value - inc_value)
            if gain < rules["min_gain"] - 1e-12:
                worse = "worse" if gain < 0 else "not better enough"
                need = (
                    f"; the policy asks for a gain of at least {rules['min_gain']:g}"
                    if rules["min_gain"]
                    else ""
                )
                reasons.append(
                    f"Version {candidate.version} scores {metric} {cand_value:.4f} against "
                    f"{inc_value:.4f} for the champion (version {incumbent.version}): {worse}"
                    f" ({'lower' if lower else 'higher'} is better){need}."
                )
    return PolicyCheck(
        allowed=not reasons,
        reasons=tuple(reasons),
        metric=metric,
        candidate=cand_value,
        incumbent=inc_value,
        incumbent_version=incumbent.version if incumbent else None,
    )

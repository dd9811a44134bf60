"""The promotion policy: may this version become the champion?

A per-model setting ``{"metric", "min_gain", "required_tags", "same_data"}``. The candidate
must carry every required tag and, when there is a champion, score at least ``min_gain``
better on ``metric`` (the cross-validation mean; the default is the task's primary metric).
Scores are only comparable on the same evaluation data, so with ``same_data`` (the default)
a candidate trained on another dataset version is refused too: its number proves nothing.

Fair evidence lifts that refusal. The retraining flow scores the champion and the challenger on
the SAME held-out rows of a new batch and passes ``{"metric", "data", "scores"}``; the policy
then decides on those two scores (direction from the metric, ``min_gain`` as usual) instead of
the cross-validation means, because both numbers now describe the same data. Evidence on two
different data (``data`` may map each version to its own ``dataset@version``), on another metric
than the policy's, or without a score for both versions is refused as not comparable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from app.core.errors import InvalidInput
from app.core.registry.entities import ModelVersion, PolicyCheck

DEFAULTS: dict[str, Any] = {
    "metric": None,
    "min_gain": 0.0,
    "required_tags": [],
    "same_data": True,
    "replay_agreement": None,  # a share 0–1: promotion needs a replay agreeing at least this
}
PROMOTED_ALIAS = "champion"
_DATA_REF = re.compile(r"^[^@\s]+@\d+$")


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
        elif key == "replay_agreement":
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"The replay agreement '{value}' is not a number.") from None
            if not 0 < out[key] <= 1:
                raise InvalidInput(
                    f"The replay agreement {value} must be a share above 0 and at most 1.",
                    hint="0.99 asks that the candidate answer 99 % of replayed rows as "
                    "production did.",
                )
        else:
            raise InvalidInput(f"'{key}' is not a policy setting.")
    return out


def _data_ref(value: Any, where: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not _DATA_REF.match(text):
        raise InvalidInput(
            f"The evidence's {where} '{value}' does not name a dataset version.",
            hint="Give the evaluation data as 'dataset@version', e.g. 'churn@4'.",
        )
    return text


def clean_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """Checked evidence, JSON-ready for the audit log: ``{"metric", "data", "scores"}`` with
    ``data`` a ``dataset@version`` text or ``{"<version>": "dataset@version"}`` and ``scores``
    ``{"<version>": float}``; ``InvalidInput`` names what is wrong."""
    from app.core.training.metrics import CLASSIFICATION, REGRESSION

    if not isinstance(evidence, Mapping):
        raise InvalidInput("Evidence must be a mapping with 'metric', 'data' and 'scores'.")
    unknown = set(evidence) - {"metric", "data", "scores"}
    missing = {"metric", "data", "scores"} - set(evidence)
    if unknown or missing:
        raise InvalidInput(
            "Evidence needs exactly 'metric', 'data' and 'scores'"
            + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
            + (f"; unknown: {', '.join(sorted(map(str, unknown)))}" if unknown else "")
            + "."
        )
    metric = evidence["metric"]
    if metric not in (*CLASSIFICATION, *REGRESSION):
        raise InvalidInput(
            f"The evidence's metric '{metric}' is not a metric ModelDesk records.",
            hint="Choose one of: " + ", ".join((*CLASSIFICATION, *REGRESSION)) + ".",
        )

    def version_key(key: Any) -> str:
        try:
            number = int(key)
        except (TypeError, ValueError):
            number = 0
        if number < 1 or str(number) != str(key).strip():
            raise InvalidInput(f"'{key}' in the evidence is not a version number.")
        return str(number)

    raw_scores = evidence["scores"]
    if not isinstance(raw_scores, Mapping) or not raw_scores:
        raise InvalidInput("The evidence's scores must map version numbers to values.")
    scores: dict[str, float] = {}
    for key, value in raw_scores.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            raise InvalidInput(f"The evidence's score of version {key} ('{value}') is no number.")
        scores[version_key(key)] = number
    data = evidence["data"]
    if isinstance(data, Mapping):
        cleaned: str | dict[str, str] = {
            version_key(k): _data_ref(v, f"data of version {k}") for k, v in data.items()
        }
    else:
        cleaned = _data_ref(data, "data")
    return {"metric": str(metric), "data": cleaned, "scores": scores}


def _evidence_data(evidence: Mapping[str, Any], version: int) -> str | None:
    data = evidence["data"]
    return data if isinstance(data, str) else data.get(str(version))


def _judge_evidence(
    rules: Mapping[str, Any],
    evidence: Mapping[str, Any],
    candidate: ModelVersion,
    incumbent: ModelVersion,
) -> tuple[list[str], float | None, float | None]:
    """Reasons to refuse on ``evidence`` (cleaned), and the two scores it gives."""
    metric = evidence["metric"]
    cand_value = evidence["scores"].get(str(candidate.version))
    inc_value = evidence["scores"].get(str(incumbent.version))
    if rules["metric"] and metric != rules["metric"]:
        return (
            [
                f"The evidence scores {metric}, but the policy of {candidate.model_name} "
                f"decides on {rules['metric']}; the two are not comparable."
            ],
            cand_value,
            inc_value,
        )
    missing = [
        v.version for v, score in ((candidate, cand_value), (incumbent, inc_value)) if score is None
    ]
    if missing:
        return (
            [
                "The evidence has no score for version "
                + " and ".join(map(str, missing))
                + f", so version {candidate.version} cannot be compared with the champion "
                f"(version {incumbent.version})."
            ],
            cand_value,
            inc_value,
        )
    cand_data = _evidence_data(evidence, candidate.version)
    inc_data = _evidence_data(evidence, incumbent.version)
    if cand_data is None or inc_data is None or cand_data != inc_data:
        return (
            [
                f"The evidence scores version {candidate.version} on {cand_data or 'unnamed data'}"
                f" and the champion (version {incumbent.version}) on "
                f"{inc_data or 'unnamed data'}; scores on different data are not comparable."
            ],
            cand_value,
            inc_value,
        )
    assert cand_value is not None and inc_value is not None
    where = f" on {cand_data}"
    found = _gain_reasons(rules, metric, candidate, incumbent, cand_value, inc_value, where)
    return found, cand_value, inc_value


def _gain_reasons(
    rules: Mapping[str, Any],
    metric: str,
    candidate: ModelVersion,
    incumbent: ModelVersion,
    cand_value: float,
    inc_value: float,
    where: str = "",
) -> list[str]:
    from app.core.training.metrics import LOWER_IS_BETTER

    lower = metric in LOWER_IS_BETTER
    gain = (inc_value - cand_value) if lower else (cand_value - inc_value)
    if gain >= rules["min_gain"] - 1e-12:
        return []
    worse = "worse" if gain < 0 else "not better enough"
    need = (
        f"; the policy asks for a gain of at least {rules['min_gain']:g}"
        if rules["min_gain"]
        else ""
    )
    return [
        f"Version {candidate.version} scores {metric} {cand_value:.4f}{where} against "
        f"{inc_value:.4f} for the champion (version {incumbent.version}): {worse}"
        f" ({'lower' if lower else 'higher'} is better){need}."
    ]


def _replay_reasons(
    rules: Mapping[str, Any],
    candidate: ModelVersion,
    incumbent: ModelVersion,
    replay: Mapping[str, Any] | None,
) -> list[str]:
    """Why the candidate's latest replay (an audit entry's details) does not satisfy
    ``replay_agreement``; the replay must be of traffic the champion answered."""
    need = rules.get("replay_agreement")
    if not need:
        return []
    how = (
        f"`modeldesk replay {candidate.ref} --from-deployment ID` replays a deployment of "
        f"the champion (version {incumbent.version})"
    )
    if replay is None:
        return [
            f"Version {candidate.version} has no replay of production's recorded traffic; the "
            f"policy asks for an agreement of at least {need:.2%} ({how})."
        ]
    if replay.get("production") != incumbent.ref:
        return [
            f"The latest replay of version {candidate.version} was of {replay.get('production')}'s "
            f"traffic, not the champion's (version {incumbent.version}); {how}."
        ]
    agreement = float(replay.get("agreement") or 0.0)
    if agreement + 1e-12 < need:
        return [
            f"Version {candidate.version} agrees with production on {agreement:.2%} of "
            f"{replay.get('rows', 0):,} replayed rows; the policy asks for at least {need:.2%}."
        ]
    return []


def check(
    policy: Mapping[str, Any],
    candidate: ModelVersion,
    incumbent: ModelVersion | None,
    evidence: Mapping[str, Any] | None = None,
    replay: Mapping[str, Any] | None = None,
) -> PolicyCheck:
    """Judge ``candidate`` against the current champion ``incumbent`` (None: no champion),
    on ``evidence`` (already cleaned by ``clean_evidence``) when given, else on the
    registered cross-validation scores; ``replay`` is the details of the candidate's latest
    replay, read when the policy asks for a replay agreement."""
    rules = effective(policy, candidate.task)
    metric = rules["metric"]
    reasons: list[str] = []
    if incumbent is not None and incumbent.id != candidate.id:
        reasons.extend(_replay_reasons(rules, candidate, incumbent, replay))
    for tag in rules["required_tags"]:
        if tag not in candidate.tags or str(candidate.tags[tag]).lower() in ("", "false", "no"):
            reasons.append(f"Version {candidate.version} lacks the required tag '{tag}'.")
    if evidence is not None:
        cand_value = evidence["scores"].get(str(candidate.version))
        inc_value = evidence["scores"].get(str(incumbent.version)) if incumbent else None
        if incumbent is not None and incumbent.id != candidate.id:
            found, cand_value, inc_value = _judge_evidence(rules, evidence, candidate, incumbent)
            reasons.extend(found)
        return PolicyCheck(
            allowed=not reasons,
            reasons=tuple(reasons),
            metric=evidence["metric"],
            candidate=cand_value,
            incumbent=inc_value,
            incumbent_version=incumbent.version if incumbent else None,
            evidence=dict(evidence),
        )
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
            reasons.extend(
                _gain_reasons(rules, metric, candidate, incumbent, cand_value, inc_value)
            )
    return PolicyCheck(
        allowed=not reasons,
        reasons=tuple(reasons),
        metric=metric,
        candidate=cand_value,
        incumbent=inc_value,
        incumbent_version=incumbent.version if incumbent else None,
    )

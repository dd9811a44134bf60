"""What a drift computation produces: frozen, JSON-round-trippable records.

``DriftReport.to_dict()`` is the JSON export and what the store keeps (its summary in the
row, the whole document as an artifact); ``from_dict`` reads both back for the panel, so a
stored report shows exactly as it was computed, whatever the settings are today.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

STATUSES = ("ok", "warning", "alert")
SCHEMA_VERSION = 1


def worst(statuses: Any) -> str:
    rank = max((STATUSES.index(s) for s in statuses), default=0)
    return STATUSES[rank]


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    kind: str  # numeric | categorical
    method: str  # the statistic that decides: ks, chi2, wasserstein, jensenshannon
    value: float
    threshold: float
    drift_detected: bool
    status: str
    reasons: tuple[str, ...]
    stats: dict[str, Any]  # every statistic computed (psi, ks, wasserstein, chi2, js, unseen…)
    missing: dict[str, float]  # reference, current, change
    rows: dict[str, int]  # reference, current (non-missing)
    histogram: dict[str, Any]
    summary: dict[str, Any]
    importance: float | None = None  # its share of the model's permutation importance

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reasons"] = list(self.reasons)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureDrift:
        return cls(**{**data, "reasons": tuple(data.get("reasons", ()))})


@dataclass(frozen=True)
class DriftReport:
    status: str
    dataset_drift: bool
    drift_share: float  # share of features with drift detected
    n_drifted: int
    features: tuple[FeatureDrift, ...]
    reference: dict[str, Any]  # label, rows
    current: dict[str, Any]  # label, rows, source
    settings: dict[str, Any]
    created_at: str
    prediction: FeatureDrift | None = None
    metrics: dict[str, Any] | None = None
    model: dict[str, Any] | None = None  # name, version
    window: dict[str, str] | None = None  # start, end (ISO) when split by log timestamps
    id: int | None = None  # set once stored
    notes: tuple[str, ...] = field(default=())
    rules: tuple[str, ...] = ()  # the rules that made it an alert (see verdict.py)
    verdict: str = ""  # one sentence: the status and the rule that set it
    importance: dict[str, Any] | None = None  # where the feature weights came from; None: none

    def feature(self, name: str) -> FeatureDrift:
        for f in self.features:
            if f.name == name:
                return f
        if self.prediction is not None and self.prediction.name == name:
            return self.prediction
        raise KeyError(name)

    def with_id(self, report_id: int) -> DriftReport:
        return replace(self, id=report_id)

    def summary(self) -> dict[str, Any]:
        """The small part the store keeps in the row: enough for trends without the artifact."""
        return {
            "status": self.status,
            "rules": list(self.rules),
            "verdict": self.verdict,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "n_drifted": self.n_drifted,
            "n_features": len(self.features),
            "rows": {"reference": self.reference.get("rows"), "current": self.current.get("rows")},
            "features": {
                f.name: {
                    "value": f.value,
                    "method": f.method,
                    "status": f.status,
                    "psi": f.stats.get("psi"),
                    "importance": f.importance,
                }
                for f in self.features
            },
            "prediction": None
            if self.prediction is None
            else {
                "value": self.prediction.value,
                "method": self.prediction.method,
                "status": self.prediction.status,
            },
            "metrics": None
            if not self.metrics
            else {r["metric"]: r["current"] for r in self.metrics.get("rows", [])},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "status": self.status,
            "rules": list(self.rules),
            "verdict": self.verdict,
            "importance": self.importance,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "n_drifted": self.n_drifted,
            "n_features": len(self.features),
            "model": self.model,
            "reference": self.reference,
            "current": self.current,
            "window": self.window,
            "settings": self.settings,
            "created_at": self.created_at,
            "features": [f.to_dict() for f in self.features],
            "prediction": None if self.prediction is None else self.prediction.to_dict(),
            "metrics": self.metrics,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        return cls(
            status=data["status"],
            dataset_drift=data["dataset_drift"],
            drift_share=data["drift_share"],
            n_drifted=data["n_drifted"],
            features=tuple(FeatureDrift.from_dict(f) for f in data["features"]),
            reference=data["reference"],
            current=data["current"],
            settings=data["settings"],
            created_at=data["created_at"],
            prediction=None
            if data.get("prediction") is None
            else FeatureDrift.from_dict(data["prediction"]),
            metrics=data.get("metrics"),
            model=data.get("model"),
            window=data.get("window"),
            id=data.get("id"),
            notes=tuple(data.get("notes", ())),
            rules=tuple(data.get("rules", ())),
            verdict=data.get("verdict", ""),
            importance=data.get("importance"),
        )

"""The thresholds behind every drift decision, all overridable.

Defaults follow Evidently's data drift preset, which most users already read reports of:
below ``small_sample`` reference rows a statistical test decides (two-sample KS for numbers,
chi-square for categories, drift when p < ``p_value``); above it a distance decides
(Wasserstein distance normalised by the reference's standard deviation, Jensen–Shannon
distance; drift when ≥ ``distance``), because at large n every test rejects for differences
nobody cares about. PSI follows the credit-scoring rule of thumb (≥ 0.1 moderate, ≥ 0.25
significant shift); it is unstable on small samples, so it only decides from ``psi_min_rows``
rows up. The dataset drifts when at least ``drift_share`` of the features do.

The report is an alert when a feature whose drift is an alert carries more than
``importance_share`` of the model's permutation importance (5 %: one of twenty equally useful
features, or any feature the model leans on), or when the dataset drifts (verdict.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from app.core.errors import InvalidInput


@dataclass(frozen=True)
class DriftSettings:
    small_sample: int = 1000
    p_value: float = 0.05
    distance: float = 0.1
    psi_warning: float = 0.1
    psi_alert: float = 0.25
    psi_bins: int = 10
    psi_min_rows: int = 1000
    missing_warning: float = 0.05  # absolute rise in the missing share
    missing_alert: float = 0.2
    unseen_warning: float = 0.01  # share of current rows in categories never seen in training
    unseen_alert: float = 0.1
    drift_share: float = 0.5
    importance_share: float = 0.05  # a drifted feature above this share of importance alerts
    metric_tolerance: float = 0.05  # relative drop of a metric against training
    histogram_bins: int = 20

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or value < 0:
                raise InvalidInput(f"Drift setting '{f.name}' must be a number ≥ 0, not {value!r}.")
        if self.psi_alert < self.psi_warning:
            raise InvalidInput("Drift setting 'psi_alert' must not be below 'psi_warning'.")
        if not 0 < self.drift_share <= 1:
            raise InvalidInput("Drift setting 'drift_share' must be in (0, 1].")
        if not 0 <= self.importance_share <= 1:
            raise InvalidInput("Drift setting 'importance_share' must be in [0, 1] (1: off).")
        if self.psi_bins < 2 or self.histogram_bins < 2:
            raise InvalidInput("Drift settings 'psi_bins' and 'histogram_bins' must be ≥ 2.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DriftSettings:
        if not data:
            return cls()
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidInput(
                f"Unknown drift setting(s): {', '.join(unknown)}.",
                hint="Known: " + ", ".join(known),
            )
        defaults = cls()
        cast = {k: type(getattr(defaults, k))(v) for k, v in data.items()}
        return replace(defaults, **cast)

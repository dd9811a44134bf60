"""What a profile is computed with: the target, sample sizes and the warning thresholds.

A profile is cached per dataset version and ``settings_key(settings)``: the SHA-256 of the
canonical JSON of these settings plus ``FORMAT_VERSION``, so another target, another
threshold or a newer profile format is a different cache entry. Pure Python, no heavy imports:
the GUI builds settings on its own thread.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from app.core.errors import InvalidInput

#: Bumped whenever the profile document changes shape or meaning; old cache entries are then
#: simply not found (their key differs) and are recomputed on demand.
FORMAT_VERSION = 2  # 2: leakage scored by nearest neighbours (issue 15)

TASKS = ("auto", "classification", "regression")


@dataclass(frozen=True)
class Thresholds:
    """When a warning fires. Shares are fractions in [0, 1]."""

    high_missing: float = 0.2  # share of rows missing
    near_constant: float = 0.95  # share of rows holding the most frequent value
    high_cardinality: int = 50  # distinct values of a categorical column
    identifier_unique: float = 0.99  # distinct / present for integer or text columns
    skewness: float = 1.0  # |skewness| (Bulmer's rule of thumb: above 1 is highly skewed)
    imbalance: float = 0.2  # smallest class / largest class of the target
    duplicates: float = 0.0  # share of duplicate rows above which to warn (0: any)
    high_correlation: float = 0.9  # |Pearson|, |Spearman|, Cramér's V or correlation ratio
    mixed_types: float = 0.01  # share of the minority kind in a text column
    leakage: float = 0.95  # held-out predictive score or |correlation| with the target

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "high_cardinality":
                if int(value) < 1:
                    raise InvalidInput("The high-cardinality threshold must be at least 1.")
            elif not 0.0 <= float(value) <= (1e6 if f.name == "skewness" else 1.0):
                raise InvalidInput(
                    f"The {f.name.replace('_', ' ')} threshold {value} is out of range.",
                    hint="Shares and correlations are between 0 and 1.",
                )


@dataclass(frozen=True)
class ProfileSettings:
    """Everything that changes the result of profiling a given dataset version."""

    target: str | None = None
    task: str = "auto"  # for the target: auto, classification or regression
    sample_rows: int = 20_000  # rows for associations, target analysis and leakage checks
    bins: int = 50  # histogram bins of numeric columns
    top_values: int = 10  # most frequent values kept per column
    max_categories: int = 50  # categories kept by name in associations; the rest are "(other)"
    missing_matrix_rows: int = 500  # rows (sampled, in row order) of the missing-value matrix
    duplicate_examples: int = 10
    seed: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)

    def validate(self) -> None:
        if self.task not in TASKS:
            raise InvalidInput(
                f"Unknown target task '{self.task}'.",
                hint="Use auto, classification or regression.",
            )
        for name, low in (
            ("sample_rows", 100),
            ("bins", 2),
            ("top_values", 1),
            ("max_categories", 2),
            ("missing_matrix_rows", 10),
            ("duplicate_examples", 0),
        ):
            if int(getattr(self, name)) < low:
                raise InvalidInput(f"The profile setting {name} must be at least {low}.")
        self.thresholds.validate()

    def with_target(self, target: str | None) -> ProfileSettings:
        return replace(self, target=target or None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileSettings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k != "thresholds"}
        limits = {f.name for f in fields(Thresholds)}
        raw = data.get("thresholds") or {}
        thresholds = Thresholds(**{k: v for k, v in raw.items() if k in limits})
        return cls(**values, thresholds=thresholds)


def settings_key(settings: ProfileSettings) -> str:
    """The cache key: SHA-256 of the canonical settings JSON and the format version."""
    text = json.dumps(
        {"format": FORMAT_VERSION, **settings.to_dict()}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()

"""The panels of the main window, in the order of the journey (see DESIGN.md).

Each panel is one module here that receives the core services it needs as keyword arguments.
``PANELS`` is the single list the window's switcher and the View menu are built from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    summary: str  # one line: what the panel holds (shown until the panel is built)


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        "data",
        "Data",
        "Data holds the datasets you dropped: their versions, rows and inferred schema.",
    ),
    PanelSpec(
        "explore",
        "Explore",
        "Explore will hold per-column statistics, distributions, correlations and "
        "data-quality warnings.",
    ),
    PanelSpec(
        "prepare",
        "Prepare",
        "Prepare will hold cleaning and feature-engineering recipes with a live preview, "
        "versioned and carried into the served model.",
    ),
    PanelSpec(
        "runs",
        "Runs",
        "Runs will hold training with cross-validation on a chosen dataset, target and model, "
        "and the comparison of runs.",
    ),
    PanelSpec(
        "tuning",
        "Tuning",
        "Tuning will hold Optuna studies over a search space with live optimisation plots; "
        "the best trial becomes a run.",
    ),
    PanelSpec(
        "registry",
        "Registry",
        "Registry will hold model versions promoted from runs, with aliases, tags, lineage "
        "and an audit trail.",
    ),
    PanelSpec(
        "deploy",
        "Deploy",
        "Deploy will hold one-click Docker images of a model version with a REST server: "
        "build, run, smoke-test and roll back.",
    ),
    PanelSpec(
        "monitor",
        "Monitor",
        "Monitor will hold drift between training data and live or batch data, and retraining "
        "compared with the champion.",
    ),
)

PANEL_KEYS = tuple(p.key for p in PANELS)


def panel_spec(key: str) -> PanelSpec:
    for spec in PANELS:
        if spec.key == key:
            return spec
    raise KeyError(key)

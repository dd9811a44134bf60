"""The panels of the main window, in the order of the journey (see DESIGN.md).

Each panel is one module here (``PanelSpec.module``) whose ``build_panel(services, runner,
context)`` passes the panel the core services it needs as keyword arguments; every panel keeps
the contract in ``app.ui.panels.contract``. ``PANELS`` is the single list the window's switcher,
the View menu, the lazy builder and ``python -m app.ui.panels.<key>_panel`` are built from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    summary: str  # one line: what the panel holds (the switcher's and View menu's tooltip)
    module: str  # the module whose build_panel(services, runner, context) makes it


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        "data",
        "Data",
        "Datasets you dropped or opened: their versions, rows, schema and column roles.",
        "app.ui.panels.data_panel",
    ),
    PanelSpec(
        "explore",
        "Explore",
        (
            "Per-column statistics, distributions, correlations, target analysis and data-quality "
            "warnings."
        ),
        "app.ui.panels.explore_panel",
    ),
    PanelSpec(
        "prepare",
        "Prepare",
        (
            "Cleaning and feature-engineering recipes with a live preview, versioned and carried "
            "into the served model."
        ),
        "app.ui.panels.prepare_panel",
    ),
    PanelSpec(
        "runs",
        "Runs",
        (
            "Training with cross-validation on a dataset, target and model; runs tracked and "
            "compared."
        ),
        "app.ui.panels.runs_panel",
    ),
    PanelSpec(
        "tuning",
        "Tuning",
        (
            "Optuna studies over a search space with live plots; the best trial becomes a "
            "registrable run."
        ),
        "app.ui.panels.tuning_panel",
    ),
    PanelSpec(
        "registry",
        "Registry",
        (
            "Model versions registered from runs, with aliases, tags, lineage, cards and an audit "
            "trail."
        ),
        "app.ui.panels.registry_panel",
    ),
    PanelSpec(
        "deploy",
        "Deploy",
        (
            "Docker images of a model version with a REST server: build, run, test, roll back; or "
            "serve locally."
        ),
        "app.ui.panels.deploy_panel",
    ),
    PanelSpec(
        "monitor",
        "Monitor",
        (
            "Drift between the training data and live or batch data, and retraining against the "
            "champion."
        ),
        "app.ui.panels.monitor_panel",
    ),
)

PANEL_KEYS = tuple(p.key for p in PANELS)


def panel_spec(key: str) -> PanelSpec:
    for spec in PANELS:
        if spec.key == key:
            return spec
    raise KeyError(key)

"""Monitoring: data and prediction drift against the training data, and retraining.

engine.compute_drift(reference, current)   → DriftReport (pure, no store)
MonitorService(store, artifacts, datasets, registry)
    .check(ref, source=…)                  → stored DriftReport(s) for a model version
    .reports(model) / .trend(model)        → what was stored, oldest first
retrain.Retrainer                           → champion/challenger on a new dataset version
"""

from __future__ import annotations

from app.core.monitoring.engine import compute_drift
from app.core.monitoring.report import DriftReport, FeatureDrift
from app.core.monitoring.settings import DriftSettings

__all__ = ["DriftReport", "DriftSettings", "FeatureDrift", "MonitorService", "compute_drift"]


def __getattr__(name: str):  # the service pulls in the store; the engine alone does not
    if name == "MonitorService":
        from app.core.monitoring.service import MonitorService

        return MonitorService
    raise AttributeError(name)

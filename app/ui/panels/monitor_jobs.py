"""The Monitor panel's job bodies: plain functions of their inputs, run on the runner's
threads (the panel never reads the store or a file on the GUI thread), and the rule of which
model version the picker starts on.
"""

from __future__ import annotations

from typing import Any


def load_choices(monitoring: Any, *, progress: Any) -> dict[str, Any]:
    datasets = []
    for ds in monitoring.datasets.list():
        datasets.extend(v.ref for v in reversed(ds.versions))
    aliases = {}  # "name@alias" → the version number it points at
    for model in monitoring.registry.list_models():
        for alias, number in model.aliases.items():
            aliases[f"{model.name}@{alias}"] = number
    return {
        "versions": monitoring.versions(),
        "aliases": aliases,
        "deployments": monitoring.deployments(),
        "datasets": datasets,
    }


def default_model(refs: list[str], context: Any) -> str | None:
    """The version the picker starts on: the context's version, its model's champion, the
    first champion, else the first entry (never the challenger by accident of order)."""
    model = getattr(context, "model", None)
    version = getattr(context, "model_version", None)
    candidates = [f"{model}@{version}", f"{model}@champion"] if model else []
    candidates += [r for r in refs if r.endswith("@champion")]
    return next((r for r in candidates if r in refs), refs[0] if refs else None)


def run_check(
    monitoring: Any, ref: str, source: dict[str, Any], *, progress: Any
) -> dict[str, Any]:
    reports = monitoring.check(ref, progress=progress, **source)
    name = reports[-1].model["name"] if reports[-1].model else ref.partition("@")[0]
    return {"reports": reports, "trend": monitoring.trend(name)}


def load_model_history(monitoring: Any, ref: str, *, progress: Any) -> dict[str, Any]:
    version = monitoring.registry.resolve(ref)
    stored = monitoring.reports(version.model_name, limit=1)
    latest = monitoring.report(stored[0]["id"]) if stored else None
    return {"reports": [latest] if latest else [], "trend": monitoring.trend(version.model_name)}


def export_report(monitoring: Any, report: Any, path: str, *, progress: Any) -> str:
    return str(monitoring.export(report, path))


def run_retrain(retrainer: Any, ref: str, data: str, promote: bool, *, progress: Any) -> Any:
    return retrainer.retrain(ref, data, promote_if_better=promote, progress=progress)

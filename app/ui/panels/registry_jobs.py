"""Job bodies of the Registry panel: plain functions of their inputs, run on worker threads.

Each takes the registry service explicitly and checks for cancellation first, so a closed
panel or a newer selection stops them before they touch the store.
"""

from __future__ import annotations

from typing import Any


def call(fn: Any, *args: Any, progress: Any, **kwargs: Any) -> Any:
    progress.check_cancelled()
    return fn(*args, **kwargs)


def load_detail(registry: Any, ref: str, *, progress: Any) -> dict[str, Any]:
    """Everything the detail tabs show for one version, in one job."""
    progress.check_cancelled()
    version = registry.resolve(ref)
    return {
        "version": version,
        "lineage": registry.lineage(version.ref),
        "audit": registry.audit_log(version.ref),
        "card": registry.card_html(version.ref),
        "policy": registry.policy_of(version.model_name),
    }


def load_model_versions(registry: Any, name: str, *, progress: Any) -> dict[str, Any]:
    progress.check_cancelled()
    return {"model": registry.get_model(name), "versions": registry.list_versions(name)}


def move_alias(
    registry: Any, name: str, alias: str, version: int, force: bool, reason: str, *, progress: Any
) -> Any:
    progress.check_cancelled()
    return registry.set_alias(name, alias, version, force=force, reason=reason)


def find_version(registry: Any, ref: Any, *, progress: Any) -> Any:
    """The ``ModelVersion`` another panel asked to open: ``"name@3"``, ``"name@alias"`` or a
    model-version id (an int, or its digits as text)."""
    progress.check_cancelled()
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        return registry.version_by_id(int(ref))
    return registry.resolve(str(ref))

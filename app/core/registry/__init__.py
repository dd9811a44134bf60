"""The model registry: governed versions of named models, their aliases, lineage, model
cards, safe model files and the tamper-evident audit trail.

For a notebook::

    from app.core.registry import load_model
    model = load_model("churn@champion")   # SHA-256 checked before it is deserialised
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import PolicyRefused
from app.core.registry.entities import (
    AuditEntry,
    AuditReport,
    ModelVersion,
    PolicyCheck,
    RegisteredModel,
)
from app.core.registry.service import RegistryService

if TYPE_CHECKING:
    from app.core.store import Store

__all__ = [
    "AuditEntry",
    "AuditReport",
    "ModelVersion",
    "PolicyCheck",
    "PolicyRefused",
    "RegisteredModel",
    "RegistryService",
    "load_model",
]


def load_model(ref: str, store: Store | str | None = None) -> Any:
    """The verified pipeline of ``ref`` (``name``, ``name@3``, ``name@champion``).

    ``store`` is a ``Store``, a store URL/path, or None for the default store (the one the
    desktop app uses, or ``MODELDESK_STORE``).
    """
    from app.core.artifacts import ArtifactStore
    from app.core.paths import resolve_store_url
    from app.core.store import Store as _Store

    opened = store if isinstance(store, _Store) else _Store(resolve_store_url(store))
    try:
        return RegistryService(opened, ArtifactStore(opened)).load_model(ref)
    finally:
        if opened is not store:
            opened.dispose()

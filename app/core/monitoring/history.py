"""Stored drift reports read back: summaries from the rows, whole reports from artifacts.

A row keeps enough (status, rules, drift share, each feature's deciding value) to draw
trends without opening an artifact; ``load`` reads the whole JSON document, verified
against its SHA-256, so a stored report shows exactly as it was computed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.errors import NotFound
from app.core.monitoring.report import DriftReport
from app.core.store.models_monitoring import DriftReportRow

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.store import Store


def summaries(
    store: Store,
    model: str | None = None,
    *,
    version: int | None = None,
    deployment: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Stored report summaries, newest first."""
    query = select(DriftReportRow).order_by(
        DriftReportRow.created_at.desc(), DriftReportRow.id.desc()
    )
    if model is not None:
        query = query.where(DriftReportRow.model_name == model)
    if version is not None:
        query = query.where(DriftReportRow.model_version == version)
    if deployment is not None:
        query = query.where(DriftReportRow.deployment_id == deployment)
    with store.session() as s:
        return [_summary(r) for r in s.scalars(query.limit(limit))]


def load(store: Store, artifacts: ArtifactStore, report_id: int) -> DriftReport:
    with store.session() as s:
        row = s.get(DriftReportRow, report_id)
        if row is None:
            raise NotFound(f"No drift report with id {report_id}.")
        sha = row.artifact_sha256
    data = json.loads(artifacts.open_verified(sha).read_bytes())
    return DriftReport.from_dict({**data, "id": report_id})


def _summary(row: DriftReportRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "model": row.model_name,
        "version": row.model_version,
        "source": row.source,
        "source_label": row.source_label,
        "deployment_id": row.deployment_id,
        "window_start": row.window_start.isoformat() if row.window_start else None,
        "window_end": row.window_end.isoformat() if row.window_end else None,
        "status": row.status,
        "dataset_drift": row.dataset_drift,
        "drift_share": row.drift_share,
        "created_at": _aware(row.created_at).isoformat(),
        **{
            k: v
            for k, v in (row.summary or {}).items()
            if k in ("features", "prediction", "metrics", "rows", "rules", "verdict")
        },
    }


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)

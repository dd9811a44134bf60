"""ORM rows of drift reports (issue 8).

One row per computed report: enough in ``summary`` (status, drift share, each feature's
deciding value) to draw trends without opening artifacts; the whole report (histograms,
every statistic) is a JSON artifact named by ``artifact_sha256``. Model, version and
deployment are kept by value as well as by id, so a report still reads after the version or
the deployment it watched was deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.store.models import Base


class DriftReportRow(Base):
    __tablename__ = "drift_reports"
    __table_args__ = (Index("ix_drift_reports_model_created", "model_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # deployment | batch | dataset
    source: Mapped[str] = mapped_column(String(16))
    source_label: Mapped[str] = mapped_column(String(500), default="")
    deployment_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), nullable=True
    )
    reference_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), nullable=True
    )
    window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    dataset_drift: Mapped[bool] = mapped_column(Boolean, default=False)
    drift_share: Mapped[float] = mapped_column(Float, default=0.0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact_sha256: Mapped[str] = mapped_column(ForeignKey("artifacts.sha256"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

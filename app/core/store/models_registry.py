"""ORM rows of the model registry and its audit trail (issue 6).

A ``ModelVersionRow`` copies what it needs from its run (signature, metrics, environment) at
registration: a version must keep describing the model even if the run is later deleted, and
an auditor must see what was true when it was registered. ``AuditRow`` is append-only: the
migration adds database triggers that refuse UPDATE and DELETE, and every row carries the
hash of the previous one, so an edit made behind the database's back breaks the chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.store.models import Base


class RegisteredModelRow(Base):
    """A named model. ``policy`` is its promotion policy: ``{"metric", "min_gain",
    "required_tags", "same_data"}`` (missing keys take the defaults of the registry)."""

    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    # 'run' (registered from a run) or 'import' (a skops file from outside)
    source: Mapped[str] = mapped_column(String(16), default="run")
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), nullable=True
    )
    artifact_sha256: Mapped[str] = mapped_column(ForeignKey("artifacts.sha256"))
    artifact_size: Mapped[int] = mapped_column(Integer, default=0)
    task: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    estimator: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signature: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input_example: Mapped[list[Any]] = mapped_column(JSON, default=list)
    output: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trusted_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    packages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    python_version: Mapped[str] = mapped_column(String(32), default="")
    recipe: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the model card's editable fields (intended use, limitations, …)
    card: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelAliasRow(Base):
    """One version per alias per model: the primary key is (model, alias)."""

    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """One audit event. ``at`` is ISO-8601 UTC text and ``details`` canonical JSON text, so
    that the bytes hashed into ``entry_hash`` are exactly the bytes stored; ``prev_hash`` is
    unique, so two writers can never fork the chain."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_id", "subject", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))

"""ORM rows of images and deployments (issue 7).

``model_version_id`` refers to the registry's ``model_versions`` rows; lineage (issue 6) reads
these two tables to extend a version's graph to the images built from it and the containers
that run them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.store.models import Base


class ImageRow(Base):
    __tablename__ = "model_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    tag: Mapped[str] = mapped_column(String(300))
    image_id: Mapped[str] = mapped_column(String(100), default="")  # sha256:… once built
    status: Mapped[str] = mapped_column(String(16), default="building")  # built, failed
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    base_image: Mapped[str] = mapped_column(String(300), default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    build_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    # the version's input example and the in-process model's answers, for the smoke test
    example: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # host:pid of the process that builds it: a ``building`` row whose owner died is failed
    owner: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeploymentRow(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_images.id", ondelete="SET NULL"), index=True, nullable=True
    )
    model_version_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    container_id: Mapped[str] = mapped_column(String(100), default="")
    container_name: Mapped[str] = mapped_column(String(200), default="")
    host: Mapped[str] = mapped_column(String(100), default="127.0.0.1")
    port: Mapped[int] = mapped_column(Integer, default=0)
    # starting, running, failed, stopped, vanished (reconciled with the daemon at start-up)
    status: Mapped[str] = mapped_column(String(16), default="starting")
    # limits, whether a token is set, prediction-log folder
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SHA-256 hex of the bearer token ("" without one): the token itself is never stored
    token_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    smoke_test: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # host:pid of the process that starts it: a ``starting`` row whose owner died is failed
    owner: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # single (one container), balanced (its container is the load balancer of its variants)
    kind: Mapped[str] = mapped_column(String(16), default="single")
    # set on a replica of a balanced deployment's variant
    variant_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)


class VariantRow(Base):
    """One variant of a balanced deployment: a model image, its share and its replicas.

    The balanced deployment is a ``deployments`` row of kind ``balanced`` whose container is
    the load balancer; each replica is a ``deployments`` row of its own (started and smoke-
    tested like a single deployment) that names its variant.
    """

    __tablename__ = "deployment_variants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="primary")  # canary, shadow
    image_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_images.id", ondelete="SET NULL"), nullable=True
    )
    model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weight: Mapped[int] = mapped_column(Integer, default=100)  # percent of the traffic
    replicas: Mapped[int] = mapped_column(Integer, default=1)
    # active, promoted, aborted, fallen_back (its traffic returned to the last good version)
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

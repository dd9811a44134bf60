"""The ORM rows of ModelDesk's own tables.

Rows never leave a session: services turn them into frozen dataclasses before returning.
Table names avoid Optuna's (``studies``, ``trials``, ``version_info``, ``alembic_version``…)
so both schemas can live in one database; our Alembic history uses its own version table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ArtifactRow(Base):
    """One content-addressed file. ``state`` is 'pending' from the moment a writer claims the
    hash until the transaction that references it commits; a pending row whose owner process
    is gone marks a write that never finished, and recovery deletes both row and file."""

    __tablename__ = "artifacts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    owner: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DatasetRow(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    versions: Mapped[list[DatasetVersionRow]] = relationship(
        back_populates="dataset", order_by="DatasetVersionRow.version"
    )


class DatasetVersionRow(Base):
    """An immutable snapshot. ``source_sha256`` identifies the source content (plus reading
    options such as the sheet) so a re-added file is recognised; ``snapshot_sha256`` names
    the Parquet artifact every later step reads. ``parent_version_id`` and ``source_kind``
    carry lineage for versions made by recipes, SQL queries or a watched folder."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        UniqueConstraint("dataset_id", "source_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source_kind: Mapped[str] = mapped_column(String(16), default="file")
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64))
    snapshot_sha256: Mapped[str] = mapped_column(ForeignKey("artifacts.sha256"))
    format: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(BigInteger)
    cols: Mapped[int] = mapped_column(Integer)
    source_size: Mapped[int] = mapped_column(BigInteger, default=0)
    schema: Mapped[list] = mapped_column(JSON, default=list)
    # what the person said each column is for ({column: target|identifier|ignored}); the only
    # mutable part of a version: it changes no data, only how later steps read it
    usages: Mapped[dict] = mapped_column(JSON, default=dict)
    parent_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    dataset: Mapped[DatasetRow] = relationship(back_populates="versions")


class ProfileRow(Base):
    """A computed data profile, cached per dataset version and settings.

    The full document (histograms, associations, warnings) is a JSON artifact; the row keeps
    what lists need. ``settings_key`` is the SHA-256 of the canonical settings JSON, so a
    profile with another target or thresholds is a different entry.
    """

    __tablename__ = "profiles"
    __table_args__ = (UniqueConstraint("dataset_version_id", "settings_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE")
    )
    settings_key: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    artifact_sha256: Mapped[str] = mapped_column(ForeignKey("artifacts.sha256"))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RunRow(Base):
    """One training run (or a trial of a study, or a run logged from a notebook).

    ``recipe`` is everything needed to run it again (dataset version, target, preprocessing,
    estimator, parameters, validation, seed); ``env`` the exact versions that produced it.
    ``owner`` (host:pid) and ``heartbeat_at`` let any process find runs whose worker died.
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    experiment: Mapped[str] = mapped_column(String(200), default="Default", index=True)
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    task: Mapped[str | None] = mapped_column(String(32), nullable=True)
    estimator: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recipe: Mapped[dict] = mapped_column(JSON, default=dict)
    env: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str] = mapped_column(String(128), default="")
    parent_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    study_name: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    trial_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RunParamRow(Base):
    __tablename__ = "run_params"
    __table_args__ = (Index("ix_run_params_key_value", "key", "value"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunMetricRow(Base):
    """Every logged point: step-aware history, written in batches."""

    __tablename__ = "run_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    step: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_run_metrics_run_key_step", "run_id", "key", "step"),)


class RunLatestMetricRow(Base):
    """The last value per run and key, kept with each batch so lists sort in SQL."""

    __tablename__ = "run_latest_metrics"
    __table_args__ = (Index("ix_run_latest_metrics_key_value", "key", "value"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    step: Mapped[int] = mapped_column(Integer, default=0)


class RunTagRow(Base):
    __tablename__ = "run_tags"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunArtifactRow(Base):
    __tablename__ = "run_artifacts"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(250))
    sha256: Mapped[str] = mapped_column(ForeignKey("artifacts.sha256"))
    size: Mapped[int] = mapped_column(BigInteger)


class StoreInfoRow(Base):
    """Facts about the store itself: ``store_id`` (made once, at creation or by migration
    0011; the audit anchor in the user's config folder is keyed by it) and ``audit_anchored``
    (when the audit log was first anchored, so an emptied log with every anchor gone is
    still caught)."""

    __tablename__ = "store_info"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Each later area keeps its rows in a module of its own; importing them here puts every table
# in ``Base.metadata``, which the migration test compares with the migrated schema.
from app.core.store import (  # noqa: E402
    models_copy,  # noqa: F401
    models_deploy,  # noqa: F401
    models_monitoring,  # noqa: F401
    models_recipes,  # noqa: F401
    models_registry,  # noqa: F401
)

"""ProfileService: profiles of dataset versions, computed once and cached in the store.

A profile is identified by its dataset version and ``settings_key(settings)``. The document
(JSON) is a content-addressed artifact; the ``profiles`` row keeps the summary lists need. The
row and the artifact become visible in one transaction; a cancelled or failed computation
stores nothing (a placed artifact that no row references is removed again), and a second
request for the same version and settings is read from the store without recomputing — also
after a restart, since both live in the store.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.core.fsutil import write_atomically
from app.core.profiling.settings import ProfileSettings, settings_key
from app.core.progress import NullProgress, Progress, SubProgress
from app.core.store.models import ProfileRow

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore, PendingArtifact
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.store import Store

ARTIFACT_KIND = "profile"


@dataclass(frozen=True)
class Profile:
    """A stored profile: its document and where it came from. Treat ``document`` as read-only."""

    id: int
    dataset_version_id: int
    ref: str
    settings: ProfileSettings
    settings_key: str
    summary: dict[str, Any]
    document: dict[str, Any]
    artifact_sha256: str
    seconds: float
    created_at: datetime
    cached: bool  # True when read from the store rather than computed by this call

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return self.document.get("warnings", [])

    @property
    def columns(self) -> list[dict[str, Any]]:
        return self.document.get("columns", [])

    def column(self, name: str) -> dict[str, Any]:
        for col in self.columns:
            if col["name"] == name:
                return col
        raise NotFound(f"The profile of {self.ref} has no column '{name}'.")

    def to_dict(self) -> dict[str, Any]:
        """The profile document with where it is stored (what ``--json`` prints)."""
        return {
            **self.document,
            "stored": {
                "profile_id": self.id,
                "cached": self.cached,
                "artifact_sha256": self.artifact_sha256,
                "settings_key": self.settings_key,
                "seconds": self.seconds,
                "created_at": self.created_at.isoformat(),
            },
        }


def summarise(document: dict[str, Any]) -> dict[str, Any]:
    """What the ``profiles`` row keeps for lists: counts, not the statistics."""
    warnings = document.get("warnings", [])
    kinds: dict[str, int] = {}
    for w in warnings:
        kinds[w["kind"]] = kinds.get(w["kind"], 0) + 1
    overview = document.get("overview", {})
    target = document.get("target") or {}
    return {
        "rows": overview.get("rows"),
        "columns": overview.get("columns"),
        "missing_share": overview.get("missing_share"),
        "duplicate_rows": (overview.get("duplicates") or {}).get("count"),
        "warnings": len(warnings),
        "warnings_by_kind": kinds,
        "target": target.get("column"),
        "task": target.get("task"),
        "samples": document.get("samples", []),
    }


class ProfileService:
    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore,
        datasets: DatasetService,
        *,
        workers: int | None = None,
        clock: Any = time.perf_counter,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.datasets = datasets
        self.workers = workers
        self._clock = clock
        self.computed = 0  # profiles this service computed (not read from the cache)

    # -- reading ---------------------------------------------------------------------------

    def cached(
        self, ref: str | DatasetVersion, settings: ProfileSettings | None = None
    ) -> Profile | None:
        """The stored profile for this version and settings, or None; never computes."""
        version = self._version(ref)
        settings = settings or ProfileSettings()
        key = settings_key(settings)
        with self.store.session() as s:
            row = s.scalar(
                select(ProfileRow).where(
                    ProfileRow.dataset_version_id == version.id, ProfileRow.settings_key == key
                )
            )
            if row is None:
                return None
            fields = _row_fields(row)
        return self._load(version, fields, cached=True)

    def list(self, ref: str | DatasetVersion) -> list[dict[str, Any]]:
        """The stored profiles of a version (newest first): settings and summary."""
        version = self._version(ref)
        with self.store.session() as s:
            rows = s.scalars(
                select(ProfileRow)
                .where(ProfileRow.dataset_version_id == version.id)
                .order_by(ProfileRow.id.desc())
            )
            return [
                {
                    "id": r.id,
                    "settings": dict(r.settings),
                    "summary": dict(r.summary),
                    "seconds": r.seconds,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    # -- computing -------------------------------------------------------------------------

    def profile(
        self,
        ref: str | DatasetVersion,
        settings: ProfileSettings | None = None,
        *,
        progress: Progress | None = None,
        refresh: bool = False,
    ) -> Profile:
        """The profile of a version: from the store when it is there, else computed and
        stored. ``refresh`` recomputes and replaces a stored one."""
        from app.core.profiling.engine import ParquetColumns, compute_profile, validate

        progress = progress or NullProgress()
        version = self._version(ref)
        settings = settings or ProfileSettings()
        validate([c.name for c in version.schema], version.rows, settings, f"Dataset {version.ref}")
        if not refresh:
            found = self.cached(version, settings)
            if found is not None:
                progress.update(1.0, f"Profile of {version.ref} read from the store")
                return found
        started = self._clock()
        progress.update(0.0, f"Reading {version.ref}")
        table = ParquetColumns(self._snapshot(version), as_dictionary=_few_values(version))
        progress.check_cancelled()
        document = compute_profile(
            table,
            roles={c.name: c.role for c in version.schema},
            settings=settings,
            dataset=_dataset_info(version),
            progress=SubProgress(progress, 0.05, 0.95),
            workers=self.workers,
        )
        del table
        self.computed += 1
        progress.check_cancelled()
        progress.update(0.96, "Storing the profile")
        data = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
        pending = self.artifacts.put_bytes(data, kind=ARTIFACT_KIND)
        seconds = self._clock() - started
        try:
            progress.check_cancelled()
            fields = self._commit(version, settings, document, pending, seconds, refresh)
        except BaseException:
            self.artifacts.discard(pending)
            raise
        if fields["artifact_sha256"] != pending.sha256:  # a racing writer's profile was kept
            self.artifacts.discard(pending)
        progress.update(1.0, f"Profiled {version.ref} in {seconds:.1f} s")
        return _profile(version, fields, document, cached=False)

    def _commit(
        self,
        version: DatasetVersion,
        settings: ProfileSettings,
        document: dict[str, Any],
        pending: PendingArtifact,
        seconds: float,
        replace: bool,
    ) -> dict[str, Any]:
        key = settings_key(settings)

        def insert(s: Session) -> dict[str, Any]:
            old = s.scalar(
                select(ProfileRow).where(
                    ProfileRow.dataset_version_id == version.id, ProfileRow.settings_key == key
                )
            )
            if old is not None:
                if not replace:  # another process stored it meanwhile: keep theirs
                    return _row_fields(old)
                s.delete(old)
                s.flush()
            row = ProfileRow(
                dataset_version_id=version.id,
                settings_key=key,
                settings=settings.to_dict(),
                summary=summarise(document),
                artifact_sha256=pending.sha256,
                seconds=seconds,
                created_at=datetime.now(UTC),
            )
            s.add(row)
            pending.mark_stored(s)
            s.flush()
            return _row_fields(row)

        try:
            return self.store.write(insert)
        except IntegrityError:  # a racing writer inserted the same key: read theirs
            found = self.cached(version, settings)
            if found is None:
                raise
            return _fields_of(found)

    def _load(self, version: DatasetVersion, fields: dict[str, Any], *, cached: bool) -> Profile:
        path = self.artifacts.open_verified(fields["artifact_sha256"])
        document = json.loads(path.read_bytes())
        return _profile(version, fields, document, cached=cached)

    def _snapshot(self, version: DatasetVersion) -> Path:
        """The version's Parquet snapshot, read column by column while profiling."""
        path = self.datasets.snapshot_path(version)
        if not path.exists():
            raise NotFound(
                f"The snapshot of {version.ref} is missing from {self.artifacts.root}.",
                hint="The artifact folder was moved or cleaned; add the file again.",
            )
        return path

    def _version(self, ref: str | DatasetVersion) -> DatasetVersion:
        return self.datasets.resolve(ref) if isinstance(ref, str) else ref

    # -- export ----------------------------------------------------------------------------

    def export_html(
        self, profile: Profile, dest: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> Path:
        """One self-contained HTML file (plots inline, no network needed), written atomically."""
        from app.core.profiling.report_html import render_html

        progress = progress or NullProgress()
        progress.update(0.0, "Rendering the report")
        html = render_html(profile.document)
        progress.check_cancelled()
        return write_atomically(dest, html.encode("utf-8"))

    def export_json(self, profile: Profile, dest: str | os.PathLike[str]) -> Path:
        data = json.dumps(profile.to_dict(), indent=1, allow_nan=False).encode("utf-8")
        return write_atomically(dest, data)


def _few_values(version: DatasetVersion) -> set[str]:
    """Text columns with few distinct values (by the stored schema): read as dictionaries."""
    limit = max(1_000, version.rows // 20)
    return {
        c.name
        for c in version.schema
        if c.physical_type in ("string", "large_string") and 0 < c.distinct <= limit
    }


def _dataset_info(version: DatasetVersion) -> dict[str, Any]:
    return {
        "ref": version.ref,
        "name": version.name,
        "version": version.version,
        "version_id": version.id,
        "snapshot_sha256": version.snapshot_sha256,
        "source_path": version.source_path,
        "format": version.format,
        "rows": version.rows,
        "cols": version.cols,
        "source_size": version.source_size,
    }


def _row_fields(row: ProfileRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "dataset_version_id": row.dataset_version_id,
        "settings": dict(row.settings or {}),
        "settings_key": row.settings_key,
        "summary": dict(row.summary or {}),
        "artifact_sha256": row.artifact_sha256,
        "seconds": row.seconds,
        "created_at": row.created_at,
    }


def _fields_of(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "dataset_version_id": profile.dataset_version_id,
        "settings": profile.settings.to_dict(),
        "settings_key": profile.settings_key,
        "summary": profile.summary,
        "artifact_sha256": profile.artifact_sha256,
        "seconds": profile.seconds,
        "created_at": profile.created_at,
    }


def _profile(
    version: DatasetVersion, fields: dict[str, Any], document: dict[str, Any], *, cached: bool
) -> Profile:
    created = fields["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return Profile(
        id=fields["id"],
        dataset_version_id=fields["dataset_version_id"],
        ref=version.ref,
        settings=ProfileSettings.from_dict(fields["settings"]),
        settings_key=fields["settings_key"],
        summary=fields["summary"],
        document=document,
        artifact_sha256=fields["artifact_sha256"],
        seconds=fields["seconds"],
        created_at=created,
        cached=cached,
    )

"""The Explore panel's job bodies (run on the runner's threads, never on the GUI thread):
listing the versions with the targets their cached profiles were made with, profiling one,
exporting a report. No Qt here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion
    from app.core.profiling import Profile, ProfileService


def list_versions(
    datasets: DatasetService, profiles: ProfileService | None = None, *, progress: Any
) -> tuple[list[DatasetVersion], dict[int, str]]:
    """Every version of every dataset, newest dataset version first within a name, and for
    the versions with no stored target the target of their newest cached profile (a version
    profiled with ``modeldesk profile --target`` before roles were stored)."""
    out = []
    for ds in datasets.list():
        out.extend(reversed(ds.versions))
    profiled: dict[int, str] = {}
    for version in out if profiles is not None else ():
        progress.check_cancelled()
        if version.target:
            continue
        names = {c.name for c in version.schema}
        for stored in profiles.list(version):
            target = (stored.get("settings") or {}).get("target")
            if target in names:
                profiled[version.id] = target
                break
    return out, profiled


def profile_version(
    profiles: ProfileService,
    version: DatasetVersion,
    settings: Any,
    refresh: bool = False,
    *,
    progress: Any,
) -> Profile:
    result = profiles.profile(version, settings, progress=progress, refresh=refresh)
    # Pay matplotlib's import here, on the worker thread, not when the panel first draws.
    # Only the Qt-free part: matplotlib's Qt backend touches Qt enums as it is imported, and
    # PySide's lazy enum set-up is not safe off the GUI thread.
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    return result


def export_report(
    profiles: ProfileService, profile: Profile, dest: str, kind: str, *, progress: Any
) -> Path:
    if kind == "html":
        return profiles.export_html(profile, dest, progress=progress)
    return profiles.export_json(profile, dest)

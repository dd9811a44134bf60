"""Where the default store lives and how a store URL is chosen.

Order of precedence: an explicit ``--store`` value, then ``MODELDESK_STORE``, then an SQLite
file in the platform's user data folder. Plain file paths are accepted as SQLite URLs because
that is what people type.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_ENV = "MODELDESK_STORE"
ARTIFACTS_ENV = "MODELDESK_ARTIFACTS"
CONFIG_ENV = "MODELDESK_CONFIG_DIR"


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("ModelDesk", appauthor=False)


def user_config_dir() -> Path:
    """The user's own settings folder (keys live here), or ``MODELDESK_CONFIG_DIR``."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from platformdirs import user_config_path

    return user_config_path("ModelDesk", appauthor=False)


def user_log_dir() -> Path:
    """The platform's log folder for ModelDesk (``~/.local/state/ModelDesk/log`` on Linux)."""
    from platformdirs import user_log_path

    return user_log_path("ModelDesk", appauthor=False)


def default_store_url() -> str:
    return f"sqlite:///{user_data_dir() / 'modeldesk.db'}"


def resolve_store_url(explicit: str | None = None) -> str:
    """The SQLAlchemy URL to open, from the flag, the environment or the default."""
    value = explicit or os.environ.get(STORE_ENV) or default_store_url()
    if "://" not in value:
        value = f"sqlite:///{Path(value).expanduser().resolve()}"
    return value


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL, or None for an in-memory or non-SQLite URL."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    if not rest or rest == ":memory:":
        return None
    return Path(rest.split("?", 1)[0])


def is_remote_location(location: object) -> bool:
    """``s3://bucket/prefix`` and other fsspec URLs, as opposed to a folder path."""
    return isinstance(location, str) and "://" in location


def remote_artifacts() -> str | None:
    """``MODELDESK_ARTIFACTS`` when it names an object store or other fsspec URL."""
    value = os.environ.get(ARTIFACTS_ENV, "")
    return value if is_remote_location(value) else None


def artifact_cache_dir(location: str) -> Path:
    """The local read cache of a remote artifact location (one folder per location)."""
    import hashlib

    from platformdirs import user_cache_path

    name = hashlib.sha256(location.rstrip("/").encode()).hexdigest()[:16]
    return user_cache_path("ModelDesk", appauthor=False) / "artifact-cache" / name


def artifacts_dir_for(url: str) -> Path:
    """Artifacts sit beside an SQLite file; a server database uses the user data folder; a
    remote location (``MODELDESK_ARTIFACTS=s3://…``) is read through a local cache folder."""
    if os.environ.get(ARTIFACTS_ENV):
        value = os.environ[ARTIFACTS_ENV]
        return artifact_cache_dir(value) if is_remote_location(value) else Path(value)
    db = sqlite_path(url)
    return (db.parent if db else user_data_dir()) / "artifacts"

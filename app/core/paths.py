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


def artifacts_dir_for(url: str) -> Path:
    """Artifacts sit beside an SQLite file; a server database uses the user data folder."""
    if os.environ.get(ARTIFACTS_ENV):
        return Path(os.environ[ARTIFACTS_ENV])
    db = sqlite_path(url)
    return (db.parent if db else user_data_dir()) / "artifacts"

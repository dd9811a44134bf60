"""What produced a run: Python, platform, ModelDesk and every installed package's version.

The image builder installs exactly these versions, so a model never meets a different
scikit-learn than the one that trained it. Reading distribution metadata takes tens of
milliseconds, so it is computed once per process.
"""

from __future__ import annotations

import platform
import sys
from functools import lru_cache
from importlib import metadata
from typing import Any


@lru_cache(maxsize=1)
def capture_environment() -> dict[str, Any]:
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower().replace("_", "-")] = dist.version
    from app import __version__

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": sys.executable,
        "modeldesk": __version__,
        "packages": dict(sorted(packages.items())),
    }

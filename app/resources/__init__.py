"""Files shipped inside the package: icons, sample datasets, templates.

Everything here is found through :mod:`importlib.resources`, never by a path relative to the
source tree, so the same call works from a clone, an installed wheel, a zipped install and the
PyInstaller bundle. Names are ``/``-separated paths below this package
(``"icons/modeldesk.svg"``, ``"samples/iris.csv"``).

``resource_path`` hands out a real file-system path (what Qt, pandas and Alembic want). When the
package is not on a file system (a zip import) the file is extracted once to a temporary file
that lives until the process exits.

No Qt here: the GUI turns ``icon_files()`` into a ``QIcon`` itself.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

#: The reverse-DNS id shared by the .desktop entry, the AppStream metainfo, the icon name in
#: the icon theme and (on Wayland) the window's app id.
APP_ID = "io.github.modeldesk.ModelDesk"
#: Sizes of the PNG renderings of ``icons/modeldesk.svg`` (hicolor theme sizes).
ICON_SIZES = (16, 32, 48, 64, 128, 256)
ICON_SVG = "icons/modeldesk.svg"

_extracted = ExitStack()
atexit.register(_extracted.close)
_cache: dict[str, Path] = {}


def files() -> Traversable:
    """The root of the shipped resources."""
    return resources.files(__name__)


def _traversable(name: str) -> Traversable:
    node = files()
    for part in name.replace("\\", "/").split("/"):
        if part in ("", ".", ".."):
            raise ValueError(f"{name!r} is not a plain resource name such as 'icons/x.svg'.")
        node = node / part
    if not node.is_file():
        raise FileNotFoundError(f"ModelDesk resource {name!r} is not installed.")
    return node


def exists(name: str) -> bool:
    try:
        _traversable(name)
    except (FileNotFoundError, ValueError):
        return False
    return True


def read_bytes(name: str) -> bytes:
    return _traversable(name).read_bytes()


def read_text(name: str, encoding: str = "utf-8") -> str:
    return _traversable(name).read_text(encoding=encoding)


def resource_path(name: str) -> Path:
    """A file-system path to the resource ``name`` (extracted once if the package is zipped)."""
    cached = _cache.get(name)
    if cached is not None:
        return cached
    node = _traversable(name)
    if isinstance(node, Path):
        path = node
    else:  # a zip or other non-file loader: extract for the life of the process
        path = Path(_extracted.enter_context(resources.as_file(node)))
    _cache[name] = path
    return path


def listdir(folder: str) -> list[str]:
    """Names of the files directly in ``folder`` (sorted), e.g. ``listdir("samples")``."""
    node = files()
    for part in folder.strip("/").split("/"):
        node = node / part
    if not node.is_dir():
        return []
    return sorted(
        child.name for child in node.iterdir() if child.is_file() and child.name != "__init__.py"
    )


# -- samples -------------------------------------------------------------------------------


def samples() -> list[str]:
    """File names of the shipped sample datasets."""
    return listdir("samples")


def sample(name: str) -> Path:
    """Path to a shipped sample dataset, e.g. ``sample("iris.csv")``."""
    return resource_path(f"samples/{name}")


# -- icons ---------------------------------------------------------------------------------


def icon_path(size: int | None = None) -> Path:
    """The application icon: the SVG, or the PNG rendered at ``size`` pixels."""
    if size is None:
        return resource_path(ICON_SVG)
    if size not in ICON_SIZES:
        raise ValueError(f"No {size}px icon; the sizes are {', '.join(map(str, ICON_SIZES))}.")
    return resource_path(f"icons/modeldesk-{size}.png")


def icon_files() -> list[Path]:
    """Every rendering of the application icon, smallest first, then the SVG."""
    return [icon_path(size) for size in ICON_SIZES] + [icon_path()]

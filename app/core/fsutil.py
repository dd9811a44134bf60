"""Writing a file so that readers see the old bytes or the new ones, never half of them.

One helper for every "write to a temporary name, then rename" in the product: the temporary
file sits in the destination's folder (a rename across file systems would be a copy), is
flushed to disk before the rename, and is removed when anything fails, so a killed process or
a full disk leaves the destination as it was. A ground module: it imports only ``errors``.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.errors import InvalidInput, ModelDeskError


def write_failure(
    path: Path, exc: OSError, error: type[ModelDeskError] = InvalidInput
) -> Exception:
    """The error a person reads when ``path`` cannot be written: which file, why, what to do."""
    if exc.errno == errno.ENOSPC:
        hint = f"The disk holding {path.parent} is full; free some space and try again."
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"{path.parent} is not writable; fix its permissions or choose another folder."
    else:
        hint = "Check the folder's permissions and free space."
    return error(f"Could not write {path}: {exc.strerror or exc}.", hint=hint)


def check_folder(path: Path, error: type[ModelDeskError] = InvalidInput) -> None:
    """Refuse a destination whose folder does not exist (before any costly work)."""
    if not path.parent.is_dir():
        raise error(
            f"The folder {path.parent} does not exist.",
            hint="Create it first or choose another destination.",
        )


@contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    *,
    make_parents: bool = False,
    error: type[ModelDeskError] = InvalidInput,
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on a clean exit it replaces ``path``.

    The caller writes the temporary path by any means (``write_bytes``, pyarrow, tarfile).
    A missing folder is refused (or made, with ``make_parents``); an ``OSError`` while
    writing or renaming becomes ``error`` naming the file, and nothing is left behind.
    """
    dest = Path(path)
    if make_parents:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_failure(dest, exc, error) from exc
    else:
        check_folder(dest, error)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        raise write_failure(dest, exc, error) from exc
    finally:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        except OSError:  # an unwritable folder: the rename failed too, nothing was left
            pass


def write_atomically(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    make_parents: bool = False,
    error: type[ModelDeskError] = InvalidInput,
    mode: int | None = None,
) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` through ``atomic_write``; returns the path.

    ``mode`` sets the file's permissions before it appears under its name (a key file is
    never readable by others, not even for an instant).
    """
    dest = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_write(dest, make_parents=make_parents, error=error) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
    return dest

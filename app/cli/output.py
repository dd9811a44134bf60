"""One behaviour for every file a command writes (``-o FILE``, ``--html FILE``): the folder
must exist. Creating folders silently hides a typo in a path; refusing with the folder named
and what to do is what scripts and people can act on, and it happens before any work."""

from __future__ import annotations

from pathlib import Path

from app.core.errors import InvalidInput


def output_file(value: str, *, option: str = "-o") -> Path:
    """The file ``option`` names, or ``InvalidInput`` naming its missing folder."""
    path = Path(value).expanduser()
    if not value.strip():
        raise InvalidInput(f"{option} needs a file name.")
    if path.is_dir():
        raise InvalidInput(
            f"{path} is a folder; {option} needs a file name.",
            hint=f"For example {path / 'out'}.",
        )
    folder = path.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise InvalidInput(
            f"The folder {folder} for {option} {path.name} {what}.",
            hint=f"Create it first (mkdir -p {folder}) or write somewhere else.",
        )
    return path


def write_text(path: Path, text: str) -> None:
    """Write through ``app.core.fsutil``'s one atomic write: a reader never sees half a file,
    and a failure (no permission, disk full) is one error naming the file."""
    from app.core.fsutil import write_atomically

    write_atomically(path, text)

"""One write-to-a-temporary-then-rename helper: the destination is old or new, never half."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from app.core.errors import InvalidInput, StoreUnavailable
from app.core.fsutil import atomic_write, write_atomically, write_failure


def test_a_clean_exit_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    dest.write_text("old")
    with atomic_write(dest) as tmp:
        assert tmp.parent == tmp_path and tmp != dest
        tmp.write_text("new")
        assert dest.read_text() == "old"  # readers still see the old bytes
    assert dest.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    dest.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the writer failed")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_missing_folder_is_refused_or_made(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        write_atomically(tmp_path / "missing" / "x.md", "text")
    made = write_atomically(tmp_path / "a" / "b" / "x.md", "text", make_parents=True)
    assert made.read_text() == "text"


def test_a_mode_applies_before_the_file_has_its_name(tmp_path: Path) -> None:
    key = write_atomically(tmp_path / "key", b"secret", mode=0o600)
    assert key.stat().st_mode & 0o777 == 0o600


def test_an_unwritable_folder_names_the_file(tmp_path: Path) -> None:
    """A folder that is a file: every user, root included, gets an OSError."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(StoreUnavailable, match=f"Could not write {blocker / 'x'}"):
        write_atomically(blocker / "x", "data", make_parents=True, error=StoreUnavailable)


def test_a_full_disk_says_so() -> None:
    error = write_failure(Path("/data/x.csv"), OSError(errno.ENOSPC, "No space left on device"))
    assert "No space left" in error.message and "full" in error.hint

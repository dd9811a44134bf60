"""Crash safety of the content-addressed store: dead writers leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from app.core.artifacts import ArtifactStore, sha256_file
from app.core.errors import TamperedArtifact
from app.core.store.models import ArtifactRow


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_put_bytes_is_content_addressed(services) -> None:
    art: ArtifactStore = services.artifacts
    pending = art.put_bytes(b"hello", kind="test")
    assert pending.path == art.root / pending.sha256[:2] / pending.sha256
    assert sha256_file(pending.path) == pending.sha256
    with services.store.session() as s:
        assert s.get(ArtifactRow, pending.sha256).state == "pending"
    with services.store.session(write=True) as s:
        pending.mark_stored(s)
    assert art.recover() == 0
    assert pending.path.exists()


def test_recover_removes_dead_writers_leftovers(services) -> None:
    art: ArtifactStore = services.artifacts
    pid = _dead_pid()
    import socket

    host = socket.gethostname()
    art.tmp_dir.mkdir(parents=True, exist_ok=True)
    leftover = art.tmp_dir / f"{host.replace('-', '_')}-{pid}-abc.part"
    leftover.write_bytes(b"half a file")
    sha = "ab" * 32
    placed = art.path_for(sha)
    placed.parent.mkdir(parents=True, exist_ok=True)
    placed.write_bytes(b"complete but never committed")
    with services.store.session(write=True) as s:
        s.add(
            ArtifactRow(
                sha256=sha,
                size=1,
                kind="t",
                state="pending",
                owner=f"{host}:{pid}",
                created_at=datetime.now(UTC),
            )
        )
    assert art.recover() == 2
    assert not leftover.exists() and not placed.exists()
    with services.store.session() as s:
        assert s.get(ArtifactRow, sha) is None
    assert art.orphans() == []


def test_live_writers_pending_rows_are_kept(services) -> None:
    pending = services.artifacts.put_bytes(b"in flight", kind="t")
    services.artifacts.recover()
    assert pending.path.exists()


def test_flipped_byte_is_refused(services) -> None:
    pending = services.artifacts.put_bytes(b"model bytes" * 100, kind="model")
    data = bytearray(pending.path.read_bytes())
    data[10] ^= 0xFF
    pending.path.write_bytes(bytes(data))
    with pytest.raises(TamperedArtifact, match="was changed after it was written"):
        services.artifacts.open_verified(pending.sha256)

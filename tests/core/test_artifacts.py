"""Crash safety of the content-addressed store: dead writers leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from app.core.artifacts import ArtifactStore, sha256_file
from app.core.errors import TamperedArtifact
from app.core.store.models import ArtifactRow

pytestmark = pytest.mark.both_stores


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


# -- a folder that refuses the file ----------------------------------------------------------


@pytest.fixture
def read_only_folders():
    """Make folders read-only for everyone, root included (chattr +i when root); undone after."""
    import os

    made: list = []

    def lock(folder) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(folder)], check=True)
        else:
            folder.chmod(0o555)
        made.append(folder)

    yield lock
    for folder in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def _stored(services) -> tuple[int, list[str]]:
    from sqlalchemy import func, select

    with services.store.session() as s:
        rows = s.scalar(select(func.count()).select_from(ArtifactRow))
    root = services.artifacts.root
    return rows, sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_read_only_shard_is_named_and_nothing_is_stored(services, read_only_folders) -> None:
    import hashlib

    from app.core.errors import StoreUnavailable

    art: ArtifactStore = services.artifacts
    data = b"a model's bytes"
    shard = art.root / hashlib.sha256(data).hexdigest()[:2]
    before = _stored(services)
    read_only_folders(shard)
    with pytest.raises(StoreUnavailable) as info:
        art.put_bytes(data, kind="test")
    assert f"artifact folder {shard}" in info.value.message
    assert "Nothing was stored" in info.value.message and "writable" in (info.value.hint or "")
    assert _stored(services) == before  # no pending row, no temporary file


def test_a_dataset_added_while_every_shard_refuses_is_one_error_line(
    services, small_csv, read_only_folders, capsys
) -> None:
    from app.cli import main

    before = _stored(services)
    for i in range(256):
        read_only_folders(services.artifacts.root / f"{i:02x}")
    capsys.readouterr()
    code = main(["datasets", "add", str(small_csv), "--store", services.store.url])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: Could not store a file")
    assert str(services.artifacts.root) in err[0] and "Traceback" not in err[0]
    assert _stored(services) == before
    assert services.datasets.list() == []


def test_a_full_disk_says_so_and_stores_nothing(tmp_path) -> None:
    """The artifact folder on a 256 KiB tmpfs: a larger file fails with ENOSPC."""
    import os

    from app.bootstrap import build_services
    from app.core.errors import StoreUnavailable

    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("mounting a small tmpfs needs root")
        pytest.skip("mounting a small tmpfs needs root")
    full = tmp_path / "full"
    full.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(full)], check=True)
    services = build_services(f"sqlite:///{tmp_path / 'md.db'}", artifacts_dir=full)
    try:
        before = _stored(services)
        with pytest.raises(StoreUnavailable) as info:
            services.artifacts.put_bytes(os.urandom(1 << 20), kind="test")
        assert "full" in (info.value.hint or "") and str(full) in info.value.hint
        assert _stored(services) == before
    finally:
        services.close()
        subprocess.run(["umount", str(full)], check=True)

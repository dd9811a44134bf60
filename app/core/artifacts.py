"""Content-addressed files beside the database, written so a crash never leaves half of one.

A file lives at ``artifacts/<sha256[:2]>/<sha256>``. Writing goes: bytes to
``artifacts/tmp/<host>-<pid>-<random>.part`` while hashing → a *pending* row claiming the
hash, owned by this process → rename into place → the caller's own transaction marks the
row *stored* together with whatever references it. A process killed at any point leaves a
temporary file or a pending row owned by a dead process; ``recover()`` (run at every start)
removes both, so no file survives that no row points to.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound, StoreUnavailable, TamperedArtifact
from app.core.owners import owner_is_dead, owner_tag, pid_alive
from app.core.store import Store
from app.core.store.models import ArtifactRow

_CHUNK = 1 << 20


# Owners and their liveness live in ``app.core.owners`` (psutil, with the start time, so a
# reused pid is not taken for a live owner); the names stay importable from here.
_pid_alive = pid_alive
_owner_is_dead = owner_is_dead


def sha256_file(path: Path, chunk: int = _CHUNK) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


#: SHA-256 of the files this process has hashed, by the file's identity (see ``hash_once``)
_HASHED: dict[tuple[str, int, int, int, int], str] = {}
_HASHED_LOCK = threading.Lock()


def hash_once(path: Path) -> str:
    """SHA-256 of ``path``, computed once per process while the file stays the same.

    The file's identity is its path, size, inode, modification and change times: any write
    changes the change time (which no user can set back), so a byte flipped after the first
    read is hashed again. Reading a large snapshot ten times in one process costs one hash.
    """
    st = path.stat()
    key = (str(path), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    with _HASHED_LOCK:
        known = _HASHED.get(key)
    if known is not None:
        return known
    actual = sha256_file(path)
    with _HASHED_LOCK:
        _HASHED[key] = actual
    return actual


def changed_file(
    what: str, path: Path, expected: str, actual: str, *, remedy: str
) -> TamperedArtifact:
    """The one message for a stored file whose bytes no longer match its recorded hash."""
    return TamperedArtifact(
        f"{what} ({path}) was changed after it was stored "
        f"(SHA-256 {actual[:12]}… instead of {expected[:12]}…). It was not loaded.",
        hint=f"{remedy}; the refusal is in the audit log.",
    )


@dataclass(frozen=True)
class PendingArtifact:
    """A file in place whose row is still pending; ``commit(session)`` makes it permanent."""

    sha256: str
    size: int
    path: Path
    existed: bool

    def mark_stored(self, session: Session) -> None:
        row = session.get(ArtifactRow, self.sha256)
        if row is not None and row.state != "stored":
            row.state = "stored"


class ArtifactStore:
    """Content-addressed files in the store's folder, or (``store.artifacts_remote``) in an
    object store reached through fsspec with that folder as its local, verified read cache
    (``app.core.artifact_backends``)."""

    def __init__(self, store: Store) -> None:
        from app.core.artifact_backends import open_backend

        self.store = store
        self.root = store.artifacts_dir
        self.tmp_dir = self.root / "tmp"
        self.remote = open_backend(store.artifacts_remote)

    @property
    def location(self) -> str:
        """Where the artifacts live, for people (a remote URL carries no credentials)."""
        return self.remote.location if self.remote else str(self.root)

    def path_for(self, sha256: str) -> Path:
        """The local file of an artifact; from a remote location it is fetched into the
        cache first (hashed before it takes its name). Missing stays missing: callers say so."""
        path = self._local(sha256)
        if self.remote is not None and not path.exists():
            self._fetch(sha256, path)
        return path

    def _local(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _fetch(self, sha256: str, path: Path) -> None:
        assert self.remote is not None
        try:
            with self.temporary_file(".get") as tmp:
                if not self.remote.get(sha256, tmp):
                    return
                actual = sha256_file(tmp)
                if actual != sha256:
                    raise TamperedArtifact(
                        f"The stored object {self.remote.location}/{sha256[:2]}/{sha256} was "
                        f"changed after it was written (SHA-256 {actual[:12]}… instead of "
                        f"{sha256[:12]}…).",
                        hint="It will not be used. Restore the object from a backup.",
                    )
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)
        except OSError as exc:
            raise self._unwritable(self.root, exc) from exc

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def temporary_file(self, suffix: str = ".part") -> Iterator[Path]:
        """A temporary path owned by this process, removed on exit unless it was moved."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        host = socket.gethostname().replace("-", "_")
        path = self.tmp_dir / f"{host}-{os.getpid()}-{uuid.uuid4().hex}{suffix}"
        try:
            yield path
        finally:
            with suppress(FileNotFoundError):
                path.unlink()

    def put_file(self, produce: Callable[[BinaryIO], None], *, kind: str) -> PendingArtifact:
        """Write the bytes ``produce(fh)`` writes, then claim and place them.

        The caller must call ``mark_stored`` inside the transaction that references the
        artifact; until then the row is pending and recovery may remove it.
        """
        try:
            with self.temporary_file() as tmp:
                with open(tmp, "wb") as fh:
                    produce(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                return self._place(tmp, sha256_file(tmp), kind)
        except OSError as exc:
            raise self._unwritable(self.tmp_dir, exc) from exc

    def put_bytes(self, data: bytes, *, kind: str) -> PendingArtifact:
        return self.put_file(lambda fh: fh.write(data), kind=kind)

    def _place(self, tmp: Path, sha: str, kind: str) -> PendingArtifact:
        size = tmp.stat().st_size
        final = self._local(sha)

        def claim(s: Session) -> bool:
            row = s.get(ArtifactRow, sha)
            if row is not None:
                return True
            s.add(
                ArtifactRow(
                    sha256=sha,
                    size=size,
                    kind=kind,
                    state="pending",
                    owner=owner_tag(),
                    created_at=datetime.now(UTC),
                )
            )
            return False

        existed = self.store.write(claim)
        if self.remote is not None:
            return self._upload(tmp, sha, size, final, existed)
        if existed and final.exists():
            return PendingArtifact(sha, size, final, existed=True)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except OSError as exc:  # the claim goes too: nothing is stored half-way
            if not existed:
                self.discard(PendingArtifact(sha, size, final, existed=False))
            raise self._unwritable(final.parent, exc) from exc
        return PendingArtifact(sha, size, final, existed=existed)

    def _upload(
        self, tmp: Path, sha: str, size: int, final: Path, existed: bool
    ) -> PendingArtifact:
        """Put the claimed bytes in the remote location (atomically), then keep them cached."""
        assert self.remote is not None
        if not (existed and self.remote.has(sha)):
            try:
                self.remote.put(tmp, sha)
            except BaseException:  # a failed or interrupted upload: the claim goes too
                if not existed:
                    self.discard(PendingArtifact(sha, size, final, existed=False))
                raise
        with suppress(OSError):  # the cache is only a cache: a failure here costs a fetch
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        return PendingArtifact(sha, size, final, existed=existed)

    def _unwritable(self, folder: Path, exc: OSError) -> StoreUnavailable:
        """A shard or the temporary folder that refuses a file: which folder, what to do."""
        if exc.errno == errno.ENOSPC:
            hint = f"The disk holding {self.root} is full: free some space and try again."
        else:
            hint = (
                f"Make {folder} writable again for your user (check its permissions and "
                f"attributes: ls -ld, lsattr -d) and try again."
            )
        return StoreUnavailable(
            f"Could not store a file in the artifact folder {folder}: "
            f"{exc.strerror or exc}. Nothing was stored.",
            hint=hint,
        )

    def discard(self, pending: PendingArtifact) -> None:
        """Undo a placed artifact that no committed row will reference (a cancel, a failure)."""

        def drop(s: Session) -> bool:
            row = s.get(ArtifactRow, pending.sha256)
            if row is not None and row.state == "pending":
                s.delete(row)
                return True
            return False

        if self.store.write(drop):
            pending.path.unlink(missing_ok=True)
            if self.remote is not None:
                self.remote.delete(pending.sha256)

    # -- reading ---------------------------------------------------------------------------

    def open_verified(self, sha256: str) -> Path:
        """The path of a stored artifact after checking its bytes still hash to ``sha256``."""
        path = self.path_for(sha256)
        if not path.exists():
            raise NotFound(
                f"The stored file {sha256[:12]}… is missing from {self.location}.",
                hint="The artifact folder was moved or cleaned; restore it from a backup.",
            )
        actual = sha256_file(path)
        if actual != sha256:
            raise TamperedArtifact(
                f"The stored file {path} was changed after it was written "
                f"(SHA-256 {actual[:12]}… instead of {sha256[:12]}…).",
                hint="It will not be loaded. Restore the file or register the model again.",
            )
        return path

    # -- recovery --------------------------------------------------------------------------

    def recover(self) -> int:
        """Remove what dead writers left behind; returns how many files were removed."""
        removed = 0
        if self.tmp_dir.exists():
            host = socket.gethostname().replace("-", "_")
            for tmp in self.tmp_dir.iterdir():
                parts = tmp.name.split("-")
                if len(parts) >= 3 and parts[0] == host and parts[1].isdigit():
                    pid = int(parts[1])
                    if pid != os.getpid() and not _pid_alive(pid):
                        with suppress(FileNotFoundError):
                            tmp.unlink()
                            removed += 1

        def sweep(s: Session) -> list[str]:
            pending = s.scalars(select(ArtifactRow).where(ArtifactRow.state == "pending"))
            dead = [row for row in pending if _owner_is_dead(row.owner)]
            for row in dead:
                s.delete(row)
            return [row.sha256 for row in dead]

        for sha in self.store.write(sweep):
            if self.remote is not None:
                self.remote.delete(sha)
            with suppress(FileNotFoundError):
                self._local(sha).unlink()
                removed += 1
        return removed

    def orphans(self) -> list[Path]:
        """Files in the folder with no row at all (should always be empty); used by tests."""
        with self.store.session() as s:
            known = set(s.scalars(select(ArtifactRow.sha256)))
        found = []
        for sub in self.root.iterdir() if self.root.exists() else []:
            if sub.is_dir() and len(sub.name) == 2:
                found.extend(p for p in sub.iterdir() if p.name not in known)
        return found

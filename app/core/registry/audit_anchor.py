"""The audit log's key and its anchor, both outside the database.

The key (``audit_key``, the user's config folder, readable by the user alone) signs every
entry and every anchor. The anchor records how long the chain was and where it ended; it is
kept beside an SQLite file (it travels with the store) and in the config folder, keyed by the
store's id (``store_info``) and place, so that removing one copy, or emptying the log with
one copy gone, is caught. The store also records that it was anchored (``audit_anchored``):
with every copy removed and the log emptied, ``verify`` still knows there was one to find.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.store.models import StoreInfoRow

GENESIS = "0" * 64
#: a shared key file for a team store (every member's ModelDesk must sign with the same key)
KEY_FILE_ENV = "MODELDESK_AUDIT_KEY_FILE"
_KEYS: dict[Path, bytes] = {}


def canonical(value: Any) -> str:
    """The one JSON text of ``value`` that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def key_path() -> Path:
    from app.core.paths import user_config_dir

    explicit = os.environ.get(KEY_FILE_ENV)
    return Path(explicit) if explicit else user_config_dir() / "audit.key"


def audit_key() -> bytes:
    """This user's audit key, created (readable by the user alone) on first use."""
    path = key_path()
    if path in _KEYS:
        return _KEYS[path]
    from app.core.errors import StoreUnavailable

    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it a moment ago: read theirs
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_hex(32) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
        raw = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(raw)
    except (OSError, ValueError) as exc:
        raise StoreUnavailable(
            f"The audit key {path} cannot be read or created ({exc}).",
            hint=f"Check the folder's permissions, or point {KEY_FILE_ENV} at a key file.",
        ) from exc
    if len(key) < 16:
        raise StoreUnavailable(
            f"The audit key {path} is too short to be a key.",
            hint="Restore it from a backup; without it the audit log cannot be verified.",
        )
    _KEYS[path] = key
    return key


def store_id(s: Session) -> str | None:
    """The store's identity, made once at creation (or by migration 0011)."""
    return s.scalar(select(StoreInfoRow.value).where(StoreInfoRow.key == "store_id"))


def anchored_at(s: Session) -> str | None:
    """When the store's audit log was first anchored (None: never, or that record is gone)."""
    return s.scalar(select(StoreInfoRow.value).where(StoreInfoRow.key == "audit_anchored"))


def _identity(s: Session) -> tuple[Path | None, str]:
    from app.core.paths import sqlite_path

    url = s.get_bind().engine.url
    db = sqlite_path(url.render_as_string(hide_password=False))
    return db, str(db.resolve()) if db is not None else url.render_as_string(hide_password=True)


def _config_anchor(identity: str) -> Path:
    from app.core.paths import user_config_dir

    return user_config_dir() / "audit-anchors" / hashlib.sha256(identity.encode()).hexdigest()[:20]


def anchor_paths(s: Session) -> list[Path]:
    """Where the anchor is kept: beside an SQLite file (it travels with the store) and in
    the user's config folder, keyed by the store's id and place (so removing the one beside
    the file, or emptying the log with it, is caught, and a copy of the store elsewhere has
    its own). A server database has only the second: each machine anchors what it saw."""
    db, identity = _identity(s)
    sid = store_id(s)
    mine = _config_anchor(f"{sid}|{identity}" if sid else identity)
    return [db.with_name(db.name + ".audit-anchor"), mine] if db is not None else [mine]


def legacy_config_anchor(s: Session) -> Path:
    """The config folder's copy as ModelDesk wrote it before stores had an id (by place)."""
    return _config_anchor(_identity(s)[1])


@dataclass(frozen=True)
class Anchor:
    """How long the chain was when last seen, and to which id plain hashes were allowed.

    ``first_hash`` (the first entry's hash) names the chain: an anchor in the config folder
    left by an earlier store at the same path (one moved aside to start afresh) is not this
    chain's and is ignored, then replaced.
    """

    entries: int
    head_id: int
    head_hash: str
    legacy_until: int
    first_hash: str

    def _fields(self) -> dict[str, Any]:
        return asdict(self)

    def mac(self, key: bytes) -> str:
        return hmac.new(key, canonical(self._fields()).encode(), hashlib.sha256).hexdigest()

    def to_json(self, key: bytes) -> str:
        return json.dumps({**self._fields(), "mac": self.mac(key)}, indent=1) + "\n"


class _BadAnchor(Exception):
    pass


def read_anchor(path: Path, key: bytes) -> Anchor | None:
    """The anchor at ``path``; None when there is none; ``_BadAnchor`` when it was edited."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        anchor = Anchor(
            int(data["entries"]),
            int(data["head_id"]),
            str(data["head_hash"]),
            int(data["legacy_until"]),
            str(data["first_hash"]),
        )
        mac = str(data["mac"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _BadAnchor(f"it cannot be read ({exc})") from exc
    if not hmac.compare_digest(mac, anchor.mac(key)):
        raise _BadAnchor("its content does not match its MAC under this user's audit key")
    return anchor


def write_anchor(path: Path, anchor: Anchor, key: bytes) -> None:
    from app.core.errors import StoreUnavailable
    from app.core.fsutil import write_atomically

    write_atomically(path, anchor.to_json(key), make_parents=True, error=StoreUnavailable)


def furthest(
    paths: list[Path], key: bytes, first_hash: str, legacy: Path | None = None
) -> tuple[Anchor | None, str | None]:
    """The anchor of this chain that saw it longest, or the reason one cannot be trusted.

    Every copy in ``paths`` is this store's (the one beside the file travels with it, the
    config folder's is keyed by the store's id), so one naming another chain means the log
    was emptied or rewritten from its first entry; on a server database a copy that named
    another chain may be an earlier database's at the same URL, unless the log is now empty.
    ``legacy``, the config folder's copy from before stores had an id, is read only where
    the keyed one is missing, and ignored when it names another chain (an earlier store
    at the same path).
    """
    best = None
    candidates = [(path, True) for path in paths]
    if legacy is not None and len(paths) > 1 and not paths[1].exists():
        candidates.append((legacy, False))
    for path, keyed in candidates:
        try:
            found = read_anchor(path, key)
        except _BadAnchor as exc:
            return None, f"The audit anchor {path} was changed or damaged: {exc}"
        if found is None:
            continue
        if found.first_hash != first_hash:
            if keyed and (len(paths) > 1 or first_hash == GENESIS):
                return None, (
                    f"The log no longer starts with the entry its anchor {path} records: it "
                    "was emptied or rewritten from its first entry"
                )
            continue
        if best is None or found.head_id > best.head_id:
            best = found
    return best, None


def advance(
    paths: list[Path], new: Anchor, key: bytes, first_legacy: int | None, legacy_copy: Path
) -> None:
    """Move every anchor forward to ``new`` unless another writer moved it further.

    With no anchor of this chain anywhere, one is written only when ``first_legacy`` says
    it may be (see ``_anchor_after_commit``).
    """
    from filelock import FileLock

    with FileLock(str(paths[0]) + ".lock", timeout=30):
        best, problem = furthest(paths, key, new.first_hash, legacy_copy)
        if problem:
            return  # an edited anchor is evidence: leave it for verify to report
        if best is None:
            if first_legacy is None:
                return
            legacy = first_legacy
        else:
            legacy = best.legacy_until
            if best.head_id >= new.head_id:
                new = best
        anchor = Anchor(new.entries, new.head_id, new.head_hash, legacy, new.first_hash)
        for path in paths:
            write_anchor(path, anchor, key)


def mark_anchored(s: Session, at: str) -> None:
    """Record in the store, once, that its log is anchored from now on: should the log be
    emptied and every anchor removed, ``verify`` still knows there was one to find."""
    if anchored_at(s) is None:
        s.add(StoreInfoRow(key="audit_anchored", value=at))
        s.flush()

"""The tamper-evident audit trail: append in the caller's transaction, verify the chain.

Each entry's hash is an HMAC-SHA-256, keyed with a secret kept outside the database (the
user's config folder, ``audit_key``), over the previous entry's hash and the entry's own
canonical JSON (when, who, what, on what, details). The database refuses UPDATE and DELETE
(triggers, put back at every open by ``app.core.store.guards``). What someone with the
database but not the key could still do is caught by ``verify``:

- an edited entry no longer matches its MAC, and one rewritten with a recomputed plain hash
  (or a forged appended one) is not keyed: both are named;
- a removed entry breaks the link of the next one;
- removed *last* entries leave a chain that links: the **anchor**, a file outside the
  database holding the count and head of the chain under the same key (beside an SQLite
  file and in the config folder; only the latter for a server database), says how long the
  log was (``app.core.registry.audit_anchor``);
- an emptied log, with one copy of the anchor or both removed, is caught by the other copy
  or by the store's own record that it was anchored; a lost copy is reported too.

Entries written before the key existed (older ModelDesk) carry a plain SHA-256; they are
accepted only up to the id the anchor recorded when it was first written. ``prev_hash`` is
unique, so two writers that raced to the same predecessor fail rather than fork the chain.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from app.core.registry.audit_anchor import (  # noqa: F401  (re-exported)
    GENESIS,
    KEY_FILE_ENV,
    Anchor,
    advance,
    anchor_paths,
    anchored_at,
    audit_key,
    canonical,
    furthest,
    key_path,
    legacy_config_anchor,
    mark_anchored,
    store_id,
    write_anchor,
)
from app.core.registry.entities import AuditEntry, AuditReport
from app.core.store.models_registry import AuditRow

#: an arbitrary constant key for PostgreSQL's transaction-scoped advisory lock
_PG_LOCK_KEY = 61_2024


def _message(prev_hash: str, at: str, actor: str, action: str, subject: str, details: str) -> bytes:
    body = canonical(
        {"at": at, "actor": actor, "action": action, "subject": subject, "details": details}
    )
    return f"{prev_hash}\n{body}".encode()


def entry_hash(
    prev_hash: str,
    at: str,
    actor: str,
    action: str,
    subject: str,
    details: str,
    *,
    key: bytes | None = None,
) -> str:
    """The entry's MAC under ``key``; without a key the plain SHA-256 older versions wrote."""
    message = _message(prev_hash, at, actor, action, subject, details)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _first_hash(s: Session) -> str:
    return s.scalar(select(AuditRow.entry_hash).order_by(AuditRow.id).limit(1)) or GENESIS


def _legacy_prefix_end(s: Session) -> int:
    """The id of the last entry of the log's leading run of plain-hashed entries (0: none)."""
    last = 0
    for id_, at, actor, action, subject, details, prev, stored in s.execute(_CHAIN):
        if entry_hash(prev, at, actor, action, subject, details) != stored:
            break
        last = id_
    return last


# -- writing --------------------------------------------------------------------------------


def current_actor() -> str:
    """The OS user, as an auditor would want it; never fails (containers may lack a name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def append(
    s: Session,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    *,
    actor: str | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Add one entry in the session's transaction (so it commits with what it records).

    After the transaction commits, the anchor moves to the new head (see ``_after_commit``).
    """
    key = audit_key()
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    prev = s.scalar(select(AuditRow.entry_hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    who = actor or current_actor()
    body = canonical(dict(details or {}))
    digest = entry_hash(prev, at, who, action, subject, body, key=key)
    row = AuditRow(
        at=at,
        actor=who,
        action=action,
        subject=subject,
        details=body,
        prev_hash=prev,
        entry_hash=digest,
    )
    s.add(row)
    s.flush()
    count = s.scalar(select(func.count()).select_from(AuditRow)) or 0
    first = digest if prev == GENESIS else _first_hash(s)
    was_anchored = anchored_at(s) is not None
    mark_anchored(s, at)
    _anchor_after_commit(s, Anchor(count, row.id, digest, 0, first), was_anchored)
    return to_entry(row)


def _anchor_after_commit(s: Session, head: Anchor, was_anchored: bool) -> None:
    """Arrange for the anchors to follow ``head`` once (and only if) the transaction commits.

    A store's first anchor is written when the log was empty or held only entries of an
    older ModelDesk (their plain hashes are accepted up to that point, once). When signed
    entries exist but no anchor of an SQLite store does, none is made: someone may have
    removed them to hide a truncation, and ``verify`` says so until ``reanchor`` is run on
    purpose; nor when the store records that it was anchored before (``was_anchored``) and
    none is left, even with the log emptied. (A server database's anchor is per machine: a
    machine that never saw the log anchors it at its first write.)
    """
    paths, legacy_copy = anchor_paths(s), legacy_config_anchor(s)
    if "audit_first_legacy" not in s.info:
        first: int | None = None
        best, problem = furthest(paths, audit_key(), head.first_hash, legacy_copy)
        if best is None and problem is None:
            previous = _previous_id(s, head.head_id)
            legacy = _legacy_prefix_end(s) if previous else 0
            if len(paths) == 1 or (legacy == previous and not was_anchored):
                first = legacy
        s.info["audit_first_legacy"] = first
    s.info["audit_head"] = (paths, legacy_copy, head)
    if not event.contains(s, "after_commit", _after_commit):
        event.listen(s, "after_commit", _after_commit)


def _previous_id(s: Session, head_id: int) -> int:
    return s.scalar(select(func.max(AuditRow.id)).where(AuditRow.id < head_id)) or 0


def _after_commit(s: Session) -> None:
    import logging

    head_info = s.info.pop("audit_head", None)
    first = s.info.pop("audit_first_legacy", None)
    if head_info is None:
        return
    paths, legacy_copy, head = head_info
    try:
        advance(paths, head, audit_key(), first, legacy_copy)
    except Exception as exc:  # the entry is committed; a lagging anchor only lags
        logging.getLogger(__name__).warning("Could not update the audit anchor: %s", exc)


def reanchor(s: Session) -> Anchor:
    """Anchor the chain as it is now (after a restore from a backup, or a lost anchor).

    Only after ``verify`` found the entries themselves whole: this takes the current length
    as the truth from here on (the CLI records that it was done in the log itself).
    """
    key = audit_key()
    head = s.execute(
        select(AuditRow.id, AuditRow.entry_hash).order_by(AuditRow.id.desc()).limit(1)
    ).first()
    count = s.scalar(select(func.count()).select_from(AuditRow)) or 0
    paths = anchor_paths(s)
    first = _first_hash(s)
    best, problem = furthest(paths, key, first, legacy_config_anchor(s))
    legacy = best.legacy_until if best is not None and not problem else _legacy_prefix_end(s)
    anchor = Anchor(count, head[0] if head else 0, head[1] if head else GENESIS, legacy, first)
    for path in paths:
        write_anchor(path, anchor, key)
    mark_anchored(s, datetime.now(UTC).isoformat(timespec="microseconds"))
    return anchor


def to_entry(row: AuditRow) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"unreadable": row.details}
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=details if isinstance(details, dict) else {"value": details},
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


# -- verifying ------------------------------------------------------------------------------

_CHAIN = select(
    AuditRow.id,
    AuditRow.at,
    AuditRow.actor,
    AuditRow.action,
    AuditRow.subject,
    AuditRow.details,
    AuditRow.prev_hash,
    AuditRow.entry_hash,
).order_by(AuditRow.id)


def verify(s: Session, *, anchored: bool = True) -> AuditReport:
    """Walk the chain in id order, then hold its end against the anchor.

    The first entry that does not check out is reported; a chain that links but is shorter
    than the anchor recorded is reported as truncated. ``anchored=False`` checks the entries
    alone (before ``reanchor``).
    """
    key = audit_key()
    paths, legacy_copy = anchor_paths(s), legacy_config_anchor(s)
    if anchored and store_id(s) is None:
        return AuditReport(
            0, 0, "The store's identity (its store_id in store_info) was removed, so its "
            "anchor in the config folder cannot be found. The log's length cannot be vouched for."
        )  # fmt: skip
    found = furthest(paths, key, _first_hash(s), legacy_copy) if anchored else (None, None)
    anchor, problem = found
    if problem:
        return AuditReport(0, 0, f"{problem}. The log's length cannot be vouched for.")
    legacy_until = anchor.legacy_until if anchor else None
    expected_prev = GENESIS
    count = 0
    signed_seen = False
    last_id, at_anchor = 0, None
    for id_, at, actor, action, subject, details, prev, stored in s.execute(_CHAIN):
        count += 1
        if prev != expected_prev:
            return AuditReport(
                count,
                id_,
                f"Entry {id_} does not follow the entry before it: an entry was removed, "
                "inserted or its hash was changed.",
            )
        signed = entry_hash(prev, at, actor, action, subject, details, key=key)
        if hmac.compare_digest(signed, stored):
            signed_seen = True
        else:
            plain = entry_hash(prev, at, actor, action, subject, details) == stored
            allowed = id_ <= legacy_until if legacy_until is not None else not signed_seen
            if not (plain and allowed):
                what = (
                    "it carries a plain hash where ModelDesk signs with its audit key, so it "
                    "was forged or rewritten outside ModelDesk"
                    if plain
                    else "its content no longer matches its signature"
                )
                return AuditReport(
                    count,
                    id_,
                    f"Entry {id_} ({action} on {subject}, {at}) was changed after it was "
                    f"written: {what}.",
                )
        expected_prev = stored
        last_id = id_
        if anchor is not None and id_ == anchor.head_id:
            at_anchor = (count, stored)
    if anchor is not None and at_anchor != (anchor.entries, anchor.head_hash):
        if at_anchor is None and count < anchor.entries:
            return AuditReport(
                count,
                anchor.head_id,
                f"The log was truncated: it held {anchor.entries} entries up to entry "
                f"{anchor.head_id}, as its anchor outside the database records, and only "
                f"{count} remain" + (f" (the last is entry {last_id})." if count else "."),
            )
        return AuditReport(
            count,
            anchor.head_id,
            f"The log was rewritten: entry {anchor.head_id} is not the entry its anchor "
            f"outside the database records as entry number {anchor.entries}.",
        )
    if anchored and anchor is None and len(paths) > 1:
        since = anchored_at(s)
        if signed_seen or since:
            return AuditReport(
                count,
                last_id,
                f"The log's anchor ({paths[0]}, and its copy in the config folder) is missing"
                + (f", though the log was anchored on {since[:10]}" if since else "")
                + (", so removed last entries cannot be detected." if count else
                   ", and the log is empty: it may have been wiped."),
            )  # fmt: skip
    lost = [p for p in paths if not p.exists()] if anchored and anchor is not None else []
    if lost and not (lost == paths[1:] and legacy_copy.exists()):
        kept = [str(p) for p in paths if p not in lost]
        return AuditReport(
            count,
            last_id,
            f"A copy of the log's anchor is missing ({', '.join(map(str, lost))}); the log "
            f"matches the other ({', '.join(kept)}). If you moved the store or removed it on "
            "purpose, `modeldesk audit verify --reanchor` writes it again.",
        )
    return AuditReport(count)

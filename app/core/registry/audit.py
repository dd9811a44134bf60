"""The tamper-evident audit trail: append in the caller's transaction, verify the chain.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical
JSON (when, who, what, on what, details). The database refuses UPDATE and DELETE (triggers
from migration 0004); an edit made behind its back (triggers dropped, file edited) breaks the
chain at that entry, and ``verify`` names it. ``prev_hash`` is unique, so two writers that
raced to the same predecessor would fail rather than fork the chain.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.core.registry.entities import AuditEntry, AuditReport
from app.core.store.models_registry import AuditRow

GENESIS = "0" * 64
#: an arbitrary constant key for PostgreSQL's transaction-scoped advisory lock
_PG_LOCK_KEY = 61_2024


def canonical(value: Any) -> str:
    """The one JSON text of ``value`` that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, at: str, actor: str, action: str, subject: str, details: str) -> str:
    body = canonical(
        {"at": at, "actor": actor, "action": action, "subject": subject, "details": details}
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def current_actor() -> str:
    """The OS user, as an auditor would want it; never fails (containers may lack a name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        import os

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
    """Add one entry in the session's transaction (so it commits with what it records)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    prev = s.scalar(select(AuditRow.entry_hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    who = actor or current_actor()
    body = canonical(dict(details or {}))
    digest = entry_hash(prev, at, who, action, subject, body)
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
    return to_entry(row)


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


def verify(s: Session) -> AuditReport:
    """Walk the chain in id order; the first entry that does not check out is reported."""
    expected_prev = GENESIS
    count = 0
    rows = s.execute(
        select(
            AuditRow.id,
            AuditRow.at,
            AuditRow.actor,
            AuditRow.action,
            AuditRow.subject,
            AuditRow.details,
            AuditRow.prev_hash,
            AuditRow.entry_hash,
        ).order_by(AuditRow.id)
    )
    for id_, at, actor, action, subject, details, prev, stored in rows:
        count += 1
        if prev != expected_prev:
            return AuditReport(
                count,
                id_,
                f"Entry {id_} does not follow the entry before it: an entry was removed, "
                "inserted or its hash was changed.",
            )
        if entry_hash(prev, at, actor, action, subject, details) != stored:
            return AuditReport(
                count,
                id_,
                f"Entry {id_} ({action} on {subject}, {at}) was changed after it was written: "
                "its content no longer matches its hash.",
            )
        expected_prev = stored
    return AuditReport(count)

"""``modeldesk audit log|verify``: read the audit trail and check its hash chain."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common
from app.core.errors import InvalidInput, TamperedArtifact


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the append-only, tamper-evident audit trail")
    sub = audit.add_subparsers(dest="action", required=True, parser_class=type(audit))

    p = sub.add_parser("log", help="entries, oldest first")
    p.add_argument("--subject", metavar="S", help="NAME (with its versions NAME@…) or any subject")
    p.add_argument("--action", dest="event", metavar="ACTION", help="e.g. alias.set")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="the last N (0 = all)")
    add_common(p)
    p.set_defaults(handler=log)

    p = sub.add_parser("verify", help="check the hash chain; names the first broken entry")
    p.add_argument(
        "--reanchor",
        action="store_true",
        help="after restoring the store from a backup: accept its current length (only when "
        "every entry checks out; logged)",
    )
    add_common(p)
    p.set_defaults(handler=verify)


def log(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    if args.limit < 0:
        raise InvalidInput(f"--limit must be 0 (all entries) or more; got {args.limit}.")
    entries = services.registry.audit_log(args.subject, action=args.event, limit=args.limit or None)
    payload = {"entries": [e.to_dict() for e in entries]}
    if not entries:
        return payload, "No audit entries."
    lines = []
    for e in entries:
        details = ", ".join(f"{k}={v}" for k, v in e.details.items() if k != "policy")
        lines.append(f"{e.id:>5}  {e.at[:19]}  {e.actor:<12} {e.action:<22} {e.subject}  {details}")
    return payload, "\n".join(lines)


def verify(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.registry.audit import KEY_FILE_ENV

    registry = services.registry
    report = registry.audit_reanchor() if args.reanchor else registry.audit_verify()
    if not report.ok:
        where = f" at entry {report.broken_id}" if report.broken_id else ""
        raise TamperedArtifact(
            f"The audit log is broken{where}: {report.reason}",
            hint="Entries from there on cannot be trusted; compare with a backup of the store. "
            f"Entries written by another user's ModelDesk need that user's audit key "
            f"(share one key file through {KEY_FILE_ENV}).",
        )
    return report.to_dict(), f"The audit log is intact ({report.entries} entries)."

"""The database's own guard of the audit log: triggers that refuse UPDATE, DELETE, TRUNCATE.

Migration 0004 creates them; anyone with the file (or a database superuser) can drop them,
so every open checks that they are still there and puts back what is missing. The hash chain
and its anchor outside the database (``app.core.registry.audit``) catch what was done while
they were gone; the triggers make the next accident impossible again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

APPEND_ONLY = "audit_log is append-only: entries cannot be changed or deleted"

SQLITE_TRIGGERS = {
    "audit_log_no_update": f"""
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END
    """,
    "audit_log_no_delete": f"""
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END
    """,
}

POSTGRES_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION modeldesk_audit_log_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY}';
    END;
    $$ LANGUAGE plpgsql
    """

POSTGRES_TRIGGERS = {
    "audit_log_append_only": """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION modeldesk_audit_log_append_only()
    """,
    "audit_log_no_truncate": """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION modeldesk_audit_log_append_only()
    """,
}

_PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
    "postgresql": "SELECT tgname FROM pg_trigger "
    "WHERE tgrelid = to_regclass('audit_log') AND NOT tgisinternal",
}


def creation_statements(dialect: str) -> tuple[str, ...]:
    """Every statement that creates the guard on ``dialect`` (none for other dialects)."""
    if dialect == "sqlite":
        return tuple(SQLITE_TRIGGERS.values())
    if dialect == "postgresql":
        return (POSTGRES_FUNCTION, *POSTGRES_TRIGGERS.values())
    return ()


def ensure_append_only(engine: Engine) -> list[str]:
    """Recreate the audit log's triggers that are missing; returns their names.

    A store without the audit table yet (an old schema opened without migrating) is left
    alone, and a database that refuses the change (read-only) is logged, not fatal: the
    hash chain still catches edits.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    dialect = engine.dialect.name
    wanted = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}.get(dialect)
    if not wanted:
        return []
    try:
        with engine.connect() as conn:
            if dialect == "sqlite":
                table = conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'")
                ).scalar()
            else:
                table = conn.execute(text("SELECT to_regclass('audit_log')")).scalar()
            if not table:
                return []
            present = set(conn.execute(text(_PRESENT[dialect])).scalars())
        missing = [name for name in wanted if name not in present]
        if missing:
            with engine.begin() as conn:
                if dialect == "postgresql":
                    conn.execute(text(POSTGRES_FUNCTION))
                for name in missing:
                    conn.execute(text(wanted[name]))
            log.warning(
                "The audit log's guard triggers %s were missing and have been recreated; "
                "`modeldesk audit verify` checks what was done while they were gone.",
                ", ".join(missing),
            )
        return missing
    except DBAPIError as exc:
        log.warning("Could not check the audit log's guard triggers: %s", exc.orig)
        return []

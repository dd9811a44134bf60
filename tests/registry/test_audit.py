"""The audit log: refused by the database on UPDATE/DELETE, and any edit is caught by verify."""

from __future__ import annotations

import sqlite3

import pytest

from app.core.registry import audit


def _fill(services, n: int = 5) -> None:
    for i in range(n):
        services.registry.audit_append("deploy.start", f"churn@{i}", {"port": 8000 + i, "ü": "é"})


def test_entries_chain_and_carry_user_and_time(services) -> None:
    _fill(services, 3)
    log = services.registry.audit_log()
    assert [e.subject for e in log] == ["churn@0", "churn@1", "churn@2"]
    assert log[0].prev_hash == audit.GENESIS
    assert log[1].prev_hash == log[0].entry_hash and log[2].prev_hash == log[1].entry_hash
    assert log[0].actor == audit.current_actor() and log[0].at.endswith("+00:00")
    assert log[2].details == {"port": 8002, "ü": "é"}
    report = services.registry.audit_verify()
    assert report.ok and report.entries == 3
    assert [e.id for e in services.registry.audit_log(limit=2)] == [log[1].id, log[2].id]
    assert services.registry.audit_log("churn@1")[0].id == log[1].id


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET actor = 'mallory' WHERE id = 2",
        "DELETE FROM audit_log WHERE id = 2",
        "DELETE FROM audit_log",
    ],
)
def test_update_and_delete_are_refused_by_the_database(services, sql: str) -> None:
    _fill(services)
    conn = sqlite3.connect(services.store.db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(sql)
    conn.close()
    assert len(services.registry.audit_log()) == 5
    assert services.registry.audit_verify().ok


def _tamper(services, statement: str) -> None:
    """What an attacker with the file could do: drop the trigger, edit, put it back."""
    conn = sqlite3.connect(services.store.db_path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(statement)
    conn.commit()
    conn.close()


def test_edited_content_is_caught_and_the_first_broken_entry_named(services) -> None:
    _fill(services)
    _tamper(services, "UPDATE audit_log SET details = '{\"port\":9999}' WHERE id = 3")
    report = services.registry.audit_verify()
    assert not report.ok and report.broken_id == 3 and report.entries == 3
    assert "Entry 3" in report.reason and "changed after it was written" in report.reason


def test_a_removed_entry_is_caught(services) -> None:
    _fill(services)
    _tamper(services, "DELETE FROM audit_log WHERE id = 2")
    report = services.registry.audit_verify()
    assert report.broken_id == 3 and "does not follow" in report.reason


def test_rehashing_one_entry_still_breaks_the_next(services) -> None:
    _fill(services)
    conn = sqlite3.connect(services.store.db_path)
    at, actor, action, subject, prev = conn.execute(
        "SELECT at, actor, action, subject, prev_hash FROM audit_log WHERE id = 2"
    ).fetchone()
    forged = audit.entry_hash(prev, at, actor, action, subject, '{"port":1}')
    conn.close()
    _tamper(
        services,
        f"UPDATE audit_log SET details = '{{\"port\":1}}', entry_hash = '{forged}' WHERE id = 2",
    )
    assert services.registry.audit_verify().broken_id == 3

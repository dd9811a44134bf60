"""The audit log: refused by the database on UPDATE/DELETE, and any edit is caught by verify,
also with the triggers dropped: truncation, a chain recomputed without the key, a forged
entry, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.core.registry import audit
from tests.registry.conftest import backend_url


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


def test_rehashing_one_entry_without_the_key_is_caught_at_that_entry(services) -> None:
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
    report = services.registry.audit_verify()
    assert report.broken_id == 2 and "plain hash" in report.reason


# -- attacks with the triggers dropped, on both backends -------------------------------------


class Backend:
    """Raw SQL on the store's database, as someone holding it (not the key) would run it."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.dialect = self.engine.dialect.name

    def run(self, sql: str, **params) -> list:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    def drop_triggers(self) -> None:
        if self.dialect == "sqlite":
            self.run("DROP TRIGGER audit_log_no_update")
            self.run("DROP TRIGGER audit_log_no_delete")
        else:
            self.run("DROP TRIGGER audit_log_append_only ON audit_log")
            self.run("DROP TRIGGER audit_log_no_truncate ON audit_log")

    def triggers(self) -> set[str]:
        from app.core.store.guards import _PRESENT

        return {row[0] for row in self.run(_PRESENT[self.dialect])}

    def rows(self) -> list:
        return self.run(
            "SELECT id, at, actor, action, subject, details, prev_hash, entry_hash "
            "FROM audit_log ORDER BY id"
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_services(request, tmp_path):
    """Services on a fresh SQLite file or a fresh PostgreSQL database of the test server."""
    with backend_url(request, tmp_path, "md_audit") as url:
        yield from _backend_services(url, tmp_path)


def _backend_services(url: str, tmp_path):
    from app.bootstrap import build_services

    services = build_services(url, artifacts_dir=tmp_path / "artifacts")
    _fill(services, 6)
    assert services.registry.audit_verify().ok
    backend = Backend(url)
    yield services, backend, url
    backend.engine.dispose()
    services.close()


def test_dropped_triggers_are_recreated_on_open(backend_services) -> None:
    from app.bootstrap import build_services

    services, db, url = backend_services
    before = db.triggers()
    db.drop_triggers()
    assert db.triggers() == set()
    reopened = build_services(url, artifacts_dir=services.artifacts.root)
    assert db.triggers() == before
    with pytest.raises(Exception, match="append-only"):
        db.run("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    # the recreation is itself an audit entry, naming the triggers, and the chain still holds
    last = db.rows()[-1]
    assert last.action == "audit.guards_restored"
    assert set(json.loads(last.details)["triggers"]) == before
    assert reopened.registry.audit_verify().ok
    reopened.close()


def test_deleting_the_last_entries_is_reported_as_truncation(backend_services) -> None:
    services, db, _ = backend_services
    db.drop_triggers()
    last = db.rows()[-1][0]
    db.run("DELETE FROM audit_log WHERE id >= :first", first=last - 1)
    report = services.registry.audit_verify()
    assert not report.ok and report.entries == 4 and report.broken_id == last
    assert "truncated" in report.reason and "held 6 entries" in report.reason


def test_a_chain_recomputed_without_the_key_is_caught(backend_services) -> None:
    """Entry 2 edited, it and every later hash recomputed as the plain SHA-256 says."""
    services, db, _ = backend_services
    db.drop_triggers()
    rows = db.rows()
    prev = rows[0][7]
    if db.dialect == "postgresql":  # prev_hash is unique: clear the way, as an attacker would
        db.run("UPDATE audit_log SET prev_hash = 'x' || id WHERE id > :i", i=rows[0][0])
    for id_, at, actor, action, subject, details, _, _ in rows[1:]:
        if id_ == rows[1][0]:
            details = '{"port":1}'
        digest = audit.entry_hash(prev, at, actor, action, subject, details)
        db.run(
            "UPDATE audit_log SET details = :d, prev_hash = :p, entry_hash = :h WHERE id = :i",
            d=details,
            p=prev,
            h=digest,
            i=id_,
        )
        prev = digest
    report = services.registry.audit_verify()
    assert not report.ok and report.broken_id == rows[1][0]
    assert "plain hash" in report.reason


@pytest.mark.parametrize(
    ("key", "caught"),
    [(None, "plain hash"), (b"guess" * 8, "no longer matches its signature")],
    ids=["plain-hash", "guessed-key"],
)
def test_a_forged_appended_entry_is_caught(backend_services, key, caught: str) -> None:
    services, db, _ = backend_services
    head = db.rows()[-1]
    at, details = "2030-01-01T00:00:00.000000+00:00", '{"reason":"approved"}'
    forged = audit.entry_hash(head[7], at, "mallory", "alias.set", "churn@9", details, key=key)
    db.run(
        "INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, entry_hash) "
        "VALUES (:at, 'mallory', 'alias.set', 'churn@9', :d, :p, :h)",
        at=at,
        d=details,
        p=head[7],
        h=forged,
    )
    report = services.registry.audit_verify()
    assert not report.ok and report.broken_id == head[0] + 1
    assert "alias.set on churn@9" in report.reason and caught in report.reason


def test_later_entries_by_this_key_move_the_anchor(backend_services) -> None:
    services, db, _ = backend_services
    _fill(services, 2)
    assert services.registry.audit_verify().ok
    with services.store.session() as s:
        paths = audit.anchor_paths(s)
        anchor, problem = audit.furthest(paths, audit.audit_key(), db.rows()[0][7])
    assert problem is None and anchor.entries == 8 and anchor.head_id == db.rows()[-1][0]


# -- the anchor outside the database (SQLite) --------------------------------------------------


def _anchors(services) -> list:
    with services.store.session() as s:
        return audit.anchor_paths(s)


def _truncate_last(services, n: int = 2) -> None:
    _tamper(services, f"DELETE FROM audit_log WHERE id > (SELECT max(id) - {n} FROM audit_log)")


def test_the_anchor_lives_beside_the_store_and_in_the_config_folder(services) -> None:
    _fill(services, 3)
    beside, mine = _anchors(services)
    assert beside.parent == services.store.db_path.parent and beside.exists() and mine.exists()
    assert audit.key_path().stat().st_mode & 0o777 == 0o600
    beside.unlink()  # removing the copy beside the store hides nothing
    _truncate_last(services)
    assert "truncated" in services.registry.audit_verify().reason


def test_removing_every_anchor_is_reported(services) -> None:
    _fill(services, 3)
    for path in _anchors(services):
        path.unlink()
    report = services.registry.audit_verify()
    assert not report.ok and "anchor" in report.reason and "missing" in report.reason
    _fill(services, 1)  # a later write does not quietly anchor the shortened log
    assert not services.registry.audit_verify().ok


def test_an_edited_anchor_is_reported(services) -> None:
    import json

    _fill(services, 3)
    beside = _anchors(services)[0]
    data = json.loads(beside.read_text())
    data["entries"] = 1
    beside.write_text(json.dumps(data))
    report = services.registry.audit_verify()
    assert not report.ok and "changed or damaged" in report.reason


def test_entries_of_an_older_modeldesk_are_accepted_and_then_anchored(services) -> None:
    """Plain-hashed entries (no key, no anchor) verify; the first new entry anchors them."""
    conn = sqlite3.connect(services.store.db_path)
    prev = audit.GENESIS
    for i in range(3):
        at, details = f"2024-01-0{i + 1}T00:00:00.000000+00:00", "{}"
        digest = audit.entry_hash(prev, at, "old", "model.create", f"m{i}", details)
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, entry_hash) "
            "VALUES (?, 'old', 'model.create', ?, ?, ?, ?)",
            (at, f"m{i}", details, prev, digest),
        )
        prev = digest
    conn.commit()
    conn.close()
    assert services.registry.audit_verify().ok
    _fill(services, 2)
    report = services.registry.audit_verify()
    assert report.ok and report.entries == 5
    _truncate_last(services, 1)
    assert "truncated" in services.registry.audit_verify().reason


def test_cli_verify_reports_truncation_and_reanchor_accepts_a_restored_backup(
    services, capsys
) -> None:
    import shutil

    from app.cli import main

    _fill(services, 3)
    db = services.store.db_path
    backup = db.with_name("backup.db")
    src, dst = sqlite3.connect(db), sqlite3.connect(backup)
    src.backup(dst)
    src.close()
    dst.close()
    _fill(services, 2)
    url = services.store.url
    services.close()
    shutil.copyfile(backup, db)  # the store restored from yesterday's backup
    for leftover in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    capsys.readouterr()
    assert main(["audit", "verify", "--store", url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: The audit log is broken")
    assert "truncated" in err[0]
    assert main(["audit", "verify", "--reanchor", "--store", url]) == 0
    assert "intact (4 entries)" in capsys.readouterr().out
    assert main(["audit", "verify", "--store", url]) == 0


def test_a_store_started_afresh_at_the_same_path_is_not_taken_for_a_truncated_one(
    services, tmp_path
) -> None:
    """Moving the folder aside (as the empty-database error advises) and starting again."""
    from app.bootstrap import build_services

    _fill(services, 5)
    url, folder = services.store.url, services.store.db_path.parent
    services.close()
    folder.rename(tmp_path / "old-store")
    fresh = build_services(url)
    try:
        _fill(fresh, 2)
        report = fresh.registry.audit_verify()
        assert report.ok and report.entries == 2
        _truncate_last(fresh, 1)  # and the new store's own anchor does its work
        assert "truncated" in fresh.registry.audit_verify().reason
    finally:
        fresh.close()


def test_an_emptied_log_is_caught(backend_services) -> None:
    services, db, _ = backend_services
    db.drop_triggers()
    db.run("DELETE FROM audit_log")
    report = services.registry.audit_verify()
    assert not report.ok and "emptied or rewritten from its first entry" in report.reason


# -- wiping the log and its anchors (SQLite: one copy beside the file, one in the config) ----


def _wipe(services) -> None:
    _tamper(services, "DELETE FROM audit_log")


@pytest.mark.parametrize("removed", ["none", "beside", "config", "both"])
def test_a_wiped_log_is_caught_whichever_anchors_are_removed(services, removed) -> None:
    _fill(services, 3)
    beside, mine = _anchors(services)
    for path in {"none": [], "beside": [beside], "config": [mine], "both": [beside, mine]}[removed]:
        path.unlink()
    _wipe(services)
    report = services.registry.audit_verify()
    assert not report.ok
    if removed == "both":  # nothing outside is left: the store's own record says it was anchored
        assert "missing" in report.reason and "wiped" in report.reason
    else:
        assert "emptied or rewritten from its first entry" in report.reason
    _fill(services, 1)  # a later write does not quietly anchor the wiped log
    assert not services.registry.audit_verify().ok


@pytest.mark.parametrize("removed", ["beside", "config"])
def test_losing_one_copy_of_the_anchor_is_reported_until_reanchored(services, removed) -> None:
    from app.cli import main

    _fill(services, 3)
    beside, mine = _anchors(services)
    lost = beside if removed == "beside" else mine
    lost.unlink()
    report = services.registry.audit_verify()
    assert not report.ok and "copy of the log's anchor is missing" in report.reason
    assert str(lost) in report.reason and "--reanchor" in report.reason
    assert main(["audit", "verify", "--reanchor", "--store", services.store.url]) == 0
    assert lost.exists() and services.registry.audit_verify().ok


def test_removing_the_store_identity_is_reported(services) -> None:
    _fill(services, 2)
    conn = sqlite3.connect(services.store.db_path)
    conn.execute("DELETE FROM store_info WHERE key = 'store_id'")
    conn.commit()
    conn.close()
    report = services.registry.audit_verify()
    assert not report.ok and "identity" in report.reason


def test_a_new_store_is_not_anchored_and_verifies_empty(services) -> None:
    with services.store.session() as s:
        assert audit.store_id(s) and audit.anchored_at(s) is None
    assert services.registry.audit_verify().ok
    _fill(services, 1)
    with services.store.session() as s:
        assert audit.anchored_at(s) is not None


def test_a_copy_of_the_store_elsewhere_keeps_its_own_anchor(services, tmp_path) -> None:
    """Same store id, another place: the copy's config anchor is its own, so writing to one
    never makes the other look truncated."""
    import shutil

    from app.bootstrap import build_services

    _fill(services, 3)
    url, folder = services.store.url, services.store.db_path.parent
    services.close()
    shutil.copytree(folder, tmp_path / "copy")
    copy = build_services(f"sqlite:///{tmp_path / 'copy' / 'modeldesk.db'}")
    try:
        assert "missing" in copy.registry.audit_verify().reason  # its config copy: not yet
        copy.registry.audit_reanchor()
        _fill(copy, 4)
        assert copy.registry.audit_verify().ok
    finally:
        copy.close()
    original = build_services(url)
    try:
        assert original.registry.audit_verify().ok
    finally:
        original.close()


def test_an_anchor_written_before_stores_had_an_id_is_still_read(services) -> None:
    """The config folder's copy was keyed by the store's place alone before migration 0011."""
    _fill(services, 3)
    mine = _anchors(services)[1]
    with services.store.session() as s:
        legacy = audit.legacy_config_anchor(s)
    mine.rename(legacy)
    assert services.registry.audit_verify().ok
    _truncate_last(services, 1)
    assert "truncated" in services.registry.audit_verify().reason

"""``modeldesk store copy``: move a personal store into a team store, whole and resumable.

What moves: every row of ModelDesk's tables with its ids (the audit chain hashes ids'
order, runs point at datasets by id), every row of Optuna's tables (studies keep their
trials, so ``optuna.load_study`` and optuna-dashboard open them on the copy), and every
stored artifact, copied by content and checked against its SHA-256. Artifacts go first, so
no copied row ever names a file the copy lacks.

Resuming: a ``store_copies`` row names the source before the first row is written and is
closed after the last. Tables are copied in primary-key order in batches, one transaction
each, inserting with ``ON CONFLICT DO NOTHING``; a second run after an interruption starts
each table after the last key already there. A destination holding other data (no open
copy of this source) is refused rather than merged.

At the end PostgreSQL's sequences are moved past the copied ids, the copied audit chain is
verified entry by entry with this machine's audit key and anchored for the destination, and
the copy itself is recorded in the destination's audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table, func, inspect, select, text
from sqlalchemy.engine import Connection

from app.core.errors import Conflict, InvalidInput, NotFound, TamperedArtifact
from app.core.fsutil import atomic_write
from app.core.paths import resolve_store_url, sqlite_path
from app.core.progress import NullProgress, Progress
from app.core.store import Store

#: rows per transaction on the destination
BATCH = 2000
#: Optuna's bookkeeping tables: made by Optuna itself on the destination, never copied
_OPTUNA_OWN = {"version_info", "alembic_version"}


@dataclass
class CopyReport:
    source: str
    destination: str
    artifacts: int = 0
    artifact_bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    studies: int = 0
    audit_entries: int = 0
    resumed: bool = False
    already_done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "artifacts": self.artifacts,
            "artifact_bytes": self.artifact_bytes,
            "rows": self.rows,
            "studies": self.studies,
            "audit_entries": self.audit_entries,
            "resumed": self.resumed,
            "already_done": self.already_done,
        }


def copy_store(
    source_url: str,
    destination_url: str,
    *,
    artifacts_dir: Path | str | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> CopyReport:
    """Copy the store at ``source_url`` into ``destination_url`` (see the module docstring)."""
    progress = progress or NullProgress()
    source_url, destination_url = resolve_store_url(source_url), resolve_store_url(destination_url)
    src_file = sqlite_path(source_url)
    if src_file is not None and not src_file.is_file():
        raise NotFound(
            f"There is no store at {src_file}.",
            hint="Give the SQLite file of the store to copy (modeldesk.db).",
        )
    if source_url == destination_url:
        raise InvalidInput("The source and the destination are the same store.")
    src = Store(source_url)
    dest = Store(destination_url, artifacts_dir=artifacts_dir)
    try:
        if dest.artifacts_dir.resolve() == src.artifacts_dir.resolve():
            raise InvalidInput(
                f"The destination's artifact folder {dest.artifacts_dir} is the source's own.",
                hint="Give the team's artifact folder with --artifacts (or MODELDESK_ARTIFACTS).",
            )
        report = CopyReport(src.url_for_display, dest.url_for_display)
        _check_source_audit(src)
        state = _open_copy(dest, report.source)
        if state == "done":
            report.already_done = True
            return report
        report.resumed = state == "resumed"
        progress.update(0.0, "Copying artifacts")
        _copy_artifacts(src, dest, report, progress)
        optuna_tables = _optuna_tables(src, dest)
        tables = [t for t in _our_tables() if t.name not in _OWN] + optuna_tables
        for i, table in enumerate(tables):
            progress.check_cancelled()
            progress.update(0.2 + 0.7 * i / max(1, len(tables)), f"Copying {table.name}")
            report.rows[table.name] = _copy_table(src, dest, table, batch, progress)
        report.studies = report.rows.get("studies", 0)
        if dest.engine.dialect.name == "postgresql":
            _advance_sequences(dest, tables)
        report.audit_entries = _seal(dest, report)
        progress.update(1.0, "Copied")
        return report
    finally:
        src.dispose()
        dest.dispose()


# -- the pieces ---------------------------------------------------------------------------------


#: Tables that belong to the destination itself: its copies, and its identity (the store id
#: its audit anchor is keyed by, and whether its log was anchored), never the source's.
_OWN = ("store_copies", "store_info")


def _our_tables() -> list[Table]:
    from app.core.store.models import Base

    return list(Base.metadata.sorted_tables)


def _check_source_audit(src: Store) -> None:
    """A broken chain is not carried into a team store: the copy would vouch for it."""
    from app.core.registry import audit

    with src.session() as s:
        report = audit.verify(s)
    if not report.ok:
        raise Conflict(
            f"The source store's audit log does not verify: {report.reason}",
            hint="Run `modeldesk audit verify` on the source and resolve it before copying.",
        )


def _open_copy(dest: Store, source: str) -> str:
    """'new', 'resumed' or 'done'; refuses a destination that holds other data."""
    from app.core.store.models_copy import StoreCopyRow

    def claim(s: Any) -> str:
        row = s.get(StoreCopyRow, source)
        if row is not None:
            return "done" if row.finished_at is not None else "resumed"
        others = s.scalar(select(func.count()).select_from(StoreCopyRow))
        if others or _holds_data(s.connection()):
            raise Conflict(
                f"The destination store {dest.url_for_display} already holds data.",
                hint="Copy into a new, empty database (createdb NAME), or resume the copy "
                "that was interrupted with the same source.",
            )
        s.add(StoreCopyRow(source=source, started_at=datetime.now(UTC)))
        return "new"

    return dest.write(claim)


def _holds_data(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    for table in _our_tables():
        if table.name in _OWN:
            continue
        if table.name in names and conn.execute(select(table).limit(1)).first() is not None:
            return True
    if "studies" in names:
        return conn.execute(text("SELECT 1 FROM studies LIMIT 1")).first() is not None
    return False


def _copy_artifacts(src: Store, dest: Store, report: CopyReport, progress: Progress) -> None:
    from app.core.artifact_backends import open_backend
    from app.core.artifacts import ArtifactStore
    from app.core.store.models import ArtifactRow

    with src.session() as s:
        rows = s.execute(
            select(ArtifactRow.sha256, ArtifactRow.size).where(ArtifactRow.state == "stored")
        ).all()
    source_files = ArtifactStore(src)  # a remote source is read through its verified cache
    remote = open_backend(dest.artifacts_remote)
    for i, (sha, size) in enumerate(rows):
        progress.check_cancelled()
        if i % 50 == 0:
            progress.update(0.2 * i / max(1, len(rows)), f"Copying artifacts ({i}/{len(rows)})")
        target = _artifact_path(dest.artifacts_dir, sha)
        if remote is not None and remote.has(sha):
            continue  # uploaded before the interruption (or the team already had it)
        if remote is None and _holds(target, sha, size):
            continue
        source = source_files.path_for(sha)
        if not source.is_file():
            raise NotFound(
                f"The source store's artifact {sha} is missing from {source_files.location}.",
                hint="Restore the store's artifact folder from a backup, then copy again.",
            )
        with atomic_write(target, make_parents=True) as tmp:
            digest = _copy_hashing(source, tmp)
            if digest == sha and remote is not None:
                remote.put(tmp, sha)  # atomic: the object appears only when complete
        if digest != sha:
            target.unlink(missing_ok=True)
            raise TamperedArtifact(
                f"The source store's artifact {source} no longer matches its SHA-256 "
                f"(recorded {sha[:12]}…, found {digest[:12]}…); it was not copied.",
                hint="Restore it from a backup, then copy again.",
            )
        report.artifacts += 1
        report.artifact_bytes += size


def _holds(target: Path, sha: str, size: int) -> bool:
    """The file is already there, whole (copied before an interruption, or the team's)."""
    return target.is_file() and target.stat().st_size == size and _sha256(target) == sha


def _artifact_path(root: Path, sha: str) -> Path:
    return root / sha[:2] / sha


def _sha256(path: Path) -> str:
    from app.core.artifacts import sha256_file

    return sha256_file(path)


def _copy_hashing(source: Path, tmp: Path) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as fin, open(tmp, "wb") as fout:
        while block := fin.read(1 << 20):
            digest.update(block)
            fout.write(block)
    return digest.hexdigest()


def _optuna_tables(src: Store, dest: Store) -> list[Table]:
    """Optuna's tables, made on the destination by Optuna itself (with its version rows)."""
    if "studies" not in set(inspect(src.engine).get_table_names()):
        return []
    from optuna.storages._rdb import models

    from app.core.tuning.engine import open_storage

    open_storage(dest.url, heartbeat=None, pool=dest.shared_pool).remove_session()
    return [t for t in models.BaseModel.metadata.sorted_tables if t.name not in _OPTUNA_OWN]


def _single_int_key(table: Table) -> Any:
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer):
        return keys[0]
    return None


def _insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def _batches(conn: Connection, table: Table, after: Any, size: int) -> Iterator[list[dict]]:
    query = select(table).order_by(*table.primary_key.columns)
    key = _single_int_key(table)
    if key is not None and after is not None:
        query = query.where(key > after)
    result = conn.execution_options(stream_results=True, yield_per=size).execute(query)
    for part in result.mappings().partitions(size):
        yield [dict(row) for row in part]


def _copy_table(src: Store, dest: Store, table: Table, size: int, progress: Progress) -> int:
    """Rows of ``table`` not yet on the destination, in key order, one transaction a batch."""
    key = _single_int_key(table)
    with dest.engine.connect() as conn:
        after = conn.execute(select(func.max(key))).scalar() if key is not None else None
    dialect = dest.engine.dialect.name
    statement = _insert(dialect, table)
    with src.engine.connect() as read:
        for rows in _batches(read, table, after, size):
            progress.check_cancelled()
            with dest.engine.begin() as write:
                if dialect == "postgresql":  # SQLite's times come back naive: they are UTC
                    write.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                write.execute(statement, rows)
    with dest.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def _advance_sequences(dest: Store, tables: list[Table]) -> None:
    """Move each serial column's sequence past the copied ids (inserts gave them explicitly)."""
    with dest.engine.begin() as conn:
        for table in tables:
            key = _single_int_key(table)
            if key is None:
                continue
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key.name}
            ).scalar()
            if seq is None:
                continue
            conn.execute(
                text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{key.name}") FROM "{table.name}"), '
                    f"0) + 1, false)"
                ),
                {"s": seq},
            )


def _seal(dest: Store, report: CopyReport) -> int:
    """Verify the copied chain, anchor it for the destination, record the copy, close it."""
    from app.core.registry import audit
    from app.core.store.models_copy import StoreCopyRow
    from app.core.store.models_registry import AuditRow

    with dest.session() as s:
        check = audit.verify(s, anchored=False)
    if not check.ok:
        raise TamperedArtifact(
            f"The copied audit log does not verify on the destination: {check.reason}",
            hint="The audit key of this machine must be the one that signed the source's log.",
        )

    def close(s: Any) -> int:
        audit.reanchor(s)
        audit.append(
            s,
            "store.copied",
            report.destination,
            {
                "from": report.source,
                "artifacts": report.artifacts,
                "rows": sum(report.rows.values()),
            },
        )
        s.get(StoreCopyRow, report.source).finished_at = datetime.now(UTC)
        return int(s.scalar(select(func.count()).select_from(AuditRow)) or 0)

    return dest.write(close)

"""The tracking service: every run, what went in, what came out, and whether it is alive.

Writes use Core ``insert`` in one transaction per call (a batch of metrics is one
transaction, never one per point). A run in progress carries its owner (host:pid) and a
heartbeat; ``fail_stale`` marks runs whose worker is gone as failed with the reason, so no
run stays "running" forever, and never fails a run whose owner lives on this host
(``liveness``). It is called by the job runner when a child exits and at start-up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.core.artifacts import ArtifactStore
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.owners import owner_tag
from app.core.store import Store
from app.core.store.models import (
    RunArtifactRow,
    RunLatestMetricRow,
    RunMetricRow,
    RunParamRow,
    RunRow,
    RunTagRow,
)
from app.core.tracking.entities import Run, RunArtifact, RunPage, RunSummary
from app.core.tracking.environment import run_environment
from app.core.tracking.liveness import HEARTBEAT_TIMEOUT, stale_reason
from app.core.tracking.query import PARTIAL_STATUSES, compile_filter, sort_column

_FINAL = ("finished", "failed", "cancelled")


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


_RUNS = RunRow.__table__
_PARAMS = RunParamRow.__table__
_TAGS = RunTagRow.__table__
_METRICS = RunMetricRow.__table__
_LATEST = RunLatestMetricRow.__table__
# Statements built once: constructing one per call costs more than executing it.
_INSERT_RUN = insert(_RUNS)
_BEAT = update(_RUNS).where(_RUNS.c.id == bindparam("rid")).values(heartbeat_at=bindparam("beat"))
_BEAT_LIVE = _BEAT.where(_RUNS.c.status.not_in(_FINAL))
_FINISH = (
    update(_RUNS)
    .where(_RUNS.c.id == bindparam("rid"), _RUNS.c.status.not_in(_FINAL))
    .values(status=bindparam("st"), error=bindparam("err"), ended_at=bindparam("ended"))
)


def _marks(conn: Any, n: int) -> str | None:
    """n positional placeholders in the driver's own style, or None if it has none."""
    style = conn.dialect.paramstyle
    if style == "qmark":
        return ", ".join(["?"] * n)
    if style in ("format", "pyformat"):
        return ", ".join(["%s"] * n)
    return None


def _insert_many(conn: Any, table: Any, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows of plain values (text, numbers) through the driver's ``executemany``.

    SQLAlchemy's bulk insert spends ~20 µs per row building parameters; the driver's own
    executemany needs ~1 µs, which is what makes a 10,000-point batch cheap.
    """
    marks = _marks(conn, len(columns))
    if marks is None:
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


#: A filtered param/metric sort walks the value index only when at least this share of the
#: walked runs can be expected to pass the filter (probing a run costs ~12× scanning one).
_WALK_FACTOR = 12


def _page_ids(
    s: Session,
    sort: str,
    order: Any,
    joined: Any,
    where: list,
    descending: bool,
    limit: int,
    offset: int,
    *,
    filtered: bool,
    total: int,
    include_partial: bool = False,
) -> list[int]:
    """Ids of one page of runs in the order of ``search`` (missing values last, then newest).

    A param/metric sort walks the ``(key, value)`` index of its table for the runs that have
    the value, then takes the runs without it: the single outer-joined ``ORDER BY value IS
    NULL, value`` query sorts every run on each call (0.2-0.3 s for 100,000) where the index
    answers in milliseconds. Under a selective filter (few of the walked runs pass it) the
    sort of the matching runs is cheaper, and is used. Unless ``include_partial``, a metric
    of a run that did not finish counts as missing (see ``query.PARTIAL_STATUSES``).
    """
    kind, _, key = sort.partition(".")
    table = {"metrics": RunLatestMetricRow, "params": RunParamRow}.get(kind)
    newest = RunRow.id.desc()
    if table is not None and key and filtered and total < _WALK_FACTOR * (offset + limit):
        order_expr = order.desc() if descending else order.asc()
        page = (
            select(RunRow.id)
            .outerjoin(joined, joined.c.run_id == RunRow.id)
            .where(*where)
            .order_by(order.is_(None), order_expr, newest)
        )
        return list(s.scalars(page.limit(limit).offset(offset)))
    if table is None or not key:
        page = select(RunRow.id).where(*where)
        column = getattr(order, "expression", order)
        if getattr(column, "nullable", True):
            page = page.order_by(order.is_(None), order.desc() if descending else order.asc())
        else:  # a NOT NULL column: its index (or the primary key) gives the order
            page = page.order_by(order.desc() if descending else order.asc())
        return list(s.scalars(page.order_by(newest).limit(limit).offset(offset)))
    held = aliased(table)  # an alias: filter clauses on the same table must not correlate to it
    value = held.value.desc() if descending else held.value.asc()
    partial = table is RunLatestMetricRow and not include_partial
    complete = [RunRow.status.not_in(PARTIAL_STATUSES)] if partial else []
    present = (
        select(RunRow.id)
        .join(held, (held.run_id == RunRow.id) & (held.key == key))
        .where(*where, *complete)
        .order_by(value, newest)
    )
    ids = list(s.scalars(present.limit(limit).offset(offset)))
    if len(ids) == limit:
        return ids
    if ids:
        with_value = offset + len(ids)
    else:
        counted = select(func.count()).select_from(present.order_by(None).subquery())
        with_value = s.scalar(counted) or 0
    absent = ~exists().where(table.run_id == RunRow.id, table.key == key)
    if partial:
        absent = or_(RunRow.status.in_(PARTIAL_STATUSES), absent)
    missing = (
        select(RunRow.id)
        .where(*where, absent)
        .order_by(newest)
        .limit(limit - len(ids))
        .offset(max(0, offset - with_value))
    )
    return ids + list(s.scalars(missing))


class TrackingService:
    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore,
        clock: Callable[[], float] = time.time,
        *,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.clock = clock
        #: seconds of silence after which a run owned on another host is failed
        self.heartbeat_timeout = heartbeat_timeout

    # -- writing ---------------------------------------------------------------------------

    def create_run(
        self,
        *,
        name: str = "",
        experiment: str = "Default",
        dataset_version_id: int | None = None,
        target: str | None = None,
        task: str | None = None,
        estimator: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        seed: int | None = None,
        recipe: Mapping[str, Any] | None = None,
        parent_run_id: int | None = None,
        study_name: str | None = None,
        trial_number: int | None = None,
        status: str = "running",
        env: Mapping[str, Any] | None = None,
    ) -> int:
        """Insert a run with its parameters and tags in one transaction; returns its id."""
        now = _utc(self.clock())
        values = {
            "name": name,
            "experiment": experiment,
            "dataset_version_id": dataset_version_id,
            "target": target,
            "task": task,
            "estimator": estimator,
            "status": status,
            "seed": seed,
            "recipe": dict(recipe or {}),
            "env": dict(env) if env is not None else run_environment(),
            "note": "",
            "owner": owner_tag(),
            "parent_run_id": parent_run_id,
            "study_name": study_name,
            "trial_number": trial_number,
            "started_at": now,
            "heartbeat_at": now,
        }

        def write(s: Session) -> int:
            conn = s.connection()
            run_id = conn.execute(_INSERT_RUN, values).inserted_primary_key[0]
            if params:
                _insert_many(
                    conn,
                    _PARAMS,
                    ("run_id", "key", "value"),
                    [(run_id, k, _param_text(v)) for k, v in params.items()],
                )
            if tags:
                _insert_many(
                    conn,
                    _TAGS,
                    ("run_id", "key", "value"),
                    [(run_id, k, str(v)) for k, v in tags.items()],
                )
            return run_id

        return self.store.write(write)

    def log_params(self, run_id: int, params: Mapping[str, Any]) -> None:
        def write(s: Session) -> None:
            self._live_run(s, run_id)
            existing = dict(
                s.execute(
                    select(RunParamRow.key, RunParamRow.value).where(
                        RunParamRow.run_id == run_id, RunParamRow.key.in_(list(params))
                    )
                ).all()
            )
            new = []
            for key, value in params.items():
                text = _param_text(value)
                if key in existing and existing[key] != text:
                    raise Conflict(
                        f"Run {run_id} already has parameter '{key}' = {existing[key]}.",
                        hint="Parameters are fixed once logged; start a new run to change one.",
                    )
                if key not in existing:
                    new.append({"run_id": run_id, "key": key, "value": text})
            if new:
                s.execute(insert(RunParamRow), new)

        self.store.write(write)

    def log_metrics(
        self, run_id: int, metrics: Mapping[str, float], *, step: int = 0, ts: float | None = None
    ) -> None:
        """Log several metrics at one step, in one transaction."""
        when = self.clock() if ts is None else ts
        self.log_batch(run_id, [(k, float(v), step, when) for k, v in metrics.items()])

    def log_batch(self, run_id: int, points: Iterable[tuple[str, float, int, float]]) -> None:
        """Many (key, value, step, timestamp) points in one transaction.

        The points go through the driver's ``executemany`` (no per-row SQLAlchemy work) and
        the latest value per key is an upsert, so a batch costs a handful of statements
        whatever its size.
        """
        rows = []
        latest: dict[str, tuple[int, float]] = {}
        for key, value, step, ts in points:
            value, step = float(value), int(step)
            rows.append((run_id, key, step, value, float(ts)))
            previous = latest.get(key)
            if previous is None or step >= previous[0]:
                latest[key] = (step, value)
        if not rows:
            return
        beat = _utc(self.clock())

        def write(s: Session) -> None:
            conn = s.connection()
            alive = conn.execute(_BEAT_LIVE, {"rid": run_id, "beat": beat}).rowcount
            if not alive:
                self._live_run(s, run_id)  # raises NotFound or Conflict
            _insert_many(conn, _METRICS, ("run_id", "key", "step", "value", "ts"), rows)
            self._upsert_latest(conn, run_id, latest)

        self.store.write(write)

    @staticmethod
    def _upsert_latest(conn: Any, run_id: int, latest: Mapping[str, tuple[int, float]]) -> None:
        """Keep the value of the highest step per key (ties: the newest write wins)."""
        if conn.dialect.name in ("sqlite", "postgresql") and _marks(conn, 4) is not None:
            table = _LATEST.name
            conn.exec_driver_sql(
                f"INSERT INTO {table} (run_id, key, value, step) VALUES ({_marks(conn, 4)}) "
                "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, "
                f"step = excluded.step WHERE excluded.step >= {table}.step",
                [(run_id, key, value, step) for key, (step, value) in latest.items()],
            )
            return
        current = dict(
            conn.execute(
                select(_LATEST.c.key, _LATEST.c.step).where(
                    _LATEST.c.run_id == run_id, _LATEST.c.key.in_(list(latest))
                )
            ).all()
        )
        fresh = []
        for key, (step, value) in latest.items():
            if key not in current:
                fresh.append({"run_id": run_id, "key": key, "value": value, "step": step})
            elif step >= current[key]:
                conn.execute(
                    update(_LATEST)
                    .where(_LATEST.c.run_id == run_id, _LATEST.c.key == key)
                    .values(value=value, step=step)
                )
        if fresh:
            conn.execute(insert(_LATEST), fresh)

    def set_tags(self, run_id: int, tags: Mapping[str, str]) -> None:
        def write(s: Session) -> None:
            self._run(s, run_id)
            s.execute(
                delete(RunTagRow).where(RunTagRow.run_id == run_id, RunTagRow.key.in_(list(tags)))
            )
            s.execute(
                insert(RunTagRow),
                [{"run_id": run_id, "key": k, "value": str(v)} for k, v in tags.items()],
            )

        if tags:
            self.store.write(write)

    def set_note(self, run_id: int, note: str) -> None:
        def write(s: Session) -> None:
            self._run(s, run_id).note = note

        self.store.write(write)

    def log_artifact(
        self, run_id: int, name: str, data: bytes | Path, *, kind: str = "file"
    ) -> RunArtifact:
        """Store bytes or a file under ``name`` for the run (content-addressed, hashed)."""
        if isinstance(data, Path | str):
            source = Path(data)
            pending = self.artifacts.put_file(lambda fh: fh.write(source.read_bytes()), kind=kind)
        else:
            pending = self.artifacts.put_bytes(data, kind=kind)

        def write(s: Session) -> RunArtifact:
            self._run(s, run_id)
            s.execute(
                delete(RunArtifactRow).where(
                    RunArtifactRow.run_id == run_id, RunArtifactRow.name == name
                )
            )
            art_id = s.execute(
                insert(RunArtifactRow).values(
                    run_id=run_id, kind=kind, name=name, sha256=pending.sha256, size=pending.size
                )
            ).inserted_primary_key[0]
            pending.mark_stored(s)
            return RunArtifact(art_id, run_id, kind, name, pending.sha256, pending.size)

        return self.store.write(write)

    def heartbeat(self, run_id: int) -> None:
        beat = _utc(self.clock())

        def write(s: Session) -> None:
            s.connection().execute(_BEAT, {"rid": run_id, "beat": beat})

        self.store.write(write)

    def finish(self, run_id: int, status: str = "finished", error: str | None = None) -> None:
        if status not in _FINAL:
            raise InvalidInput(f"'{status}' is not a final run status.")

        ended = _utc(self.clock())

        def write(s: Session) -> None:
            changed = (
                s.connection()
                .execute(_FINISH, {"rid": run_id, "st": status, "err": error, "ended": ended})
                .rowcount
            )
            if not changed:
                # Missing → NotFound; already ended (e.g. failed by a supervisor) → keep the
                # first verdict.
                self._run(s, run_id)

        self.store.write(write)

    def delete(self, run_id: int) -> None:
        def write(s: Session) -> None:
            self._run(s, run_id).deleted_at = _utc(self.clock())

        self.store.write(write)

    def restore(self, run_id: int) -> None:
        def write(s: Session) -> None:
            self._run(s, run_id).deleted_at = None

        self.store.write(write)

    # -- liveness --------------------------------------------------------------------------

    def fail_stale(
        self, *, timeout: float | None = None, run_ids: Iterable[int] | None = None
    ) -> list[int]:
        """Mark as failed the running runs whose owner is gone; returns their ids.

        On this host the owner process is checked (a dead or reused pid fails the run, a
        live one never does); for other hosts a heartbeat older than ``timeout`` (the
        service's ``heartbeat_timeout`` by default) is the only evidence.
        """
        now = self.clock()
        timeout = self.heartbeat_timeout if timeout is None else timeout

        def write(s: Session) -> list[int]:
            query = select(RunRow).where(RunRow.status.in_(("running", "queued")))
            if run_ids is not None:
                query = query.where(RunRow.id.in_(list(run_ids)))
            failed = []
            for row in s.scalars(query):
                beat = row.heartbeat_at or row.started_at
                if beat.tzinfo is None:
                    beat = beat.replace(tzinfo=UTC)
                reason = stale_reason(row.owner, now - beat.timestamp(), timeout)
                if reason is not None:
                    row.status, row.error, row.ended_at = "failed", reason, _utc(now)
                    failed.append(row.id)
            return failed

        return self.store.write(write)

    # -- reading ---------------------------------------------------------------------------

    def get(self, run_id: int) -> Run:
        with self.store.session() as s:
            row = self._run(s, run_id)
            params = dict(
                s.execute(
                    select(RunParamRow.key, RunParamRow.value).where(RunParamRow.run_id == run_id)
                ).all()
            )
            metrics = dict(
                s.execute(
                    select(RunLatestMetricRow.key, RunLatestMetricRow.value).where(
                        RunLatestMetricRow.run_id == run_id
                    )
                ).all()
            )
            tags = dict(
                s.execute(
                    select(RunTagRow.key, RunTagRow.value).where(RunTagRow.run_id == run_id)
                ).all()
            )
            arts = tuple(
                RunArtifact(a.id, a.run_id, a.kind, a.name, a.sha256, a.size)
                for a in s.scalars(
                    select(RunArtifactRow)
                    .where(RunArtifactRow.run_id == run_id)
                    .order_by(RunArtifactRow.id)
                )
            )
            return Run(
                id=row.id,
                name=row.name,
                experiment=row.experiment,
                dataset_version_id=row.dataset_version_id,
                target=row.target,
                task=row.task,
                estimator=row.estimator,
                status=row.status,
                seed=row.seed,
                recipe=dict(row.recipe or {}),
                env=dict(row.env or {}),
                note=row.note,
                error=row.error,
                parent_run_id=row.parent_run_id,
                study_name=row.study_name,
                trial_number=row.trial_number,
                started_at=row.started_at,
                ended_at=row.ended_at,
                deleted=row.deleted_at is not None,
                params=params,
                metrics=metrics,
                tags=tags,
                artifacts=arts,
            )

    def metric_history(self, run_id: int, key: str) -> list[tuple[int, float, float]]:
        """(step, value, timestamp) of every point of one metric, in step order."""
        with self.store.session() as s:
            return [
                (r.step, r.value, r.ts)
                for r in s.execute(
                    select(RunMetricRow.step, RunMetricRow.value, RunMetricRow.ts)
                    .where(RunMetricRow.run_id == run_id, RunMetricRow.key == key)
                    .order_by(RunMetricRow.step, RunMetricRow.id)
                )
            ]

    def search(
        self,
        *,
        filter: str | None = None,
        sort: str = "id",
        descending: bool = True,
        limit: int | None = 100,
        offset: int = 0,
        columns: Iterable[str] = (),
        include_deleted: bool = False,
        text: str | None = None,
        include_partial: bool = False,
    ) -> RunPage:
        """A page of runs, filtered and sorted in SQL, with the chosen param/metric columns.

        Metric sorts and metric clauses of ``filter`` see only finished runs' values: a
        failed or cancelled (pruned) run's metrics are partial and sort as missing, unless
        ``include_partial``. The columns still carry every run's values."""
        where = []
        compiled = compile_filter(filter, include_partial=include_partial)
        if compiled is not None:
            where.append(compiled)
        if not include_deleted:
            where.append(RunRow.deleted_at.is_(None))
        if text:
            like = f"%{text}%"
            where.append(
                RunRow.name.ilike(like) | RunRow.estimator.ilike(like) | RunRow.target.ilike(like)
            )
        order, joined = sort_column(sort, include_partial=include_partial)
        base = [
            RunRow.id,
            RunRow.name,
            RunRow.status,
            RunRow.estimator,
            RunRow.target,
            RunRow.task,
            RunRow.dataset_version_id,
            RunRow.started_at,
            RunRow.ended_at,
            RunRow.parent_run_id,
            RunRow.deleted_at,
        ]
        query = select(*base)
        if joined is not None:
            query = query.outerjoin(joined, joined.c.run_id == RunRow.id)
        extra = list(dict.fromkeys(columns))
        extra_cols = []
        for name in extra:
            kind, _, key = name.partition(".")
            table = {"metrics": RunLatestMetricRow, "params": RunParamRow}.get(kind)
            if table is None or not key:
                raise InvalidInput(f"'{name}' is not a column; use metrics.NAME or params.NAME.")
            extra_cols.append(
                select(table.value)
                .where(table.run_id == RunRow.id, table.key == key)
                .correlate(RunRow)
                .scalar_subquery()
                .label(name)
            )
        order_expr = order.desc() if descending else order.asc()
        ordering = (order.is_(None), order_expr, RunRow.id.desc())
        query = query.add_columns(*extra_cols)
        count_query = select(func.count()).select_from(RunRow).where(*where)
        with self.store.session() as s:
            total = s.scalar(count_query) or 0
            if limit is None:
                query = query.where(*where)
            else:
                # The page's ids first, then the param/metric columns for those rows only:
                # SQLite would otherwise evaluate every correlated column of every matching run
                # before sorting (1.1 s instead of 30 ms for 15 columns over 100,000 runs).
                filtered = compiled is not None or bool(text)
                ids = _page_ids(
                    s, sort, order, joined, where, descending, limit, offset,
                    filtered=filtered, total=total, include_partial=include_partial,
                )  # fmt: skip
                query = query.where(RunRow.id.in_(ids))
            query = query.order_by(*ordering)
            runs = [
                RunSummary(
                    *row[: len(base) - 1],
                    values=dict(zip(extra, row[len(base) :], strict=True)),
                    deleted=row[len(base) - 1] is not None,
                )
                for row in s.execute(query)
            ]
        return RunPage(runs, total)

    def partial_states(self, run_ids: Iterable[int]) -> dict[int, str]:
        """The runs among ``run_ids`` whose metrics are partial, each with the status to show
        ("pruned after fold k", "failed", "cancelled"); see ``tracking.partial``."""
        from app.core.tracking.partial import partial_states

        return partial_states(self.store, run_ids)

    def keys(self) -> tuple[list[str], list[str]]:
        """All param and metric names in the store, for column pickers."""
        with self.store.session() as s:
            params = list(s.scalars(select(RunParamRow.key).distinct().order_by(RunParamRow.key)))
            metrics = list(
                s.scalars(
                    select(RunLatestMetricRow.key).distinct().order_by(RunLatestMetricRow.key)
                )
            )
        return params, metrics

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _run(s: Session, run_id: int) -> RunRow:
        row = s.get(RunRow, run_id)
        if row is None:
            raise NotFound(f"No run with id {run_id}.", hint="`modeldesk runs list` shows them.")
        return row

    def _live_run(self, s: Session, run_id: int) -> None:
        status = s.scalar(select(RunRow.status).where(RunRow.id == run_id))
        if status is None:
            raise NotFound(f"No run with id {run_id}.")
        if status in _FINAL:
            raise Conflict(f"Run {run_id} has ended ({status}); it takes no more values.")

"""The queries of the list commands, as plain SQL for both readers of ``app.core.store.lite``.

One text per query serves SQLite (stdlib ``sqlite3``) and PostgreSQL (SQLAlchemy ``text``),
with ``:name`` parameters and nothing dialect-specific. Each function returns what the CLI
prints with ``--json``: the same dictionaries as the services' entities' ``to_dict`` (the
runs list's ``RunSummary``, the datasets list's summary, ``RegisteredModel``), which
``tests/core/test_listing.py`` checks against the services on both databases.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import InvalidInput
from app.core.store.lite import Reader, as_datetime, as_json
from app.core.store.run_states import PARTIAL_STATUSES, shown_state

#: run attribute → column, the names ``--sort`` and ``--columns`` take (as ``tracking.query``)
RUN_ATTRIBUTES = {
    "id": "id",
    "name": "name",
    "status": "status",
    "estimator": "estimator",
    "target": "target",
    "task": "task",
    "experiment": "experiment",
    "dataset_version_id": "dataset_version_id",
    "parent_run_id": "parent_run_id",
    "study": "study_name",
    "started_at": "started_at",
    "ended_at": "ended_at",
}
_VALUE_TABLES = {"metrics": "run_latest_metrics", "params": "run_params"}
_NOT_NULL = {"id", "name", "status", "experiment", "started_at"}
_RUN_COLUMNS = ", ".join(
    f"runs.{c}"
    for c in (
        "id", "name", "status", "estimator", "target", "task", "dataset_version_id",
        "started_at", "ended_at", "parent_run_id", "deleted_at",
    )
)  # fmt: skip


def run_keys(reader: Reader) -> tuple[list[str], list[str]]:
    """All param and metric names in the store (``TrackingService.keys``)."""
    params = [k for (k,) in reader.rows("SELECT DISTINCT key FROM run_params ORDER BY key")]
    metrics = [
        k for (k,) in reader.rows("SELECT DISTINCT key FROM run_latest_metrics ORDER BY key")
    ]
    return params, metrics


def _value_column(name: str) -> tuple[str, str]:
    kind, _, key = name.partition(".")
    table = _VALUE_TABLES.get(kind)
    if table is None or not key:
        raise InvalidInput(f"'{name}' is not a column; use metrics.NAME or params.NAME.")
    return table, key


def runs_page(
    reader: Reader,
    *,
    sort: str = "id",
    descending: bool = True,
    limit: int | None = 20,
    columns: list[str] | tuple[str, ...] = (),
    include_deleted: bool = False,
    include_partial: bool = False,
) -> tuple[int, list[dict[str, Any]]]:
    """The total and one page of runs, in ``TrackingService.search``'s order (missing sort
    values last, then the newest first), each with the chosen param/metric columns. Unless
    ``include_partial``, a metric of a run that did not finish sorts as missing, as there."""
    params: dict[str, Any] = {}
    where = "" if include_deleted else "WHERE runs.deleted_at IS NULL"
    direction = "DESC" if descending else "ASC"
    kind, _, key = sort.partition(".")
    if kind in _VALUE_TABLES and key:
        params["sort_key"] = key
        join = (
            f"LEFT JOIN (SELECT run_id, value FROM {_VALUE_TABLES[kind]} WHERE key = :sort_key) "
            "AS sorted ON sorted.run_id = runs.id"
        )
        value = "sorted.value"
        if kind == "metrics" and not include_partial:
            statuses = ", ".join(f"'{status}'" for status in PARTIAL_STATUSES)
            value = f"(CASE WHEN runs.status IN ({statuses}) THEN NULL ELSE sorted.value END)"
        order = f"{value} IS NULL, {value} {direction}, runs.id DESC"
    elif sort in RUN_ATTRIBUTES:
        join, column = "", f"runs.{RUN_ATTRIBUTES[sort]}"
        nulls = "" if sort in _NOT_NULL else f"{column} IS NULL, "
        order = f"{nulls}{column} {direction}" + ("" if sort == "id" else ", runs.id DESC")
    else:
        raise InvalidInput(
            f"Cannot sort by '{sort}'.",
            hint="Sort by metrics.NAME, params.NAME or one of: " + ", ".join(RUN_ATTRIBUTES),
        )
    total = reader.rows(f"SELECT count(*) FROM runs {where}")[0][0]
    extra = list(dict.fromkeys(columns))
    values = []
    for i, name in enumerate(extra):
        table, params[f"c{i}"] = _value_column(name)
        values.append(f"(SELECT value FROM {table} v WHERE v.run_id = runs.id AND v.key = :c{i})")
    selected = ", ".join([_RUN_COLUMNS, *values])
    if limit is None:
        rows = reader.rows(f"SELECT {selected} FROM runs {join} {where} ORDER BY {order}", params)
    else:
        # The page's ids first, then the columns for those rows only: SQLite would otherwise
        # evaluate every correlated column of every run before sorting.
        page = f"SELECT runs.id FROM runs {join} {where} ORDER BY {order} LIMIT :limit"
        ids = [i for (i,) in reader.rows(page, {**params, "limit": limit})]
        marks = ", ".join(f":id{n}" for n in range(len(ids)))
        found = {
            row[0]: row
            for row in reader.rows(
                f"SELECT {selected} FROM runs WHERE runs.id IN ({marks})",
                {**params, **{f"id{n}": i for n, i in enumerate(ids)}},
            )
        } if ids else {}  # fmt: skip
        rows = [found[i] for i in ids]
    return total, [_run_dict(row, extra) for row in rows]


def partial_states(reader: Reader, run_ids: list[int]) -> dict[int, str]:
    """``TrackingService.partial_states`` in plain SQL: for the runs among ``run_ids`` whose
    metrics are partial, the status to show ("pruned after fold k", "failed", "cancelled")."""
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return {}
    marks = ", ".join(f":id{n}" for n in range(len(ids)))
    statuses = ", ".join(f"'{status}'" for status in PARTIAL_STATUSES)
    rows = reader.rows(
        "SELECT runs.id, runs.status, runs.error, t.value FROM runs "
        "LEFT JOIN run_tags t ON t.run_id = runs.id AND t.key = 'trial_state' "
        f"WHERE runs.id IN ({marks}) AND runs.status IN ({statuses})",
        {f"id{n}": i for n, i in enumerate(ids)},
    )
    return {run_id: shown_state(status, ts, error) for run_id, status, error, ts in rows}


def _run_dict(row: tuple, extra: list[str]) -> dict[str, Any]:
    started, ended = as_datetime(row[7]), as_datetime(row[8])
    return {
        "id": row[0],
        "name": row[1],
        "status": row[2],
        "estimator": row[3],
        "target": row[4],
        "task": row[5],
        "dataset_version_id": row[6],
        "started_at": started.isoformat() if started else None,
        "ended_at": ended.isoformat() if ended else None,
        "parent_run_id": row[9],
        "deleted": row[10] is not None,
        **dict(zip(extra, row[11:], strict=True)),
    }


def datasets(reader: Reader, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    """The datasets list by name: how many versions, the latest one's size."""
    where = "" if include_deleted else "WHERE d.deleted_at IS NULL"
    rows = reader.rows(
        "SELECT d.name, d.created_at, d.deleted_at, "
        "(SELECT count(*) FROM dataset_versions n WHERE n.dataset_id = d.id), "
        "v.version, v.rows, v.cols FROM datasets d "
        "LEFT JOIN dataset_versions v ON v.dataset_id = d.id AND v.version = "
        "(SELECT max(m.version) FROM dataset_versions m WHERE m.dataset_id = d.id) "
        f"{where} ORDER BY d.name"
    )
    return [
        {
            "name": name,
            "versions": count,
            "latest": latest,
            "rows": n_rows or 0,
            "cols": n_cols or 0,
            "deleted": deleted_at is not None,
            "created_at": as_datetime(created_at).isoformat(),
        }
        for name, created_at, deleted_at, count, latest, n_rows, n_cols in rows
    ]


def models(reader: Reader, search: str = "") -> list[dict[str, Any]]:
    """Registered models whose name or description contains ``search`` (any case), by name,
    as ``RegisteredModel.to_dict``."""
    where, params = "", {}
    if search.strip():
        where = "WHERE lower(m.name) LIKE lower(:like) OR lower(m.description) LIKE lower(:like)"
        params["like"] = f"%{search.strip()}%"
    rows = reader.rows(
        "SELECT m.id, m.name, m.description, m.tags, m.policy, m.created_at, m.updated_at, "
        "c.n, c.latest FROM registered_models m LEFT JOIN (SELECT model_id, count(*) AS n, "
        "max(version) AS latest FROM model_versions GROUP BY model_id) c ON c.model_id = m.id "
        f"{where} ORDER BY m.name",
        params,
    )
    aliases: dict[int, dict[str, int]] = {}
    for model_id, alias, number in reader.rows(
        "SELECT a.model_id, a.alias, v.version FROM model_aliases a "
        "JOIN model_versions v ON v.id = a.version_id"
    ):
        aliases.setdefault(model_id, {})[alias] = number
    return [
        {
            "id": mid,
            "name": name,
            "description": description,
            "tags": dict(as_json(tags) or {}),
            "policy": dict(as_json(policy) or {}),
            "versions": n or 0,
            "latest_version": latest,
            "aliases": dict(sorted(aliases.get(mid, {}).items())),
            "created_at": as_datetime(created).isoformat(),
            "updated_at": as_datetime(updated).isoformat(),
        }
        for mid, name, description, tags, policy, created, updated, n, latest in rows
    ]

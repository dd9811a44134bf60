"""The small filter and sort language of the runs list, compiled to SQL.

    metrics.roc_auc > 0.9 and params.max_depth = 5 and status = 'finished'
    estimator like 'random%' and tags.reviewed = 'yes'

Clauses are joined by ``and``; a name is ``metrics.K``, ``params.K``, ``tags.K`` or a run
attribute. Everything happens in the database, so a store of 100,000 runs filters and sorts
without loading them into Python.

A run that did not finish (failed, or cancelled: a pruned trial is stored as cancelled) keeps
the metrics of the folds it got through. Those partial values are not comparable with a
finished run's (a pruned trial's mean of two folds topped every sort), so metric clauses and
metric sorts see only finished runs' values unless ``include_partial`` is asked for; the
other runs still match the rest of the filter and sort as if the value were missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, null, select
from sqlalchemy.sql.elements import ColumnElement

from app.core.errors import InvalidInput
from app.core.store.models import RunLatestMetricRow, RunParamRow, RunRow, RunTagRow
from app.core.store.run_states import PARTIAL_STATUSES

ATTRIBUTES = {
    "id": RunRow.id,
    "name": RunRow.name,
    "status": RunRow.status,
    "estimator": RunRow.estimator,
    "target": RunRow.target,
    "task": RunRow.task,
    "experiment": RunRow.experiment,
    "dataset_version_id": RunRow.dataset_version_id,
    "parent_run_id": RunRow.parent_run_id,
    "study": RunRow.study_name,
    "started_at": RunRow.started_at,
    "ended_at": RunRow.ended_at,
}

_OPS = ("<=", ">=", "!=", "=", "<", ">", "like", "ilike")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|(?P<op><=|>=|!=|==|=|<|>)"
    r"|(?P<word>[A-Za-z_][\w.\-]*|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?))"
)


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    value: Any


def parse_filter(text: str) -> list[Clause]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInput(
                f"Cannot read the filter at '{text[pos : pos + 20]}'.",
                hint="Write clauses like: metrics.accuracy > 0.9 and params.max_depth = 5",
            )
        kind = m.lastgroup or "word"
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    clauses: list[Clause] = []
    i = 0
    while i < len(tokens):
        if len(tokens) - i < 3:
            raise InvalidInput(
                f"Incomplete filter clause near '{' '.join(t for _, t in tokens[i:])}'.",
                hint="Each clause is NAME OPERATOR VALUE.",
            )
        (k1, name), (k2, op), (k3, raw) = tokens[i : i + 3]
        op = op.lower()
        if k1 != "word" or (k2 != "op" and op not in ("like", "ilike")):
            raise InvalidInput(
                f"'{name} {op} {raw}' is not a filter clause.",
                hint="Each clause is NAME OPERATOR VALUE, e.g. metrics.f1 >= 0.8.",
            )
        clauses.append(Clause(name, "=" if op == "==" else op, _value(k3, raw)))
        i += 3
        if i < len(tokens):
            if tokens[i][1].lower() != "and":
                raise InvalidInput(
                    f"Expected 'and' between clauses, found '{tokens[i][1]}'.",
                    hint="Clauses are joined with 'and'.",
                )
            i += 1
    return clauses


def _value(kind: str, raw: str) -> Any:
    if kind == "str":
        quote = raw[0]
        return raw[1:-1].replace(quote * 2, quote)
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "like":
        return column.like(str(value))
    if op == "ilike":
        return column.ilike(str(value))
    return {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


def compile_clause(clause: Clause, *, include_partial: bool = False) -> ColumnElement[bool]:
    kind, _, key = clause.field.partition(".")
    if kind == "metrics" and key:
        if not isinstance(clause.value, int | float):
            raise InvalidInput(f"metrics.{key} is compared with a number, not '{clause.value}'.")
        m = RunLatestMetricRow
        held = exists().where(
            m.run_id == RunRow.id, m.key == key, _compare(m.value, clause.op, clause.value)
        )
        return held if include_partial else and_(RunRow.status.not_in(PARTIAL_STATUSES), held)
    if kind in ("params", "tags") and key:
        table = RunParamRow if kind == "params" else RunTagRow
        return exists().where(
            table.run_id == RunRow.id,
            table.key == key,
            _compare(table.value, clause.op, str(clause.value)),
        )
    column = ATTRIBUTES.get(clause.field)
    if column is None:
        raise InvalidInput(
            f"Unknown filter field '{clause.field}'.",
            hint="Use metrics.NAME, params.NAME, tags.NAME or one of: " + ", ".join(ATTRIBUTES),
        )
    return _compare(column, clause.op, clause.value)


def compile_filter(
    text: str | None, *, include_partial: bool = False
) -> ColumnElement[bool] | None:
    if not text or not text.strip():
        return None
    return and_(*(compile_clause(c, include_partial=include_partial) for c in parse_filter(text)))


def sort_column(sort: str, *, include_partial: bool = False) -> tuple[Any, Any | None]:
    """The SQL expression to order by, and the outer-joined table it needs (if any).

    A metric sort takes only finished runs' values unless ``include_partial``: the others
    come out of the subquery as missing and sort last."""
    kind, _, key = sort.partition(".")
    if kind in ("metrics", "params") and key:
        table = RunLatestMetricRow if kind == "metrics" else RunParamRow
        alias = select(table.run_id, table.value).where(table.key == key).subquery()
        if kind == "metrics" and not include_partial:
            # a CASE on the outer row, not a join in the subquery: SQLite flattens a plain
            # subquery into the page query; with a join inside it materialises all of it
            hidden = case((RunRow.status.in_(PARTIAL_STATUSES), null()), else_=alias.c.value)
            return hidden, alias
        return alias.c.value, alias
    column = ATTRIBUTES.get(sort)
    if column is None:
        raise InvalidInput(
            f"Cannot sort by '{sort}'.",
            hint="Sort by metrics.NAME, params.NAME or one of: " + ", ".join(ATTRIBUTES),
        )
    return column, None

"""What a compiled recipe is made of: one scikit-learn transformer running the steps.

This module is self-contained on purpose: it imports only numpy, pandas, scikit-learn and
the standard library, because saved pipelines refer to ``RecipeTransformer`` by this
module's import path and the serving image ships the file as it is (``code/app/core/
recipes/runtime.py``). It must keep its name and never import the rest of ModelDesk.

A step is a plain dict (``{"op": "impute", "columns": ["age"], "strategy": "median"}``).
``RecipeTransformer(steps)`` learns what the steps learn (medians, clip bounds, bin edges,
kept categories, target encodings) in ``fit``/``fit_transform`` and replays it in
``transform``. Everything is vectorised pandas/numpy column work: no Python loop per row.

Row steps (filter, drop duplicates, drop rows without a target, sample) change which rows
exist, which a transformer inside a model must never do: ``transform`` skips them (they are
marked ``training_only``) and ``apply_rows`` runs them on the raw training rows before the
split. Wherever they sit in the list, they run first, on the raw rows.

Target encoding is cross-fitted: ``fit_transform`` (what a Pipeline calls on training rows)
encodes each row with statistics learnt on the other folds, so a row never sees its own
target; ``transform`` (validation, test and served rows) uses statistics of all training rows.

Expressions (``{"op": "expr", "name": "bmi", "expression": "weight / (height / 100) ** 2"}``)
go through ``compile_expression``: an ``ast`` whitelist of column names, numbers, strings,
arithmetic, comparisons, ``and``/``or``/``not`` and the functions in ``FUNCTIONS``. Anything
that could reach Python (attribute access, subscripts, lambdas, comprehensions, other calls,
``__import__``) is refused with ``RecipeError`` before any data is touched.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

ROW_OPS = ("filter", "dedupe", "drop_missing_target", "sample")
OTHER = "other"


class RecipeError(ValueError):
    """A step cannot apply to this data; the message names the step, column and rows."""


# -- the safe expression language -----------------------------------------------------------


def _where(cond, a, b):
    # A constant condition (``where(1, x, 0)``) is a scalar, not a column: np.where broadcasts
    # it, and an all-constant result stays a scalar for ``Expression.__call__`` to broadcast.
    out = np.where(np.asarray(_as_array(cond)).astype(bool), _as_array(a), _as_array(b))
    return pd.Series(out) if out.ndim else out[()]


def _as_array(value):
    return value.to_numpy() if isinstance(value, pd.Series) else value


def _log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _sqrt(x):
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


FUNCTIONS = {
    "log": _log,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": _sqrt,
    "abs": np.abs,
    "round": np.round,
    "floor": np.floor,
    "ceil": np.ceil,
    "where": _where,
    "isnull": pd.isna,
    "notnull": pd.notna,
    "min": np.minimum,
    "max": np.maximum,
}
_BINOPS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.mod,
    ast.Pow: np.power,
}
_COMPARE = {
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
}
_REFUSED = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "subscripts ('[...]')",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignment (':=')",
    ast.Starred: "'*' unpacking",
    ast.JoinedStr: "f-strings",
    ast.Await: "await",
    ast.Yield: "yield",
}
_BACKTICK = re.compile(r"`([^`]*)`")


class Expression:
    """A checked expression: ``columns`` it reads; call it on a DataFrame for a Series."""

    def __init__(self, text: str, tree: ast.Expression, aliases: dict[str, str]) -> None:
        self.text, self.tree, self.aliases = text, tree, aliases
        self.columns = sorted(
            {
                aliases.get(n.id, n.id)
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and n.id not in FUNCTIONS
            }
        )

    def __call__(self, frame: pd.DataFrame):
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise RecipeError(
                f"The expression '{self.text}' uses "
                + ", ".join(f"'{c}'" for c in missing)
                + ", which the data lacks."
            )
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                value = self._eval(self.tree.body, frame)
        except RecipeError:
            raise
        except (AttributeError, TypeError, ValueError) as exc:  # e.g. text where numbers go
            raise RecipeError(
                f"The expression '{self.text}' cannot be computed: {str(exc).rstrip('.')}."
            ) from None
        if not isinstance(value, pd.Series):
            value = pd.Series(np.broadcast_to(value, len(frame)), index=frame.index)
        else:
            value.index = frame.index
        return value

    def _eval(self, node, frame):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            column = frame[self.aliases.get(node.id, node.id)]
            if column.dtype == bool or str(column.dtype) == "boolean":
                return column
            if pd.api.types.is_numeric_dtype(column):
                return column.astype("float64")
            return column
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](
                self._eval(node.left, frame), self._eval(node.right, frame)
            )
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, frame)
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.Not):
                return ~_as_bool(value)
            return value
        if isinstance(node, ast.BoolOp):
            values = [_as_bool(self._eval(v, frame)) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, frame)
            out = None
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, frame)
                part = _COMPARE[type(op)](left, right)
                out = part if out is None else (out & part)
                left = right
            return out
        if isinstance(node, ast.IfExp):
            return _where(
                self._eval(node.test, frame),
                self._eval(node.body, frame),
                self._eval(node.orelse, frame),
            )
        if isinstance(node, ast.Call):
            args = [self._eval(a, frame) for a in node.args]
            return FUNCTIONS[node.func.id](*args)
        raise RecipeError(f"Cannot evaluate '{ast.dump(node)}'.")  # unreachable once checked


def _as_bool(value):
    if isinstance(value, pd.Series):
        return value.fillna(False).astype(bool)
    return np.asarray(value, dtype=bool)


def compile_expression(text: str) -> Expression:
    """Parse and check ``text``; ``RecipeError`` says what is not allowed and where."""
    if not isinstance(text, str) or not text.strip():
        raise RecipeError("The expression is empty.")
    if len(text) > 2000:
        raise RecipeError("The expression is longer than 2,000 characters.")
    aliases: dict[str, str] = {}

    def quote(match: re.Match) -> str:  # `column name` → a plain identifier
        alias = f"_col{len(aliases)}_"
        aliases[alias] = match.group(1)
        return alias

    source = _BACKTICK.sub(quote, text.strip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise RecipeError(
            f"The expression '{text}' is not valid: {exc.msg} at character {exc.offset}."
        ) from None
    nodes = list(ast.walk(tree))
    for node in nodes:  # the constructs that reach Python first: the clearest message
        what = _REFUSED.get(type(node))
        if what:
            raise RecipeError(f"Expressions cannot use {what} in '{text}'.")
    for node in nodes:
        _check_node(node, text)
    return Expression(text, tree, aliases)


def _check_node(node: ast.AST, text: str) -> None:
    allowed = (
        ast.Expression,
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.Call,
        ast.And,
        ast.Or,
        ast.Not,
        ast.USub,
        ast.UAdd,
        *_BINOPS,
        *_COMPARE,
    )
    where = f" in '{text}'"
    for kind, what in _REFUSED.items():
        if isinstance(node, kind):
            raise RecipeError(f"Expressions cannot use {what}{where}.")
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        raise RecipeError(f"Expressions cannot use the name '{node.id}'{where}.")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise RecipeError(
                f"Expressions cannot call '{name}'{where}; the allowed functions are "
                + ", ".join(sorted(FUNCTIONS))
                + "."
            )
        if node.keywords:
            raise RecipeError(f"Expressions cannot use keyword arguments{where}.")
    if isinstance(node, ast.Constant) and not isinstance(
        node.value, int | float | str | bool | type(None)
    ):
        raise RecipeError(f"Expressions cannot use the constant {node.value!r}{where}.")
    if not isinstance(node, allowed):
        raise RecipeError(f"Expressions cannot use {type(node).__name__}{where}.")


# -- helpers --------------------------------------------------------------------------------


def _columns(step: dict) -> list[str]:
    cols = step.get("columns")
    if cols is None and step.get("column") is not None:
        cols = [step["column"]]
    return list(cols or [])


def _need(frame: pd.DataFrame, columns, step: dict) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RecipeError(
            f"Step '{step.get('op')}' needs column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"'{c}'" for c in missing)
            + ", which the data lacks."
        )


def _numeric(series: pd.Series, step: dict) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series
    raise RecipeError(
        f"Step '{step['op']}' needs numbers in column '{series.name}', which holds "
        f"{series.dtype}; cast it first."
    )


def _row_numbers(mask: np.ndarray, limit: int = 10) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r) + 1) for r in rows[:limit])
    more = f" and {len(rows) - limit:,} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _strings(series: pd.Series) -> pd.Series:
    """Text values with missing kept missing (pandas string ops, vectorised)."""
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        return series
    return series.astype("string")


# -- the steps ------------------------------------------------------------------------------
# Each op has fit(frame, y, step) -> state (plain lists, dicts of str, floats) and
# apply(frame, step, state, y=None, training=False) -> frame.


def _drop(frame, step, state, **_):
    _need(frame, step["columns"], step)
    return frame.drop(columns=step["columns"])


def _keep(frame, step, state, **_):
    _need(frame, step["columns"], step)
    return frame[list(step["columns"])]


def _rename(frame, step, state, **_):
    _need(frame, list(step["mapping"]), step)
    return frame.rename(columns=dict(step["mapping"]))


def _reorder(frame, step, state, **_):
    _need(frame, step["columns"], step)
    first = list(step["columns"])
    return frame[first + [c for c in frame.columns if c not in first]]


def cast_series(series: pd.Series, to: str, *, fmt: str | None = None) -> pd.Series:
    """``series`` as type ``to``; ``RecipeError`` names the rows whose values do not fit."""
    present = series.notna().to_numpy()
    if to in ("float", "int"):
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            out = series.astype("float64")
        else:
            out = pd.to_numeric(series.astype("string").str.strip(), errors="coerce")
        bad = present & out.isna().to_numpy()
        if to == "int" and not bad.any():
            values = out.to_numpy(dtype="float64", na_value=np.nan)
            bad = present & np.isfinite(values) & (values != np.round(values))
        if bad.any():
            sample = ", ".join(repr(v) for v in series[bad].head(3).tolist())
            kind = "whole numbers" if to == "int" else "numbers"
            raise RecipeError(
                f"Column '{series.name}' cannot become {kind}: {int(bad.sum()):,} "
                f"value{'s' if bad.sum() > 1 else ''} do not fit ({_row_numbers(bad)}; "
                f"e.g. {sample})."
            )
        return out.astype("Int64") if to == "int" else out.astype("float64")
    if to == "str":
        return series.astype("string")
    if to == "category":
        return series.astype("category")
    if to == "bool":
        if pd.api.types.is_bool_dtype(series):
            return series.astype("boolean")
        text = series.astype("string").str.strip().str.lower()
        out = text.map(_BOOLS).astype("boolean")
        if pd.api.types.is_numeric_dtype(series):
            out = (series != 0).astype("boolean").mask(series.isna())
        bad = present & out.isna().to_numpy()
        if bad.any():
            raise RecipeError(
                f"Column '{series.name}' cannot become true/false: "
                f"{int(bad.sum()):,} values do not fit ({_row_numbers(bad)})."
            )
        return out
    if to == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            return series
        out = pd.to_datetime(series, errors="coerce", format=fmt or "mixed")
        bad = present & out.isna().to_numpy()
        if bad.any():
            raise RecipeError(
                f"Column '{series.name}' cannot become dates: {int(bad.sum()):,} values do "
                f"not fit ({_row_numbers(bad)}; e.g. {series[bad].iloc[0]!r})."
            )
        return out
    raise RecipeError(f"Unknown type '{to}' to cast to.")


_BOOLS = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "t": True,
    "f": False,
    "y": True,
    "n": False,
}


def _cast(frame, step, state, **_):
    cols = _columns(step)
    _need(frame, cols, step)
    frame = frame.copy(deep=False)
    for col in cols:
        frame[col] = cast_series(frame[col], step["to"], fmt=step.get("format"))
    return frame


# rows (training only)


def _filter(frame, step, state, **_):
    mask = compile_expression(step["expression"])(frame)
    return frame[_as_bool(mask).to_numpy()]


def _dedupe(frame, step, state, **_):
    cols = step.get("columns") or None
    if cols:
        _need(frame, cols, step)
    return frame.drop_duplicates(subset=cols, keep=step.get("keep", "first"))


def _drop_missing_target(frame, step, state, **_):
    _need(frame, [step["column"]], step)
    return frame[frame[step["column"]].notna()]


def _sample(frame, step, state, **_):
    seed = int(step.get("seed", 0))
    if step.get("rows"):
        n = min(int(step["rows"]), len(frame))
        return frame.sample(n=n, random_state=seed)
    return frame.sample(frac=float(step.get("fraction", 0.1)), random_state=seed)


# values


def _fit_impute(frame, y, step):
    cols = _columns(step)
    _need(frame, cols, step)
    strategy = step.get("strategy", "median")
    if strategy == "constant":
        return {"fill": {c: step.get("value") for c in cols}}
    if strategy == "group_median":
        by = step["by"]
        _need(frame, [by], step)
        groups, overall = {}, {}
        for c in cols:
            num = _numeric(frame[c], step)
            med = num.groupby(frame[by].astype("string"), dropna=True).median().dropna()
            groups[c] = {"keys": [str(k) for k in med.index], "values": med.to_numpy().tolist()}
            overall[c] = _plain(num.median())
        return {"groups": groups, "fill": overall}
    fill = {}
    for c in cols:
        if strategy == "mean":
            fill[c] = _plain(_numeric(frame[c], step).mean())
        elif strategy == "median":
            fill[c] = _plain(_numeric(frame[c], step).median())
        elif strategy == "most_frequent":
            mode = frame[c].mode(dropna=True)
            fill[c] = _plain(mode.iloc[0]) if len(mode) else None
        else:
            raise RecipeError(f"Unknown imputation strategy '{strategy}'.")
    return {"fill": fill}


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _impute(frame, step, state, **_):
    cols = _columns(step)
    _need(frame, cols, step)
    frame = frame.copy(deep=False)
    for c in cols:
        column = frame[c]
        if "groups" in state:
            g = state["groups"][c]
            lookup = pd.Series(g["values"], index=g["keys"], dtype="float64")
            per_row = frame[step["by"]].astype("string").map(lookup)
            column = column.fillna(pd.Series(per_row.to_numpy(), index=frame.index))
        fill = state["fill"].get(c)
        if fill is not None:
            if pd.api.types.is_datetime64_any_dtype(column):
                fill = pd.Timestamp(fill)
            column = column.fillna(fill)
        frame[c] = column
    return frame


def _fit_clip(frame, y, step):
    cols = _columns(step)
    _need(frame, cols, step)
    bounds = {}
    for c in cols:
        values = _numeric(frame[c], step)
        if step.get("method", "iqr") == "iqr":
            q1, q3 = values.quantile([0.25, 0.75]).to_numpy()
            k = float(step.get("k", 1.5))
            bounds[c] = [_plain(q1 - k * (q3 - q1)), _plain(q3 + k * (q3 - q1))]
        else:
            lo, hi = values.quantile([float(step.get("low", 0.01)), float(step.get("high", 0.99))])
            bounds[c] = [_plain(lo), _plain(hi)]
    return {"bounds": bounds}


def _clip(frame, step, state, **_):
    frame = frame.copy(deep=False)
    _need(frame, list(state["bounds"]), step)
    for c, (lo, hi) in state["bounds"].items():
        frame[c] = _numeric(frame[c], step).clip(lo, hi)
    return frame


def _replace(frame, step, state, **_):
    cols = _columns(step)
    _need(frame, cols, step)
    frame = frame.copy(deep=False)
    mapping = dict(step["mapping"])
    for c in cols:
        column = frame[c]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        frame[c] = column.replace(mapping)
    return frame


def _fit_rare(frame, y, step):
    cols = _columns(step)
    _need(frame, cols, step)
    keep = {}
    for c in cols:
        counts = _strings(frame[c]).value_counts(dropna=True)
        if step.get("min_count") is not None:
            kept = counts[counts >= int(step["min_count"])]
        else:
            kept = counts[counts / max(1, len(frame)) >= float(step.get("min_share", 0.01))]
        keep[c] = sorted(str(k) for k in kept.index)
    return {"keep": keep}


def _rare(frame, step, state, **_):
    frame = frame.copy(deep=False)
    other = step.get("other", OTHER)
    _need(frame, list(state["keep"]), step)
    for c, kept in state["keep"].items():
        text = _strings(frame[c])
        frame[c] = text.where(text.isin(kept) | text.isna(), other)
    return frame


def _text_clean(frame, step, state, **_):
    cols = _columns(step)
    _need(frame, cols, step)
    frame = frame.copy(deep=False)
    for c in cols:
        text = _strings(frame[c])
        if step.get("trim", True):
            text = text.str.strip()
        case = step.get("case")
        if case in ("lower", "upper", "title"):
            text = getattr(text.str, case)()
        if step.get("pattern"):
            text = text.str.replace(step["pattern"], step.get("replacement", ""), regex=True)
        frame[c] = text
    return frame


# features


def _expr(frame, step, state, **_):
    frame = frame.copy(deep=False)
    frame[step["name"]] = compile_expression(step["expression"])(frame)
    return frame


def _fit_bin(frame, y, step):
    col = step["column"]
    _need(frame, [col], step)
    values = _numeric(frame[col], step).dropna()
    method = step.get("method", "width")
    n = int(step.get("bins", 5))
    if method == "edges":
        edges = sorted(float(e) for e in step["edges"])
    elif method == "quantile":
        edges = np.unique(values.quantile(np.linspace(0, 1, n + 1)).to_numpy()).tolist()
    else:
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, n + 1).tolist()
    return {"edges": [float(e) for e in edges]}


def _bin(frame, step, state, **_):
    col = step["column"]
    _need(frame, [col], step)
    frame = frame.copy(deep=False)
    edges = np.asarray(state["edges"], dtype="float64")
    values = _numeric(frame[col], step).to_numpy(dtype="float64", na_value=np.nan)
    if step.get("method") == "edges":
        inner = edges
        codes = np.searchsorted(inner, values, side="right").astype("float64")
    else:  # learnt edges: the outer ones are open, so unseen extremes land in the end bins
        inner = edges[1:-1]
        codes = np.searchsorted(inner, values, side="right").astype("float64")
    codes[np.isnan(values)] = np.nan
    frame[step.get("name") or f"{col}_bin"] = codes
    return frame


def _dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series
    else:
        out = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _date_parts(frame, step, state, **_):
    col = step["column"]
    _need(frame, [col], step)
    frame = frame.copy(deep=False)
    dates = _dates(frame[col])
    for part in step.get("parts") or ("year", "month", "day", "day_of_week"):
        frame[f"{col}_{part}"] = getattr(dates.dt, part).astype("float64")
    return frame


_UNITS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}


def _duration(frame, step, state, **_):
    start, end = step["start"], step["end"]
    _need(frame, [start, end], step)
    frame = frame.copy(deep=False)
    delta = _dates(frame[end]) - _dates(frame[start])
    unit = step.get("unit", "days")
    frame[step.get("name") or f"{end}_minus_{start}_{unit}"] = (
        delta.dt.total_seconds() / _UNITS[unit]
    )
    return frame


def _text_length(frame, step, state, **_):
    cols = _columns(step)
    _need(frame, cols, step)
    frame = frame.copy(deep=False)
    for c in cols:
        text = _strings(frame[c])
        frame[f"{c}_length"] = text.str.len().astype("float64")
        if step.get("words", True):
            frame[f"{c}_words"] = text.str.count(r"\S+").astype("float64")
    return frame


def _fit_onehot(frame, y, step):
    cols = _columns(step)
    _need(frame, cols, step)
    top = int(step.get("max_categories", 20))
    cats = {}
    for c in cols:
        counts = _strings(frame[c]).value_counts(dropna=True)
        cats[c] = sorted(str(k) for k in counts.index[:top])
    return {"categories": cats}


def _onehot(frame, step, state, **_):
    frame = frame.copy(deep=False)
    _need(frame, list(state["categories"]), step)
    new = {}
    for c, cats in state["categories"].items():
        codes = pd.Categorical(_strings(frame[c]), categories=cats).codes  # -1: other/missing
        for i, cat in enumerate(cats):
            new[f"{c}={cat}"] = (codes == i).astype("float64")
    frame = pd.concat([frame, pd.DataFrame(new, index=frame.index)], axis=1)
    if step.get("drop_original", True):
        frame = frame.drop(columns=list(state["categories"]))
    return frame


def _target_values(y, step) -> tuple[np.ndarray, list[str]]:
    """y as a numeric matrix (one column; one per class but the first for many classes)."""
    y = pd.Series(np.asarray(y))
    if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return y.astype("float64").to_numpy()[:, None], [""]
    classes = sorted(y.dropna().astype(str).unique())
    text = y.astype(str).to_numpy()
    keep = classes[1:] if len(classes) == 2 else classes
    return np.column_stack([(text == k).astype("float64") for k in keep]), keep


def _encode_stats(keys: pd.Series, targets: np.ndarray, smoothing: float):
    """Per category: smoothed mean of each target column (pandas groupby, no row loop)."""
    frame = pd.DataFrame(targets, index=keys.index)
    prior = np.nanmean(targets, axis=0)
    grouped = frame.groupby(keys.to_numpy(), dropna=True)
    sums, counts = grouped.sum(), grouped.count()
    encoded = (sums + smoothing * prior) / (counts + smoothing)
    return encoded, prior


def _fit_target(frame, y, step):
    if y is None:
        raise RecipeError("Target encoding needs the target; it is learnt while training.")
    cols = _columns(step)
    _need(frame, cols, step)
    targets, labels = _target_values(y, step)
    smoothing = float(step.get("smoothing", 10.0))
    out = {"labels": labels, "columns": {}}
    for c in cols:
        keys = frame[c].astype("string").fillna("(missing)")
        encoded, prior = _encode_stats(keys, targets, smoothing)
        out["columns"][c] = {
            "keys": [str(k) for k in encoded.index],
            "values": encoded.to_numpy().tolist(),
            "prior": prior.tolist(),
        }
    return out


def _target_names(c: str, labels: list[str]) -> list[str]:
    return [f"{c}_te" if not label else f"{c}_te_{label}" for label in labels]


def _encode_with(keys: pd.Series, table: dict) -> np.ndarray:
    values = np.asarray(table["values"], dtype="float64").reshape(len(table["keys"]), -1)
    prior = np.asarray(table["prior"], dtype="float64")
    positions = pd.Index(table["keys"]).get_indexer(keys.to_numpy())
    out = np.where(positions[:, None] >= 0, values[np.maximum(positions, 0)], prior[None, :])
    return out


def _target_encode(frame, step, state, y=None, training=False, **_):
    frame = frame.copy(deep=False)
    cols = list(state["columns"])
    _need(frame, cols, step)
    labels = state["labels"]
    for c in cols:
        keys = frame[c].astype("string").fillna("(missing)")
        if training and y is not None:
            encoded = _cross_fit(keys, y, step)
        else:
            encoded = _encode_with(keys, state["columns"][c])
        for i, name in enumerate(_target_names(c, labels)):
            frame[name] = encoded[:, i]
        if step.get("drop_original", True):
            frame = frame.drop(columns=[c])
    return frame


def _cross_fit(keys: pd.Series, y, step) -> np.ndarray:
    """Out-of-fold encodings: each row's value is learnt on the other folds only."""
    from sklearn.model_selection import KFold

    targets, _ = _target_values(y, step)
    smoothing = float(step.get("smoothing", 10.0))
    folds = int(step.get("cv", 5))
    out = np.empty((len(keys), targets.shape[1]))
    splitter = KFold(
        n_splits=min(folds, max(2, len(keys))), shuffle=True, random_state=int(step.get("seed", 0))
    )
    for fit_rows, enc_rows in splitter.split(targets):
        encoded, prior = _encode_stats(keys.iloc[fit_rows], targets[fit_rows], smoothing)
        table = {
            "keys": [str(k) for k in encoded.index],
            "values": encoded.to_numpy(),
            "prior": prior,
        }
        out[enc_rows] = _encode_with(keys.iloc[enc_rows], table)
    return out


OPS = {
    "drop": (None, _drop),
    "keep": (None, _keep),
    "rename": (None, _rename),
    "reorder": (None, _reorder),
    "cast": (None, _cast),
    "filter": (None, _filter),
    "dedupe": (None, _dedupe),
    "drop_missing_target": (None, _drop_missing_target),
    "sample": (None, _sample),
    "impute": (_fit_impute, _impute),
    "clip": (_fit_clip, _clip),
    "replace": (None, _replace),
    "rare": (_fit_rare, _rare),
    "text_clean": (None, _text_clean),
    "expr": (None, _expr),
    "bin": (_fit_bin, _bin),
    "date_parts": (None, _date_parts),
    "duration": (None, _duration),
    "text_length": (None, _text_length),
    "onehot": (_fit_onehot, _onehot),
    "target_encode": (_fit_target, _target_encode),
}


def _label(index: int, step: dict) -> str:
    return f"Step {index + 1} ({step.get('op')})"


def _active(steps, first: int = 0) -> list[tuple[int, dict]]:
    """The enabled steps with their index in the whole recipe (``first``: the index of
    ``steps[0]`` when a caller applies a slice, so an error names the step's real number)."""
    return [(i, s) for i, s in enumerate(steps, start=first) if s.get("enabled", True)]


def _run(index: int, step: dict, fn, frame, state, **kwargs):
    try:
        return fn(frame, step, state, **kwargs)
    except RecipeError as exc:
        raise RecipeError(f"{_label(index, step)}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise RecipeError(f"{_label(index, step)} failed: {exc}") from None


def apply_rows(frame: pd.DataFrame, steps, *, first: int = 0) -> pd.DataFrame:
    """Only the row steps (filter, dedupe, rows without target, sample), in their order."""
    for i, step in _active(steps, first):
        if step["op"] in ROW_OPS:
            frame = _run(i, step, OPS[step["op"]][1], frame, None)
    return frame


def _as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(X)


class RecipeTransformer(TransformerMixin, BaseEstimator):
    """The recipe as one transformer: DataFrame in, DataFrame out.

    ``steps`` are the recipe version's JSON steps; ``name`` and ``version`` say where they
    came from. Row steps are training-only and skipped here (see ``apply_rows``).
    """

    def __init__(self, steps=(), name="", version=0):
        self.steps = steps
        self.name = name
        self.version = version

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        frame = _as_frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        states = []
        for i, step in _active(self.steps):
            fit, apply = OPS[step["op"]]
            if step["op"] in ROW_OPS:
                states.append(None)
                continue
            state = None
            if fit is not None:
                try:
                    state = fit(frame, y, step)
                except RecipeError as exc:
                    raise RecipeError(f"{_label(i, step)}: {exc}") from None
            states.append(state)
            frame = _run(i, step, apply, frame, state, y=y, training=True)
        self.states_ = states
        self.columns_out_ = [str(c) for c in frame.columns]
        return frame

    def transform(self, X):
        frame = _as_frame(X)
        for (i, step), state in zip(_active(self.steps), self.states_, strict=True):
            if step["op"] in ROW_OPS:
                continue
            frame = _run(i, step, OPS[step["op"]][1], frame, state)
        return frame

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.columns_out_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags


def apply_recipe(frame: pd.DataFrame, steps, *, first: int = 0) -> pd.DataFrame:
    """Every step, rows included (what applying a recipe to a dataset does).

    Row steps run first, on the raw rows, exactly as in training (``apply_rows``), so a
    recipe means the same whether it prepares a dataset or starts a model. The result is
    data to train on, so target encoding is cross-fitted here too, its target being the
    step's ``target`` column. ``first`` is the index of ``steps[0]`` in its recipe when a
    caller (the Prepare preview) applies one step of it on an earlier step's result.
    """
    frame = apply_rows(frame, steps, first=first)
    for i, step in _active(steps, first):
        if step["op"] in ROW_OPS:
            continue
        fit, apply = OPS[step["op"]]
        y = None
        if step.get("target"):
            _need(frame, [step["target"]], step)
            y = frame[step["target"]].to_numpy()
        state = None
        if fit is not None:
            try:
                state = fit(frame, y, step)
            except RecipeError as exc:
                raise RecipeError(f"{_label(i, step)}: {exc}") from None
        frame = _run(i, step, apply, frame, state, y=y, training=True)
    return frame

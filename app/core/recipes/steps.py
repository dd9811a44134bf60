"""The step catalog: what each step takes, a one-line description, and checking.

A recipe's steps are JSON dicts (``{"op": "clip", "columns": ["income"], "method": "iqr"}``)
so that a version is immutable data that can be exported, diffed and imported. This module
checks them before they are stored (``validate_steps`` raises ``InvalidInput`` naming the
step and the parameter), describes them for lists (``describe``) and says which columns a
recipe needs and produces (``column_flow``) without touching data. The code that runs them
is ``app.core.recipes.runtime``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import InvalidInput
from app.core.recipes import runtime

KINDS = ("columns", "rows", "values", "features")
CAST_TYPES = ("float", "int", "str", "bool", "datetime", "category")


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # columns | column | text | expression | float | int | bool | mapping | floats
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class StepSpec:
    op: str
    kind: str
    title: str
    params: tuple[Param, ...] = field(default=())
    learns: bool = False  # fitted on training rows (stored with the model)

    @property
    def training_only(self) -> bool:
        return self.kind == "rows"


def _p(name: str, type: str, required: bool = False, default: Any = None, **kw: Any) -> Param:
    return Param(name, type, required, default, **kw)


SPECS: dict[str, StepSpec] = {
    s.op: s
    for s in (
        StepSpec("drop", "columns", "Drop columns", (_p("columns", "columns", True),)),
        StepSpec("keep", "columns", "Keep columns", (_p("columns", "columns", True),)),
        StepSpec("rename", "columns", "Rename columns", (_p("mapping", "mapping", True),)),
        StepSpec("reorder", "columns", "Reorder columns", (_p("columns", "columns", True),)),
        StepSpec(
            "cast",
            "columns",
            "Cast type",
            (
                _p("columns", "columns", True),
                _p("to", "text", True, choices=CAST_TYPES),
                _p("format", "text"),
            ),
        ),
        StepSpec("filter", "rows", "Filter rows", (_p("expression", "expression", True),)),
        StepSpec(
            "dedupe",
            "rows",
            "Drop duplicates",
            (
                _p("columns", "columns"),
                _p("keep", "text", default="first", choices=("first", "last")),
            ),
        ),
        StepSpec(
            "drop_missing_target",
            "rows",
            "Drop rows without target",
            (_p("column", "column", True),),
        ),
        StepSpec(
            "sample",
            "rows",
            "Sample rows",
            (_p("rows", "int"), _p("fraction", "float", default=0.1), _p("seed", "int", default=0)),
        ),
        StepSpec(
            "impute",
            "values",
            "Impute missing values",
            (
                _p("columns", "columns", True),
                _p(
                    "strategy",
                    "text",
                    default="median",
                    choices=("mean", "median", "most_frequent", "constant", "group_median"),
                ),
                _p("value", "any"),
                _p("by", "column"),
            ),
            learns=True,
        ),
        StepSpec(
            "clip",
            "values",
            "Clip outliers",
            (
                _p("columns", "columns", True),
                _p("method", "text", default="iqr", choices=("iqr", "quantile")),
                _p("k", "float", default=1.5),
                _p("low", "float", default=0.01),
                _p("high", "float", default=0.99),
            ),
            learns=True,
        ),
        StepSpec(
            "replace",
            "values",
            "Replace values",
            (_p("columns", "columns", True), _p("mapping", "mapping", True)),
        ),
        StepSpec(
            "rare",
            "values",
            "Group rare categories",
            (
                _p("columns", "columns", True),
                _p("min_share", "float", default=0.01),
                _p("min_count", "int"),
                _p("other", "text", default="other"),
            ),
            learns=True,
        ),
        StepSpec(
            "text_clean",
            "values",
            "Clean text",
            (
                _p("columns", "columns", True),
                _p("trim", "bool", default=True),
                _p("case", "text", choices=("", "lower", "upper", "title")),
                _p("pattern", "text"),
                _p("replacement", "text", default=""),
            ),
        ),
        StepSpec(
            "expr",
            "features",
            "Formula",
            (_p("name", "text", True), _p("expression", "expression", True)),
        ),
        StepSpec(
            "bin",
            "features",
            "Bin a number",
            (
                _p("column", "column", True),
                _p("method", "text", default="width", choices=("width", "quantile", "edges")),
                _p("bins", "int", default=5),
                _p("edges", "floats"),
                _p("name", "text"),
            ),
            learns=True,
        ),
        StepSpec(
            "date_parts",
            "features",
            "Date parts",
            (_p("column", "column", True), _p("parts", "columns")),
        ),
        StepSpec(
            "duration",
            "features",
            "Duration between dates",
            (
                _p("start", "column", True),
                _p("end", "column", True),
                _p("unit", "text", default="days", choices=tuple(runtime._UNITS)),
                _p("name", "text"),
            ),
        ),
        StepSpec(
            "text_length",
            "features",
            "Text length and words",
            (_p("columns", "columns", True), _p("words", "bool", default=True)),
        ),
        StepSpec(
            "onehot",
            "features",
            "One-hot encode",
            (
                _p("columns", "columns", True),
                _p("max_categories", "int", default=20),
                _p("drop_original", "bool", default=True),
            ),
            learns=True,
        ),
        StepSpec(
            "target_encode",
            "features",
            "Target encode",
            (
                _p("columns", "columns", True),
                _p("target", "column"),
                _p("cv", "int", default=5),
                _p("smoothing", "float", default=10.0),
                _p("seed", "int", default=0),
                _p("drop_original", "bool", default=True),
            ),
            learns=True,
        ),
    )
}


def spec(op: str) -> StepSpec:
    try:
        return SPECS[op]
    except KeyError:
        raise InvalidInput(
            f"'{op}' is not a recipe step.", hint="Steps: " + ", ".join(SPECS)
        ) from None


def _fail(index: int, step: dict, message: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(f"Step {index + 1} ({step.get('op')}): {message}", hint=hint)


def validate_step(step: Any, index: int = 0) -> dict[str, Any]:
    """A clean copy of one step, or ``InvalidInput`` naming the step and parameter."""
    if not isinstance(step, dict) or "op" not in step:
        raise InvalidInput(
            f"Step {index + 1} is not an object with an 'op'.",
            hint='A step looks like {"op": "impute", "columns": ["age"], "strategy": "median"}.',
        )
    if str(step["op"]) not in SPECS:
        raise _fail(
            index,
            step,
            f"'{step['op']}' is not a recipe step.",
            hint="Step types: " + ", ".join(SPECS) + ".",
        )
    s = SPECS[str(step["op"])]
    known = {p.name for p in s.params} | {"op", "enabled", "note"}
    unknown = sorted(set(step) - known)
    if unknown:
        raise _fail(
            index,
            step,
            "unknown parameter " + ", ".join(f"'{u}'" for u in unknown) + ".",
            hint="It takes " + ", ".join(p.name for p in s.params) + ".",
        )
    clean: dict[str, Any] = {"op": s.op}
    for p in s.params:
        value = step.get(p.name)
        if value is None or (value == "" and p.type not in ("text", "any")):
            if p.required:
                raise _fail(index, step, f"'{p.name}' is required.")
            continue
        clean[p.name] = _check_value(index, step, p, value)
    if not step.get("enabled", True):
        clean["enabled"] = False
    if step.get("note"):
        clean["note"] = str(step["note"])
    _check_combination(index, clean)
    return clean


def _check_value(index: int, step: dict, p: Param, value: Any) -> Any:
    def bad(kind: str) -> InvalidInput:
        return _fail(index, step, f"'{p.name}' must be {kind}; got {value!r}.")

    if p.type == "columns":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad("a list of column names")
        if p.required and not value:
            raise _fail(index, step, f"'{p.name}' needs at least one column.")
        return list(value)
    if p.type in ("column", "text"):
        if not isinstance(value, str):
            raise bad("text")
        if p.choices and value not in p.choices:
            raise _fail(
                index, step, f"'{p.name}' must be one of {', '.join(filter(None, p.choices))}."
            )
        return value
    if p.type == "expression":
        try:
            runtime.compile_expression(value)
        except runtime.RecipeError as exc:
            raise _fail(index, step, str(exc)) from None
        return value
    if p.type in ("float", "int"):
        try:
            number = float(value) if p.type == "float" else int(str(value))
        except (TypeError, ValueError):
            raise bad("a number" if p.type == "float" else "a whole number") from None
        return number
    if p.type == "bool":
        if isinstance(value, str):
            value = value.strip().lower() in ("1", "true", "yes")
        return bool(value)
    if p.type == "mapping":
        if not isinstance(value, dict):
            raise bad("a mapping of old to new")
        return {str(k): v for k, v in value.items()}
    if p.type == "floats":
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",") if v.strip()]
        try:
            return sorted(float(v) for v in value)
        except (TypeError, ValueError):
            raise bad("a list of numbers") from None
    return value


def _check_combination(index: int, step: dict) -> None:
    op = step["op"]
    if op == "impute" and step.get("strategy") == "group_median" and not step.get("by"):
        raise _fail(index, step, "a per-group median needs 'by', the grouping column.")
    if op == "impute" and step.get("strategy") == "constant" and "value" not in step:
        raise _fail(index, step, "a constant imputation needs 'value'.")
    if op == "bin" and step.get("method") == "edges" and len(step.get("edges") or []) < 1:
        raise _fail(index, step, "custom bins need 'edges'.")
    if op == "bin" and step.get("bins", 5) < 2:
        raise _fail(index, step, "'bins' must be at least 2.")
    if op == "text_clean" and step.get("pattern"):
        import re

        try:
            re.compile(step["pattern"])
        except re.error as exc:
            raise _fail(index, step, f"the pattern is not a valid regex: {exc}.") from None
    if op == "sample" and not step.get("rows") and not 0 < step.get("fraction", 0.1) <= 1:
        raise _fail(index, step, "'fraction' must be in (0, 1].")


def validate_steps(steps: Any) -> list[dict[str, Any]]:
    if not isinstance(steps, list | tuple):
        raise InvalidInput(
            "A recipe's steps must be a list.",
            hint='Write "steps": [{"op": …}, …], one object per step, in order.',
        )
    clean = [validate_step(s, i) for i, s in enumerate(steps)]
    _check_row_steps(clean)
    _check_removed_columns(clean)
    return clean


def _removes(step: dict[str, Any]) -> list[str]:
    """Columns a step takes away (``keep`` is handled apart: it removes the unnamed ones)."""
    op = step["op"]
    if op == "drop":
        return list(step["columns"])
    if op == "rename":
        return [old for old in step["mapping"] if old not in step["mapping"].values()]
    if op in ("onehot", "target_encode") and step.get("drop_original", True):
        return list(step["columns"])
    return []


def _check_removed_columns(steps: list[dict[str, Any]]) -> None:
    """A step cannot read a column an earlier step dropped, renamed, encoded away or did not
    keep: said when the recipe is saved, not when it first meets data."""
    gone: dict[str, int] = {}  # column → index of the step that removed it
    kept: tuple[int, set[str]] | None = None  # the last ``keep`` and what is left after it
    for i, step in enumerate(steps):
        if not step.get("enabled", True) or SPECS[step["op"]].training_only:
            continue  # row steps run first, on the raw rows
        reads, made = column_flow([step])
        for c in reads:
            by = gone.get(c)
            if by is None and kept is not None and c not in kept[1]:
                by = kept[0]
            if by is not None:
                verb = "does not keep" if steps[by]["op"] == "keep" else "removes"
                raise _fail(
                    i,
                    step,
                    f"it reads column '{c}', which step {by + 1} ({describe(steps[by])}) {verb}.",
                    hint=f"Move this step above step {by + 1}, or read another column.",
                )
        if step["op"] == "keep":
            kept = (i, set(step["columns"]))
            gone = {c: j for c, j in gone.items() if c not in kept[1]}
        for c in _removes(step):
            gone[c] = i
            if kept is not None:
                kept[1].discard(c)
        for c in made:
            gone.pop(c, None)
            if kept is not None:
                kept[1].add(c)


def _check_row_steps(steps: list[dict[str, Any]]) -> None:
    """Row steps run first, on the raw rows: they cannot read a column a step creates."""
    for i, step in enumerate(steps):
        if not SPECS[step["op"]].training_only or not step.get("enabled", True):
            continue
        _, made = column_flow(steps[:i])
        renamed = {
            new: old for s in steps[:i] if s["op"] == "rename" for old, new in s["mapping"].items()
        }
        reads, _ = column_flow([step])
        late = [c for c in reads if c in made or c in renamed]
        if late:
            raise _fail(
                i,
                step,
                "row steps run first, on the raw rows, but it reads "
                + ", ".join(f"'{c}'" for c in late)
                + ", made by an earlier step.",
                hint="Use the raw column instead.",
            )


def _cols(names: list[str]) -> str:
    shown = ", ".join(names[:4])
    return shown + (f" +{len(names) - 4}" if len(names) > 4 else "")


def describe(step: dict[str, Any]) -> str:
    """The one-line description shown in the recipe list."""
    op = step["op"]
    cols = step.get("columns") or ([step["column"]] if step.get("column") else [])
    text = {
        "drop": lambda: f"Drop {_cols(cols)}",
        "keep": lambda: f"Keep only {_cols(cols)}",
        "rename": lambda: "Rename " + ", ".join(f"{a} → {b}" for a, b in step["mapping"].items()),
        "reorder": lambda: f"Put {_cols(cols)} first",
        "cast": lambda: f"Cast {_cols(cols)} to {step['to']}",
        "filter": lambda: f"Keep rows where {step['expression']}",
        "dedupe": lambda: "Drop duplicate rows" + (f" by {_cols(cols)}" if cols else ""),
        "drop_missing_target": lambda: f"Drop rows without {step['column']}",
        "sample": lambda: (
            f"Sample {step['rows']:,} rows"
            if step.get("rows")
            else f"Sample {step.get('fraction', 0.1):.0%} of rows"
        ),
        "impute": lambda: (
            f"Fill missing {_cols(cols)} with "
            + {
                "constant": f"{step.get('value')!r}",
                "group_median": f"the median per {step.get('by')}",
            }.get(step.get("strategy", "median"), f"the {step.get('strategy', 'median')}")
        ),
        "clip": lambda: (
            f"Clip {_cols(cols)} to "
            + (
                f"IQR × {step.get('k', 1.5)}"
                if step.get("method", "iqr") == "iqr"
                else f"quantiles {step.get('low', 0.01)}–{step.get('high', 0.99)}"
            )
        ),
        "replace": lambda: f"Replace {len(step['mapping'])} value(s) in {_cols(cols)}",
        "rare": lambda: (
            f"Group categories of {_cols(cols)} under "
            f"{step.get('min_share', 0.01):.0%} as '{step.get('other', 'other')}'"
        ),
        "text_clean": lambda: f"Clean text of {_cols(cols)}",
        "expr": lambda: f"{step['name']} = {step['expression']}",
        "bin": lambda: (
            f"Bin {step['column']} ({step.get('method', 'width')}, "
            f"{len(step['edges']) + 1 if step.get('method') == 'edges' else step.get('bins', 5)})"
        ),
        "date_parts": lambda: f"Date parts of {step['column']}",
        "duration": lambda: (
            f"{step.get('unit', 'days').capitalize()} from {step['start']} to {step['end']}"
        ),
        "text_length": lambda: (
            f"Length{' and words' if step.get('words', True) else ''} of {_cols(cols)}"
        ),
        "onehot": lambda: f"One-hot encode {_cols(cols)}",
        "target_encode": lambda: f"Target-encode {_cols(cols)} (cross-fitted)",
    }[op]()
    marks = []
    if SPECS[op].training_only:
        marks.append("training only")
    if not step.get("enabled", True):
        marks.append("disabled")
    return text + (f"  [{', '.join(marks)}]" if marks else "")


def column_flow(steps: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(columns the recipe needs from its input, columns it creates), without data.

    A column created by an earlier step is not needed from the input; one-hot output names
    depend on the data and are given as ``col=*``.
    """
    needs: list[str] = []
    made: list[str] = []

    def use(names: list[str]) -> None:
        for n in names:
            if n not in made and n not in needs:
                needs.append(n)

    for step in steps:
        if not step.get("enabled", True):
            continue
        op = step["op"]
        cols = list(step.get("columns") or ([step["column"]] if step.get("column") else []))
        if op == "rename":
            use(list(step["mapping"]))
            made.extend(v for v in step["mapping"].values() if v not in made)
        elif op in ("filter", "expr"):
            use(runtime.compile_expression(step["expression"]).columns)
            if op == "expr":
                made.append(step["name"])
        elif op == "duration":
            use([step["start"], step["end"]])
            unit = step.get("unit", "days")
            made.append(step.get("name") or f"{step['end']}_minus_{step['start']}_{unit}")
        elif op == "impute" and step.get("by"):
            use([*cols, step["by"]])
        elif op == "target_encode":
            use(cols)
            made.extend(f"{c}_te*" for c in cols)
        elif op == "bin":
            use(cols)
            made.append(step.get("name") or f"{step['column']}_bin")
        elif op == "date_parts":
            use(cols)
            parts = step.get("parts") or ("year", "month", "day", "day_of_week")
            made.extend(f"{step['column']}_{p}" for p in parts)
        elif op == "text_length":
            use(cols)
            for c in cols:
                made.append(f"{c}_length")
                if step.get("words", True):
                    made.append(f"{c}_words")
        elif op == "onehot":
            use(cols)
            made.extend(f"{c}=*" for c in cols)
        elif op == "drop_missing_target":
            use(cols)
        else:
            use(cols)
    return needs, made


def normalised(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return copy.deepcopy(validate_steps(steps))

"""The types of the estimator catalog: typed parameters, search dimensions, specs, coercion.

``ParamSpec`` is one form field (kind, default, accepted bounds, choices, help); ``SearchDim``
one dimension of the default Optuna search space; ``EstimatorSpec`` ties them to a builder.
``coerce_params`` turns text (CLI ``k=v``, form fields) into typed values or raises
``InvalidInput`` naming the parameter and the type it expects. The catalog itself is
``app.core.training.catalog``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import InvalidInput

TASKS = ("binary", "multiclass", "regression")
KINDS = ("int", "float", "categorical", "bool")


def task_kind(task: str) -> str:
    """'binary'/'multiclass'/'classification' → 'classification'; 'regression' stays."""
    if task in ("binary", "multiclass", "classification"):
        return "classification"
    if task == "regression":
        return "regression"
    raise InvalidInput(f"'{task}' is not a task.", hint="Use binary, multiclass or regression.")


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter as a form shows it. ``low``/``high`` bound what is accepted."""

    name: str
    kind: str  # 'int' | 'float' | 'categorical' | 'bool'
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    help: str = ""
    #: the value may not exceed the rows one fold fits on (the k of k-nearest neighbours)
    at_most_fit_rows: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "choices": list(self.choices),
            "help": self.help,
        }


@dataclass(frozen=True)
class SearchDim:
    """One dimension of the default Optuna search space (editable by the Tuning panel)."""

    name: str
    kind: str  # 'int' | 'float' | 'categorical' | 'bool'
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any, prefix: str = "") -> Any:
        key = f"{prefix}{self.name}"
        if self.kind == "int":
            return trial.suggest_int(key, int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(key, float(self.low), float(self.high), log=self.log)
        if self.kind == "bool":
            return trial.suggest_categorical(key, (False, True))
        return trial.suggest_categorical(key, self.choices)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "choices": list(self.choices),
        }


Builder = Callable[[str, dict[str, Any], int], Any]


@dataclass(frozen=True)
class EstimatorSpec:
    name: str
    title: str
    tasks: tuple[str, ...]  # task kinds: 'classification', 'regression'
    params: tuple[ParamSpec, ...]
    builder: Builder = field(repr=False)
    space: tuple[SearchDim, ...] = ()
    description: str = ""

    def supports(self, task: str) -> bool:
        return task_kind(task) in self.tasks

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise InvalidInput(
            f"{self.title} has no parameter '{name}'.",
            hint="Its parameters: " + (", ".join(p.name for p in self.params) or "(none)"),
        )

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with ``params`` (checked and coerced)."""
        return {**self.defaults(), **coerce_params(self, params or {})}

    def build(self, task: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> Any:
        """An unfitted scikit-learn estimator for ``task`` with ``params`` over the defaults."""
        if not self.supports(task):
            from app.core.training.catalog import for_task

            raise InvalidInput(
                f"{self.title} cannot be trained for {task}.",
                hint="Estimators for it: " + ", ".join(s.name for s in for_task(task)),
            )
        return self.builder(task_kind(task), self.resolve(params), int(seed))

    def search_space(
        self,
        trial: Any,
        task: str,
        *,
        prefix: str = "",
        space: tuple[SearchDim, ...] | None = None,
    ) -> dict[str, Any]:
        """Sample parameters for one Optuna trial; the rest keep their defaults.

        ``prefix`` namespaces the Optuna parameter names (``"rf."``) when several estimators
        share a study; the returned keys are always the plain parameter names.
        """
        del task  # the spaces are the same for both task kinds
        return {
            dim.name: dim.suggest(trial, prefix) for dim in (self.space if space is None else space)
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "tasks": list(self.tasks),
            "description": self.description,
            "params": [p.to_dict() for p in self.params],
            "space": [d.to_dict() for d in self.space],
        }


# -- coercion ------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def _coerce_one(p: ParamSpec, raw: Any) -> Any:
    expected = {
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "categorical": "one of " + ", ".join(map(str, p.choices)),
    }[p.kind]
    bad = InvalidInput(
        f"Parameter '{p.name}' must be {expected}; got '{raw}'.",
        hint=p.help or None,
    )
    if p.kind == "int":
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int):
            value: Any = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        else:
            try:
                value = int(str(raw).strip())
            except ValueError:
                raise bad from None
    elif p.kind == "float":
        if isinstance(raw, bool):
            raise bad
        try:
            value = float(raw if isinstance(raw, int | float) else str(raw).strip())
        except ValueError:
            raise bad from None
        if value != value or value in (float("inf"), float("-inf")):
            raise bad
    elif p.kind == "bool":
        if isinstance(raw, bool):
            value = raw
        elif str(raw).strip().lower() in _TRUE:
            value = True
        elif str(raw).strip().lower() in _FALSE:
            value = False
        else:
            raise bad
    else:
        by_text = {str(c).lower(): c for c in p.choices}
        if any(raw is c or (raw == c and type(raw) is type(c)) for c in p.choices):
            value = raw
        elif str(raw).strip().lower() in by_text:
            value = by_text[str(raw).strip().lower()]
        else:
            raise bad
    if p.kind in ("int", "float"):
        if p.low is not None and value < p.low:
            raise InvalidInput(
                f"Parameter '{p.name}' must be at least {p.low}; got {value}.", hint=p.help or None
            )
        if p.high is not None and value > p.high:
            raise InvalidInput(
                f"Parameter '{p.name}' must be at most {p.high}; got {value}.", hint=p.help or None
            )
    return value


def coerce_params(spec: EstimatorSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values from text (CLI ``k=v``, form fields) or already typed values.

    Raises ``InvalidInput`` naming the parameter and the type it expects; an unknown name is
    refused with the list of known ones.
    """
    return {name: _coerce_one(spec.param(name), raw) for name, raw in params.items()}

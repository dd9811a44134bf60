"""The search space of a study: the catalog's default dimensions, edited by the user, checked.

A space is a mapping ``estimator name → EstimatorSpace`` (its ``SearchDim`` tuple and the
parameters held fixed). Edits arrive as ``SpaceEdit`` entries (from the panel's table or the
CLI's ``--space rf.max_depth=2:16:log`` / ``--fix rf.n_estimators=200``) and are checked
*before* any trial runs: an unknown estimator or parameter, ``low > high``, a log scale with
``low <= 0``, a bound outside what the parameter accepts, a choice it does not know — each is
refused with the offending entry named.

With one estimator the Optuna parameter names are the plain names (``max_depth``); with
several, the estimator is itself a categorical parameter ``estimator`` and each estimator's
parameters are prefixed by its name (``random_forest.max_depth``), so Optuna's conditional
search (and optuna-dashboard) sees them as separate dimensions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.errors import InvalidInput
from app.core.training.catalog import ESTIMATORS, SearchDim, for_task, get

#: short names accepted wherever an estimator is named (CLI, space entries)
ALIASES = {
    "rf": "random_forest",
    "et": "extra_trees",
    "hgb": "hist_gradient_boosting",
    "gb": "hist_gradient_boosting",
    "dt": "decision_tree",
    "tree": "decision_tree",
    "lr": "logistic",
    "nb": "naive_bayes",
    "enet": "elastic_net",
}
ESTIMATOR_PARAM = "estimator"


def estimator_name(text: str) -> str:
    name = ALIASES.get(text.strip().lower(), text.strip().lower())
    if name not in ESTIMATORS:
        raise InvalidInput(
            f"There is no estimator '{text}'.",
            hint="Known estimators: " + ", ".join([*ESTIMATORS, *ALIASES]),
        )
    return name


@dataclass(frozen=True)
class SpaceEdit:
    """One user edit of the space: a new range, scale or choice list, or a fixed value.

    ``entry`` is how the user wrote it (``rf.max_depth=2:16:log``), quoted in errors.
    """

    estimator: str
    param: str
    low: float | None = None
    high: float | None = None
    log: bool | None = None
    choices: tuple[Any, ...] | None = None
    fixed: Any = None
    is_fixed: bool = False
    remove: bool = False  # keep the parameter at its default (not searched)
    entry: str = ""

    def label(self) -> str:
        return self.entry or f"{self.estimator}.{self.param}"


@dataclass(frozen=True)
class EstimatorSpace:
    dims: tuple[SearchDim, ...]
    fixed: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"dims": [d.to_dict() for d in self.dims], "fixed": dict(self.fixed)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EstimatorSpace:
        dims = tuple(
            SearchDim(
                d["name"],
                d["kind"],
                d.get("low"),
                d.get("high"),
                bool(d.get("log")),
                tuple(d.get("choices") or ()),
            )
            for d in data.get("dims", [])
        )
        return cls(dims, dict(data.get("fixed") or {}))


Space = dict[str, EstimatorSpace]


def resolve_estimators(task: str, names: Iterable[str] | str | None) -> list[str]:
    """Catalog names for ``rf,hgb`` / ``all`` (every estimator for the task but the dummy)."""
    if names is None or names == "" or names == "all" or list(names) == ["all"]:
        return [s.name for s in for_task(task) if s.name != "dummy" and s.space]
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    out: list[str] = []
    for text in names:
        name = estimator_name(text)
        spec = get(name)
        if not spec.supports(task):
            raise InvalidInput(
                f"{spec.title} cannot be trained for {task}.",
                hint="Estimators for it: " + ", ".join(s.name for s in for_task(task)),
            )
        if name not in out:
            out.append(name)
    if not out:
        raise InvalidInput("No estimator was chosen.", hint="Name one, several, or 'all'.")
    return out


def default_space(estimators: Iterable[str]) -> Space:
    return {name: EstimatorSpace(get(name).space) for name in estimators}


def apply_edits(space: Space, edits: Iterable[SpaceEdit]) -> Space:
    """The space with the edits applied; ``InvalidInput`` names the first bad entry."""
    out = {name: EstimatorSpace(s.dims, dict(s.fixed)) for name, s in space.items()}
    for edit in edits:
        label = edit.label()
        try:
            name = estimator_name(edit.estimator)
        except InvalidInput as exc:
            raise InvalidInput(f"Space entry '{label}': {exc.message}", hint=exc.hint) from None
        if name not in out:
            raise InvalidInput(
                f"Space entry '{label}' names {name}, which is not among the study's estimators.",
                hint="Its estimators: " + ", ".join(out),
            )
        spec = get(name)
        known = [p.name for p in spec.params]
        if edit.param not in known:
            raise InvalidInput(
                f"Space entry '{label}': {spec.title} has no parameter '{edit.param}'.",
                hint="Its parameters: " + (", ".join(known) or "(none)"),
            )
        pspec = spec.param(edit.param)
        current = out[name]
        dims = [d for d in current.dims if d.name != edit.param]
        fixed = {k: v for k, v in current.fixed.items() if k != edit.param}
        if edit.remove:
            out[name] = EstimatorSpace(tuple(dims), fixed)
            continue
        if edit.is_fixed:
            try:
                fixed[edit.param] = spec.resolve({edit.param: edit.fixed})[edit.param]
            except InvalidInput as exc:
                raise InvalidInput(f"Space entry '{label}': {exc.message}", hint=exc.hint) from None
            out[name] = EstimatorSpace(tuple(dims), fixed)
            continue
        old = next((d for d in current.dims if d.name == edit.param), None)
        dim = _edited_dim(pspec, old, edit, label)
        position = next((i for i, d in enumerate(current.dims) if d.name == edit.param), len(dims))
        dims.insert(position, dim)
        out[name] = EstimatorSpace(tuple(dims), fixed)
    return out


def _edited_dim(pspec: Any, old: SearchDim | None, edit: SpaceEdit, label: str) -> SearchDim:
    kind = pspec.kind
    if kind in ("int", "float"):
        if edit.choices is not None:
            raise InvalidInput(
                f"Space entry '{label}': '{pspec.name}' is a number; give a range LOW:HIGH, "
                "not a list of choices."
            )
        low = edit.low if edit.low is not None else (old.low if old else pspec.low)
        high = edit.high if edit.high is not None else (old.high if old else pspec.high)
        log = edit.log if edit.log is not None else (old.log if old else pspec.log)
        if low is None or high is None:
            raise InvalidInput(f"Space entry '{label}' needs both a low and a high bound.")
        if kind == "int" and (float(low) != int(low) or float(high) != int(high)):
            raise InvalidInput(
                f"Space entry '{label}': '{pspec.name}' takes whole numbers; got {low}:{high}."
            )
        if low > high:
            raise InvalidInput(
                f"Space entry '{label}': the low bound {low} is above the high bound {high}."
            )
        if log and low <= 0:
            raise InvalidInput(
                f"Space entry '{label}': a log scale needs a low bound above 0; got {low}.",
                hint="Raise the low bound or drop ':log'.",
            )
        for bound in (low, high):
            if (pspec.low is not None and bound < pspec.low) or (
                pspec.high is not None and bound > pspec.high
            ):
                raise InvalidInput(
                    f"Space entry '{label}': {bound} is outside what '{pspec.name}' accepts "
                    f"({pspec.low} to {pspec.high}).",
                    hint=pspec.help or None,
                )
        cast = int if kind == "int" else float
        return SearchDim(pspec.name, kind, cast(low), cast(high), bool(log))
    if edit.low is not None or edit.high is not None or edit.log:
        raise InvalidInput(
            f"Space entry '{label}': '{pspec.name}' is {kind}; list its choices "
            "(a,b,c) instead of a range."
        )
    if kind == "bool":
        choices: tuple[Any, ...] = tuple(edit.choices) if edit.choices else (False, True)
    else:
        choices = tuple(edit.choices) if edit.choices else (old.choices if old else pspec.choices)
    if not choices:
        raise InvalidInput(f"Space entry '{label}' lists no choices.")
    typed = []
    for raw in choices:
        try:
            typed.append(_coerce(pspec, raw))
        except InvalidInput as exc:
            raise InvalidInput(f"Space entry '{label}': {exc.message}", hint=exc.hint) from None
    return SearchDim(pspec.name, "categorical", choices=tuple(dict.fromkeys(typed)))


def _coerce(pspec: Any, raw: Any) -> Any:
    from app.core.training.params import _coerce_one

    return _coerce_one(pspec, raw)


def parse_edit(text: str, *, fixed: bool = False) -> SpaceEdit:
    """``est.param=LOW:HIGH[:log]`` / ``est.param=a,b,c`` / ``est.param=default`` / a value
    with ``fixed``. ``param=…`` alone applies to the only estimator (filled in later)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidInput(
            f"Space entry '{text}' is not ESTIMATOR.PARAM=VALUE.",
            hint="For example rf.max_depth=2:16:log, knn.weights=uniform,distance, "
            "or --fix rf.n_estimators=200.",
        )
    est, dot, param = key.strip().rpartition(".")
    value = value.strip()
    base = SpaceEdit(est if dot else "", param.strip(), entry=text)
    if fixed:
        return replace(base, fixed=value, is_fixed=True)
    if value.lower() in ("default", "off", "-"):
        return replace(base, remove=True)
    if ":" in value:
        parts = value.split(":")
        log = len(parts) == 3 and parts[2].strip().lower() == "log"
        if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise InvalidInput(f"Space entry '{text}': write a range as LOW:HIGH or LOW:HIGH:log.")
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise InvalidInput(f"Space entry '{text}': the bounds must be numbers.") from None
        return replace(base, low=low, high=high, log=log)
    return replace(base, choices=tuple(c.strip() for c in value.split(",") if c.strip()))


def with_estimator(edits: Iterable[SpaceEdit], estimators: list[str]) -> list[SpaceEdit]:
    """Fill in the estimator of ``param=…`` entries when the study has a single one."""
    out = []
    for edit in edits:
        if not edit.estimator:
            if len(estimators) != 1:
                raise InvalidInput(
                    f"Space entry '{edit.label()}' does not say which estimator it is for.",
                    hint="Write it as ESTIMATOR.PARAM=…, e.g. rf.max_depth=2:16.",
                )
            edit = replace(edit, estimator=estimators[0])
        out.append(edit)
    return out


def sample(trial: Any, space: Space, task: str) -> tuple[str, dict[str, Any]]:
    """(estimator, its parameters) for one trial: the fixed values plus the sampled ones."""
    names = list(space)
    multi = len(names) > 1
    name = trial.suggest_categorical(ESTIMATOR_PARAM, names) if multi else names[0]
    est = space[name]
    sampled = get(name).search_space(
        trial, task, prefix=f"{name}." if multi else "", space=est.dims
    )
    return name, {**est.fixed, **sampled}


def defaults_for_enqueue(space: Space) -> dict[str, Any] | None:
    """The catalog defaults as Optuna params, so trial 0 is the default-params baseline.

    Only for a single-estimator study; None when a default lies outside the space (it could
    not be told apart from a sampled point then).
    """
    if len(space) != 1:
        return None
    name, est = next(iter(space.items()))
    defaults = get(name).defaults()
    out: dict[str, Any] = {}
    for dim in est.dims:
        value = defaults[dim.name]
        if dim.kind in ("int", "float"):
            if value is None or not (dim.low <= value <= dim.high):
                return None
        elif dim.kind == "categorical" and value not in dim.choices:
            return None
        out[dim.name] = value
    return out


def space_to_dict(space: Space) -> dict[str, Any]:
    return {name: est.to_dict() for name, est in space.items()}


def space_from_dict(data: Mapping[str, Any]) -> Space:
    return {name: EstimatorSpace.from_dict(d) for name, d in data.items()}

"""What the user asks to train (``TrainRequest``) and the checked plan made from it.

``validate_request`` turns a request into a ``TrainPlan`` or raises ``InvalidInput`` naming
what is wrong (unknown column or estimator, a parameter of the wrong type, a target with one
class, a regression target with text) *before* any run exists. The plan is what a run
records as its recipe: the pinned dataset version, the inferred task, every parameter with
its default filled in, how each column is treated and why some were dropped. Running a
plan again gives the same run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInput
from app.core.training import catalog
from app.core.training.preprocessing import ColumnPlan, plan_columns

if TYPE_CHECKING:
    from app.core.datasets import DatasetService, DatasetVersion

VALIDATIONS = ("auto", "kfold", "stratified", "repeated", "timeseries")
#: an integer target with at most this many distinct values is taken for classes
MAX_INFERRED_CLASSES = 10


@dataclass(frozen=True)
class TrainRequest:
    """One training as asked for by the form, the CLI or a tuning trial.

    ``params`` may hold text (``{"max_depth": "5"}``) or typed values; ``task`` None means
    inferred from the target. ``validation`` is ``auto`` (stratified K-fold for
    classification, K-fold for regression), ``kfold``, ``stratified``, ``repeated``
    (``repeats`` × K-fold, stratified for classification) or ``timeseries`` (expanding
    window in row order, or ordered by ``time_column``). ``test_size`` is the share held out
    before cross-validation (0 = none; for time series the last rows).
    """

    dataset: str  # "name" (latest version) or "name@3"
    target: str
    estimator: str = catalog.DEFAULT_ESTIMATOR
    params: dict[str, Any] = field(default_factory=dict)
    task: str | None = None
    validation: str = "auto"
    folds: int = 5
    repeats: int = 2
    test_size: float = 0.2
    seed: int = 0
    time_column: str | None = None
    exclude: tuple[str, ...] = ()
    max_onehot: int = 20  # categorical columns with more distinct values are ordinal-encoded
    plots: bool = True
    name: str = ""
    experiment: str = "Default"
    tags: dict[str, str] = field(default_factory=dict)
    note: str = ""
    parent_run_id: int | None = None
    study_name: str | None = None
    trial_number: int | None = None
    recipe: str | None = None  # "name" or "name@2": the recipe runs first in the pipeline

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exclude"] = list(self.exclude)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainRequest:
        known = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in known}
        if "exclude" in clean:
            clean["exclude"] = tuple(clean["exclude"] or ())
        return cls(**clean)


@dataclass(frozen=True)
class TrainPlan:
    """A checked request: everything a worker needs, and what the run records as recipe."""

    request: TrainRequest  # dataset pinned to "name@version", params typed and complete
    dataset_version_id: int
    dataset_sha256: str  # the snapshot the worker reads
    source_sha256: str
    task: str
    validation: str  # resolved: kfold | stratified | repeated | timeseries
    columns: tuple[ColumnPlan, ...]  # features and what is done to each
    dropped: tuple[tuple[str, str], ...]  # (column, reason)
    notes: tuple[str, ...]
    classes: tuple[Any, ...] = ()
    #: the recipe version run first ({"id", "name", "version", "steps"}), or None
    recipe: dict[str, Any] | None = None
    #: with a recipe, the raw columns the pipeline takes (``columns`` are the recipe's output)
    inputs: tuple[ColumnPlan, ...] = ()

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def input_columns(self) -> list[str]:
        """The columns raw rows must carry: the recipe's inputs, or the features."""
        return [c.name for c in self.inputs] if self.recipe else self.features

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request.to_dict(),
            "dataset_version_id": self.dataset_version_id,
            "dataset_sha256": self.dataset_sha256,
            "source_sha256": self.source_sha256,
            "task": self.task,
            "validation": self.validation,
            "columns": [c.to_dict() for c in self.columns],
            "dropped": [list(d) for d in self.dropped],
            "notes": list(self.notes),
            "classes": [_plain(c) for c in self.classes],
            "recipe": self.recipe,
            "inputs": [c.to_dict() for c in self.inputs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainPlan:
        return cls(
            request=TrainRequest.from_dict(data["request"]),
            dataset_version_id=int(data["dataset_version_id"]),
            dataset_sha256=data["dataset_sha256"],
            source_sha256=data.get("source_sha256", ""),
            task=data["task"],
            validation=data["validation"],
            columns=tuple(ColumnPlan.from_dict(c) for c in data["columns"]),
            dropped=tuple((d[0], d[1]) for d in data.get("dropped", [])),
            notes=tuple(data.get("notes", [])),
            classes=tuple(data.get("classes", [])),
            recipe=data.get("recipe"),
            inputs=tuple(ColumnPlan.from_dict(c) for c in data.get("inputs", [])),
        )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            raise InvalidInput(f"'{name}' must be a whole number; got '{value}'.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"'{name}' must be {bound}; got {value}.")
    return value


def validate_request(request: TrainRequest, datasets: DatasetService) -> TrainPlan:
    """Check ``request`` against the catalog and the dataset; raise ``InvalidInput`` if bad."""
    from app.core.errors import NotFound

    try:
        version = datasets.resolve(request.dataset)
    except NotFound as exc:
        raise InvalidInput(exc.message, hint=exc.hint) from exc
    if not request.target:  # the target stored with the dataset, or an error saying how to set it
        request = replace(request, target=datasets.target_for(version, None))
    left_out = [c for c in version.left_out if c != request.target and c not in request.exclude]
    if left_out:  # identifiers and ignored columns marked in the Data panel's schema
        request = replace(request, exclude=(*request.exclude, *left_out))
    names = [c.name for c in version.schema]
    for label, column in (
        [("target", request.target)]
        + [("excluded column", c) for c in request.exclude]
        + ([("time column", request.time_column)] if request.time_column else [])
    ):
        if column not in names:
            raise InvalidInput(
                f"Dataset {version.ref} has no column '{column}' (the {label}).",
                hint="Its columns: " + ", ".join(names[:40]),
            )
    spec = catalog.get(request.estimator)
    params = spec.resolve(request.params)  # names the bad parameter and its type

    validation = request.validation
    if validation not in VALIDATIONS:
        raise InvalidInput(
            f"'{validation}' is not a validation scheme.", hint="Use " + ", ".join(VALIDATIONS)
        )
    folds = _check_int("folds", request.folds, 2, 100)
    repeats = _check_int("repeats", request.repeats, 1, 100)
    seed = _check_int("seed", request.seed, 0, 2**32 - 1)
    try:
        test_size = float(request.test_size)
    except (TypeError, ValueError):
        raise InvalidInput(f"'test_size' must be a number; got '{request.test_size}'.") from None
    if not 0.0 <= test_size < 0.9:
        raise InvalidInput(f"'test_size' must be in [0, 0.9); got {test_size}.")

    task, classes, notes, usable_rows = _target_task(request, version, datasets)
    if not spec.supports(task):
        raise InvalidInput(
            f"{spec.title} cannot be trained for {task}.",
            hint="Estimators for it: " + ", ".join(s.name for s in catalog.for_task(task)),
        )
    if validation == "auto":
        validation = "stratified" if task != "regression" else "kfold"
    if validation == "stratified" and task == "regression":
        raise InvalidInput(
            "Stratified K-fold needs classes; the target is continuous.",
            hint="Use kfold, repeated or timeseries for regression.",
        )
    train_rows = usable_rows - round(usable_rows * test_size)
    if train_rows < folds:
        raise InvalidInput(
            f"Only {train_rows} training rows for {folds} folds.",
            hint="Lower --cv or --test-size, or add rows.",
        )
    recipe, inputs, schema = None, (), version.schema
    if request.recipe:
        from app.core.training.recipe_plan import plan_recipe

        recipe, inputs, schema = plan_recipe(request, version, datasets)
    columns, dropped = plan_columns(
        schema,
        target=request.target,
        exclude=request.exclude,
        max_onehot=int(request.max_onehot),
    )
    if not columns:
        raise InvalidInput(
            f"No usable feature is left in {version.ref} once the target and the "
            "dropped columns are set aside.",
            hint="; ".join(f"{c}: {why}" for c, why in dropped) or None,
        )
    notes += [f"Column '{c}' was dropped: {why}." for c, why in dropped]
    pinned = replace(
        request,
        dataset=version.ref,
        params=params,
        task=task,
        validation=validation,
        folds=folds,
        repeats=repeats,
        seed=seed,
        test_size=test_size,
        exclude=tuple(request.exclude),
        recipe=f"{recipe['name']}@{recipe['version']}" if recipe else None,
    )
    plan = TrainPlan(
        request=pinned,
        dataset_version_id=version.id,
        dataset_sha256=version.snapshot_sha256,
        source_sha256=version.source_sha256,
        task=task,
        validation=validation,
        columns=tuple(columns),
        dropped=tuple(dropped),
        notes=tuple(notes),
        classes=tuple(classes),
        recipe=recipe,
        inputs=tuple(inputs),
    )
    _check_folds(plan, spec, datasets)
    return plan


def _check_folds(plan: TrainPlan, spec: catalog.EstimatorSpec, datasets: DatasetService) -> None:
    """Refuse folds the estimator cannot fit on, now rather than in the worker's first fold."""
    from app.core.training.validation import fold_fit_sizes, target_in_training_order

    req = plan.request
    sizes = fold_fit_sizes(
        target_in_training_order(plan, datasets),
        task=plan.task,
        validation=plan.validation,
        folds=req.folds,
        repeats=req.repeats,
        test_size=req.test_size,
        seed=req.seed,
    )
    fewest = min(sizes)
    for p in spec.params:
        value = req.params.get(p.name)
        if p.at_most_fit_rows and isinstance(value, int) and value > fewest:
            raise InvalidInput(
                f"'{p.name}' is {value}, but the smallest cross-validation fold trains on "
                f"only {fewest} rows; {spec.title} cannot use more than that.",
                hint=f"The largest {p.name} that fits is {fewest} (or use fewer folds).",
            )


def _target_task(
    request: TrainRequest, version: DatasetVersion, datasets: DatasetService
) -> tuple[str, list[Any], list[str], int]:
    """(task, sorted classes, notes, rows with a target) from the target column's values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    info = version.column(request.target)
    column = datasets.load_table(version, columns=[request.target]).column(0)
    notes: list[str] = []
    present = column.drop_null()
    if pa.types.is_floating(column.type):
        present = present.filter(pc.invert(pc.is_nan(present)))
    missing = len(column) - len(present)
    if len(present) == 0:
        raise InvalidInput(f"The target '{request.target}' has no values.")
    if missing:
        notes.append(f"{missing:,} rows without a target value are left out.")
    task = request.task
    if task is not None and task not in catalog.TASKS:
        raise InvalidInput(
            f"'{task}' is not a task.",
            hint="Use binary, multiclass or regression (or leave it "
            "empty to infer it from the target).",
        )
    numeric = (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or (pa.types.is_decimal(column.type) or pa.types.is_boolean(column.type))
    )
    if task == "regression":
        if not numeric:
            _refuse_text_target(request.target, column)
        return task, [], notes, len(present)
    if info.role == "datetime" or pa.types.is_temporal(column.type):
        raise InvalidInput(
            f"The target '{request.target}' holds dates; ModelDesk predicts numbers or classes.",
            hint="Derive a number (e.g. days until an event) and train on that.",
        )
    uniques = pc.unique(present)
    distinct = len(uniques)
    if task is None:
        if info.role == "boolean" or pa.types.is_boolean(column.type):
            task = "binary"
        elif pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
            task = "regression"
        elif pa.types.is_integer(column.type):
            task = "regression" if distinct > MAX_INFERRED_CLASSES else "classes"
        elif info.role in ("identifier", "text") and distinct > 50:
            raise InvalidInput(
                f"The target '{request.target}' looks like {info.role.replace('text', 'free text')}"
                f" ({distinct:,} distinct values); it cannot be predicted as classes.",
                hint="Choose another target, or set the task explicitly.",
            )
        else:
            task = "classes"
        if task == "regression":
            return task, [], notes, len(present)
    if distinct < 2:
        raise InvalidInput(
            f"The target '{request.target}' has only one class ({uniques[0].as_py()!r}); "
            "a classifier needs at least two.",
            hint="Choose another target, or add rows of the other classes.",
        )
    if task == "classes":
        task = "binary" if distinct == 2 else "multiclass"
    elif task == "binary" and distinct > 2:
        raise InvalidInput(
            f"The target '{request.target}' has {distinct} classes, not two.",
            hint="Use the multiclass task.",
        )
    classes = sorted(uniques.to_pylist(), key=lambda v: (str(type(v)), v))
    counts = pc.value_counts(present)
    smallest = min(counts.field("counts").to_pylist())
    if smallest < 2:
        notes.append("A class has a single row: it cannot appear in both training and test data.")
    return task, classes, notes, len(present)


def _refuse_text_target(target: str, column: Any) -> None:
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"The regression target '{target}' has text in row {row + 1:,} ('{value}'); "
                "expected numbers.",
                hint="Clean the column, or train a classifier (task binary or multiclass).",
            ) from None
    raise InvalidInput(
        f"The regression target '{target}' is stored as text although its values are numbers.",
        hint="Re-import the file so the column is read as numbers.",
    )
